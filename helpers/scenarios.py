"""The four transfer-learning scenarios: the widget your ``recommend`` drives, and the measured grid.

* :data:`STRATEGIES`, with a label, a description of what each does (not *when*: that is the guide, which
  notebook 04 has you write) and the Keras lines it implies (:data:`CODE`, written with the course's one
  fine-tuning recipe, :func:`helpers.freezing.unfreeze_from`). :func:`guide` is an ipywidgets front end for
  a guide function you pass it: it calls your function and shows what its answer means.
* :func:`run_grid` measures the grid: flowers (similar to ImageNet) and scikit-learn digits (different),
  two nested training sets of each (fewer and more images a class), every strategy of :data:`STRATEGIES`,
  accuracy on the held-out rest and the optimizer updates each strategy got. Features are computed once per
  data set and reused by the strategies that allow it. :func:`plot_grid` draws one heat map per cell.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np

from . import freezing
from .config import SEED, settings

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
                      "features (a linear classifier on cached features).",
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
extractor = keras.Model(base.input, keras.layers.GlobalAveragePooling2D()(base.layers[k - 1].output))
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


def guide(recommend, images_per_class: int = 20, similarity: str = "similar"):
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


# --- the measured grid ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GridPlan:
    """Sizes of the measured grid. :func:`grid_plan` derives them from the course settings."""

    image_size: int
    fewer_per_class: int  # the smaller training set: images a class
    more_per_class: int | None  # the larger one (None: 75 % of each class, full mode)
    epochs: int
    batch_size: int
    fine_tune_rate: float = freezing.FINE_TUNE_RATE  # the fine-tuned strategies (after the head)
    scratch_rate: float = freezing.HEAD_RATE  # a network from random weights: the usual rate of a new head
    seed: int = SEED
    max_per_class: int | None = None  # images kept per class of each data set (None: all)


def grid_plan(cfg=None) -> GridPlan:
    """The grid's sizes for the current mode: half the course's image size, 10 images a class and 3/4 of each class."""
    cfg = cfg or settings()
    cap = cfg.max_images_per_class
    return GridPlan(
        image_size=cfg.image_size // 2,  # half size in both modes: the grid trains a dozen networks
        fewer_per_class=10,
        more_per_class=cap * 3 // 4 if cap else None,
        epochs=cfg.epochs,
        # 25 divides every small-mode training set (50, 150, 100, 300 images): no last partial batch to retrace.
        batch_size=25 if cap else cfg.batch_size,
        max_per_class=cap,
    )


def fine_tune_at(base, fraction: float = 0.5) -> int:
    """Where the grid cuts ``base``: the block boundary nearest ``fraction`` of its depth (freezing.boundary_near).

    ``layers[:k]`` is what the earlier-layer features and the partial fine-tune keep frozen.
    """
    return freezing.boundary_near(base, fraction)


def earlier_layer(base, fraction: float = 0.5) -> str:
    """The last layer before :func:`fine_tune_at`: where the "earlier features" are taken (one tensor crosses)."""
    return base.layers[fine_tune_at(base, fraction) - 1].name


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


SIZES = ("fewer", "more")  # the grid's two training sets of each data set (nested: "more" contains "fewer")


def grid_splits(labels, plan: GridPlan) -> dict[str, np.ndarray]:
    """Nested training sets ``fewer`` within ``more`` (per class, seeded) and ``held_out``: the rest."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(plan.seed)
    fewer, more, held_out = [], [], []
    for label in np.unique(labels):
        index = rng.permutation(np.flatnonzero(labels == label))
        n_more = plan.more_per_class or int(round(0.75 * len(index)))
        if not plan.fewer_per_class < n_more < len(index):
            raise ValueError(f"class {label} has {len(index)} images: too few for {plan.fewer_per_class} "
                             f"< {n_more} training images and a held-out rest.")
        fewer += list(index[:plan.fewer_per_class])
        more += list(index[:n_more])
        held_out += list(index[n_more:])
    return {"fewer": np.sort(fewer), "more": np.sort(more), "held_out": np.sort(held_out)}


