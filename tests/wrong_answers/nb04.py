"""Wrong answers of our own for notebook 04: each must lose points in the cells it names.

Each case re-runs the cells from its first answer to its last named test (tests/inkernel.py), so there are few of
them; tests/test_scenarios.py runs the graded test cells in-process against more mistakes (bad input types, wrong
output units, no compile, reading the run's grid instead of the argument).
"""

_SIGNATURE = "def recommend(images_per_class, similarity):"
_CHECKS = '''
    if isinstance(images_per_class, bool) or not isinstance(images_per_class, (int, np.integer)):
        raise ValueError("images_per_class must be a whole number")
    if images_per_class < 1:
        raise ValueError("images_per_class must be at least 1")'''

_BASE = '''def build_model(strategy, num_classes, fine_tune_at=FINE_TUNE_AT):
    if strategy not in STRATEGIES:
        raise ValueError(strategy)
    base = models.load_base(weights=None if strategy == "from_scratch" else "imagenet")
    if strategy == "earlier_layers":
        base = keras.Model(base.input, base.get_layer(EARLIER_LAYER).output)
    if strategy in ("feature_extraction", "earlier_layers"):
        base.trainable = False
'''
_LOAD = '''    base = models.load_base(weights=None if strategy == "from_scratch" else "imagenet")'''
_SHARED = '''    global _shared_base
    if "_shared_base" not in globals():
        _shared_base = models.load_base()  # loaded once, to save time: every model gets the same object
    base = models.load_base(weights=None) if strategy == "from_scratch" else _shared_base'''
_FREEZE_RECIPE = '''    elif strategy == "partial_fine_tune":
        freezing.unfreeze_from(base, fine_tune_at)
    elif strategy == "full_fine_tune":
        freezing.unfreeze_from(base, 0)
'''
_HEAD = '''    inputs = keras.Input(cfg.image_shape)
    x = keras.layers.GlobalAveragePooling2D()(base(inputs))
    model = keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax")(x))
'''
_COMPILE = '''    fine_tuning = strategy in ("partial_fine_tune", "full_fine_tune")
    rate = freezing.FINE_TUNE_RATE if fine_tuning else freezing.HEAD_RATE
    model.compile(keras.optimizers.Adam(rate), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model'''

_READ = '''def read_digits(result):
    means = result.accuracy["digits", "more"]
    scores = result.scores["digits", "more"]
    best = max(means, key=means.get)
    scratch = np.asarray(scores["from_scratch"], dtype="float64")
    paired = [s for s in scores if s != "from_scratch" and len(scores[s]) == len(scratch)]
    pretrained = max(paired, key=lambda s: np.mean(scores[s]))
    d = np.asarray(scores[pretrained], dtype="float64") - scratch
'''

