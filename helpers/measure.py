"""Notebook 04's measured grid: its plan, its runner and its results.

:func:`run_grid` measures the grid: flowers (similar to ImageNet; the mode's ``many_flowers_dir``) and
scikit-learn digits (different), two nested training sets of each (fewer and more images a class) and a held-out
set, drawn again for each of several seeds (splits), every strategy of :data:`helpers.strategies.TABLE` (which says
how the grid trains and scores it) in every split it is measured in, held-out accuracy and the optimizer updates
each strategy got. Features are computed once per data set and
reused by the strategies that allow it. :func:`GridResult.comparisons` gives, per cell, the best pretrained
strategy vs from scratch by the course's noise rule (:mod:`helpers.ledger`). :func:`grid_plan` takes the sizes
from the course settings; where the base is cut is :mod:`helpers.freezing`'s answer. :func:`plot_grid` draws one
heat map per cell (means over the splits).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np

from . import config, freezing, grid_models, recipes
from .config import SEED
from .guide import LABELS, STRATEGIES
from .strategies import FINE_TUNE, LINEAR, SCRATCH, TABLE, baseline

__all__ = ["SIZES", "GridPlan", "GridResult", "earlier_layer", "fine_tune_at", "grid_plan", "grid_splits",
           "load_grid_data", "plot_grid", "run_grid"]


@dataclass(frozen=True)
class GridPlan:
    """Sizes of the measured grid. :func:`grid_plan` derives them from the course settings."""

    image_size: int
    fewer_per_class: int  # the smaller training set: images a class
    more_per_class: int  # the larger one (contains the smaller)
    epochs: int  # passes of the fine-tuned strategies over their training set
    batch_size: int
    fine_tune_rate: float = freezing.FINE_TUNE_RATE  # the fine-tuned strategies (after the head)
    scratch_rate: float = recipes.SCRATCH_RATE  # a network from random weights: its own rate
    seed: int = SEED  # the seed of the models' shuffles and initial weights in the first split
    max_per_class: int | None = None  # images kept per class of each data set (None: all)
    held_out_per_class: int = 100  # images a class held out for the accuracy (the same for both training sets)
    seeds: tuple = (0, 1, 2, 3, 4)  # one split (and shuffle) per seed: the grid's comparisons are paired by seed
    scratch_updates: int = 300  # optimizer updates of the network from scratch, after which its curve is level
    scratch_checkpoints: int = 3  # its held-out accuracy is measured after each third of its updates
    seeded: tuple = tuple(s.name for s in TABLE.values() if s.seeded)  # measured in every split; the others
    # (the fine-tuned ones, which train the network again for each split) in the first split only
    cfg: config.Settings | None = field(default=None, repr=False, compare=False)  # the base and flower folder
    # it uses (None: the current mode's); grid_plan sets it

    def settings(self) -> config.Settings:
        """The settings whose base and ``many_flowers_dir`` the grid uses: ``cfg``, or the current mode's."""
        return self.cfg or config.settings()


