"""Wrong answers for notebook 02 (feature extraction): each must lose points in the cells it names."""

WRONG = {
    "02-feature-extraction": {
        "base left trainable": (
            {"build-extractor": '''def build_extractor(base):
    inputs = keras.Input(shape=base.input.shape[1:])
    x = base(app.preprocess_input(inputs), training=False)
    return keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x))'''},
            {"build-extractor-tests"},
        ),
        "raw pixels, no preprocess_input": (
            {"build-extractor": '''def build_extractor(base):
    base.trainable = False
    inputs = keras.Input(shape=base.input.shape[1:])
    x = base(inputs, training=False)
    return keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x))'''},
            {"build-extractor-tests"},
        ),
        "head keeps a fixed number of outputs": (
            {"train-head": '''def train_head(train_features, train_labels, num_classes):
    inputs = keras.Input(shape=(train_features.shape[1],))
    outputs = keras.layers.Dense(5, activation="softmax")(keras.layers.Dropout(0.2)(inputs))
    head = keras.Model(inputs, outputs)
    head.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy",
                 metrics=["accuracy"])
    head.fit(train_features, train_labels, epochs=cfg.epochs, batch_size=cfg.batch_size, verbose=0)
    return head'''},
            {"train-head-tests"},
        ),
        "head built but never trained": (
            {"train-head": '''def train_head(train_features, train_labels, num_classes):
    inputs = keras.Input(shape=(train_features.shape[1],))
    outputs = keras.layers.Dense(num_classes, activation="softmax")(keras.layers.Dropout(0.2)(inputs))
    head = keras.Model(inputs, outputs)
    head.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy",
                 metrics=["accuracy"])
    return head'''},
            {"train-head-tests"},
        ),
    },
}
