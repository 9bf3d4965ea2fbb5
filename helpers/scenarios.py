"""The four transfer-learning scenarios: the 2x2 guide, its widget, and the measured grid.

* :func:`recommend` is the guide as a plain function: images per class and similarity to
  ImageNet in, a :class:`Recommendation` (strategy, reason, variants, the Keras lines it implies)
  out. :func:`guide` is an ipywidgets front end that only calls it.
* :func:`run_grid` measures the 2x2 grid: flowers (similar to ImageNet) and scikit-learn digits
  (different), a small and a large training set of each, every strategy of :data:`STRATEGIES`,
  accuracy on the held-out rest. Features are computed once per data set and reused by the
  strategies that allow it. :func:`plot_grid` draws one heat map per scenario.
"""

from __future__ import annotations

import logging
import math
import numbers
import time
from dataclasses import dataclass, field

import numpy as np

from .config import SEED, settings

STRATEGIES = ("feature_extraction", "earlier_layers", "partial_fine_tune", "full_fine_tune", "from_scratch")
LABELS = {
    "feature_extraction": "frozen features + new head",
    "earlier_layers": "earlier-layer features + linear",
    "partial_fine_tune": "partial fine-tune",
    "full_fine_tune": "full fine-tune",
    "from_scratch": "from scratch (weights=None)",
}
SIMILARITIES = ("similar", "different")
LARGE_FROM = 1000  # images per class from which a data set counts as "large" (a rule of thumb, not a law)

# (size, similarity) -> (scenario number of the syllabus table, strategy, reason, what other sources say)
GUIDE = {
    ("small", "similar"): (
        1, "feature_extraction",
        "The pretrained features already describe images like yours, and a few images per class would "
        "overfit any fine-tuned convolution layer: freeze the whole base and train only a new head.",
        "Everyone agrees here (the cats vs dogs case: 1000 outputs become 2).",
    ),
    ("small", "different"): (
        2, "earlier_layers",
        "The top of the base is specific to ImageNet's classes, and there is too little data to retrain it: "
        "take the more generic features of an earlier layer and fit a linear classifier on them.",
        "Variants: freeze the first k layers and retrain the rest (partial fine-tuning), or remove many top "
        "layers and train new ones. Which works best depends on the data: measure.",
    ),
    ("large", "similar"): (
        4, "full_fine_tune",
        "With plenty of data, overfitting is less of a risk: keep the architecture and the pretrained "
        "weights as a starting point and fine-tune the whole model with a low learning rate.",
        "Some sources fine-tune only the top blocks (partial fine-tuning), which is cheaper and often as good.",
    ),
    ("large", "different"): (
        3, "from_scratch",
        "Enough data to train the architecture itself (weights=None): ImageNet's features are not made "
        "for your images.",
        "Others initialise from the pretrained weights and fine-tune everything, which often still helps "
        "(faster convergence). Measure both.",
    ),
}

CODE = {
    "feature_extraction": """base = models.load_base()           # weights="imagenet", include_top=False
base.trainable = False               # the whole base is frozen
inputs = keras.Input(base.input.shape[1:])
x = base(inputs, training=False)
x = keras.layers.GlobalAveragePooling2D()(x)
outputs = keras.layers.Dense(num_classes, activation="softmax")(x)
model = keras.Model(inputs, outputs)  # or: cache base features once, fit the head on them""",
    "earlier_layers": """base = models.load_base()
cut = base.get_layer(EARLIER_LAYER)     # a block boundary about halfway up
extractor = keras.Model(base.input, keras.layers.GlobalAveragePooling2D()(cut.output))
features = extractor.predict(images)    # computed once: nothing in the base is trained
classifier = LogisticRegression(max_iter=1000).fit(features, labels)  # or a linear SVM""",
    "partial_fine_tune": """base = models.load_base()
for index, layer in enumerate(base.layers):   # the first k layers stay as they are; BatchNorm stays frozen
    layer.trainable = index >= fine_tune_at and not isinstance(layer, keras.layers.BatchNormalization)
x = base(inputs)
...                                  # new head as above, train it first
model.compile(keras.optimizers.Adam(1e-4), "sparse_categorical_crossentropy", ["accuracy"])""",
    "full_fine_tune": """base = models.load_base()
for layer in base.layers:            # every layer learns from the pretrained start, except BatchNorm
    layer.trainable = not isinstance(layer, keras.layers.BatchNormalization)
x = base(inputs)
...                                  # new head as above, train it first with the base frozen
model.compile(keras.optimizers.Adam(1e-4), "sparse_categorical_crossentropy", ["accuracy"])  # low rate""",
    "from_scratch": """base = models.load_base(weights=None)   # the architecture only, random weights
x = base(inputs)                        # BatchNorm learns its statistics
...                                     # new head as above
model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", ["accuracy"])""",
}


