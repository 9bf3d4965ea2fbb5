"""The course's one cell timeout, read by every runner of its notebooks.

``nbgrader_config.py`` (nbgrader's ``Execute.timeout``), the grader's default ``--timeout``, nbval's
``--nbval-cell-timeout`` (set by the root ``conftest.py``), the browser test and the course's notebook runner
(:mod:`.runner`: benchmarks and tests) all read :data:`CELL_TIMEOUT_S`; ``tests/test_instructor.py`` checks that
they agree. A run that legitimately needs longer cells says so here, by name, with its reason. This module
imports nothing.
"""

__all__ = ["CELL_TIMEOUT_S", "COMPLETE_FIT_CELL_TIMEOUT_S", "FULL_COST_CELL_TIMEOUT_S", "FULL_MODE_CELL_TIMEOUT_S"]

# TensorFlow cells (loading a base, a few epochs) take far longer than nbgrader's 30 s default.
CELL_TIMEOUT_S = 300

# Full mode (MobileNetV2 at 224 px) run on the maintainers' CPUs, not a student's GPU: longer cells.
# tests/test_full_mode.py: every solution in full mode on stand-in weights, one epoch a fit (its 600 s of before).
FULL_MODE_CELL_TIMEOUT_S = 2 * CELL_TIMEOUT_S
# benchmarks/full_cost.py: the full-size data sets, long fits cut after a few steps and projected.
FULL_COST_CELL_TIMEOUT_S = 3600
# benchmarks/full_cost.py --complete: every fit run to its end with its real epochs, however long: no timeout.
COMPLETE_FIT_CELL_TIMEOUT_S = None