@dataclass
class GridResult:
    """Held-out accuracy per data set, training set and strategy, with the sizes, optimizer updates and timings."""

    plan: GridPlan
    accuracy: dict = field(default_factory=dict)  # {(dataset, "fewer" or "more"): {strategy: accuracy}}
    sizes: dict = field(default_factory=dict)  # {(dataset, size): (train images, held-out images)}
    per_class: dict = field(default_factory=dict)  # {(dataset, size): (fewest, most) training images a class}
    steps: dict = field(default_factory=dict)  # {(dataset, size): {strategy: optimizer updates of the network}}
    chance: dict = field(default_factory=dict)  # {dataset: 1 / classes}
    seconds: dict = field(default_factory=dict)  # {strategy or "cached forward pass": seconds over the grid}
    earlier_layer: str = ""

    def label(self, dataset: str, size: str) -> str:
        """What a training set is, in images a class: "10 a class", or "474-673 a class" where classes differ."""
        low, high = self.per_class[dataset, size]
        return f"{low} a class" if low == high else f"{low}-{high} a class"

    def table(self) -> str:
        """Accuracies, then optimizer updates: one row per strategy, one column per cell of the grid."""
        cells = list(self.accuracy)
        heads = [f"{d}, {self.label(d, s)}" for d, s in cells]
        col = max(19, *(len(h) for h in heads))
        width = max(len(label) for label in LABELS.values())
        strategies = [s for s in STRATEGIES if all(s in self.accuracy[c] for c in cells)]

        def block(title, values, fmt):
            lines = [f"{title:{width}s}  " + "  ".join(f"{h:>{col}s}" for h in heads)]
            lines += [f"{LABELS[s]:{width}s}  " + "  ".join(f"{fmt(values[c][s]):>{col}s}" for c in cells)
                      for s in strategies]
            return lines

        lines = block("held-out accuracy", self.accuracy, lambda v: f"{v:.2f}")
        if self.steps:
            lines += [""] + block("optimizer updates", self.steps, lambda v: f"{v:,d}")
        return "\n".join(lines)


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

    def score(self, x, y, x_test, y_test, num_classes, head, plan) -> tuple[float, int]:
        """Reset, set the head (or keep its random start), fit on (x, y): (test accuracy, optimizer updates)."""
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
        steps = int(self.model.optimizer.iterations.numpy())
        predictions = self.model.predict(x_test, batch_size=256, verbose=0)[:, :num_classes]
        return float(np.mean(predictions.argmax(axis=1) == y_test)), steps


def _classifier(inputs, features, outputs):
    import keras

    x = keras.layers.GlobalAveragePooling2D()(features)
    return keras.Model(inputs, keras.layers.Dense(outputs, activation="softmax")(x))


