"""The setup block of every notebook: check the environment, print the versions and the mode, GPU advice in Colab.

Each notebook's setup cell fixes the seeds and reads ``cfg = helpers.settings()`` itself (those lines teach),
then calls :func:`start` for the rest. In Colab, in full mode, :func:`gpu_advice` looks for a GPU; without one
it says how long the notebook takes on a CPU (from ``helpers/full_cost.json``, written by
``python benchmarks/run.py full-cost``), how to switch the runtime to a GPU and how to use small mode instead.
The advice never stops a notebook: whatever goes wrong while it is worked out, it says so in one line.
Colab is detected as the Colab setup cell does: ``"google.colab" in sys.modules``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .config import MODE_VARIABLE, CourseSetupError, Settings, mode_settings, settings

__all__ = [
    "COST_FILE", "MIN_PYTHON", "MIN_KERAS", "in_colab", "gpu_names", "check_versions", "describe", "cpu_cost",
    "small_mode_changes", "gpu_advice", "start", "versions",
]

COST_FILE = Path(__file__).with_name("full_cost.json")
MIN_PYTHON = (3, 11)
MIN_KERAS = 3


def in_colab() -> bool:
    """True in a Google Colab kernel (its ``google.colab`` module is loaded), as the Colab setup cell tests."""
    return "google.colab" in sys.modules


def gpu_names() -> list[str]:
    """The GPUs TensorFlow can use (``tf.config.list_physical_devices("GPU")``), by model name where known."""
    import tensorflow as tf

    names = []
    for device in tf.config.list_physical_devices("GPU"):
        try:
            names.append(tf.config.experimental.get_device_details(device).get("device_name") or device.name)
        except Exception:  # noqa: BLE001 - details are optional; the device's own name will do
            names.append(device.name)
    return names


def versions() -> dict[str, str]:
    """The versions of the main libraries, for the setup cell of each notebook."""
    import keras
    import numpy
    import tensorflow

    return {"python": sys.version.split()[0], "tensorflow": tensorflow.__version__,
            "keras": keras.__version__, "numpy": numpy.__version__}


def check_versions(python: tuple[int, ...] | None = None, keras_version: str | None = None) -> None:
    """Raise :class:`CourseSetupError`, saying what to do, unless Python is 3.11+ and Keras is 3.x."""
    python = tuple(python or sys.version_info[:3])
    if python[:2] < MIN_PYTHON:
        raise CourseSetupError(
            f"This course needs Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer; this kernel runs "
            f"{'.'.join(map(str, python))}. Open the notebook in Colab or Binder, or set up a newer Python "
            "(see the course's README).")
    if keras_version is None:
        import keras

        keras_version = keras.__version__
    if int(keras_version.split(".")[0]) < MIN_KERAS:
        raise CourseSetupError(
            f"This course needs Keras {MIN_KERAS}; this kernel has Keras {keras_version}. "
            "Run `pip install -r requirements.txt` in the course folder, then restart the kernel.")


def describe(cfg: Settings) -> str:
    """One line: the mode and the sizes it sets (printed by every notebook's setup cell)."""
    photos = cfg.max_images_per_class or "all"
    return (f"mode: {cfg.mode} | base: {cfg.base_name} | image size: {cfg.image_size} | "
            f"epochs: {cfg.epochs} (head), {cfg.fine_tune_epochs} (fine-tuning) | photos a class: {photos}")


def cpu_cost(notebook: str, cost_file: Path | str | None = None) -> dict | None:
    """What ``full_cost.json`` says one full-mode run of ``notebook`` cost: ``{"minutes", "machine", "measured",
    "gpu_minutes"}``; None when the file, the notebook's entry or its minutes are missing or unreadable, or when
    that run did not finish."""
    path = Path(cost_file) if cost_file is not None else COST_FILE
    try:
        table = json.loads(path.read_text())
        cpu = table["cpu"]
        entry = cpu["notebooks"][notebook]
        minutes = float(entry["minutes"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if entry.get("ended"):  # the run did not finish (killed, failed): its minutes are not the notebook's
        return None
    if not minutes > 0:
        return None
    gpu_minutes = None
    try:
        gpu_minutes = float(table["gpu"]["notebooks"][notebook]["minutes"])
    except (KeyError, TypeError, ValueError):
        pass
    return {"minutes": minutes, "machine": cpu.get("machine") or "an unnamed machine",
            "measured": table.get("measured") or "on an unknown date", "gpu_minutes": gpu_minutes}


def _minutes(value: float) -> str:
    return "under a minute" if value < 1 else f"about {int(value + 0.5)} minute{'s' if value >= 1.5 else ''}"


def small_mode_changes() -> str:
    """What small mode changes compared with full mode, read from the course's settings."""
    small, full = mode_settings("small"), mode_settings("full")
    return (f"{small.max_images_per_class} photos a class instead of {full.max_images_per_class or 'all'}, "
            f"{small.base_name} at {small.image_size} px instead of {full.base_name} at {full.image_size} px, "
            f"{small.epochs} + {small.fine_tune_epochs} epochs instead of {full.epochs} + {full.fine_tune_epochs}")


def gpu_advice(notebook: str, cfg: Settings | None = None, cost_file: Path | str | None = None) -> str:
    """What to tell a student about GPUs, as text ('' when there is nothing to say).

    Outside Colab, or where the settings ask for no advice (small mode): nothing. In Colab with a GPU: one
    line naming it. Without one: how long ``notebook`` takes on a CPU (from ``cost_file``, by default
    ``helpers/full_cost.json``; or that it is not measured), how to switch the runtime to a GPU, and how to use
    small mode instead.
    """
    if not in_colab():
        return ""
    if not (cfg or settings()).gpu_advice:
        return ""
    try:
        gpus = gpu_names()
    except Exception as error:  # noqa: BLE001 - advice must never stop the notebook
        return f"Could not check for a GPU ({type(error).__name__}: {error}); carrying on."
    if gpus:
        return f"GPU: {', '.join(gpus)}. Full mode trains on it."
    cost = cpu_cost(notebook, cost_file)
    if cost is None:
        where = Path(cost_file).name if cost_file is not None else f"helpers/{COST_FILE.name}"
        took = (f"How long this notebook ({notebook}) takes on a CPU in full mode is not measured ({where} has no "
                "time for it): expect it to be slow.")
    else:
        on_gpu = f"; on a GPU, {_minutes(cost['gpu_minutes'])}" if cost["gpu_minutes"] else ""
        took = (f"In full mode this notebook ({notebook}) took {_minutes(cost['minutes'])} on a CPU "
                f"({cost['machine']}, measured {cost['measured']}{on_gpu}); Colab's CPU may differ.")
    return "\n".join([
        "No GPU: this Colab runtime has only a CPU. " + took,
        "- To use a GPU: Runtime > Change runtime type > T4 GPU > Save, then Runtime > Run all (the setup runs "
        "again).",
        f'- Or use small mode: add a first cell with `import os; os.environ["{MODE_VARIABLE}"] = "small"` (it must '
        "run before the setup cell's imports), then Runtime > Run all. Small mode uses " + small_mode_changes()
        + ": much quicker, the same code, lower accuracies.",
    ])


def start(notebook: str, cfg: Settings | None = None, cost_file: Path | str | None = None) -> None:
    """Check Python and Keras, print the versions and the mode (``cfg``) and, in Colab, the GPU advice."""

    check_versions()
    cfg = cfg or settings()
    print(versions())
    print(describe(cfg))
    try:
        advice = gpu_advice(notebook, cfg, cost_file)
    except Exception as error:  # noqa: BLE001 - advice must never stop the notebook
        advice = f"(no GPU advice: {type(error).__name__}: {error})"
    if advice:
        print(advice)
