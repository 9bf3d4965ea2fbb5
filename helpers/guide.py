"""Notebook 04's guide: the five strategies of the 2x2 table, and the widget that *your* guide drives.

:data:`STRATEGIES`, with a label, a description of what each does (not *when*: that is the guide, which notebook
04 has you write as ``recommend``) and the Keras lines it implies (:data:`CODE`, written with the course's one
fine-tuning recipe, :func:`helpers.freezing.unfreeze_from`). :func:`widget` is an ipywidgets front end for a
guide function you pass it: it calls your function and shows what its answer means. The measured grid of the
same strategies is :mod:`helpers.measure`.
"""

from __future__ import annotations

__all__ = ["CODE", "DESCRIPTIONS", "LABELS", "SIMILARITIES", "STRATEGIES", "render", "widget"]

STRATEGIES = ("feature_extraction", "earlier_layers", "partial_fine_tune", "full_fine_tune", "from_scratch")
LABELS = {
    "feature_extraction": "frozen features + new head",
    "earlier_layers": "earlier-layer features + new head",
    "partial_fine_tune": "partial fine-tune",
    "full_fine_tune": "full fine-tune",
    "from_scratch": "from scratch (weights=None)",
}
SIMILARITIES = ("similar", "different")

# What each strategy does (not when to use it: that is the guide).
DESCRIPTIONS = {
    "feature_extraction": "Freeze the whole base and train only a new head on its final features (or compute "
                          "the features once, cache them and fit the head on the cache).",
    "earlier_layers": "Remove the top blocks of the base (the most ImageNet-specific ones): cut it at an earlier "
                      "block boundary, keep what is left frozen, and train a new head on those more generic "
                      "features (a linear classifier on cached features). Source B's next step, not measured "
                      "here: the layers left after the cut may then be fine-tuned too.",
    "partial_fine_tune": "Freeze the first k layers (k at a block boundary) and retrain the other n-k: train the "
                         "new head first on the frozen base, then unfreeze from k on (BatchNorm stays frozen), "
                         "recompile at a low learning rate and train again.",
    "full_fine_tune": "Start from the pretrained weights and retrain every layer of the base (BatchNorm stays "
                      "frozen): head first, then unfreeze everything and recompile at a low learning rate.",
    "from_scratch": "Keep the architecture only (weights=None): every layer, BatchNorm included, learns from "
                    "random weights at the usual rate, and needs far more data and epochs.",
}

_COMPILE = 'model.compile(keras.optimizers.Adam({rate}), loss="sparse_categorical_crossentropy", metrics=["accuracy"])'
_HEAD = """inputs = keras.Input(base.input.shape[1:])
x = keras.layers.GlobalAveragePooling2D()(base(inputs))
model = keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax")(x))
"""
CODE = {
    "feature_extraction": "base = models.load_base()                 # weights=\"imagenet\", include_top=False\n"
                          "base.trainable = False                    # the whole base is frozen\n"
                          + _HEAD + _COMPILE.format(rate="freezing.HEAD_RATE") + "\n"
                          "model.fit(...)                            # or: cache the base's features, fit the head",
    "earlier_layers": """base = models.load_base()
k = freezing.boundary_near(base, 1 / 2)   # a block boundary about halfway up: the top blocks go
cut = freezing.cut_layer(base, k)         # the layer whose output is the one tensor crossing k
extractor = keras.Model(base.input, keras.layers.GlobalAveragePooling2D()(cut.output))
features = extractor.predict(images)      # computed once: nothing in the base is trained
classifier = LogisticRegression(max_iter=1000).fit(features, labels)  # or a Dense softmax head""",
    "partial_fine_tune": "base = models.load_base()\nbase.trainable = False\n" + _HEAD
                         + _COMPILE.format(rate="freezing.HEAD_RATE") + "\n"
                         "model.fit(...)                            # 1. the new head first, on the frozen base\n"
                         "k = freezing.boundary_near(base, 1 / 2)   # 2. unfreeze from a block boundary on\n"
                         "print(freezing.unfreeze_from(base, k))    #    (every BatchNorm layer stays frozen)\n"
                         "# 3. recompile at a low rate, and fine-tune\n"
                         + _COMPILE.format(rate="freezing.FINE_TUNE_RATE") + "\nmodel.fit(...)",
    "full_fine_tune": "base = models.load_base()\nbase.trainable = False\n" + _HEAD
                      + _COMPILE.format(rate="freezing.HEAD_RATE") + "\n"
                      "model.fit(...)                            # 1. the new head first, on the frozen base\n"
                      "print(freezing.unfreeze_from(base, 0))    # 2. every layer trains, except BatchNorm\n"
                      "# 3. recompile at a low rate, and fine-tune everything\n"
                      + _COMPILE.format(rate="freezing.FINE_TUNE_RATE") + "\nmodel.fit(...)",
    "from_scratch": "base = models.load_base(weights=None)     # the architecture only, random weights\n" + _HEAD
                    + "# a new network: every layer trains (BatchNorm learns its statistics), at the usual rate\n"
                    + _COMPILE.format(rate="freezing.HEAD_RATE") + "\nmodel.fit(...)",
}


def render(strategy: str) -> str:
    """What a strategy means, as a small HTML block (for the widget)."""
    import html

    return (f"<b>{html.escape(LABELS[strategy])}</b> (<code>{strategy}</code>)<br>"
            f"{html.escape(DESCRIPTIONS[strategy])}<pre>{html.escape(CODE[strategy])}</pre>")


def widget(recommend, images_per_class: int = 20, similarity: str = "similar"):
    """An interactive 2x2 guide driven by ``recommend(images_per_class, similarity)``: the function you wrote.

    The widget only calls your function and shows what its answer means (:func:`render`); an error it raises
    (a ``ValueError`` for a bad input, or ``NotImplementedError`` before you write it) is shown, not raised.
    Returns the widget.
    """
    import html

    import ipywidgets as widgets

    size = widgets.BoundedIntText(value=images_per_class, min=-1_000, max=1_000_000, description="images/class")
    choice = widgets.ToggleButtons(options=list(SIMILARITIES), value=similarity, description="vs ImageNet")
    answer = widgets.HTML()
    name = getattr(recommend, "__name__", "recommend")

    def update(_=None):
        try:
            strategy = recommend(size.value, choice.value)
        except Exception as error:  # noqa: BLE001 - whatever your function raises is shown, not re-raised
            answer.value = (f"your <code>{html.escape(name)}</code> raised {type(error).__name__}: "
                            f"{html.escape(str(error))}")
            return
        if strategy not in STRATEGIES:
            answer.value = (f"your <code>{html.escape(name)}</code> returned {html.escape(repr(strategy))}, "
                            f"not one of {html.escape(', '.join(STRATEGIES))}")
            return
        answer.value = (f"your <code>{html.escape(name)}({size.value}, {choice.value!r})</code> &rarr; "
                        + render(strategy))

    size.observe(update, names="value")
    choice.observe(update, names="value")
    update()
    return widgets.VBox([size, choice, answer])
