"""The course's one switch between *full* and *small* mode.

Everything that differs between the two modes is decided here and nowhere else:
the base model (its ``keras.applications`` constructor and arguments, its weight
files, its preprocessing), the data folders and their cap, the image size,
batch sizes and epochs. The rest of the course reads :func:`settings` and never
branches on the mode. The mode comes from the
``COURSE_MODE`` environment variable (``full`` or ``small``). When it is not
set, nbgrader's validate/autograde runs (which set ``NBGRADER_EXECUTION``) use
``small`` and everything else uses ``full``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

__all__ = ["CourseSetupError", "Settings", "Base", "settings", "mode_settings", "all_settings", "course_mode",
           "keras_home", "data_dir", "subsets", "resized_copies", "SMALL_BASE", "FULL_BASE", "MODES", "SEED",
           "MODE_VARIABLE", "DATA_VARIABLE", "EPOCHS_VARIABLE", "FETCH_COMMAND", "set_seeds"]

MODE_VARIABLE = "COURSE_MODE"
DATA_VARIABLE = "COURSE_DATA_DIR"
EPOCHS_VARIABLE = "COURSE_TEST_EPOCHS"  # test-only: "HEAD,FINE_TUNE" epochs, to run full mode's code path quickly
FETCH_COMMAND = "python data_scripts/fetch_data.py"  # what every "the data (or weights) are missing" error says to run
MODES = ("full", "small")
SEED = 42


class CourseSetupError(RuntimeError):
    """Something the course needs is missing; the message says what to run."""


def course_mode() -> str:
    """Return ``"full"`` or ``"small"``, read from the environment."""
    value = os.environ.get(MODE_VARIABLE, "").strip().lower()
    if not value:
        return "small" if os.environ.get("NBGRADER_EXECUTION") else "full"
    if value not in MODES:
        raise CourseSetupError(
            f"{MODE_VARIABLE}={value!r} is not a course mode: use one of {', '.join(MODES)}."
        )
    return value


def keras_home() -> Path:
    """The Keras cache folder (``$KERAS_HOME``, default ``~/.keras``)."""
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras").expanduser()


def data_dir() -> Path:
    """Where the course's data sets live (``$COURSE_DATA_DIR``, default ``$KERAS_HOME/datasets``)."""
    value = os.environ.get(DATA_VARIABLE)
    return Path(value).expanduser() if value else keras_home() / "datasets"


@dataclass(frozen=True)
class Base:
    """A pretrained ``keras.applications`` base: how to build it and which weight files Keras caches for it.

    ``helpers.models`` builds ``keras.applications.<constructor>(**kwargs, input_shape=..., include_top=...)`` and
    loads the named files from ``$KERAS_HOME/models`` (downloading them from Keras's own bucket if missing).
    Convolution weights do not depend on the input size, so the 224-pixel files serve every image size.
    """

    name: str  # as shown to students
    constructor: str  # the function in keras.applications
    module: str  # the keras.applications module with the base's preprocess_input and decode_predictions
    weights_folder: str  # the folder of Keras's weight bucket that holds the two files
    no_top_file: str  # the weights without the classification top (include_top=False)
    with_top_file: str  # the weights with the 1,000-class ImageNet top
    kwargs: dict = field(default_factory=dict)  # the constructor's keyword arguments besides shape, top and weights
    top_on_demand: bool = True  # download the top when missing (else use it only if fetch_data.py cached it)


SMALL_BASE = Base(
    name="MobileNet (alpha 0.25)", constructor="MobileNet", module="mobilenet", kwargs={"alpha": 0.25},
    weights_folder="mobilenet", no_top_file="mobilenet_2_5_224_tf_no_top.h5", with_top_file="mobilenet_2_5_224_tf.h5",
    top_on_demand=False,  # the offline mirror (tests, autograding) has no top: never wait on a download there
)
FULL_BASE = Base(
    name="MobileNetV2", constructor="MobileNetV2", module="mobilenet_v2", weights_folder="mobilenet_v2",
    no_top_file="mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5",
    with_top_file="mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5",
)


@dataclass(frozen=True)
class Settings:
    """Everything that depends on the mode. Notebooks and helpers read them, never branch on the mode."""

    mode: str
    base: Base  # the pretrained base the course uses in this mode
    image_size: int  # side of the square images fed to the base
    batch_size: int
    epochs: int  # epochs for a new head
    fine_tune_epochs: int  # epochs for fine-tuning
    max_images_per_class: int | None  # photos a class in the data folders (None: all), for demos that embed them all
    flowers_dir: Path
    cats_dogs_dir: Path
    many_flowers_dir: Path  # the most flower photos this mode has (small: 3,482 blurrier 128-px copies), for measuring
    grid_batch_size: int  # batch size of notebook 04's measured grid
    grid_seeds: int  # splits (seeds) of notebook 04's measured grid: its comparisons are paired by split
    gpu_advice: bool  # in Colab without a GPU, tell the student what a notebook costs on a CPU (helpers.setup)

    @property
    def base_name(self) -> str:
        return self.base.name

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (self.image_size, self.image_size, 3)