WRONG = {
    "04-four-scenarios": {
        "recommend delegates to the course's helpers (right answers, read off helpers.guide)": (
            {"recommend": _SIGNATURE + _CHECKS + '''
    if not isinstance(similarity, str) or similarity.lower() not in ("similar", "different"):
        raise ValueError("similarity must be 'similar' or 'different'")
    large = images_per_class >= LARGE_FROM
    by_name = {strategy: strategy for strategy in guide.STRATEGIES}
    if similarity.lower() == "similar":
        return by_name["full_fine_tune" if large else "feature_extraction"]
    return by_name["from_scratch" if large else "partial_fine_tune"]'''},
            {"recommend-tests"},
        ),
        "size thresholds inverted": (
            {"recommend": _SIGNATURE + _CHECKS + '''
    if not isinstance(similarity, str) or similarity.lower() not in ("similar", "different"):
        raise ValueError("similarity must be 'similar' or 'different'")
    large = images_per_class < LARGE_FROM
    if similarity.lower() == "similar":
        return "full_fine_tune" if large else "feature_extraction"
    return "from_scratch" if large else "partial_fine_tune"'''},
            {"recommend-tests"},
        ),
        "similarity compared case-sensitively ('Different' raises)": (
            {"recommend": _SIGNATURE + _CHECKS + '''
    if similarity not in ("similar", "different"):
        raise ValueError("similarity must be 'similar' or 'different'")
    large = images_per_class >= LARGE_FROM
    if similarity == "similar":
        return "full_fine_tune" if large else "feature_extraction"
    return "from_scratch" if large else "partial_fine_tune"'''},
            {"recommend-tests"},
        ),
        "BatchNorm left trainable, training=False written instead": (
            {"build-model": _BASE + '''    elif strategy in ("partial_fine_tune", "full_fine_tune"):
        start = fine_tune_at if strategy == "partial_fine_tune" else 0
        for index, layer in enumerate(base.layers):
            layer.trainable = index >= start
    inputs = keras.Input(cfg.image_shape)
    x = keras.layers.GlobalAveragePooling2D()(base(inputs, training=False))
    model = keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax")(x))
''' + _COMPILE},
            {"build-model-tests", "build-model-behaviour-tests"},
        ),
        "partial fine-tune trains layers[:k] and freezes the rest": (
            {"build-model": _BASE + '''    elif strategy in ("partial_fine_tune", "full_fine_tune"):
        for index, layer in enumerate(base.layers):
            in_part = index < fine_tune_at if strategy == "partial_fine_tune" else True
            layer.trainable = in_part and not isinstance(layer, keras.layers.BatchNormalization)
''' + _HEAD + _COMPILE},
            {"build-model-tests"},
        ),
        "every strategy's model built on one shared base object": (
            {"build-model": _BASE.replace(_LOAD, _SHARED) + _FREEZE_RECIPE + _HEAD + _COMPILE},
            {"build-model-tests"},
        ),
        "the fine-tuned models built by the grid's own helper (helpers.grid_models)": (
            {"build-model": _BASE + _FREEZE_RECIPE + '''    from helpers import grid_models
    inputs = keras.Input(cfg.image_shape)
    model = grid_models._classifier(inputs, base(inputs), num_classes)
''' + _COMPILE},
            {"build-model-tests"},
        ),
        "fine-tuning compiled at the head's rate": (
            {"build-model": _BASE + _FREEZE_RECIPE + _HEAD + _COMPILE.replace("FINE_TUNE_RATE if", "HEAD_RATE if")},
            {"build-model-behaviour-tests"},
        ),
        "images preprocessed twice (a Rescaling layer in the model)": (
            {"build-model": _BASE + _FREEZE_RECIPE + '''    inputs = keras.Input(cfg.image_shape)
    x = keras.layers.Rescaling(1 / 127.5, offset=-1)(inputs)
    x = keras.layers.GlobalAveragePooling2D()(base(x))
    model = keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax")(x))
''' + _COMPILE},
            {"build-model-behaviour-tests"},
        ),
        "the old one-image rule: more than one held-out image better, on the means": (
            {"read-digits": '''def read_digits(result):
    scores = result.accuracy["digits", "more"]
    held_out = result.sizes["digits", "more"][1]
    best = max(scores, key=scores.get)
    pretrained = max(accuracy for strategy, accuracy in scores.items() if strategy != "from_scratch")
    return best, round(pretrained * held_out) - round(scores["from_scratch"] * held_out) > 1'''},
            {"read-digits-tests"},
        ),
        "mean paired difference without the standard error (any gain counts)": (
            {"read-digits": _READ + '''    return best, bool(d.mean() > 0)'''},
            {"read-digits-tests"},
        ),
        "the SD taken for the standard error": (
            {"read-digits": _READ + '''    return best, len(d) > 1 and bool(d.mean() > 2 * d.std(ddof=1))'''},
            {"read-digits-tests"},
        ),
        "unpaired: the two means compared with their own spreads": (
            {"read-digits": _READ + '''    a, b = np.asarray(scores[pretrained]), np.asarray(scores["from_scratch"])
    se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b)) if len(a) > 1 else np.inf
    return best, bool(a.mean() - b.mean() > 2 * se)'''},
            {"read-digits-tests"},
        ),
        "the noise rule delegated to helpers.ledger": (
            {"read-digits": _READ + '''    from helpers import ledger
    return best, ledger.compare("digits", scores[pretrained], scores["from_scratch"]).visible'''},
            {"read-digits-tests"},
        ),
        "delegated to the result's own comparisons": (
            {"read-digits": '''def read_digits(result):
    means = result.accuracy["digits", "more"]
    best = max(means, key=means.get)
    return best, result.comparisons()[-1].visible'''},
            {"read-digits-tests"},
        ),
    },
}