def grid_plan(cfg: config.Settings | None = None) -> GridPlan:
    """The grid's sizes from the settings (default: the current mode's).

    Half the course's image size (the grid trains dozens of networks; the network from scratch sees half of that
    again), at most 300 images a class of each data
    set (the splits of every seed are drawn from them), 10 and 50 images a class to train and 100 a class held
    out (fewer where a class has fewer images: :func:`grid_splits`), the mode's epochs, the grid's batch size and
    its number of seeds (``cfg.grid_seeds``).
    """
    cfg = cfg or config.settings()
    return GridPlan(image_size=cfg.image_size // 2, fewer_per_class=10, more_per_class=50, max_per_class=300,
                    epochs=cfg.epochs, batch_size=cfg.grid_batch_size, seeds=tuple(range(cfg.grid_seeds)), cfg=cfg)


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

    Flowers: every photo of the mode's ``many_flowers_dir`` (small mode: the mirror's 3,482 128-px copies).
    At most ``plan.max_per_class`` images a class (for digits a seeded random choice, for flowers the first).
    8-bit pixels take a quarter of float32's memory (the 3,670 flower photos at 112 px: 138 MB, not 552 MB).
    """
    from . import data

    cfg = plan.settings()
    if name == "digits":
        import tensorflow as tf
        from sklearn.datasets import load_digits

        bunch = load_digits()  # data.digits' images, upscaled 256 at a time to 8-bit pixels (no float copy of all)
        small, y = bunch.images.astype("float32")[..., None] * (255.0 / 16.0), bunch.target.astype("int32")
        if plan.max_per_class:
            rng = np.random.default_rng(plan.seed)
            keep = np.sort(np.concatenate([rng.permutation(np.flatnonzero(y == c))[:plan.max_per_class]
                                           for c in range(10)]))
            small, y = small[keep], y[keep]
        x = np.empty((len(y), plan.image_size, plan.image_size, 3), "uint8")
        for i in range(0, len(y), 256):
            big = tf.image.resize(small[i:i + 256], (plan.image_size, plan.image_size), method="bilinear").numpy()
            x[i:i + 256] = np.round(np.clip(big, 0, 255)).astype("uint8")
        return x, y, [str(i) for i in range(10)]
    if name == "flowers":
        folder = data.list_images(cfg.many_flowers_dir, max_per_class=plan.max_per_class)
        x = np.empty((len(folder.paths), plan.image_size, plan.image_size, 3), "uint8")
        start = 0
        for images, _ in data.make_dataset(folder.paths, folder.labels, plan.image_size, batch_size=64, cache=False):
            x[start:start + len(images)] = images.numpy()  # whole numbers in [0, 255] already
            start += len(images)
        return x, folder.labels, folder.class_names
    raise ValueError(f"unknown grid data set {name!r}: use 'flowers' or 'digits'.")


def _classes(name: str, plan: GridPlan) -> int:
    """How many classes a grid data set has (without loading its images)."""
    from . import data

    return 10 if name == "digits" else len(data.list_images(plan.settings().many_flowers_dir).class_names)


SIZES = ("fewer", "more")  # the grid's two training sets of each data set (nested: "more" contains "fewer")


def grid_sizes(labels, plan: GridPlan) -> tuple[int, int, int]:
    """``(fewer, more, held out)`` images a class: the plan's, or where the smallest class has too few images for
    them, ``more`` and ``held out`` cut to share it (half each, at least ``fewer`` + 1 to train)."""
    smallest = int(np.bincount(np.asarray(labels)).min())
    more, held_out = plan.more_per_class, plan.held_out_per_class
    if more + held_out > smallest:
        more = max(plan.fewer_per_class + 1, min(more, smallest // 2))
        held_out = min(held_out, smallest - more)
    if held_out < 1:
        raise ValueError(f"a class has {smallest} images: too few for {plan.fewer_per_class} < {more} training "
                         "images and a held-out rest.")
    return plan.fewer_per_class, more, held_out


def grid_splits(labels, plan: GridPlan, seed: int | None = None) -> dict[str, np.ndarray]:
    """Nested training sets ``fewer`` within ``more`` and a disjoint ``held_out`` set, per class, drawn with ``seed``
    (default ``plan.seed``); their sizes are :func:`grid_sizes`'."""
    labels = np.asarray(labels)
    fewer_n, more_n, held_n = grid_sizes(labels, plan)
    rng = np.random.default_rng(plan.seed if seed is None else seed)
    fewer, more, held_out = [], [], []
    for label in np.unique(labels):
        index = rng.permutation(np.flatnonzero(labels == label))
        fewer += list(index[:fewer_n])
        more += list(index[:more_n])
        held_out += list(index[more_n:more_n + held_n])
    return {"fewer": np.sort(fewer), "more": np.sort(more), "held_out": np.sort(held_out)}


