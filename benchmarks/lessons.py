"""The ledger of lessons: each comparison the notebooks make, over seeds, with its verdict against its own noise.

    python benchmarks/run.py lessons [--only NAME] [--seeds N]

Every lesson runs both of its recipes on the same seeds: in seed ``s`` both see the same split of the photos
(:func:`helpers.recipes.per_class`, seeded with ``s``), the same starting head and the same shuffles. One row per
lesson: the mean paired difference (the recipe the lesson says is better minus the other), the SD of the
differences, the number of seeds, and ``visible`` when the mean exceeds twice its standard error
(:mod:`helpers.ledger`). Photos: the mode's ``many_flowers_dir`` (small mode: the mirror's 3,482 128-px
tf_flowers copies), so held-out sets of 300 to 500 photos (one photo = 0.002 to 0.003); digits:
``helpers.data.digits``. The base, its image size and the batch size come from the settings (small mode:
MobileNet alpha 0.25 at 128 px).

Recipes that finish: a phase-1 head is a logistic regression fitted to convergence on the cached pooled
features (:func:`helpers.recipes.probe`), so phase 2 is compared with a head that has learnt what it can;
fine-tuning trains ``layers[k:]`` (BatchNorm frozen, recompiled: :func:`helpers.recipes.rest_with_head`) on the
cached outputs of the frozen ``layers[:k]`` (:mod:`helpers.prefix`: the same weights as end to end, for the
cost of the rest); networks from scratch get their own rate (:data:`helpers.recipes.SCRATCH_RATE`) and a fixed
budget of updates at which their curves have levelled off (``SCRATCH_UPDATES``; ``--raw`` prints every score and
05's mean learning curves).
"""

from __future__ import annotations

import argparse
import functools
import math
import sys
import time

import numpy as np

import helpers
from helpers import data, freezing, ledger, models, prefix, recipes

# The ledger's design (photos a class, epochs): sizes that every mode's data has; the rest comes from settings.
FLOWER_SPLIT = (60, 40, 100)  # 03 and 05's pipeline: train, validation (to pick k), held-out test, a class
FINE_TUNE_UPDATES = 200  # phase 2: Adam updates (batch 32) at FINE_TUNE_RATE, 20 epochs of 300 photos: levelled off
NOTEBOOK_UPDATES = 15  # 03's own phase 2 in small mode (3 epochs of 5 batches): its two-rate comparison's budget
DIGIT_SPLIT = (30, 40)  # 03's BatchNorm lesson on digits: train, test a class
SCRATCH_UPDATES = 300  # a network from scratch: Adam updates (batch 32) after which its held-out curve is flat
SOURCE_PER_CLASS, FEW, CURVE_TEST = 300, 10, 60  # 05: source photos a type, target photos a type, held out
CURVE_EPOCHS, WINDOW = 40, 10  # 05's learning curves: epochs, and the epochs of slope and asymptote
PIPELINE_EPOCHS = (20, 10)  # 05's full pipeline: head, then fine-tuning (epochs of 300 photos)
FEATURE_HEAD_RATE = 10 * freezing.HEAD_RATE  # a new head on cached features: 02's printed comparison picks 1e-2
SEEDS = 5
RAW: list = []  # (lesson, {recipe: scores by seed}) as the lessons ran: printed by --raw


def _cfg():
    return helpers.settings()


@functools.cache
def photos():
    """``(x, y, class_names)``: every photo of ``many_flowers_dir`` as uint8 at the mode's image size."""
    cfg = _cfg()
    folder = data.list_images(cfg.many_flowers_dir)
    x, y = data.take_images(data.make_dataset(folder.paths, folder.labels, cfg.image_size, 128, cache=False),
                            len(folder))
    return x.astype("uint8"), y, folder.class_names


@functools.cache
def digit_images(size: int):
    """scikit-learn's digits (8 x 8 pixels, upscaled) at ``size`` pixels, as float32 in [0, 255]."""
    return data.digits(size)


