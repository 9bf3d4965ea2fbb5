"""Notebook 04's strategies in one table: what each is, and what the measured grid needs to train and score it.

:data:`TABLE` (ordered: the order the guide, the grid's tables and its heat maps use) maps a strategy's name to
its :class:`Strategy`: the label and description the guide shows (what it does, not *when*: that is the guide
notebook 04 has you write), the Keras lines it implies (written with the course's one fine-tuning recipe,
:func:`helpers.freezing.unfreeze_from`), and for the grid (:mod:`helpers.measure`, :mod:`helpers.grid_models`)
its ``kind``, the cached input it ``reads``, whether it is measured in every split (``seeded``) and, for a
fine-tuned one, where its trainable part starts (``trains_from``). :mod:`helpers.guide` derives its
``STRATEGIES``, ``LABELS``, ``DESCRIPTIONS`` and ``CODE`` from it; the grid dispatches on its fields.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CUT", "FINE_TUNE", "INPUTS", "KINDS", "LINEAR", "SCRATCH", "TABLE", "Strategy", "baseline"]

# What the grid does with a strategy (its kind).
LINEAR = "linear"  # a logistic regression (a linear head) on cached pooled features: nothing in the base trains
FINE_TUNE = "fine_tune"  # the pretrained network, trained again from trains_from on, after its head
SCRATCH = "scratch"  # a network from random weights (helpers.recipes.small_cnn), at its own rate
KINDS = (LINEAR, FINE_TUNE, SCRATCH)

# The cached inputs of a data set the grid computes once (helpers.grid_data.forward_pass), by their keys.
INPUTS = {
    "final_pooled": "the base's final features, pooled",
    "cut_pooled": "the earlier layer's features (at the cut k), pooled",
    "cut_maps": "the earlier layer's feature maps (the frozen prefix's output)",
    "x": "8-bit pixels (the model preprocesses them)",
    "x_scratch": "8-bit pixels, smaller (the network from scratch's)",
}
CUT = "cut"  # trains_from: the layers from the grid's cut k on (layers[:k] stay frozen)


@dataclass(frozen=True)
class Strategy:
    """One strategy of the 2x2 table: what the guide shows, and what the measured grid needs."""

    name: str
    label: str
    description: str  # what it does, not when to use it
    code: str  # the Keras lines it implies
    kind: str  # one of KINDS
    reads: str  # the cached input the grid trains or scores it on: a key of INPUTS
    seeded: bool  # measured in every split (else in the first split only: it trains the network again each time)
    trains_from: str | int | None = None  # fine-tuned ones: CUT (from the cut k on) or 0 (every layer)

    def __post_init__(self):
        if self.kind not in KINDS or self.reads not in INPUTS:
            raise ValueError(f"{self.name}: kind {self.kind!r} (use one of {KINDS}), reads {self.reads!r} "
                             f"(use one of {tuple(INPUTS)})")
        if (self.kind == FINE_TUNE) != (self.trains_from is not None) or self.trains_from not in (None, CUT, 0):
            raise ValueError(f"{self.name}: trains_from is CUT or 0 for a fine-tuned strategy, None otherwise")
        if self.kind == FINE_TUNE and self.reads != ("cut_maps" if self.trains_from == CUT else "x"):
            raise ValueError(f"{self.name}: a fine-tune from the cut reads 'cut_maps', from layer 0 'x'")


_COMPILE = 'model.compile(keras.optimizers.Adam({rate}), loss="sparse_categorical_crossentropy", metrics=["accuracy"])'
_HEAD = """inputs = keras.Input(base.input.shape[1:])
x = keras.layers.GlobalAveragePooling2D()(base(inputs))
model = keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax")(x))
"""
_HEAD_FIRST = ("base = models.load_base()\nbase.trainable = False\n" + _HEAD
               + _COMPILE.format(rate="freezing.HEAD_RATE") + "\n"
               "model.fit(...)                            # 1. the new head first, on the frozen base\n")

_STRATEGIES = (
    Strategy(
        "feature_extraction", "frozen features + new head",
        "Freeze the whole base and train only a new head on its final features (or compute the features once, "
        "cache them and fit the head on the cache).",
        "base = models.load_base()                 # weights=\"imagenet\", include_top=False\n"
        "base.trainable = False                    # the whole base is frozen\n"
        + _HEAD + _COMPILE.format(rate="freezing.HEAD_RATE") + "\n"
        "model.fit(...)                            # or: cache the base's features, fit the head",
        kind=LINEAR, reads="final_pooled", seeded=True),
    Strategy(
        "earlier_layers", "earlier-layer features + new head",
        "Remove the top blocks of the base (the most ImageNet-specific ones): cut it at an earlier block boundary, "
        "keep what is left frozen, and train a new head on those more generic features (a linear classifier on "
        "cached features). Source B's next step, not measured here: the layers left after the cut may then be "
        "fine-tuned too.",
        """base = models.load_base()