@dataclass
class GridResult:
    """Held-out accuracy per data set, training set and strategy (each split's, and their mean), with the sizes,
    optimizer updates, the network from scratch's held-out curve and timings."""

    plan: GridPlan
    accuracy: dict = field(default_factory=dict)  # {(dataset, "fewer" or "more"): {strategy: mean accuracy}}
    scores: dict = field(default_factory=dict)  # {(dataset, size): {strategy: [accuracy in each split]}}
    sizes: dict = field(default_factory=dict)  # {(dataset, size): (train images, held-out images)}
    per_class: dict = field(default_factory=dict)  # {(dataset, size): (fewest, most) training images a class}
    steps: dict = field(default_factory=dict)  # {(dataset, size): {strategy: optimizer updates of the network}}
    scratch_curve: dict = field(default_factory=dict)  # {(dataset, size): [(updates, mean held-out accuracy)]}
    chance: dict = field(default_factory=dict)  # {dataset: 1 / classes}
    seconds: dict = field(default_factory=dict)  # {strategy or "cached forward pass": seconds over the grid}
    earlier_layer: str = ""

    def label(self, dataset: str, size: str) -> str:
        """What a training set is, in images a class: "10 a class", or "474-673 a class" where classes differ."""
        low, high = self.per_class[dataset, size]
        return f"{low} a class" if low == high else f"{low}-{high} a class"

    @property
    def n_seeds(self) -> int:
        """The number of splits the strategies measured in every split were measured on."""
        return max((len(v) for cell in self.scores.values() for v in cell.values()), default=0)

    def best_pretrained(self, dataset: str, size: str) -> str:
        """The strategy starting from pretrained weights with the highest mean held-out accuracy in a cell, among
        those measured in as many splits as from scratch (the comparison is paired by split)."""
        scores, scratch = self.scores[dataset, size], baseline().name
        paired = [s for s, v in scores.items() if TABLE[s].kind != SCRATCH and len(v) == len(scores[scratch])]
        return max(paired, key=lambda s: np.mean(scores[s]))

    def comparisons(self) -> list:
        """Per cell: the best pretrained strategy vs from scratch, paired by split (:func:`helpers.ledger.compare`)."""
        from . import ledger

        out = []
        for dataset, size in self.accuracy:
            best, scores = self.best_pretrained(dataset, size), self.scores[dataset, size]
            out.append(ledger.compare(f"04 {dataset}, {self.label(dataset, size)}", scores[best],
                                      scores[baseline().name], f"best: {LABELS[best]}", "from scratch"))
        return out

    def table(self) -> str:
        """Mean accuracies, then optimizer updates: one row per strategy, one column per cell of the grid."""
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

        title = f"held-out accuracy, mean of {self.n_seeds} splits" if self.n_seeds > 1 else "held-out accuracy"
        lines = block(title, self.accuracy, lambda v: f"{v:.2f}")
        once = [LABELS[s] for s in strategies if any(len(self.scores.get(c, {}).get(s, ())) == 1 < self.n_seeds
                                                     for c in cells)]
        if once:
            lines += [f"(first split only: {', '.join(once)})"]
        if self.steps:
            lines += [""] + block("optimizer updates", self.steps, lambda v: f"{v:,d}")
        return "\n".join(lines)


def _forward(extractor, images, preprocess, rows, side: int, batch_size: int = 128):
    """One pass over ``images``, a batch at a time, each batch preprocessed as it goes: the pooled earlier and
    final features of every image, the earlier layer's maps and the preprocessed images of the ``rows`` (what the
    fine-tuned strategies read, as 8-bit pixels: their models preprocess), and every image resized to ``side``
    pixels (the network from scratch's, 8-bit). Neither float images nor the maps of the whole data set are held."""
    import tensorflow as tf

    keep = np.zeros(len(images), bool)
    keep[rows] = True
    cut_pooled, final_pooled, cut_rows, x_rows, small = [], [], [], [], []
    for start in range(0, len(images), batch_size):
        pixels = images[start:start + batch_size]
        batch = preprocess(pixels.astype("float32"))
        cut_maps, final_maps = extractor.predict_on_batch(batch)
        cut_maps, mine = np.asarray(cut_maps), keep[start:start + batch_size]
        cut_pooled.append(cut_maps.mean(axis=(1, 2)))
        final_pooled.append(np.asarray(final_maps).mean(axis=(1, 2)))
        cut_rows.append(cut_maps[mine])
        x_rows.append(pixels[mine])
        small.append(np.round(tf.image.resize(pixels, (side, side)).numpy()).clip(0, 255).astype("uint8"))
    return {"cut_pooled": np.concatenate(cut_pooled), "final_pooled": np.concatenate(final_pooled),
            "cut_maps": tf.convert_to_tensor(np.concatenate(cut_rows)),
            "x": tf.convert_to_tensor(np.concatenate(x_rows)),
            "x_scratch": tf.convert_to_tensor(np.concatenate(small))}


