"""Notebook 04's measured grid: its plan, its runner and its results.

:func:`run_grid` measures the grid: flowers (similar to ImageNet) and scikit-learn digits (different), two nested
training sets of each (fewer and more images a class), every strategy of :data:`helpers.guide.STRATEGIES`,
accuracy on the held-out rest and the optimizer updates each strategy got. Features are computed once per data
set and reused by the strategies that allow it. :func:`grid_plan` takes the sizes from the course settings;
where the base is cut is :mod:`helpers.freezing`'s answer. :func:`plot_grid` draws one heat map per cell.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np

from . import config, freezing, grid_models
from .config import SEED
from .guide import LABELS, STRATEGIES

__all__ = ["SIZES", "GridPlan", "GridResult", "earlier_layer", "fine_tune_at", "grid_plan", "grid_splits",
           "load_grid_data", "plot_grid", "run_grid"]


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


def grid_plan(cfg: config.Settings | None = None) -> GridPlan:
    """The grid's sizes from the settings (default: the current mode's).

    Half the course's image size (the grid trains a dozen networks), 10 images a class and 3/4 of each class
    (of the mode's cap, when it has one), the mode's epochs and the grid's batch size.
    """
    cfg = cfg or config.settings()
    cap = cfg.max_images_per_class
    return GridPlan(image_size=cfg.image_size // 2, fewer_per_class=10, more_per_class=cap * 3 // 4 if cap else None,
                    epochs=cfg.epochs, batch_size=cfg.grid_batch_size, max_per_class=cap)


def fine_tune_at(base, fraction: float = 0.5) -> int:
    """Where the grid cuts ``base``: the block boundary nearest ``fraction`` of its depth (freezing.boundary_near).

    ``layers[:k]`` is what the earlier-layer features and the partial fine-tune keep frozen.
    """
    return freezing.boundary_near(base, fraction)


def earlier_layer(base, fraction: float = 0.5) -> str:
    """The layer whose output crosses :func:`fine_tune_at` (the one tensor that does): the "earlier features"."""
    return freezing.cut_layer(base, fine_tune_at(base, fraction)).name


def load_grid_data(name: str, plan: GridPlan):
    """``(x, y, class_names)`` of ``"flowers"`` or ``"digits"``: uint8 images (pixels in [0, 255]) of the plan's size.

    At most ``plan.max_per_class`` images a class (for digits a seeded random choice, for flowers the first).
    8-bit pixels take a quarter of float32's memory (the 3,670 flower photos at 112 px: 138 MB, not 552 MB).
    """
    from . import data

    cfg = config.settings()
    if name == "digits":
        x, y = data.digits(plan.image_size)
        if plan.max_per_class:
            rng = np.random.default_rng(plan.seed)
            keep = np.sort(np.concatenate([rng.permutation(np.flatnonzero(y == c))[:plan.max_per_class]
                                           for c in range(10)]))
            x, y = x[keep], y[keep]
        return np.round(x).astype("uint8"), y, [str(i) for i in range(10)]
    if name == "flowers":
        folder = data.list_images(cfg.flowers_dir, max_per_class=plan.max_per_class)
        x = np.empty((len(folder.paths), plan.image_size, plan.image_size, 3), "uint8")
        start = 0
        for images, _ in data.make_dataset(folder.paths, folder.labels, plan.image_size, batch_size=64, cache=False):
            x[start:start + len(images)] = images.numpy()  # whole numbers in [0, 255] already
            start += len(images)
        return x, folder.labels, folder.class_names
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


def _forward(extractor, x, batch_size: int = 128):
    """The earlier layer's maps and the pooled final features of ``x``, a batch at a time (the final maps of the
    whole data set are never held: at full size they would take more memory than the images)."""
    cut, pooled = [], []
    for start in range(0, len(x), batch_size):
        cut_maps, final_maps = extractor.predict_on_batch(x[start:start + batch_size])
        cut.append(np.asarray(cut_maps))
        pooled.append(np.asarray(final_maps).mean(axis=(1, 2)))
    return np.concatenate(cut), np.concatenate(pooled)


def _score(strategy: str, cell: dict, built: dict, plan: GridPlan) -> tuple[float, int]:
    """Held-out accuracy and optimizer updates of one strategy on one training set of a data set.

    ``cell`` holds the data set's preprocessed images ``x``, ``labels``, the ``train`` and ``test`` indices, its
    ``num_classes``, the cached ``cut_maps`` and pooled features (``final_pooled``, ``cut_pooled``) and the
    ``head`` the linear classifier learnt on the final features; ``built`` the trained strategies' models.
    """
    train, test, labels = cell["train"], cell["test"], cell["labels"]
    if strategy in ("feature_extraction", "earlier_layers"):
        pooled = cell["final_pooled" if strategy == "feature_extraction" else "cut_pooled"]
        head = (cell["head"] if strategy == "feature_extraction"
                else grid_models.linear_head(pooled[train], labels[train], plan.seed))
        return grid_models.linear_accuracy(head, pooled[test], labels[test]), 0
    inputs = cell["cut_maps"] if strategy == "partial_fine_tune" else cell["x"]
    head = None if strategy == "from_scratch" else cell["head"]  # the fine-tuned ones start from the linear head
    return built[strategy].score(inputs, labels, train, test, cell["num_classes"], head, plan)


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
    import tensorflow as tf
    from tqdm.auto import tqdm

    from . import models
    from .config import set_seeds

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
    cut = freezing.cut_layer(base, k)  # its output: the earlier features, and the partial fine-tune's input
    result.earlier_layer = cut.name
    extractor = keras.Model(base.input, [cut.output, base.output])
    built = grid_models.trainables(strategies, plan, k, outputs)
    seconds["building models"] += time.perf_counter() - start
    for name, (images, labels, class_names) in loaded.items():
        num_classes = len(class_names)
        x = models.base_module().preprocess_input(images.astype("float32"))
        splits = grid_splits(labels, plan)
        test = splits["held_out"]
        result.chance[name] = 1 / num_classes
        bar.set_description(f"{name}: the base's forward pass")
        start = time.perf_counter()
        cut_maps, final_pooled = _forward(extractor, x)
        cut_pooled = cut_maps.mean(axis=(1, 2))
        x, cut_maps = tf.convert_to_tensor(x), tf.convert_to_tensor(cut_maps)  # what the trained strategies read
        seconds["cached forward pass"] += time.perf_counter() - start
        cell = {"x": x, "labels": labels, "test": splits["held_out"], "num_classes": num_classes,
                "cut_maps": cut_maps, "final_pooled": final_pooled, "cut_pooled": cut_pooled}
        for size in SIZES:
            train = cell["train"] = splits[size]
            counts = np.bincount(labels[train], minlength=num_classes)
            result.sizes[name, size] = (len(train), len(test))
            result.per_class[name, size] = (int(counts.min()), int(counts.max()))
            scores = result.accuracy.setdefault((name, size), {})
            steps = result.steps.setdefault((name, size), {})
            cell["head"] = grid_models.linear_head(final_pooled[train], labels[train], plan.seed)  # trained first
            for strategy in strategies:
                bar.set_description(f"{name}, {size}: {strategy}")
                start = time.perf_counter()
                scores[strategy], steps[strategy] = _score(strategy, cell, built, plan)
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
