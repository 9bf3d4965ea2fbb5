"""The pretrained models of the course, loaded the same way in both modes.

Full mode uses MobileNetV2 (ImageNet); small mode uses Keras MobileNet with
alpha 0.25 (ImageNet), a real pretrained base small enough for a 2-core CPU.
Both are ``keras.applications`` models loaded with ``weights="imagenet"`` from
the Keras cache; nothing here ever falls back to random weights: missing
weights are an error that says what to download.
"""

from __future__ import annotations

import json
from pathlib import Path

from .config import CourseSetupError, keras_home, settings
from .fetch import FETCH_COMMAND

KERAS_WEIGHTS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"
SMALL_NO_TOP = "mobilenet_2_5_224_tf_no_top.h5"  # the file Keras caches for MobileNet(alpha=0.25, 224)
SMALL_WITH_TOP = "mobilenet_2_5_224_tf.h5"
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


def base_module():
    """The ``keras.applications`` module of the mode's base (its ``preprocess_input`` matches the base)."""
    import keras

    return keras.applications.mobilenet if settings().mode == "small" else keras.applications.mobilenet_v2


def _cached_weights(name: str, folder: str) -> str:
    """Path of a Keras weight file in the cache, downloaded with Keras's own ``get_file`` if missing."""
    import keras

    # Keras falls back on /tmp/.keras when the cache folder does not exist yet: create it, so the file lands
    # where the course looks for it.
    (keras_home() / "models").mkdir(parents=True, exist_ok=True)
    return keras.utils.get_file(name, KERAS_WEIGHTS_URL + folder + "/" + name, cache_dir=str(keras_home()),
                                cache_subdir="models")


def small_top_path() -> Path:
    """Where the Keras cache keeps the small base *with* its ImageNet top (MobileNet alpha 0.25, 224 px)."""
    return keras_home() / "models" / SMALL_WITH_TOP


def fetch_small_top() -> Path:
    """Download the small base's ImageNet top into the Keras cache and return its path (nothing if it is there).

    It is the file ``keras.applications.MobileNet(alpha=0.25, weights="imagenet")`` downloads, fetched with
    Keras's own ``get_file`` from the same URL. ``fetch_data.py`` calls this on a machine with network (Binder
    does), so that notebook 01 shows real ImageNet predictions in small mode; the offline mirror has no top.
    """
    try:
        return Path(_cached_weights(SMALL_WITH_TOP, "mobilenet"))
    except Exception as error:  # Keras raises a bare Exception when a download fails
        raise _missing(f"the ImageNet top of the small base ({SMALL_WITH_TOP})", error) from error


def load_base(image_size: int | None = None, weights: str | None = "imagenet", name: str | None = None):
    """The mode's base without its classification top (``include_top=False``).

    ``weights="imagenet"`` loads the pretrained weights (an error if they cannot
    be had); ``weights=None`` gives the same architecture with random weights.
    """
    import keras

    config = settings()
    shape = (image_size or config.image_size,) * 2 + (3,)
    if weights not in ("imagenet", None):
        raise ValueError(f"weights must be 'imagenet' or None, got {weights!r}.")
    try:
        if config.mode == "full":
            return keras.applications.MobileNetV2(input_shape=shape, include_top=False, weights=weights, name=name)
        if weights == "imagenet" and shape[0] != 224:
            # Convolution weights do not depend on the input size: load the 224 file for any size.
            weights = _cached_weights(SMALL_NO_TOP, "mobilenet")
        return keras.applications.MobileNet(input_shape=shape, alpha=0.25, include_top=False, weights=weights,
                                            name=name)
    except CourseSetupError:
        raise
    except Exception as error:  # Keras raises a bare Exception when a download fails
        if weights is None:
            raise
        raise _missing(f"the ImageNet weights of {config.base_name}", error) from error


def imagenet_classifier():
    """The mode's base *with* its ImageNet top, or ``None`` if that top cannot be had in this mode.

    Full mode downloads MobileNetV2 with its top (an error if it cannot). Small
    mode uses MobileNet alpha 0.25 with its top only if that file is already in
    the Keras cache (``fetch_data.py`` puts it there on a machine with network,
    see :func:`fetch_small_top`): the offline mirror has no ImageNet top, and the
    course never shows predictions of random weights as if they were real.
    """
    import keras

    config = settings()
    if config.mode == "full":
        try:
            return keras.applications.MobileNetV2(weights="imagenet")
        except Exception as error:
            raise _missing("MobileNetV2 with its ImageNet classification top", error) from error
    path = small_top_path()
    if not path.exists():
        return None
    try:
        return keras.applications.MobileNet(alpha=0.25, weights=str(path))
    except Exception as error:
        raise CourseSetupError(f"{path} is not a usable MobileNet (alpha 0.25) weight file ({error}): delete it "
                               f"and run `{FETCH_COMMAND}` again on a machine with network.") from error


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
