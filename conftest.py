"""pytest setup for the whole course (tests/ and the nbval runs of solutions/): small mode everywhere.

Set here, before any kernel starts, so that nbval's and nbgrader's kernels inherit it.
"""

import os
import sys
from pathlib import Path

os.environ["COURSE_MODE"] = "small"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Kernels and nbgrader's helper programs (alembic) must come from this environment.
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
