"""The course's one switch between *full* and *small* mode.

Everything that differs between the two modes (data set, base model, image
size, epochs) is decided here and nowhere else. The mode comes from the
``COURSE_MODE`` environment variable (``full`` or ``small``). When it is not
set, nbgrader's validate/autograde runs (which set ``NBGRADER_EXECUTION``) use
``small`` and everything else uses ``full``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

MODE_VARIABLE = "COURSE_MODE"
DATA_VARIABLE = "COURSE_DATA_DIR"
EPOCHS_VARIABLE = "COURSE_TEST_EPOCHS"  # test-only: "HEAD,FINE_TUNE" epochs, to run full mode's code path quickly
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
class Settings:
    """The sizes and names that depend on the mode. Notebooks read them, never branch on the mode."""

    mode: str
    base_name: str  # the pretrained base the course uses in this mode
    image_size: int  # side of the square images fed to the base
    batch_size: int
    epochs: int  # epochs for a new head
    fine_tune_epochs: int  # epochs for fine-tuning
    max_images_per_class: int | None  # cap for demos that embed a whole data set
    flowers_dir: Path
    cats_dogs_dir: Path
    seed: int = SEED

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
    return replace(_mode_settings(), **_test_epochs())


def _mode_settings() -> Settings:
    mode = course_mode()
    root = data_dir()
    if mode == "small":
        return Settings(
            mode=mode,
            base_name="MobileNet (alpha 0.25)",
            image_size=128,
            batch_size=32,
            epochs=5,
            fine_tune_epochs=3,
            max_images_per_class=40,
            flowers_dir=root / "flower_photos_small",
            cats_dogs_dir=root / "cats_and_dogs_small",
        )
    return Settings(
        mode=mode,
        base_name="MobileNetV2",
        image_size=224,
        batch_size=32,
        epochs=10,
        fine_tune_epochs=10,
        max_images_per_class=None,
        flowers_dir=root / "flower_photos",
        cats_dogs_dir=root / "cats_and_dogs_filtered" / "train",
    )