def _scratch_size(dataset: str, plan: GridPlan) -> int:
    """The side of the images the network from scratch sees: half the grid's for flowers (a network learnt from
    random weights has no resolution to keep), a quarter for the digits (32 px in small mode hold their 8 x 8
    pixels): the ledger's sizes, at a fraction of the cost."""
    return plan.image_size // 4 if dataset == "digits" else plan.image_size // 2


def _score(strategy: str, cell: dict, built: dict, plan: GridPlan, seed: int) -> tuple[float, int]:
    """Held-out accuracy and optimizer updates of one strategy on one training set of a data set, in one split.

    ``cell`` holds the data set's preprocessed images ``x`` and cached ``cut_maps`` of the first split's ``rows``
    (what the fine-tuned strategies read), the network from scratch's images ``x_scratch``, ``labels``, the
    ``train`` and ``test`` indices, its ``num_classes``, the pooled features (``final_pooled``, ``cut_pooled``)
    and the ``head`` the linear classifier learnt on the final features; ``built`` the trained strategies' models.
    """
    train, test, labels = cell["train"], cell["test"], cell["labels"]
    what = TABLE[strategy]
    inputs = cell[what.reads]
    if what.kind == LINEAR:  # the head on the final features is fitted once per training set: cell["head"]
        head = (cell["head"] if what.reads == "final_pooled"
                else grid_models.linear_head(inputs[train], labels[train], seed))
        return grid_models.linear_accuracy(head, inputs[test], labels[test]), 0
    if what.kind == SCRATCH:
        model = built[strategy, inputs.shape[1]]
        steps_per_epoch = math.ceil(len(train) / plan.batch_size)
        epochs = math.ceil(plan.scratch_updates / steps_per_epoch)
        chunks = np.diff(np.linspace(0, epochs, plan.scratch_checkpoints + 1).round().astype(int))
        curve = model.score_curve(inputs, labels, train, test, cell["num_classes"], chunks, plan.batch_size, seed)
        cell["curve"] = curve
        return curve[-1][1], curve[-1][0]
    assert what.kind == FINE_TUNE, what
    rows = cell["rows"]  # the fine-tuned strategies' inputs: the first split's rows only
    return built[strategy].score(inputs, labels[rows], np.searchsorted(rows, train), np.searchsorted(rows, test),
                                 cell["num_classes"], cell["head"], plan.epochs, plan.batch_size, seed)