def _trainables(strategies, plan, k, outputs) -> dict:
    """The compiled models of the trained strategies, shared by every data set (``outputs`` units each).

    The fine-tuned ones follow the course's recipe (:func:`helpers.freezing.unfreeze_from`: BatchNorm frozen,
    rate :data:`helpers.freezing.FINE_TUNE_RATE`); they start from the head the linear classifier learnt.
    """
    import keras

    from . import models

    built = {}
    if "partial_fine_tune" in strategies:
        # layers[:k] are frozen: their output maps are cached, and only the layers from k on (BatchNorm
        # frozen) and the head are built and trained. Same model as unfreeze_from(base, k) on the whole base.
        base = models.load_base(plan.image_size)
        freezing.unfreeze_from(base, k)
        top = keras.Model(base.layers[k - 1].output, base.output)
        inputs = keras.Input(top.input.shape[1:])
        built["partial_fine_tune"] = _Trainable(_classifier(inputs, top(inputs), outputs), plan.fine_tune_rate)
    if "full_fine_tune" in strategies:
        base = models.load_base(plan.image_size)
        freezing.unfreeze_from(base, 0)
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
    """Measure every strategy on the fewer and the more images a class of each data set (seeded, repeatable).

    The pretrained base runs once per data set; its final and earlier features (pooled) and the earlier
    layer's maps are cached and reused. The fine-tuned models start from the head that the logistic
    regression on the cached final features learnt (train the head first, then fine-tune). Each trained
    model is built once with as many outputs as the largest data set has classes and reset before each
    fit (a data set with fewer classes leaves the extra outputs off): tracing a network's training step
    costs more than training it on the small subsets. ``verbose``: a progress bar over the grid's scores and
    one line per score.
    """
    import keras
    from tqdm.auto import tqdm

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
    bar = tqdm(total=len(datasets) * len(SIZES) * len(strategies), desc="loading the data", unit="score",
               disable=not verbose)  # one step per score of the grid
    loaded = {name: load_grid_data(name, plan) for name in datasets}
    bar.set_description("building the models")
    outputs = max(len(names) for _, _, names in loaded.values())
    start = time.perf_counter()
    base = models.load_base(plan.image_size)
    k = fine_tune_at(base)
    cut = result.earlier_layer = base.layers[k - 1].name
    extractor = keras.Model(base.input, [base.get_layer(cut).output, base.output])
    built = _trainables(strategies, plan, k, outputs)
    seconds["building models"] += time.perf_counter() - start
    for name, (images, labels, class_names) in loaded.items():
        num_classes = len(class_names)
        x = models.base_module().preprocess_input(images.copy())
        splits = grid_splits(labels, plan)
        test = splits["held_out"]
        result.chance[name] = 1 / num_classes
        bar.set_description(f"{name}: the base's forward pass")
        start = time.perf_counter()
        cut_maps, final_maps = extractor.predict(x, batch_size=128, verbose=0)
        final_pooled, cut_pooled = final_maps.mean(axis=(1, 2)), cut_maps.mean(axis=(1, 2))
        seconds["cached forward pass"] += time.perf_counter() - start
        for size in SIZES:
            train = splits[size]
            counts = np.bincount(labels[train], minlength=num_classes)
            result.sizes[name, size] = (len(train), len(test))
            result.per_class[name, size] = (int(counts.min()), int(counts.max()))
            scores = result.accuracy.setdefault((name, size), {})
            steps = result.steps.setdefault((name, size), {})
            head = linear_head(final_pooled[train], labels[train], plan.seed)  # the head trained first
            for strategy in strategies:
                bar.set_description(f"{name}, {size}: {strategy}")
                start = time.perf_counter()
                if strategy == "feature_extraction":
                    scores[strategy], steps[strategy] = linear_accuracy(head, final_pooled[test], labels[test]), 0
                elif strategy == "earlier_layers":
                    earlier_head = linear_head(cut_pooled[train], labels[train], plan.seed)
                    scores[strategy] = linear_accuracy(earlier_head, cut_pooled[test], labels[test])
                    steps[strategy] = 0
                else:
                    inputs = cut_maps if strategy == "partial_fine_tune" else x
                    scores[strategy], steps[strategy] = built[strategy].score(
                        inputs[train], labels[train], inputs[test], labels[test], num_classes,
                        None if strategy == "from_scratch" else head, plan)
                seconds[strategy] += time.perf_counter() - start
                bar.update()
                if verbose:
                    bar.write(f"{name:8s} {result.label(name, size):>14s}  {LABELS[strategy]:34s} "
                              f"{scores[strategy]:.2f}  ({steps[strategy]} updates)")
    bar.set_description("grid")
    bar.close()
    keras.backend.clear_session()
    tf_logger.setLevel(tf_level)
    result.seconds = seconds
    return result


def plot_grid(result: GridResult):
    """One heat map per cell of the grid (data set x training set), laid out like the guide; accuracies written in."""
    import matplotlib.pyplot as plt

    datasets = list(dict.fromkeys(d for d, _ in result.accuracy))
    strategies = [s for s in STRATEGIES if all(s in v for v in result.accuracy.values())]
    fig, axes = plt.subplots(2, len(datasets), figsize=(4.4 * len(datasets), 5.6), squeeze=False)
    image = None
    for col, name in enumerate(datasets):
        for row, size in enumerate(SIZES):
            ax = axes[row][col]
            values = np.array([[result.accuracy[name, size][s]] for s in strategies])
            image = ax.imshow(values, cmap="viridis", vmin=0, vmax=1, aspect="auto")
            for i, v in enumerate(values[:, 0]):
                updates = result.steps.get((name, size), {}).get(strategies[i])
                note = f" ({updates} updates)" if updates else ""
                ax.text(0, i, f"{v:.2f}{note}", ha="center", va="center", color="white" if v < 0.6 else "black")
            ax.set_yticks(range(len(strategies)), [LABELS[s] for s in strategies] if col == 0 else [])
            ax.set_xticks([])
            n_train, n_test = result.sizes[name, size]
            ax.set_title(f"{name}, {result.label(name, size)}: {n_train} train / {n_test} held out", fontsize=9)
    fig.colorbar(image, ax=axes, shrink=0.6, label="held-out accuracy")
    fig.suptitle("Measured grid: columns = similar (flowers) / different (digits), rows = fewer / more images")
    plt.show()
