"""The pretrained base of the course, loaded the same way in every mode.

Which base (its ``keras.applications`` constructor and arguments, its weight files) is the mode's setting
(:class:`helpers.config.Base`, ``settings().base``): MobileNetV2 in full mode, MobileNet alpha 0.25 in small mode,
both with ImageNet weights from the Keras cache. Nothing here ever falls back to random weights: missing
weights are an error that says what to download. Each function takes the settings as ``cfg`` (default: the
kernel's, ``helpers.settings()``), so a caller with its own settings passes them down.
"""

from __future__ import annotations

import json
import weakref
from pathlib import Path

from . import config
from .config import FETCH_COMMAND, CourseSetupError, keras_home

__all__ = ["base_module", "fetch_weights", "imagenet_class_names", "imagenet_classifier", "load_base",
           "preprocessing_layer", "random_base", "recalibrate_batchnorm", "top_path"]

KERAS_WEIGHTS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"
CLASS_INDEX = "imagenet_class_index.json"
CLASS_INDEX_URL = "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json"
CLASS_INDEX_MD5 = "c2c37ea517e94d9795004a39431a14cb"


def _missing(what: str, error: Exception) -> CourseSetupError:
    return CourseSetupError(
        f"Could not load {what}: {error}\nThese ImageNet weights are downloaded by Keras on first use. "
        f"Run `{FETCH_COMMAND}` on a machine with network (it fills $KERAS_HOME/models, here "
        f"{keras_home() / 'models'}), or use COURSE_MODE=small with the course's offline mirror "
        f"(`{FETCH_COMMAND} --mirror DIR`)."
    )


def base_module(cfg: config.Settings | None = None):
    """The ``keras.applications`` module of the mode's base (its ``preprocess_input`` matches the base)."""
    import keras

    cfg = cfg or config.settings()
    return getattr(keras.applications, cfg.base.module)


def preprocessing_layer(cfg: config.Settings | None = None):
    """The base's ``preprocess_input`` as a layer, for models that read 8-bit pixels: MobileNet and MobileNetV2
    (both modes) map [0, 255] to [-1, 1]; a base that does not is refused."""
    import keras
    import numpy as np

    cfg = cfg or config.settings()
    pixels = np.array([0.0, 127.5, 255.0], "float32")
    if not np.allclose(base_module(cfg).preprocess_input(pixels.copy()), [-1.0, 0.0, 1.0], atol=1e-6):
        raise NotImplementedError(f"{cfg.base_name}'s preprocess_input does not map [0, 255] to [-1, 1]: give "
                                  "helpers.models.preprocessing_layer that base's own preprocessing.")
    return keras.layers.Rescaling(1 / 127.5, offset=-1)


def _cached_weights(name: str, folder: str) -> str:
    """Path of a Keras weight file in the cache, downloaded with Keras's own ``get_file`` if missing."""
    import keras

    # Keras falls back on /tmp/.keras when the cache folder does not exist yet: create it, so the file lands
    # where the course looks for it.
    (keras_home() / "models").mkdir(parents=True, exist_ok=True)
    return keras.utils.get_file(name, KERAS_WEIGHTS_URL + folder + "/" + name, cache_dir=str(keras_home()),
                                cache_subdir="models")


def _weights_file(base: config.Base, top: bool) -> Path:
    """The base's weight file (with or without its top) in the Keras cache, downloaded if missing."""
    name = base.with_top_file if top else base.no_top_file
    try:
        return Path(_cached_weights(name, base.weights_folder))
    except Exception as error:  # Keras raises a bare Exception when a download fails
        what = f"{base.name} with its ImageNet classification top" if top else f"the ImageNet weights of {base.name}"
        raise _missing(f"{what} ({name})", error) from error


def _build(base: config.Base, weights: Path | None, **kwargs):
    """``keras.applications.<constructor>`` with the base's arguments, then the weights of a cached file, if any."""
    import keras

    model = getattr(keras.applications, base.constructor)(**base.kwargs, weights=None, **kwargs)
    if weights is not None:
        try:
            model.load_weights(str(weights))
        except Exception as error:
            raise CourseSetupError(f"{weights} is not a usable {base.name} weight file ({error}): delete it and "
                                   f"run `{FETCH_COMMAND}` again on a machine with network.") from error
    return model


def top_path(cfg: config.Settings | None = None) -> Path:
    """Where the Keras cache keeps the mode's base *with* its ImageNet top (224 px)."""
    cfg = cfg or config.settings()
    return keras_home() / "models" / cfg.base.with_top_file