k = freezing.boundary_near(base, 1 / 2)   # a block boundary about halfway up: the top blocks go
cut = freezing.cut_layer(base, k)         # the layer whose output is the one tensor crossing k
extractor = keras.Model(base.input, keras.layers.GlobalAveragePooling2D()(cut.output))
features = extractor.predict(images)      # computed once: nothing in the base is trained
classifier = LogisticRegression(max_iter=1000).fit(features, labels)  # or a Dense softmax head""",
        kind=LINEAR, reads="cut_pooled", seeded=True),
    Strategy(
        "partial_fine_tune", "partial fine-tune",
        "Freeze the first k layers (k at a block boundary) and retrain the other n-k: train the new head first on "
        "the frozen base, then unfreeze from k on (BatchNorm stays frozen), recompile at a low learning rate and "
        "train again.",
        _HEAD_FIRST
        + "k = freezing.boundary_near(base, 1 / 2)   # 2. unfreeze from a block boundary on\n"
        "print(freezing.unfreeze_from(base, k))    #    (every BatchNorm layer stays frozen)\n"
        "# 3. recompile at a low rate, and fine-tune\n"
        + _COMPILE.format(rate="freezing.FINE_TUNE_RATE") + "\nmodel.fit(...)",
        kind=FINE_TUNE, reads="cut_maps", seeded=False, trains_from=CUT),
    Strategy(
        "full_fine_tune", "full fine-tune",
        "Start from the pretrained weights and retrain every layer of the base (BatchNorm stays frozen): head "
        "first, then unfreeze everything and recompile at a low learning rate.",
        _HEAD_FIRST
        + "print(freezing.unfreeze_from(base, 0))    # 2. every layer trains, except BatchNorm\n"
        "# 3. recompile at a low rate, and fine-tune everything\n"
        + _COMPILE.format(rate="freezing.FINE_TUNE_RATE") + "\nmodel.fit(...)",
        kind=FINE_TUNE, reads="x", seeded=False, trains_from=0),
    Strategy(
        "from_scratch", "from scratch (weights=None)",
        "Keep the architecture only (weights=None): every layer, BatchNorm included, learns from random weights at "
        "the usual rate, and needs far more data and epochs.",
        "base = models.load_base(weights=None)     # the architecture only, random weights\n" + _HEAD
        + "# a new network: every layer trains (BatchNorm learns its statistics), at the usual rate\n"
        + _COMPILE.format(rate="freezing.HEAD_RATE") + "\nmodel.fit(...)",
        kind=SCRATCH, reads="x_scratch", seeded=True),
)
TABLE: dict[str, Strategy] = {s.name: s for s in _STRATEGIES}


def baseline() -> Strategy:
    """The one network from scratch: what the grid compares the best pretrained strategy of each cell with."""
    (scratch,) = (s for s in TABLE.values() if s.kind == SCRATCH)
    return scratch
