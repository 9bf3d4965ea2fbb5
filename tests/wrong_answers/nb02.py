"""Wrong answers for notebook 02 (feature extraction): each must lose points in the cells it names.

One case per plausible mistake (each re-runs the cells from its answer to its tests, tests/inkernel.py): the base
left trainable, preprocessing applied twice, the pooling left out, a head with a fixed number of outputs, without
softmax, without its Dropout, never trained, and two that delegate the work to the course's helpers (by name, and
under another name bound as a default argument).
"""

HEAD = "def train_head(train_features, train_labels, num_classes, learning_rate=HEAD_LEARNING_RATE):\n"

WRONG = {
    "02-feature-extraction": {
        "base left trainable": (
            {"build-extractor": '''def build_extractor(base):
    inputs = keras.Input(shape=base.input.shape[1:])
    x = base(app.preprocess_input(inputs))
    return keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x))'''},
            {"build-extractor-tests"},
        ),
        "preprocess_input applied twice": (
            {"build-extractor": '''def build_extractor(base):
    base.trainable = False
    inputs = keras.Input(shape=base.input.shape[1:])
    x = app.preprocess_input(inputs)
    x = base(app.preprocess_input(x))
    return keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x))'''},
            {"build-extractor-tests"},
        ),
        "pooling left out": (
            {"build-extractor": '''def build_extractor(base):
    base.trainable = False
    inputs = keras.Input(shape=base.input.shape[1:])
    return keras.Model(inputs, base(app.preprocess_input(inputs)))'''},
            {"build-extractor-tests"},
        ),
        "head keeps a fixed number of outputs": (
            {"train-head": HEAD + '''    inputs = keras.Input(shape=(train_features.shape[1],))
    outputs = keras.layers.Dense(5, activation="softmax")(keras.layers.Dropout(0.2)(inputs))
    head = keras.Model(inputs, outputs)
    head.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy")
    head.fit(train_features, train_labels, epochs=cfg.epochs, batch_size=cfg.batch_size, verbose=0)
    return head'''},
            {"train-head-tests"},
        ),
        "head without softmax (logits)": (
            {"train-head": HEAD + '''    inputs = keras.Input(shape=(train_features.shape[1],))
    outputs = keras.layers.Dense(num_classes)(keras.layers.Dropout(0.2)(inputs))
    head = keras.Model(inputs, outputs)
    head.compile(optimizer=keras.optimizers.Adam(learning_rate),
                 loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    head.fit(train_features, train_labels, epochs=cfg.epochs, batch_size=cfg.batch_size, verbose=0)
    return head'''},
            {"train-head-tests"},
        ),
        "head without the Dropout the exercise asks for": (
            {"train-head": HEAD + '''    inputs = keras.Input(shape=(train_features.shape[1],))
    head = keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax")(inputs))
    head.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy")
    head.fit(train_features, train_labels, epochs=cfg.epochs, batch_size=cfg.batch_size, verbose=0)
    return head'''},
            {"train-head-tests"},
        ),
        "head built but never trained": (
            {"train-head": HEAD + '''    inputs = keras.Input(shape=(train_features.shape[1],))
    outputs = keras.layers.Dense(num_classes, activation="softmax")(keras.layers.Dropout(0.2)(inputs))
    head = keras.Model(inputs, outputs)
    head.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy")
    return head'''},
            {"train-head-tests"},
        ),
        # Passes every behavioural check (softmax, outputs, rate, accuracy): only the delegation check catches it.
        "head delegated to helpers.grid_models.linear_head": (
            {"train-head": HEAD + '''    from helpers import grid_models

    kernel, bias = grid_models.linear_head(train_features, train_labels)
    if kernel.shape[1] == 1:  # two classes: scikit-learn keeps one column
        kernel, bias = np.concatenate([-kernel, kernel], axis=1) / 2, np.concatenate([-bias, bias]) / 2
    inputs = keras.Input(shape=(train_features.shape[1],))
    head = keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax")(inputs))
    head.layers[-1].set_weights([kernel, bias])
    head.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy")
    return head'''},
            {"train-head-tests"},
        ),
        # The same, under another name bound as a default argument: no global of train_head names it, so only a
        # check of everything the answer reaches (helpers/instructor/own_work.py) catches it.
        "head delegated to helpers.grid_models.linear_head imported as fit_linear, as a default argument": (
            {"train-head": '''from helpers.grid_models import linear_head as fit_linear


def train_head(train_features, train_labels, num_classes, learning_rate=HEAD_LEARNING_RATE, fit=fit_linear):
    kernel, bias = fit(train_features, train_labels)
    if kernel.shape[1] == 1:  # two classes: scikit-learn keeps one column
        kernel, bias = np.concatenate([-kernel, kernel], axis=1) / 2, np.concatenate([-bias, bias]) / 2
    inputs = keras.Input(shape=(train_features.shape[1],))
    outputs = keras.layers.Dense(num_classes, activation="softmax")(keras.layers.Dropout(0.2)(inputs))
    head = keras.Model(inputs, outputs)
    head.layers[-1].set_weights([kernel, bias])
    head.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy")
    return head'''},
            {"train-head-tests"},
        ),
    },
}