def fetch_weights(base: config.Base) -> list[Path]:
    """Download both weight files of ``base`` (without and with its top) into the Keras cache; return their paths.

    ``fetch_data.py`` calls this for the base of every mode on a machine with network (Binder does), so that
    notebook 01 shows real ImageNet predictions in small mode too; the offline mirror has no top.
    """
    return [_weights_file(base, top=False), _weights_file(base, top=True)]


def load_base(image_size: int | None = None, weights: str | None = "imagenet",
              cfg: config.Settings | None = None):
    """The mode's base without its classification top (``include_top=False``), for images of ``image_size``.

    ``weights="imagenet"`` loads the pretrained weights (an error if they cannot be had); ``weights=None`` gives
    the same architecture with random weights. ``image_size`` defaults to the mode's.
    """
    cfg = cfg or config.settings()
    if weights not in ("imagenet", None):
        raise ValueError(f"weights must be 'imagenet' or None, got {weights!r}.")
    size = image_size or cfg.image_size
    path = _weights_file(cfg.base, top=False) if weights == "imagenet" else None
    return _build(cfg.base, path, input_shape=(size, size, 3), include_top=False)


def recalibrate_batchnorm(model, images) -> int:
    """Set every BatchNormalization layer's moving mean and variance to its statistics on ``images``.

    ``images`` is one batch as the model takes it (preprocessed). Momentum 0 and one training-mode pass: each
    layer's statistics become those of its own inputs, which earlier layers already normalise with theirs, so
    the whole network is calibrated in one pass. A random network's BatchNorm otherwise sits at mean 0 and
    variance 1 and its deep activations die or explode. Returns the number of BatchNorm layers set.
    """
    import keras
    import tensorflow as tf

    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    saved = [(layer.momentum, layer.trainable) for layer in norms]
    for layer in norms:
        layer.momentum, layer.trainable = 0.0, True  # a trainable BatchNorm uses batch statistics in training
    try:  # traced, so that each layer's output is freed once used (an eager pass holds them all: 4x the memory)
        if model not in _CALIBRATE:  # traced once per model: the flags above are the same at every call
            reference = weakref.ref(model)
            _CALIBRATE[model] = tf.function(lambda batch: reference()(batch, training=True))
        _CALIBRATE[model](tf.convert_to_tensor(images))
    finally:
        for layer, (momentum, trainable) in zip(norms, saved, strict=True):
            layer.momentum, layer.trainable = momentum, trainable
    return len(norms)


_CALIBRATE = weakref.WeakKeyDictionary()  # model -> its traced calibration pass


def random_base(images, image_size: int | None = None, cfg: config.Settings | None = None, reuse=None):
    """The mode's base with random weights and BatchNorm statistics recomputed on ``images`` (a fair baseline).

    ``images``: photos as float32 in [0, 255] (a batch of 100 or more), preprocessed here with the base's own
    ``preprocess_input``. Random weights come from Keras's initialisers (seed them with ``helpers.set_seeds``).
    ``reuse``: a base an earlier call returned, at the same size: it gets the new random weights and is returned,
    so that what Keras traced for it (``predict``, the calibration pass) is not traced again for every draw.
    """
    import numpy as np

    base = load_base(image_size, weights=None, cfg=cfg)
    if reuse is not None:
        reuse.set_weights(base.get_weights())  # the same draw, in the model already traced
        base = reuse
    recalibrate_batchnorm(base, base_module(cfg).preprocess_input(np.array(images, dtype="float32")))
    return base


def imagenet_classifier(cfg: config.Settings | None = None):
    """The mode's base *with* its ImageNet top, or ``None`` if that top cannot be had in this mode.

    A base whose top comes on demand (``Base.top_on_demand``: full mode) downloads it if missing (an error if it
    cannot). Otherwise (small mode) the top is used only if it is already in the Keras cache
    (``fetch_data.py`` puts it there on a machine with network): the offline mirror has no ImageNet top, and the
    course never shows predictions of random weights as if they were real.
    """
    cfg = cfg or config.settings()
    if not cfg.base.top_on_demand and not top_path(cfg).exists():
        return None
    return _build(cfg.base, _weights_file(cfg.base, top=True))


def imagenet_class_names() -> list[str]:
    """The 1,000 ImageNet class names, in output order (from Keras's cached class index)."""
    import keras

    try:
        path = keras.utils.get_file(CLASS_INDEX, CLASS_INDEX_URL, cache_subdir="models", file_hash=CLASS_INDEX_MD5)
    except Exception as error:
        raise _missing("the ImageNet class index", error) from error
    with open(path) as handle:
        index = json.load(handle)
    return [index[str(i)][1] for i in range(len(index))]
