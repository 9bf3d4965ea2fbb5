"""Fixtures of the test suite (the environment is set in the root conftest.py)."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# The browser test's demo notebook stops at a stub on purpose; it is driven by test_browser.py, not nbval.
collect_ignore_glob = ["browser/*.ipynb"]


@pytest.fixture(scope="session")
def small_assets():
    """Fail early, with the command to run, if the small data and weights are not in place."""
    from helpers.config import keras_home, settings

    cfg = settings()
    needed = (cfg.flowers_dir, cfg.cats_dogs_dir, keras_home() / "models" / cfg.base.no_top_file)
    missing = [p for p in needed if not p.exists()]
    if missing:
        pytest.fail(f"Missing {', '.join(map(str, missing))}: run "
                    "`python data_scripts/fetch_data.py --mirror ../shared/assets` first.")
    return cfg