@dataclass(frozen=True)
class Recommendation:
    """What the 2x2 guide says for one data set."""

    strategy: str
    scenario: int
    size: str
    similarity: str
    reason: str
    variants: str
    code: str

    @property
    def label(self) -> str:
        return LABELS[self.strategy]


def classify(images_per_class, similarity) -> tuple[str, str]:
    """Check the inputs of the guide; return ``(size, similarity)``, size ``"small"`` or ``"large"``.

    Raises ``ValueError`` for a size that is not a positive whole number or an unknown similarity.
    """
    if isinstance(images_per_class, bool) or not isinstance(images_per_class, numbers.Real):
        raise ValueError(f"images_per_class must be a positive whole number, got {images_per_class!r}.")
    if not math.isfinite(images_per_class) or images_per_class != int(images_per_class) or images_per_class < 1:
        raise ValueError(f"images_per_class must be a positive whole number, got {images_per_class!r}.")
    if not isinstance(similarity, str) or similarity.strip().lower() not in SIMILARITIES:
        raise ValueError(f"similarity must be one of {', '.join(map(repr, SIMILARITIES))}, got {similarity!r}.")
    size = "large" if images_per_class >= LARGE_FROM else "small"
    return size, similarity.strip().lower()


def recommend(images_per_class, similarity) -> Recommendation:
    """The guide's recommendation for ``images_per_class`` images a class, ``"similar"`` or ``"different"``."""
    size, similarity = classify(images_per_class, similarity)
    number, strategy, reason, variants = GUIDE[size, similarity]
    return Recommendation(strategy, number, size, similarity, reason, variants, CODE[strategy])


def render(recommendation: Recommendation) -> str:
    """The recommendation as a small HTML block (for the widget)."""
    import html

    r = recommendation
    return (f"<b>Scenario {r.scenario}: {r.size} and {r.similarity}</b> &rarr; "
            f"<b>{html.escape(r.label)}</b> (<code>{r.strategy}</code>)<br>{html.escape(r.reason)}<br>"
            f"<i>{html.escape(r.variants)}</i><pre>{html.escape(r.code)}</pre>")


def guide(images_per_class: int = 20, similarity: str = "similar"):
    """An interactive 2x2 guide: a size and a similarity in, :func:`recommend`'s answer out. Returns the widget."""
    import ipywidgets as widgets

    size = widgets.BoundedIntText(value=images_per_class, min=1, max=1_000_000, description="images/class")
    choice = widgets.ToggleButtons(options=list(SIMILARITIES), value=similarity, description="vs ImageNet")
    answer = widgets.HTML()

    def update(_=None):
        try:
            answer.value = render(recommend(size.value, choice.value))
        except ValueError as error:
            answer.value = f"<b>{error}</b>"

    size.observe(update, names="value")
    choice.observe(update, names="value")
    update()
    return widgets.VBox([size, choice, answer])


