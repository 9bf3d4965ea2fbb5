"""Plumbing for the transfer-learning course: mode, data, models, plots, widgets.

The code that teaches lives in the notebooks; this package only holds what
would distract from it (downloads, robust image loading, plotting, widgets).
"""

from . import setup  # every notebook's setup cell: helpers.setup.start(...)
from .config import SEED, CourseSetupError, course_mode, set_seeds, settings
from .setup import versions

__all__ = ["SEED", "CourseSetupError", "course_mode", "settings", "set_seeds", "setup", "versions"]
__version__ = "0.1.0"
