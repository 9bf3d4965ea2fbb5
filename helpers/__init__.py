"""Plumbing for the transfer-learning course: mode, data, models, plots, widgets.

The code that teaches lives in the notebooks; this package only holds what
would distract from it (downloads, robust image loading, plotting, widgets).
"""

from . import setup  # every notebook's setup cell: helpers.setup.start(...)
from .config import SEED, CourseSetupError, course_mode, settings

__all__ = ["SEED", "CourseSetupError", "course_mode", "settings", "set_seeds", "setup", "versions"]
__version__ = "0.1.0"


def set_seeds(seed: int = SEED) -> None:
    """Seed Python, NumPy and TensorFlow (via Keras) so that runs are repeatable."""
    import keras

    keras.utils.set_random_seed(seed)


def versions() -> dict[str, str]:
    """The versions of the main libraries, for the setup cell of each notebook."""
    import sys

    import keras
    import numpy
    import tensorflow

    return {"python": sys.version.split()[0], "tensorflow": tensorflow.__version__,
            "keras": keras.__version__, "numpy": numpy.__version__}