def run_grid(plan: GridPlan | None = None, datasets=("flowers", "digits"), strategies=STRATEGIES,
             verbose: bool = True) -> GridResult:
    """Measure every strategy on the fewer and the more images a class of each data set, in each of the plan's
    splits (seeded, repeatable).

    The pretrained base runs once per data set; its final and earlier features (pooled) and the earlier
    layer's maps are cached and reused by every split. The fine-tuned models start from the head that the
    logistic regression on the cached final features learnt (train the head first, then fine-tune). The
    network from scratch is :func:`helpers.recipes.small_cnn` at its own rate (``plan.scratch_rate``) for
    ``plan.scratch_updates`` updates, its held-out accuracy measured along the way. Each trained model is built
    once with as many outputs as the largest data set has classes and reset before each fit (a data set with
    fewer classes leaves the extra outputs off): tracing a network's training step costs more than training it
    on the small subsets. ``verbose``: a progress bar over the grid's scores.
    """
    import keras
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
    per_split = len(strategies) + (len(plan.seeds) - 1) * len(set(strategies) & set(plan.seeded))
    bar = tqdm(total=len(datasets) * len(SIZES) * per_split, desc="loading the data",
               unit="score", disable=not verbose)  # one step per score of the grid
    bar.set_description("building the models")
    outputs = max(_classes(name, plan) for name in datasets)
    start = time.perf_counter()
    base = models.load_base(plan.image_size, cfg=plan.settings())
    k = fine_tune_at(base)
    cut = freezing.cut_layer(base, k)  # its output: the earlier features, and the partial fine-tune's input
    result.earlier_layer = cut.name
    extractor = keras.Model(base.input, [cut.output, base.output])
    built = grid_models.trainables(strategies, plan, k, outputs,
                                   scratch_sizes=sorted({_scratch_size(name, plan) for name in datasets}),
                                   small_cnn=recipes.small_cnn)
    seconds["building models"] += time.perf_counter() - start
    for name in datasets:  # one data set in memory at a time
        bar.set_description(f"{name}: loading the images")
        images, labels, class_names = load_grid_data(name, plan)
        num_classes = len(class_names)
        result.chance[name] = 1 / num_classes
        bar.set_description(f"{name}: the base's forward pass")
        start = time.perf_counter()
        splits_by_seed = {seed: grid_splits(labels, plan, seed) for seed in plan.seeds}
        first = splits_by_seed[plan.seeds[0]]  # the split every strategy runs in
        rows = np.union1d(first["more"], first["held_out"])  # the images the fine-tuned strategies read
        side = _scratch_size(name, plan)  # the network from scratch reads the same images, smaller
        cell = _forward(extractor, images, models.base_module(plan.settings()).preprocess_input, rows, side)
        cell.update(rows=rows, labels=labels, num_classes=num_classes)
        del images
        seconds["cached forward pass"] += time.perf_counter() - start
        curves = {}
        for seed in plan.seeds:
            splits = splits_by_seed[seed]
            test = cell["test"] = splits["held_out"]
            measured = [s for s in strategies if s in plan.seeded or seed == plan.seeds[0]]
            for size in SIZES:
                train = cell["train"] = splits[size]
                counts = np.bincount(labels[train], minlength=num_classes)
                result.sizes[name, size] = (len(train), len(test))
                result.per_class[name, size] = (int(counts.min()), int(counts.max()))
                scores = result.scores.setdefault((name, size), {})
                steps = result.steps.setdefault((name, size), {})
                cell["head"] = grid_models.linear_head(cell["final_pooled"][train], labels[train], seed)  # first
                for strategy in measured:
                    bar.set_description(f"{name}, {size}, seed {seed}: {strategy}")
                    start = time.perf_counter()
                    score, steps[strategy] = _score(strategy, cell, built, plan, seed)
                    scores.setdefault(strategy, []).append(score)
                    seconds[strategy] += time.perf_counter() - start
                    if TABLE[strategy].kind == SCRATCH:
                        curves.setdefault(size, []).append(cell.pop("curve"))
                    bar.update()
        for size in SIZES:
            result.accuracy[name, size] = {s: float(np.mean(v)) for s, v in result.scores[name, size].items()}
            if size in curves:
                mean = np.mean(np.asarray(curves[size], dtype="float64"), axis=0)
                result.scratch_curve[name, size] = [(int(u), float(a)) for u, a in mean]
        del cell
    bar.set_description("grid")
    bar.close()
    keras.backend.clear_session()
    tf_logger.setLevel(tf_level)
    result.seconds = seconds
    return result


def plot_grid(result: GridResult):
    """One heat map per cell of the grid (data set x training set), laid out like the guide; mean accuracies over
    the splits written in, with the optimizer updates."""
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
    fig.colorbar(image, ax=axes, shrink=0.6, label=f"held-out accuracy (mean of {max(result.n_seeds, 1)} splits)")
    fig.suptitle("Measured grid: columns = similar (flowers) / different (digits), rows = fewer / more images")
    plt.show()
