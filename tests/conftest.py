"""Test-suite setup: small mode everywhere (this process, nbval's kernels, nbgrader's kernels)."""

import os
import sys
from pathlib import Path

os.environ["COURSE_MODE"] = "small"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Kernels and nbgrader's helper programs (alembic) must come from this environment.
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def small_assets():
    """Fail early, with the command to run, if the small data and weights are not in place."""
    from helpers.config import keras_home, settings
    from helpers.models import SMALL_NO_TOP

    cfg = settings()
    needed = (cfg.flowers_dir, cfg.cats_dogs_dir, keras_home() / "models" / SMALL_NO_TOP)
    missing = [p for p in needed if not p.exists()]
    if missing:
        pytest.fail(f"Missing {', '.join(map(str, missing))}: run "
                    "`python data_scripts/fetch_data.py --mirror ../shared/assets` first.")
    return cfg