# --- the measured grid ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GridPlan:
    """Sizes of the measured grid. :func:`grid_plan` derives them from the course settings."""

    image_size: int
    small_per_class: int
    large_per_class: int | None  # None: 75 % of each class (full mode)
    epochs: int
    batch_size: int
    fine_tune_rate: float = 1e-4
    scratch_rate: float = 1e-3
    seed: int = SEED
    max_per_class: int | None = None  # images kept per class of each data set (None: all)


def grid_plan(cfg=None) -> GridPlan:
    """The grid's sizes for the current mode: half-size images, 10 images a class and 3/4 of each class."""
    cfg = cfg or settings()
    cap = cfg.max_images_per_class
    return GridPlan(
        image_size=cfg.image_size // 2,  # 64 px in small mode: the grid trains a dozen networks
        small_per_class=10,
        large_per_class=cap * 3 // 4 if cap else None,
        epochs=cfg.epochs,
        # 25 divides every small-mode training set (50, 150, 100, 300 images): no last partial batch to retrace.
        batch_size=25 if cap else cfg.batch_size,
        max_per_class=cap,
    )


def cut_points(base) -> list[str]:
    """Names of the activation / add layers of ``base`` after which no connection skips ahead (block ends)."""
    import keras

    index = {layer.name: i for i, layer in enumerate(base.layers)}
    earliest = []
    for i, layer in enumerate(base.layers):
        parents = [t._keras_history.operation.name for node in layer._inbound_nodes for t in node.input_tensors]
        earliest.append(min((index[p] for p in parents if p in index), default=i))
    names = []
    for i, layer in enumerate(base.layers[:-1]):
        if min(earliest[i + 1:]) >= i and isinstance(layer, (keras.layers.ReLU, keras.layers.Activation,
                                                             keras.layers.Add)):
            names.append(layer.name)
    return names


def earlier_layer(base, fraction: float = 0.5) -> str:
    """The block end of ``base`` closest to ``fraction`` of its depth: where "earlier features" are taken."""
    index = {layer.name: i for i, layer in enumerate(base.layers)}
    target = fraction * len(base.layers)
    return min(cut_points(base), key=lambda name: abs(index[name] - target))


def load_grid_data(name: str, plan: GridPlan):
    """``(x, y, class_names)`` of ``"flowers"`` or ``"digits"``: float32 images in [0, 255] of the plan's size.

    At most ``plan.max_per_class`` images a class (for digits a seeded random choice, for flowers the first).
    """
    from . import data

    if name == "digits":
        x, y = data.digits(plan.image_size)
        if plan.max_per_class:
            rng = np.random.default_rng(plan.seed)
            keep = np.sort(np.concatenate([rng.permutation(np.flatnonzero(y == c))[:plan.max_per_class]
                                           for c in range(10)]))
            x, y = x[keep], y[keep]
        return x, y, [str(i) for i in range(10)]
    if name == "flowers":
        folder = data.list_images(settings().flowers_dir, max_per_class=plan.max_per_class)
        ds = data.make_dataset(folder.paths, folder.labels, plan.image_size, batch_size=64)
        return np.concatenate([x.numpy() for x, _ in ds]), folder.labels, folder.class_names
    raise ValueError(f"unknown grid data set {name!r}: use 'flowers' or 'digits'.")


