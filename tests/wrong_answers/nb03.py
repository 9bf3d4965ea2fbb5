"""Wrong answers for notebook 03 (partial freezing and fine-tuning): each must lose points in the cells it names."""

_BUILD = '''def build_model(base, num_classes):
    {freeze}
    inputs = keras.Input(shape=base.input.shape[1:])
    x = base({preprocessed})
    x = keras.layers.Dropout(0.2)(keras.layers.GlobalAveragePooling2D()(x))
    return keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax")(x))'''

WRONG = {
    "03-fine-tuning": {
        "base left trainable": (
            {"build-model": _BUILD.format(freeze="pass", preprocessed="app.preprocess_input(inputs)")},
            {"build-model-tests"},
        ),
        "k off by one": (
            {"freeze-first": '''def freeze_first(base, k):
    base.trainable = True
    for index, layer in enumerate(base.layers):
        layer.trainable = index > k
    return base'''},
            {"freeze-first-tests"},
        ),
        "relies on base.trainable = True to unfreeze": (
            {"freeze-first": '''def freeze_first(base, k):
    base.trainable = True
    for layer in base.layers[:k]:
        layer.trainable = False
    return base'''},
            {"freeze-first-tests"},
        ),
        "learning rate not lowered": (
            {"fine-tuning-step": '''def start_fine_tuning(model, base, k, head_learning_rate):
    freeze_first(base, k)
    for layer in base.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
    model.compile(optimizer=keras.optimizers.Adam(head_learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model'''},
            {"fine-tuning-step-tests"},
        ),
        "recompiled before changing trainable": (
            {"fine-tuning-step": '''def start_fine_tuning(model, base, k, head_learning_rate):
    model.compile(optimizer=keras.optimizers.Adam(head_learning_rate / 10), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    freeze_first(base, k)
    for layer in base.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
    return model'''},
            {"fine-tuning-step-tests"},
        ),
        "BatchNorm layers left trainable": (
            {"fine-tuning-step": '''def start_fine_tuning(model, base, k, head_learning_rate):
    freeze_first(base, k)
    model.compile(optimizer=keras.optimizers.Adam(head_learning_rate / 10), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model'''},
            {"fine-tuning-step-tests"},
        ),
    },
}
