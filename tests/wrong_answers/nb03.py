"""Wrong answers for notebook 03 (partial freezing and fine-tuning): each must lose points in the cells it names.

A case may pair two independent mistakes in different graded cells (a cell's verdict never depends on the other
mistake): tests/inkernel.py runs each alone, from its answer cell to its test cell, and one nbgrader round trip
(tests/test_grading.py) takes them together. Each named test cell must lose points.

Not a case: compiling *before* changing ``trainable`` inside ``start_fine_tuning``. In Keras 3, ``compile`` drops
the traced training step and the new optimizer builds on first use, so the next ``fit`` trains exactly the
layers trainable at that moment (measured on Keras 3.15: the unfrozen weights move, no warning). What must be
graded is the behaviour: a model fitted before must be recompiled, or its unfrozen weights do not move (the
hidden test fits and checks). The old check read Keras's private ``_compiled_trainable_state``, which Keras 3.13
does not have.
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

_READ = '''def read_sweep(results):
    ranked = sorted(results, key=lambda k: -np.mean(results[k]))
    best_k = {best}
    if len(ranked) < 2:
        return best_k, 0.0, False
    a, b = np.asarray(results[best_k]), np.asarray(results[{other}])
    d = a - b
    margin = float(d.mean())
    return best_k, margin, bool(len(d) > 1 and {rule})'''
_BEST, _RUNNER_UP = "ranked[0]", "ranked[1]"
_RULE = "margin > 2 * d.std(ddof=1) / np.sqrt(len(d))"


def _read(best=_BEST, other=_RUNNER_UP, rule=_RULE):
    return _READ.format(best=best, other=other, rule=rule)


WRONG = {
    "03-fine-tuning": {
        "base left trainable; sweep read from the worst k": (
            {"build-model": _BUILD.format(freeze="pass", preprocessed="app.preprocess_input(inputs)"),
             "read-sweep": _read(best="ranked[-1]", other="ranked[-2]")},
            {"build-model-tests", "read-sweep-tests"},
        ),
        "preprocessing applied twice; margin from the best to the worst k": (
            {"build-model": _BUILD.format(freeze="base.trainable = False",
                                          preprocessed="app.preprocess_input(app.preprocess_input(inputs))"),
             "read-sweep": _read(other="ranked[-1]")},
            {"build-model-tests", "read-sweep-tests"},
        ),
        "head layer shared between models; sweep read unpaired (the two lists' standard errors)": (
            {"build-model": '''_shared = {}


def build_model(base, num_classes):
    base.trainable = False
    if "head" not in _shared:
        _shared["head"] = keras.layers.Dense(num_classes, activation="softmax")
    inputs = keras.Input(shape=base.input.shape[1:])
    x = base(app.preprocess_input(inputs))
    x = keras.layers.Dropout(0.2)(keras.layers.GlobalAveragePooling2D()(x))
    return keras.Model(inputs, _shared["head"](x))''',
             "read-sweep": _read(rule="margin > 2 * np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))")},
            {"build-model-tests", "read-sweep-tests"},
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
        # The course's recipe imported under another name at the cell's top level: every behavioural check passes
        # (it is the recipe), and the name ``thaw`` hides it from a check of ``co_names`` or of ``freezing``'s
        # attributes; only the check of what the answer reaches (helpers/instructor/own_work.py) catches it.
        "fine-tuning delegated to freezing.unfreeze_from imported as thaw": (
            {"fine-tuning-step": '''from helpers.freezing import unfreeze_from as thaw


def start_fine_tuning(model, base, k, head_learning_rate):
    thaw(base, k)
    model.compile(optimizer=keras.optimizers.Adam(min(freezing.FINE_TUNE_RATE, head_learning_rate / 10)),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model'''},
            {"fine-tuning-step-tests"},
        ),
        "sweep read delegated to helpers.ledger under another name, as a default argument": (
            {"read-sweep": '''from helpers.ledger import visible as noise_rule


def read_sweep(results, rule=noise_rule):
    ranked = sorted(results, key=lambda k: -np.mean(results[k]))
    if len(ranked) < 2:
        return ranked[0], 0.0, False
    d = np.asarray(results[ranked[0]]) - np.asarray(results[ranked[1]])
    return ranked[0], float(d.mean()), bool(len(d) > 1 and rule(d))'''},
            {"read-sweep-tests"},
        ),
        "fine-tuning rate not lowered (the head's)": (
            {"fine-tuning-step": _FINE_TUNE.format(unfreeze=_UNFREEZE, rate="head_learning_rate")},
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
        "sweep read with the SD for the standard error": (
            {"read-sweep": _read(rule="margin > 2 * d.std(ddof=1)")},
            {"read-sweep-tests"},
        ),
        "sweep read with the population SD (ddof=0)": (
            {"read-sweep": _read(rule="margin > 2 * d.std() / np.sqrt(len(d))")},
            {"read-sweep-tests"},
        ),
        "sweep read: any positive margin counts": (
            {"read-sweep": _read(rule="margin > 0")},
            {"read-sweep-tests"},
        ),
        "sweep read delegated to helpers.ledger": (
            {"read-sweep": _read(rule="ledger.visible(d)")},
            {"read-sweep-tests"},
        ),
    },
}
