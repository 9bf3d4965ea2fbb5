"""The course's one cell timeout, read by every runner of its notebooks.

``nbgrader_config.py`` (nbgrader's ``Execute.timeout``), the grader's default ``--timeout``, nbval's
``--nbval-cell-timeout`` (set by the root ``conftest.py``) and the browser test all read
:data:`CELL_TIMEOUT_S`; ``tests/test_instructor.py`` checks that they agree. This module imports nothing.
"""

__all__ = ["CELL_TIMEOUT_S"]

# TensorFlow cells (loading a base, a few epochs) take far longer than nbgrader's 30 s default.
CELL_TIMEOUT_S = 300
