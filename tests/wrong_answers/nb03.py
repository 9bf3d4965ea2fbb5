"""Wrong answers for notebook 03 (partial freezing and fine-tuning): each must lose points in the cells it names.

Every grading run of a case costs a whole notebook run, so a case may pair two independent mistakes in different
graded cells (a cell's verdict never depends on the other mistake); each named test cell must lose points.
"""

_BUILD = '''def build_model(base, num_classes):
    {freeze}
    inputs = keras.Input(shape=base.input.shape[1:])
    x = base({preprocessed})
    x = keras.layers.Dropout(0.2)(keras.layers.GlobalAveragePooling2D()(x))
    return keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax")(x))'''

# start_fine_tuning with its own freezing loop (not freeze_first), so that it pairs with a wrong freeze_first.
_FINE_TUNE = '''def start_fine_tuning(model, base, k, head_learning_rate):
    {unfreeze}
    model.compile(optimizer=keras.optimizers.Adam({rate}), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model'''
_UNFREEZE = '''base.trainable = True
    for index, layer in enumerate(base.layers):
        layer.trainable = index >= k and not isinstance(layer, keras.layers.BatchNormalization)'''

WRONG = {
    "03-fine-tuning": {
        "base left trainable": (
            {"build-model": _BUILD.format(freeze="pass", preprocessed="app.preprocess_input(inputs)")},
            {"build-model-tests"},
        ),
        "k off by one; fine-tuning rate 10,000 times lower than the head's": (
            {"freeze-first": '''def freeze_first(base, k):
    base.trainable = True
    for index, layer in enumerate(base.layers):
        layer.trainable = index > k
    return base''',
             "fine-tuning-step": _FINE_TUNE.format(unfreeze=_UNFREEZE, rate="head_learning_rate / 10_000")},
            {"freeze-first-tests", "fine-tuning-step-tests"},
        ),
        "relies on base.trainable = True to unfreeze; fine-tuning delegated to freezing.unfreeze_from": (
            {"freeze-first": '''def freeze_first(base, k):
    base.trainable = True
    for layer in base.layers[:k]:
        layer.trainable = False
    return base''',
             "fine-tuning-step": _FINE_TUNE.format(unfreeze="freezing.unfreeze_from(base, k)",
                                                   rate="freezing.FINE_TUNE_RATE")},
            {"freeze-first-tests", "fine-tuning-step-tests"},
        ),
        "fine-tuning rate not lowered (the head's)": (
            {"fine-tuning-step": _FINE_TUNE.format(unfreeze=_UNFREEZE, rate="head_learning_rate")},
            {"fine-tuning-step-tests"},
        ),
        "recompiled before changing trainable": (
            {"fine-tuning-step": '''def start_fine_tuning(model, base, k, head_learning_rate):
    model.compile(optimizer=keras.optimizers.Adam(1e-4), loss="sparse_categorical_crossentropy",
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
    model.compile(optimizer=keras.optimizers.Adam(1e-4), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model'''},
            {"fine-tuning-step-tests"},
        ),
    },
}
