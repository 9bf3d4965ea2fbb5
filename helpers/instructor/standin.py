"""Stand-in weights and data for executing full mode's code path offline. For the tests and benchmarks only.

Full mode loads MobileNetV2's ImageNet weights and the full data sets, none of which can be downloaded here.
To run its real loading code anyway, :func:`write_standin_weights` writes *random* MobileNetV2 weights (with
and without the classification top) in the legacy HDF5 format and under the exact file names that
``keras.applications.MobileNetV2(weights="imagenet")`` looks for in ``$KERAS_HOME/models/`` (Keras checks no
hash for them), :func:`write_standin_data` lays the mirror's photos out like the full data sets, and
:func:`write_full_size_data` makes data sets of the full ones' real sizes out of them (for the full-cost
benchmark: speed and memory). :func:`make_keras_home` builds a whole stand-in ``KERAS_HOME`` of them (the one
builder of ``tests/test_full_mode.py`` and ``benchmarks/full_cost.py``). All write only into folders the caller
owns: never into a user's Keras cache, nor into a ``KERAS_HOME`` that holds files they did not make
(:func:`claim_keras_home`: a folder they write into is marked with :data:`OWNED` first). Nothing computed on them
is a result: every accuracy they give is that of random features.

Plain random initialisation lets the activations collapse through MobileNetV2's depth (a head trained on the
pooled features may then not move at all), so each BatchNormalization layer's moving statistics are set, in
order, from one batch of real photos: every layer then sees inputs of a sane scale.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from ..config import FULL_BASE, Base

__all__ = ["MARK", "OWNED", "calibrate_batchnorm", "claim_keras_home", "make_keras_home", "write_full_size_data",
           "write_standin_data", "write_standin_weights"]

OWNED = ".course-standin"  # the file that marks a KERAS_HOME as the stand-in builder's own
MARK = "STAND-IN WEIGHTS (random, for testing full mode's code path; not results)"
FLOWER_CLASSES = ("daisy", "dandelion", "roses", "sunflowers", "tulips")
FLOWER_COUNTS = {"daisy": 633, "dandelion": 898, "roses": 641, "sunflowers": 699, "tulips": 799}  # flower_photos
CATS_DOGS_COUNTS = {"train": 1000, "validation": 500}  # cats_and_dogs_filtered: photos a class in each part
CATS_DOGS_FIRST = {"train": 0, "validation": 2000}  # its file numbers: train cat.0.jpg..., validation cat.2000.jpg...


def _photos(folder: Path, n: int, size: int = 224) -> np.ndarray:
    """``n`` photos of ``folder`` (recursively), resized to ``size`` pixels, float32 in [0, 255]."""
    from PIL import Image

    files = sorted(folder.rglob("*.jpg"))
    files = [files[i] for i in np.linspace(0, len(files) - 1, n).astype(int)]  # spread over the classes
    return np.stack([np.asarray(Image.open(f).convert("RGB").resize((size, size)), "float32") for f in files])


def calibrate_batchnorm(model, images, preprocess=None) -> None:
    """Set every BatchNorm layer's moving mean and variance to its input statistics on ``images``.

    One call in training mode with ``momentum = 0``: each BatchNorm layer normalises with the batch statistics
    and stores exactly them, so the inputs it saw are those it will see in inference mode on this batch.
    ``preprocess`` defaults to MobileNetV2's ``preprocess_input``.
    """
    import keras

    batchnorm = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    momenta = [layer.momentum for layer in batchnorm]
    for layer in batchnorm:
        layer.momentum = 0.0
    preprocess = preprocess or keras.applications.mobilenet_v2.preprocess_input
    model(preprocess(images.copy()), training=True)
    for layer, momentum in zip(batchnorm, momenta):
        layer.momentum = momentum


def _save_legacy_h5(model, path: Path) -> None:
    """Weights in the legacy HDF5 layout that ``keras.applications`` files use (Keras 3 saves ``.weights.h5``)."""
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    with h5py.File(path, "w") as handle:
        legacy_h5_format.save_weights_to_hdf5_group(handle, model)
        handle.attrs["stand_in"] = MARK


def claim_keras_home(keras_home: Path) -> Path:
    """``keras_home``, made the stand-ins' own (marked with :data:`OWNED`) if it is missing or empty.

    Raises ``ValueError`` for the user's Keras cache (``~/.keras``), and for a folder that already holds files
    the stand-in builder did not make (real weights or data that random ones must never replace).
    """
    keras_home = Path(keras_home)
    if keras_home.resolve() == (Path.home() / ".keras").resolve():
        raise ValueError("stand-in weights never go into the user's Keras cache: use a temporary KERAS_HOME.")
    if (keras_home / OWNED).is_file():
        return keras_home
    if keras_home.exists() and any(keras_home.iterdir()):
        raise ValueError(f"{keras_home} already holds files the stand-in builder did not make: stand-ins never go "
                         "into a real KERAS_HOME; use an empty temporary folder.")
    keras_home.mkdir(parents=True, exist_ok=True)
    (keras_home / OWNED).write_text(MARK + "\n")
    return keras_home


def make_keras_home(keras_home: Path, mirror: Path, full_size: bool = False) -> Path:
    """A whole stand-in ``KERAS_HOME`` for full mode: stand-in MobileNetV2 weights, the mirror's ImageNet class
    index, and in ``datasets/`` the mirror's photos laid out like the full data sets (``full_size``: data sets of
    the full ones' real sizes, :func:`write_full_size_data`). ``mirror`` is the course's offline mirror."""
    keras_home, mirror = claim_keras_home(keras_home), Path(mirror)
    write_standin_weights(keras_home, mirror / "flower_photos_small")
    shutil.copy(mirror / "keras_models" / "imagenet_class_index.json", keras_home / "models")
    (write_full_size_data if full_size else write_standin_data)(keras_home / "datasets", mirror)
    return keras_home


def write_standin_weights(keras_home: Path, photos: Path, seed: int = 0, base: Base = FULL_BASE) -> list[Path]:
    """Write stand-in weights of ``base`` (default: full mode's MobileNetV2) under ``keras_home/models``, under
    the base's two file names; return the files written. ``keras_home`` must be missing, empty or already the
    stand-ins' own (:func:`claim_keras_home`)."""
    import keras

    keras_home = claim_keras_home(keras_home)
    models = keras_home / "models"
    models.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(seed)
    build = getattr(keras.applications, base.constructor)
    with_top = build(**base.kwargs, weights=None)
    calibrate_batchnorm(with_top, _photos(Path(photos), 16), getattr(keras.applications, base.module).preprocess_input)
    no_top = build(**base.kwargs, weights=None, include_top=False, input_shape=(224, 224, 3))
    for layer in no_top.layers:
        if layer.weights:
            layer.set_weights(with_top.get_layer(layer.name).get_weights())
    _save_legacy_h5(with_top, models / base.with_top_file)
    _save_legacy_h5(no_top, models / base.no_top_file)
    keras.backend.clear_session()
    return [models / base.with_top_file, models / base.no_top_file]


def write_standin_data(data_root: Path, mirror: Path) -> dict[str, Path]:
    """The mirror's photos laid out like the full data sets (``flower_photos/``, ``cats_and_dogs_filtered/``)."""
    data_root, mirror = Path(data_root), Path(mirror)
    flowers = data_root / "flower_photos"
    cats_dogs = data_root / "cats_and_dogs_filtered" / "train"
    for name in FLOWER_CLASSES:
        shutil.copytree(mirror / "flower_photos_small" / name, flowers / name, dirs_exist_ok=True)
    for name in ("cats", "dogs"):
        shutil.copytree(mirror / "cats_and_dogs_small" / name, cats_dogs / name, dirs_exist_ok=True)
    return {"flowers": flowers, "cats_dogs": cats_dogs}


def _variant(source: Path, rng: np.random.Generator, target: Path) -> None:
    """A new photo made from ``source``: a random crop (70-100 % of each side), mirrored half the time, rescaled
    so that its longer side is 80-100 % of the source's (real photos' sizes), saved as a JPEG of quality 70-95."""
    from PIL import Image, ImageOps

    with Image.open(source) as opened:
        image = opened.convert("RGB")
    width, height = image.size
    w, h = (int(side * rng.uniform(0.7, 1.0)) for side in (width, height))
    left, top = int(rng.integers(0, width - w + 1)), int(rng.integers(0, height - h + 1))
    image = image.crop((left, top, left + w, top + h))
    if rng.random() < 0.5:
        image = ImageOps.mirror(image)
    scale = max(width, height) * rng.uniform(0.8, 1.0) / max(w, h)
    image = image.resize((max(32, round(w * scale)), max(32, round(h * scale))), Image.BILINEAR)
    image.save(target, "JPEG", quality=int(rng.integers(70, 96)))


def _fill(sources: list[Path], target: Path, names: list[str], rng: np.random.Generator) -> None:
    """Write one variant of the sources, taken in turn, under each of ``names`` in ``target``."""
    if not sources:
        raise ValueError(f"no source photos for {target}: is the mirror complete?")
    target.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        _variant(sources[i % len(sources)], rng, target / name)


def write_full_size_data(data_root: Path, mirror: Path, flower_counts: dict | None = None,
                         cats_dogs_counts: dict | None = None, seed: int = 0) -> dict[str, Path]:
    """Stand-in data sets of the full ones' real sizes and layout, made of the mirror's photos, in ``data_root``.

    ``flower_photos/<class>/`` with flower_photos' per-class counts (3,670 photos) and
    ``cats_and_dogs_filtered/{train,validation}/{cats,dogs}/`` with 1,000 and 500 photos a class, each photo a
    different crop, flip, rescale and JPEG quality of one of the mirror's photos of its class (seeded). Their
    decoding costs what real photos of the same sizes cost; what a model learns from them is not a result.
    """
    data_root, mirror = Path(data_root), Path(mirror)
    rng = np.random.default_rng(seed)
    flowers = data_root / "flower_photos"
    for name, count in (flower_counts or FLOWER_COUNTS).items():
        sources = sorted((mirror / "flower_photos_small" / name).glob("*.jpg"))
        _fill(sources, flowers / name, [f"standin_{i:04d}.jpg" for i in range(count)], rng)
    cats_dogs = data_root / "cats_and_dogs_filtered"
    for part, count in (cats_dogs_counts or CATS_DOGS_COUNTS).items():
        for name in ("cats", "dogs"):
            sources = sorted((mirror / "cats_and_dogs_small" / name).glob("*.jpg"))
            first = CATS_DOGS_FIRST.get(part, 0)
            _fill(sources, cats_dogs / part / name, [f"{name[:-1]}.{first + i}.jpg" for i in range(count)], rng)
    return {"flowers": flowers, "cats_dogs": cats_dogs / "train", "cats_dogs_validation": cats_dogs / "validation"}
