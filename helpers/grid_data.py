"""Notebook 04's measured grid, its plan and its data: what :mod:`helpers.measure` runs on.

:class:`GridPlan` holds the grid's sizes and settings (:func:`grid_plan` derives them from the course settings).
:func:`load_grid_data` loads a data set as 8-bit pixels, :func:`grid_splits` draws its nested training sets and
held-out set for one seed, and :func:`forward_pass` runs the pretrained base over it once, caching the inputs the
strategies of :data:`helpers.strategies.TABLE` read (the keys of :data:`helpers.strategies.INPUTS`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import config, freezing, recipes
from .config import SEED
from .strategies import TABLE

__all__ = ["SIZES", "GridPlan", "class_count", "forward_pass", "grid_plan", "grid_sizes", "grid_splits",
           "load_grid_data", "scratch_size"]


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


def class_count(name: str, plan: GridPlan) -> int:
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



def forward_pass(extractor, images, preprocess, rows, side: int, batch_size: int = 128):
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


def scratch_size(dataset: str, plan: GridPlan) -> int:
    """The side of the images the network from scratch sees: half the grid's for flowers (a network learnt from
    random weights has no resolution to keep), a quarter for the digits (32 px in small mode hold their 8 x 8
    pixels): the ledger's sizes, at a fraction of the cost."""
    return plan.image_size // 4 if dataset == "digits" else plan.image_size // 2
