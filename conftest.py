"""pytest setup for the whole course (tests/ and the nbval runs of solutions/): small mode everywhere.

Set here, before any kernel starts, so that nbval's and nbgrader's kernels inherit it. nbval's cell timeout is
the course's one (``helpers/instructor/limits.py``), unless ``--nbval-cell-timeout`` is given on the command line.
"""

import os

from helpers.instructor.runner import python_first_path

os.environ["COURSE_MODE"] = "small"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Kernels and nbgrader's helper programs (alembic) must come from this environment.
os.environ["PATH"] = python_first_path()


def pytest_configure(config):
    """nbval's cell timeout is the course's (nbval 0.11 reads ``config.option.nbval_cell_timeout`` per cell)."""
    from helpers.instructor.limits import CELL_TIMEOUT_S

    args = [*config.invocation_params.args, *os.environ.get("PYTEST_ADDOPTS", "").split()]
    given = any(str(arg).startswith("--nbval-cell-timeout") for arg in args)
    if hasattr(config.option, "nbval_cell_timeout") and not given:
        config.option.nbval_cell_timeout = CELL_TIMEOUT_S

