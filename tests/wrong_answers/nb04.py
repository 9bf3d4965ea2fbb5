"""Wrong answers of our own for notebook 04: each must lose points in the cells it names."""

_BUILD_HEAD = '''    inputs = keras.Input(cfg.image_shape)
    x = keras.layers.GlobalAveragePooling2D()(base(inputs))
    return keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax")(x))'''

WRONG = {
    "04-four-scenarios": {
        "small and similar: full fine-tuning": (
            {"recommend": '''def recommend(images_per_class, similarity):
    if isinstance(images_per_class, bool) or not isinstance(images_per_class, (int, np.integer)):
        raise ValueError("not a whole number")
    if images_per_class < 1 or similarity not in ("similar", "different"):
        raise ValueError("bad input")
    if similarity == "similar":
        return "full_fine_tune"
    return "from_scratch" if images_per_class >= LARGE_FROM else "earlier_layers"'''},
            {"recommend-tests"},
        ),
        "no error on a negative size": (
            {"recommend": '''def recommend(images_per_class, similarity):
    if similarity not in ("similar", "different"):
        raise ValueError("unknown similarity")
    large = images_per_class >= LARGE_FROM
    if similarity == "similar":
        return "full_fine_tune" if large else "feature_extraction"
    return "from_scratch" if large else "earlier_layers"'''},
            {"recommend-tests"},
        ),
        "off by one at the size boundary, unknown similarity treated as different": (
            {"recommend": '''def recommend(images_per_class, similarity):
    if isinstance(images_per_class, bool) or not isinstance(images_per_class, (int, np.integer)):
        raise ValueError("not a whole number")
    if images_per_class < 1:
        raise ValueError("negative size")
    large = images_per_class > LARGE_FROM
    if similarity == "similar":
        return "full_fine_tune" if large else "feature_extraction"
    return "from_scratch" if large else "earlier_layers"'''},
            {"recommend-tests"},
        ),
        "base left trainable for feature extraction": (
            {"build-model": '''def build_model(strategy, num_classes, fine_tune_at=FINE_TUNE_AT):
    if strategy not in STRATEGIES:
        raise ValueError(strategy)
    base = models.load_base(weights=None if strategy == "from_scratch" else "imagenet")
    if strategy == "earlier_layers":
        base = keras.Model(base.input, base.get_layer(EARLIER_LAYER).output)
    if strategy == "partial_fine_tune":
        for layer in base.layers[:fine_tune_at]:
            layer.trainable = False
''' + _BUILD_HEAD},
            {"build-model-tests"},
        ),
        "partial fine-tune freezes one layer too many, BatchNorm left trainable": (
            {"build-model": '''def build_model(strategy, num_classes, fine_tune_at=FINE_TUNE_AT):
    if strategy not in STRATEGIES:
        raise ValueError(strategy)
    base = models.load_base(weights=None if strategy == "from_scratch" else "imagenet")
    if strategy == "earlier_layers":
        base = keras.Model(base.input, base.get_layer(EARLIER_LAYER).output)
    if strategy in ("feature_extraction", "earlier_layers"):
        base.trainable = False
    elif strategy == "partial_fine_tune":
        for index, layer in enumerate(base.layers):
            layer.trainable = index > fine_tune_at
''' + _BUILD_HEAD},
            {"build-model-tests"},
        ),
        "from scratch keeps the ImageNet weights": (
            {"build-model": '''def build_model(strategy, num_classes, fine_tune_at=FINE_TUNE_AT):
    if strategy not in STRATEGIES:
        raise ValueError(strategy)
    base = models.load_base()
    if strategy == "earlier_layers":
        base = keras.Model(base.input, base.get_layer(EARLIER_LAYER).output)
    if strategy in ("feature_extraction", "earlier_layers"):
        base.trainable = False
    elif strategy in ("partial_fine_tune", "full_fine_tune"):
        start = fine_tune_at if strategy == "partial_fine_tune" else 0
        for index, layer in enumerate(base.layers):
            layer.trainable = index >= start and not isinstance(layer, keras.layers.BatchNormalization)
''' + _BUILD_HEAD},
            {"build-model-tests"},
        ),
    },
}