def grid_splits(labels, plan: GridPlan) -> dict[str, np.ndarray]:
    """Nested training sets ``small`` within ``large`` (per class, seeded) and ``held_out``: the rest."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(plan.seed)
    small, large, held_out = [], [], []
    for label in np.unique(labels):
        index = rng.permutation(np.flatnonzero(labels == label))
        n_large = plan.large_per_class or int(round(0.75 * len(index)))
        if not plan.small_per_class < n_large < len(index):
            raise ValueError(f"class {label} has {len(index)} images: too few for {plan.small_per_class} "
                             f"< {n_large} training images and a held-out rest.")
        small += list(index[:plan.small_per_class])
        large += list(index[:n_large])
        held_out += list(index[n_large:])
    return {"small": np.sort(small), "large": np.sort(large), "held_out": np.sort(held_out)}


@dataclass
class GridResult:
    """Held-out accuracy per data set, training size and strategy, with the sizes and timings."""

    plan: GridPlan
    accuracy: dict = field(default_factory=dict)  # {(dataset, size): {strategy: accuracy}}
    sizes: dict = field(default_factory=dict)  # {(dataset, size): (train images, held-out images)}
    chance: dict = field(default_factory=dict)  # {dataset: 1 / classes}
    seconds: dict = field(default_factory=dict)  # {strategy or "cached forward pass": seconds over the grid}
    earlier_layer: str = ""

    def table(self) -> str:
        """The accuracies as a plain-text table, one row per strategy, one column per cell of the grid."""
        cells = list(self.accuracy)
        heads = [f"{d} {s} ({self.sizes[d, s][0]})" for d, s in cells]
        width = max(len(label) for label in LABELS.values())
        lines = [" " * width + "  " + "  ".join(f"{h:>19s}" for h in heads)]
        for strategy in STRATEGIES:
            if all(strategy in self.accuracy[c] for c in cells):
                lines.append(f"{LABELS[strategy]:{width}s}  " +
                             "  ".join(f"{self.accuracy[c][strategy]:>19.2f}" for c in cells))
        return "\n".join(lines)

    def best(self, dataset: str, size: str) -> str:
        """The strategy with the highest accuracy in one cell (the first of :data:`STRATEGIES` on a tie)."""
        scores = self.accuracy[dataset, size]
        return max((s for s in STRATEGIES if s in scores), key=lambda s: scores[s])


def linear_head(features, labels, seed: int = SEED):
    """A logistic regression on ``features``, returned as the ``(kernel, bias)`` of an equivalent Dense layer.

    Features are divided by one overall scale (not per feature, which would blow up near-constant ones).
    The fit runs on one BLAS thread: on a busy 2-core machine, threaded BLAS makes this tiny fit 100x slower.
    """
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    scale = float(features.std()) + 1e-6
    with threadpool_limits(limits=1):
        model = LogisticRegression(max_iter=2000, random_state=seed).fit(features / scale, labels)
    return (model.coef_.T / scale).astype("float32"), model.intercept_.astype("float32")


def linear_accuracy(head, features, labels) -> float:
    """Accuracy of a ``(kernel, bias)`` linear head on features."""
    kernel, bias = head
    return float(np.mean(np.argmax(features @ kernel + bias, axis=1) == labels))


def freeze_batchnorm(model) -> None:
    """Set every BatchNormalization layer of ``model`` to ``trainable = False``.

    In Keras 3 that is what keeps BatchNorm in inference mode (its ImageNet statistics) while the other
    layers fine-tune: ``fit`` calls the model with ``training=True``, and that overrides a
    ``training=False`` written in a functional model (keras-team/keras#20285).
    """
    import keras

    for layer in model._flatten_layers(include_self=False):
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False


class _Trainable:
    """One compiled model reused for every cell of the grid, so that its train and predict steps are traced once.

    Before each fit its weights and optimizer state are reset to the saved start (``reset``).
    """

    def __init__(self, model, rate):
        import keras

        self.model = model
        model.compile(optimizer=keras.optimizers.Adam(rate), loss="sparse_categorical_crossentropy")
        model.optimizer.build(model.trainable_variables)
        self.initial = [np.array(w) for w in model.get_weights()]
        self.optimizer_start = [np.array(v) for v in model.optimizer.variables]

    def score(self, x, y, x_test, y_test, num_classes, head, plan) -> float:
        """Reset, set the head (or keep its random start), fit on (x, y); accuracy on the test arrays."""
        from . import set_seeds

        self.model.set_weights(self.initial)
        if head is not None:
            kernel, bias = head
            dense = self.model.layers[-1]
            outputs = dense.units
            full_kernel = np.zeros((kernel.shape[0], outputs), "float32")
            full_kernel[:, :num_classes] = kernel
            full_bias = np.full(outputs, -10.0, "float32")  # outputs this data set does not use stay off
            full_bias[:num_classes] = bias
            dense.set_weights([full_kernel, full_bias])
        for variable, value in zip(self.model.optimizer.variables, self.optimizer_start, strict=True):
            variable.assign(value)
        set_seeds(plan.seed)
        self.model.fit(x, y, epochs=plan.epochs, batch_size=plan.batch_size, shuffle=True, verbose=0)
        predictions = self.model.predict(x_test, batch_size=256, verbose=0)[:, :num_classes]
        return float(np.mean(predictions.argmax(axis=1) == y_test))


def _classifier(inputs, features, outputs):
    import keras

    x = keras.layers.GlobalAveragePooling2D()(features)
    return keras.Model(inputs, keras.layers.Dense(outputs, activation="softmax")(x))


def _trainables(strategies, plan, cut, outputs) -> dict:
    """The compiled models of the trained strategies, shared by every data set (``outputs`` units each)."""
    import keras

    from . import models

    built = {}
    if "partial_fine_tune" in strategies:
        # The first part, up to the cut, is frozen: its output maps are cached, and only the layers after
        # the cut (with BatchNorm in inference mode) and the head are built and trained.
        base = models.load_base(plan.image_size)
        top = keras.Model(base.get_layer(cut).output, base.output)
        freeze_batchnorm(top)
        inputs = keras.Input(top.input.shape[1:])
        built["partial_fine_tune"] = _Trainable(_classifier(inputs, top(inputs), outputs), plan.fine_tune_rate)
    if "full_fine_tune" in strategies:
        base = models.load_base(plan.image_size)
        freeze_batchnorm(base)
        inputs = keras.Input(base.input.shape[1:])
        built["full_fine_tune"] = _Trainable(_classifier(inputs, base(inputs), outputs), plan.fine_tune_rate)
    if "from_scratch" in strategies:
        base = models.load_base(plan.image_size, weights=None)
        for layer in base.layers:  # BatchNorm learns its statistics; they must settle within the grid's few steps
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.momentum = 0.9
        inputs = keras.Input(base.input.shape[1:])
        built["from_scratch"] = _Trainable(_classifier(inputs, base(inputs), outputs), plan.scratch_rate)
    return built


def run_grid(plan: GridPlan | None = None, datasets=("flowers", "digits"), strategies=STRATEGIES,
             verbose: bool = True) -> GridResult:
    """Measure every strategy on a small and a large training set of each data set (seeded, repeatable).

    The pretrained base runs once per data set; its final and earlier features (pooled) and the earlier
    layer's maps are cached and reused. The fine-tuned models start from the head that the logistic
    regression on the cached final features learnt (train the head first, then fine-tune). Each trained
    model is built once with as many outputs as the largest data set has classes and reset before each
    fit (a data set with fewer classes leaves the extra outputs off): tracing a network's training step
    costs more than training it on the small subsets.
    """
    import keras

    from . import models, set_seeds

    plan = plan or grid_plan()
    unknown = set(strategies) - set(STRATEGIES)
    if unknown:
        raise ValueError(f"unknown strategies {sorted(unknown)}: use some of {STRATEGIES}.")
    keras.backend.clear_session()
    set_seeds(plan.seed)
    tf_logger = logging.getLogger("tensorflow")
    tf_level = tf_logger.level
    tf_logger.setLevel(logging.ERROR)  # the shared models retrace predict once per data set: expected, not news
    result = GridResult(plan)
    seconds = dict.fromkeys(strategies, 0.0)
    seconds["cached forward pass"] = seconds["building models"] = 0.0
    loaded = {name: load_grid_data(name, plan) for name in datasets}
    outputs = max(len(names) for _, _, names in loaded.values())
    start = time.perf_counter()
    base = models.load_base(plan.image_size)
    cut = result.earlier_layer = earlier_layer(base)
    extractor = keras.Model(base.input, [base.get_layer(cut).output, base.output])
    built = _trainables(strategies, plan, cut, outputs)
    seconds["building models"] += time.perf_counter() - start
    for name, (images, labels, class_names) in loaded.items():
        num_classes = len(class_names)
        x = models.base_module().preprocess_input(images.copy())
        splits = grid_splits(labels, plan)
        test = splits["held_out"]
        result.chance[name] = 1 / num_classes
        start = time.perf_counter()
        cut_maps, final_maps = extractor.predict(x, batch_size=128, verbose=0)
        final_pooled, cut_pooled = final_maps.mean(axis=(1, 2)), cut_maps.mean(axis=(1, 2))
        seconds["cached forward pass"] += time.perf_counter() - start
        for size in ("small", "large"):
            train = splits[size]
            result.sizes[name, size] = (len(train), len(test))
            scores = result.accuracy.setdefault((name, size), {})
            head = linear_head(final_pooled[train], labels[train], plan.seed)  # the head trained first
            for strategy in strategies:
                start = time.perf_counter()
                if strategy == "feature_extraction":
                    scores[strategy] = linear_accuracy(head, final_pooled[test], labels[test])
                elif strategy == "earlier_layers":
                    earlier_head = linear_head(cut_pooled[train], labels[train], plan.seed)
                    scores[strategy] = linear_accuracy(earlier_head, cut_pooled[test], labels[test])
                else:
                    inputs = cut_maps if strategy == "partial_fine_tune" else x
                    scores[strategy] = built[strategy].score(
                        inputs[train], labels[train], inputs[test], labels[test], num_classes,
                        None if strategy == "from_scratch" else head, plan)
                seconds[strategy] += time.perf_counter() - start
                if verbose:
                    print(f"{name:8s} {size:6s} {LABELS[strategy]:32s} {scores[strategy]:.2f}", flush=True)
    keras.backend.clear_session()
    tf_logger.setLevel(tf_level)
    result.seconds = seconds
    return result


def plot_grid(result: GridResult):
    """One heat map per scenario (data set x training size), laid out like the 2x2 guide; accuracies written in."""
    import matplotlib.pyplot as plt

    datasets = list(dict.fromkeys(d for d, _ in result.accuracy))
    sizes = ["small", "large"]
    strategies = [s for s in STRATEGIES if all(s in v for v in result.accuracy.values())]
    fig, axes = plt.subplots(2, len(datasets), figsize=(4.2 * len(datasets), 5.6), squeeze=False)
    image = None
    for col, name in enumerate(datasets):
        for row, size in enumerate(sizes):
            ax = axes[row][col]
            values = np.array([[result.accuracy[name, size][s]] for s in strategies])
            image = ax.imshow(values, cmap="viridis", vmin=0, vmax=1, aspect="auto")
            best = values.max()
            for i, v in enumerate(values[:, 0]):
                top = bool(v == best)  # every strategy tied for the best is marked
                ax.text(0, i, f"{v:.2f}" + (" (best)" if top else ""), ha="center", va="center",
                        color="white" if v < 0.6 else "black", fontweight="bold" if top else None)
            ax.set_yticks(range(len(strategies)), [LABELS[s] for s in strategies] if col == 0 else [])
            ax.set_xticks([])
            n_train, n_test = result.sizes[name, size]
            ax.set_title(f"{name}, {size}: {n_train} train / {n_test} held out", fontsize=9)
    fig.colorbar(image, ax=axes, shrink=0.6, label="held-out accuracy")
    fig.suptitle("Measured grid: columns = similar / different, rows = small / large")
    plt.show()
