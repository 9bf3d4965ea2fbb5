"""Notebook 04's measured grid: its runner and its results (its plan and data are :mod:`helpers.grid_data`'s).

:func:`run_grid` measures the grid: flowers (similar to ImageNet; the mode's ``many_flowers_dir``) and
scikit-learn digits (different), two nested training sets of each (fewer and more images a class) and a held-out
set, drawn again for each of several seeds (splits), every strategy of :data:`helpers.strategies.TABLE` (which
says how the grid trains and scores it) in every split it is measured in, held-out accuracy and the optimizer
updates each strategy got. Features are computed once per data set and reused by the strategies that allow it.
:func:`GridResult.comparisons` gives, per cell, the best pretrained strategy vs from scratch by the course's noise
rule (:mod:`helpers.ledger`). :func:`grid_plan` takes the sizes from the course settings (it, :class:`GridPlan`,
:func:`load_grid_data`, :func:`grid_splits` and :data:`SIZES` are :mod:`helpers.grid_data`'s, named here too);
where the base is cut is :mod:`helpers.freezing`'s answer. :func:`plot_grid` draws one heat map per cell (means
over the splits).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np

from . import freezing, grid_models, recipes
from .grid_data import SIZES, GridPlan, class_count, forward_pass, grid_plan, grid_splits, load_grid_data, scratch_size
from .guide import LABELS, STRATEGIES
from .strategies import FINE_TUNE, LINEAR, SCRATCH, TABLE, baseline

__all__ = ["SIZES", "GridPlan", "GridResult", "earlier_layer", "fine_tune_at", "grid_plan", "grid_splits",
           "load_grid_data", "plot_grid", "run_grid"]


def fine_tune_at(base, fraction: float = 0.5) -> int:
    """Where the grid cuts ``base``: the block boundary nearest ``fraction`` of its depth (freezing.boundary_near).

    ``layers[:k]`` is what the earlier-layer features and the partial fine-tune keep frozen.
    """
    return freezing.boundary_near(base, fraction)


def earlier_layer(base, fraction: float = 0.5) -> str:
    """The layer whose output crosses :func:`fine_tune_at` (the one tensor that does): the "earlier features"."""
    return freezing.cut_layer(base, fine_tune_at(base, fraction)).name


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
    outputs = max(class_count(name, plan) for name in datasets)
    start = time.perf_counter()
    base = models.load_base(plan.image_size, cfg=plan.settings())
    k = fine_tune_at(base)
    cut = freezing.cut_layer(base, k)  # its output: the earlier features, and the partial fine-tune's input
    result.earlier_layer = cut.name
    extractor = keras.Model(base.input, [cut.output, base.output])
    built = grid_models.trainables(strategies, plan, k, outputs,
                                   scratch_sizes=sorted({scratch_size(name, plan) for name in datasets}),
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
        side = scratch_size(name, plan)  # the network from scratch reads the same images, smaller
        cell = forward_pass(extractor, images, models.base_module(plan.settings()).preprocess_input, rows, side)
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