def images(dataset: str):
    """``(x, y)`` of a data set: ``"flowers"`` (the mode's image size), ``"digits"`` at the base's resolution
    (the mode's image size) or ``"digits-half"`` at half of it (the BatchNorm lesson: a quarter of the cost)."""
    if dataset == "flowers":
        return photos()[:2]
    size = _cfg().image_size
    return digit_images(size // 2 if dataset == "digits-half" else size)


def _preprocess():
    """The base's preprocessing as a list of layers (:func:`helpers.models.preprocessing_layer`)."""
    return [models.preprocessing_layer()]


@functools.cache
def base_at(size: int):
    """A pretrained base for ``size`` pixels and a copy of its weights (to reset it before each run)."""
    base = models.load_base(size)
    return base, [w.copy() for w in base.get_weights()]


def fresh_base(size: int):
    base, weights = base_at(size)
    base.set_weights(weights)
    return base


@functools.cache
def cached(dataset: str, k: int):
    """The frozen ``layers[:k]``'s outputs for every image of ``dataset`` (k = all layers: the final maps)."""
    x = images(dataset)[0]
    base = fresh_base(x.shape[1])
    freezing.unfreeze_from(base, k) if k < len(base.layers) else setattr(base, "trainable", False)
    cut = prefix.prefix_of(base, k, _preprocess()) if k < len(base.layers) else prefix.classifier(
        base, [], _preprocess())
    return prefix.outputs(cut, x.astype("float32"), 128)


def final_pooled(dataset: str) -> np.ndarray:
    """The pretrained base's pooled features of every image of ``dataset``."""
    x = images(dataset)[0]
    return recipes.pooled(cached(dataset, len(base_at(x.shape[1])[0].layers)))


def fine_tuned(dataset, k, head, train, test, seed, rate=freezing.FINE_TUNE_RATE, head_rate=None,
               batchnorm_frozen=True, val=None, updates=FINE_TUNE_UPDATES):
    """Held-out accuracy (and validation accuracy) after fine-tuning ``layers[k:]`` from ``head`` for about
    ``updates`` updates (whole epochs, whatever the size of the training set)."""
    x_all, y_all = images(dataset)
    maps = cached(dataset, k)
    epochs = math.ceil(updates / math.ceil(len(train) / _cfg().batch_size))
    base = fresh_base(x_all.shape[1])
    helpers.set_seeds(seed)
    model = recipes.rest_with_head(base, k, head, batchnorm_frozen)
    recipes.fit_rest(model, maps[train], y_all[train], epochs, rate, _cfg().batch_size, seed, head_rate)
    scores = recipes.accuracy(model, maps[test], y_all[test])
    return (scores, recipes.accuracy(model, maps[val], y_all[val])) if val is not None else scores


def new_head(n_features: int, n_classes: int, seed: int):
    """A new, untrained softmax head ``(kernel, bias)``: Keras's default Dense start (Glorot uniform, zero bias)."""
    limit = math.sqrt(6 / (n_features + n_classes))
    kernel = np.random.default_rng(seed).uniform(-limit, limit, (n_features, n_classes)).astype("float32")
    return kernel, np.zeros(n_classes, "float32")


def head_alone(features, labels, head, train, test, seed, epochs: int):
    """The phase-1 head trained on, by itself, for the epochs fine-tuning gets (at the head's rate)."""
    import keras

    helpers.set_seeds(seed)
    kernel, bias = head
    inputs = keras.Input((kernel.shape[0],))
    dense = keras.layers.Dense(kernel.shape[1], activation="softmax")
    model = keras.Model(inputs, dense(inputs))
    dense.set_weights([kernel, bias])
    recipes.fit_rest(model, features[train], labels[train], epochs, freezing.HEAD_RATE, _cfg().batch_size, seed)
    return recipes.accuracy(model, features[test], labels[test])


def _pixels(x, side: int = 16) -> np.ndarray:
    import tensorflow as tf

    return np.concatenate([tf.image.resize(x[i:i + 256].astype("float32"), (side, side)).numpy().reshape(
        len(x[i:i + 256]), -1) for i in range(0, len(x), 256)])


def lesson_features(seeds):
    """02: a probe on pretrained features vs on a random base's (BatchNorm recomputed on the photos) and pixels."""
    x, y, _ = photos()
    pretrained, pixels = final_pooled("flowers"), _pixels(x)
    scores = {"pretrained": [], "random": [], "pixels": []}
    for seed in seeds:
        train, test = recipes.per_class(y, FLOWER_SPLIT[::2], seed)
        helpers.set_seeds(seed)  # the random weights differ from seed to seed
        rows = np.concatenate([train, test])
        random = models.random_base(x[train[::2]].astype("float32"))  # statistics of 150 training photos
        features = np.zeros((len(y), random.output.shape[-1]), "float32")
        features[rows] = recipes.pooled(prefix.outputs(prefix.classifier(random, [], _preprocess()),
                                                       x[rows].astype("float32"), 128))
        for name, f in (("pretrained", pretrained), ("random", features), ("pixels", pixels)):
            scores[name].append(recipes.probe_accuracy(f, y, train, test, seed))
    RAW.append(("02 features", scores))
    return [ledger.compare("02 pretrained vs random", scores["pretrained"], scores["random"],
                           "pretrained features", "random base, BatchNorm recomputed"),
            ledger.compare("02 pretrained vs pixels", scores["pretrained"], scores["pixels"],
                           "pretrained features", "16x16 pixels")]


def lesson_fine_tuning(seeds):
    """03: fine-tuning the top vs the head alone, the sweep's best k, two rates (from a new head), a 100x rate."""
    x, y, _ = photos()
    features = final_pooled("flowers")
    boundaries = freezing.block_boundaries(base_at(x.shape[1])[0])
    at, candidates = boundaries[-3], boundaries[-5:-1]  # the notebook's k; the sweep
    epochs = math.ceil(FINE_TUNE_UPDATES / math.ceil(FLOWER_SPLIT[0] * len(np.unique(y)) / _cfg().batch_size))
    s = {name: [] for name in ("head", "alone", "top", "best", "one", "two", "one short", "two short", "high")}
    for seed in seeds:
        train, val, test = recipes.per_class(y, FLOWER_SPLIT, seed)
        head = recipes.probe(features[train], y[train], seed)
        s["head"].append(recipes.probe_accuracy(features, y, train, test, seed))
        s["alone"].append(head_alone(features, y, head, train, test, seed, epochs))
        sweep = {k: fine_tuned("flowers", k, head, train, test, seed, val=val) for k in candidates}
        s["top"].append(sweep[at][0])
        s["best"].append(sweep[max(candidates, key=lambda k: (sweep[k][1], -k))][0])  # picked on validation
        new = new_head(features.shape[1], len(np.unique(y)), seed)  # fine-tuning without phase 1
        s["one"].append(fine_tuned("flowers", at, new, train, test, seed))
        s["two"].append(fine_tuned("flowers", at, new, train, test, seed, head_rate=freezing.HEAD_RATE))
        for name, head_rate in (("one short", None), ("two short", freezing.HEAD_RATE)):  # 03's own budget
            s[name].append(fine_tuned("flowers", at, new, train, test, seed, head_rate=head_rate,
                                      updates=NOTEBOOK_UPDATES))
        s["high"].append(fine_tuned("flowers", at, head, train, test, seed, rate=100 * freezing.FINE_TUNE_RATE))
    RAW.append(("03 fine-tuning", s))
    return [ledger.compare("03 fine-tune top vs head alone", s["top"], s["alone"],
                           f"head + layers[{at}:] at {freezing.FINE_TUNE_RATE:g}", "head alone, same epochs"),
            ledger.compare("03 best k vs no fine-tuning", s["best"], s["head"], "best k (validation)", "phase 1"),
            ledger.compare(f"03 two rates vs one (new head, {NOTEBOOK_UPDATES} updates)", s["two short"],
                           s["one short"], f"head {freezing.HEAD_RATE:g}, base {freezing.FINE_TUNE_RATE:g}",
                           "one rate"),
            ledger.compare(f"03 two rates vs one (new head, {FINE_TUNE_UPDATES} updates)", s["two"], s["one"],
                           f"head {freezing.HEAD_RATE:g}, base {freezing.FINE_TUNE_RATE:g}", "one rate"),
            ledger.compare("03 course rate vs 100x", s["top"], s["high"], f"{freezing.FINE_TUNE_RATE:g}",
                           f"{100 * freezing.FINE_TUNE_RATE:g}")]


def lesson_batchnorm(seeds):
    """03: fine-tuning from the middle of the base on digits, BatchNorm frozen vs trainable."""
    x, y = images("digits-half")
    features = final_pooled("digits-half")
    k = freezing.boundary_near(base_at(x.shape[1])[0], 0.5)
    frozen, trainable = [], []
    for seed in seeds:
        train, test = recipes.per_class(y, DIGIT_SPLIT, seed)
        head = recipes.probe(features[train], y[train], seed)
        frozen.append(fine_tuned("digits-half", k, head, train, test, seed))
        trainable.append(fine_tuned("digits-half", k, head, train, test, seed, batchnorm_frozen=False))
    RAW.append(("03 BatchNorm", {"frozen": frozen, "trainable": trainable}))
    return [ledger.compare("03 BatchNorm frozen vs trainable", frozen, trainable, f"digits, layers[{k}:], frozen",
                           "trainable")]


def scratch_curve(x, y, train, test, n_classes, seed, epochs=None, batch_size=32, every=True):
    """A small CNN from scratch at :data:`SCRATCH_RATE`: held-out accuracy after each epoch (``every``), or only
    after the last (for :data:`SCRATCH_UPDATES` updates unless ``epochs`` says)."""
    import keras

    helpers.set_seeds(seed)
    epochs = epochs or math.ceil(SCRATCH_UPDATES / math.ceil(len(train) / batch_size))
    model = recipes.small_cnn(n_classes, x.shape[1])
    if every:
        return recipes.fit_curve(model, x[train], y[train], x[test], y[test], epochs, recipes.SCRATCH_RATE,
                                 batch_size, seed)
    model.compile(optimizer=keras.optimizers.Adam(recipes.SCRATCH_RATE), loss="sparse_categorical_crossentropy")
    model.fit(x[train], y[train], batch_size=batch_size, epochs=epochs, verbose=0)
    return np.array([recipes.accuracy(model, x[test], y[test])])


def _half(x):
    """Images at half their size (a network from scratch has no resolution to keep), float32."""
    import tensorflow as tf

    side = x.shape[1] // 2
    return np.concatenate([tf.image.resize(x[i:i + 256].astype("float32"), (side, side)).numpy()
                           for i in range(0, len(x), 256)])


def lesson_grid(seeds):
    """04: in each cell (flowers/digits x fewer/more), the best transfer strategy vs a fair network from scratch.

    The notebook's own design (:func:`helpers.measure.run_grid` with :func:`helpers.measure.grid_plan`'s sizes),
    over the ledger's seeds: the same cells, strategies, splits and budgets as the student's run.
    """
    import dataclasses

    from helpers import measure

    plan = dataclasses.replace(measure.grid_plan(), seeds=tuple(seeds))
    result = measure.run_grid(plan, verbose=False)
    for cell, scores in result.scores.items():
        RAW.append((f"04 {cell[0]}, {result.label(*cell)}", scores))
    return result.comparisons()


def lesson_develop(seeds):
    """05: transfer 4 -> 5 flower types vs the same network from scratch (start, slope, asymptote), and the
    ImageNet base vs that transfer."""
    import keras

    x, y, names = photos()
    new = names.index("tulips")
    small = _half(x)
    (reserve,) = recipes.per_class(y, (SOURCE_PER_CLASS,), seed=0)  # the source task's photos, fixed
    source = reserve[y[reserve] != new]
    helpers.set_seeds(0)
    source_model = recipes.small_cnn(len(names) - 1, small.shape[1], "four_flowers")
    recipes.fit_curve(source_model, small[source], y[source], small[source[:50]], y[source[:50]],
                      math.ceil(SCRATCH_UPDATES * 2 / math.ceil(len(source) / 32)), recipes.SCRATCH_RATE, 32, 0)
    body = keras.Model(source_model.input, source_model.get_layer("features").output)
    body_features = recipes.pooled(prefix.outputs(body, small, 256))
    rest = np.setdiff1d(np.arange(len(y)), reserve)
    imagenet = final_pooled("flowers")
    q = {name: [] for name in ("transfer", "scratch")}
    probes = {"imagenet": [], "transfer": []}
    mean_curves: dict = {}
    for seed in seeds:
        target, test = (rest[part] for part in recipes.per_class(y[rest], (FEW, CURVE_TEST), seed))
        helpers.set_seeds(seed)
        head = keras.Sequential([keras.Input((body_features.shape[1],)), keras.layers.Dense(len(names), "softmax")])
        curves = {"transfer": recipes.fit_curve(head, body_features[target], y[target], body_features[test], y[test],
                                                CURVE_EPOCHS, FEATURE_HEAD_RATE, 16, seed),
                  "scratch": scratch_curve(small, y, target, test, len(names), seed, CURVE_EPOCHS, 16)}
        for name, curve in curves.items():
            mean_curves.setdefault(name, []).append(curve)
            q[name].append((curve[0], np.mean(np.diff(curve[:WINDOW + 1])), np.mean(curve[-WINDOW:])))
        probes["imagenet"].append(recipes.probe_accuracy(imagenet, y, target, test, seed))
        probes["transfer"].append(recipes.probe_accuracy(body_features, y, target, test, seed))
    RAW.append(("05 develop-model", {**{f"{n} start/slope/asymptote": v for n, v in q.items()}, **probes,
                                     **{f"{n} mean curve": np.mean(c, axis=0) for n, c in mean_curves.items()}}))
    t, s = np.array(q["transfer"]), np.array(q["scratch"])
    return [ledger.compare(f"05 transfer vs scratch: {what}", t[:, i], s[:, i], "transfer 4 -> 5", "from scratch")
            for i, what in enumerate(("start", "slope", "asymptote"))] + [
        ledger.compare("05 ImageNet vs develop-model", probes["imagenet"], probes["transfer"], "ImageNet base",
                       "transfer 4 -> 5 (probes)", two_sided=True)]  # 05 asks which is ahead, claims neither


def pipeline(x_train, y_train, n_classes, seed):
    """05's full pipeline: augmentation, frozen base, head at HEAD_RATE; then fine-tuning from 2/3 of the depth."""
    import keras

    helpers.set_seeds(seed)
    base = fresh_base(x_train.shape[1])
    base.trainable = False
    augmentation = keras.Sequential([keras.layers.RandomFlip("horizontal"), keras.layers.RandomRotation(0.1),
                                     keras.layers.RandomZoom(0.2)])
    head = [keras.layers.GlobalAveragePooling2D(), keras.layers.Dropout(0.2),
            keras.layers.Dense(n_classes, activation="softmax")]
    model = prefix.classifier(base, head, [augmentation] + _preprocess())
    batch = _cfg().batch_size
    for epochs, rate, k in ((PIPELINE_EPOCHS[0], freezing.HEAD_RATE, None),
                            (PIPELINE_EPOCHS[1], freezing.FINE_TUNE_RATE, freezing.boundary_near(base, 2 / 3))):
        if k is not None:
            freezing.unfreeze_from(base, k)
        model.compile(optimizer=keras.optimizers.Adam(rate), loss="sparse_categorical_crossentropy")  # recompile
        model.fit(x_train, y_train, batch_size=batch, epochs=epochs, verbose=0)
    return model


def lesson_pipeline(seeds):
    """05: the full pipeline's held-out accuracy vs a linear probe on the same training photos."""
    x, y, names = photos()
    features = final_pooled("flowers")
    full, probe = [], []
    for seed in seeds:
        train, _, test = recipes.per_class(y, FLOWER_SPLIT, seed)
        model = pipeline(x[train].astype("float32"), y[train], len(names), seed)
        full.append(recipes.accuracy(model, x[test].astype("float32"), y[test]))
        probe.append(recipes.probe_accuracy(features, y, train, test, seed))
    RAW.append(("05 pipeline", {"pipeline": full, "probe": probe}))
    return [ledger.compare("05 pipeline vs linear probe", full, probe, "full pipeline", "linear probe")]


LESSONS = {"features": lesson_features, "fine_tuning": lesson_fine_tuning, "batchnorm": lesson_batchnorm,
           "grid": lesson_grid, "develop": lesson_develop, "pipeline": lesson_pipeline}


def main(argv: list[str]) -> int:
    """Run the lessons (all, or those whose name contains ``--only``) over ``--seeds`` seeds; print the ledger."""
    from run import table

    parser = argparse.ArgumentParser(prog="run.py lessons", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help=f"run the lesson groups whose name contains this: {list(LESSONS)}")
    parser.add_argument("--seeds", type=int, default=SEEDS, help=f"seeds (and splits) per lesson (default {SEEDS})")
    parser.add_argument("--raw", action="store_true", help="also print every recipe's score in every seed")
    args = parser.parse_args(argv)
    chosen = {name: run for name, run in LESSONS.items() if args.only in name}
    if not chosen:
        parser.error(f"no lesson group matches {args.only!r}: use one of {list(LESSONS)}")
    seeds = list(range(args.seeds))
    cfg = _cfg()
    print(f"ledger of lessons: {cfg.mode} mode, {cfg.base_name} at {cfg.image_size} px, {len(seeds)} seeds",
          flush=True)
    comparisons, start = [], time.perf_counter()
    for name, run in chosen.items():
        began = time.perf_counter()
        found = run(seeds)
        comparisons += found
        print(f"  {name}: {len(found)} lesson(s) in {time.perf_counter() - began:.0f} s", flush=True)
    headers, rows = ledger.table(comparisons)
    print(table(f"Ledger of lessons ({cfg.mode} mode; mean of paired differences over seeds; visible: mean > 2 SE)",
                headers, rows))
    print(ledger.closing_line(comparisons))
    for lesson, scores in RAW if args.raw else []:
        print(f"{lesson}: " + "; ".join(f"{name} {np.round(np.asarray(v, dtype=float), 3).tolist()}"
                                         for name, v in scores.items()))
    print(f"({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
    raise SystemExit(main(sys.argv[1:]))