def _test_epochs() -> dict[str, int]:
    """Epochs set by ``COURSE_TEST_EPOCHS`` (``"1,1"``), which only the test suite sets; empty when unset."""
    value = os.environ.get(EPOCHS_VARIABLE, "").strip()
    if not value:
        return {}
    try:
        head, fine_tune = (int(part) for part in value.split(","))
    except ValueError:
        raise CourseSetupError(f"{EPOCHS_VARIABLE}={value!r}: write two whole numbers, e.g. '1,1'.") from None
    if head < 1 or fine_tune < 1:
        raise CourseSetupError(f"{EPOCHS_VARIABLE}={value!r}: epochs must be at least 1.")
    return {"epochs": head, "fine_tune_epochs": fine_tune}


def settings() -> Settings:
    """Return the :class:`Settings` of the current mode."""
    return replace(mode_settings(course_mode()), **_test_epochs())


def mode_settings(mode: str, root: Path | None = None) -> Settings:
    """The :class:`Settings` of ``mode`` (``"full"`` or ``"small"``), with its data folders under ``root``.

    ``root`` defaults to :func:`data_dir`. ``COURSE_TEST_EPOCHS`` is not applied: see :func:`settings`.
    """
    root = Path(root) if root else data_dir()
    if mode == "small":
        return Settings(
            mode=mode,
            base=SMALL_BASE,
            image_size=128,
            batch_size=32,
            epochs=5,
            fine_tune_epochs=3,
            max_images_per_class=40,
            flowers_dir=root / "flower_photos_small",
            cats_dogs_dir=root / "cats_and_dogs_small",
            many_flowers_dir=root / "flower_photos_128",  # 128-px copies: the mirror's, or fetch_data.py builds them
            grid_batch_size=25,  # divides every training set of the grid (50, 250, 100, 500): no partial batch
            grid_seeds=5,
            gpu_advice=False,  # minutes on any CPU
        )
    if mode == "full":
        return Settings(
            mode=mode,
            base=FULL_BASE,
            image_size=224,
            batch_size=32,
            epochs=10,
            fine_tune_epochs=10,
            max_images_per_class=None,
            flowers_dir=root / "flower_photos",
            cats_dogs_dir=root / "cats_and_dogs_filtered" / "train",
            many_flowers_dir=root / "flower_photos",  # the real photos: full mode has them all
            grid_batch_size=25,  # as in small mode: the grid's training sets are the same size in both modes
            grid_seeds=5,
            gpu_advice=True,
        )
    raise CourseSetupError(f"{mode!r} is not a course mode: use one of {', '.join(MODES)}.")


def all_settings(root: Path | None = None) -> dict[str, Settings]:
    """The :class:`Settings` of every mode, by name (what ``fetch_data.py`` gets ready: both modes)."""
    return {mode: mode_settings(mode, root) for mode in MODES}


def resized_copies(root: Path | None = None) -> list[tuple[Path, Path, int]]:
    """``(source, copy, side)`` for each folder of small mode made of full mode's photos resized to ``side`` px.

    Small mode's ``many_flowers_dir``: every flower photo as a ``side`` x ``side`` JPEG (the mirror holds such
    copies; a connected machine builds them from the downloaded photos: :func:`helpers.fetch.build_resized`).
    """
    full, small = mode_settings("full", root), mode_settings("small", root)
    if small.many_flowers_dir == full.many_flowers_dir:
        return []
    return [(full.many_flowers_dir, small.many_flowers_dir, small.image_size)]


def subsets(root: Path | None = None) -> list[tuple[Path, Path, int]]:
    """``(source, subset, photos a class)`` for each data folder of small mode: a subset of full mode's folder."""
    full, small = mode_settings("full", root), mode_settings("small", root)
    return [(full.flowers_dir, small.flowers_dir, small.max_images_per_class),
            (full.cats_dogs_dir, small.cats_dogs_dir, small.max_images_per_class)]


def set_seeds(seed: int = SEED) -> None:
    """Seed Python, NumPy and TensorFlow (via Keras) so that runs are repeatable."""
    import keras

    keras.utils.set_random_seed(seed)
