"""Full mode's code path, executed: every solution notebook in ``COURSE_MODE=full`` on stand-in weights.

Full mode (MobileNetV2 at 224 px, the full data sets) is what students run, and its weights and data cannot be
downloaded here. This test writes random stand-in MobileNetV2 weights under Keras's real cache file names in a
temporary ``KERAS_HOME`` it owns, lays the mirror's photos out like the full data sets, shortens the epochs
(``COURSE_TEST_EPOCHS``, the only difference from a student's run) and executes each solution notebook top to
bottom, graded test cells included. The accuracies it produces are those of random features: not results.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from helpers.instructor import runner, standin
from helpers.instructor.limits import FULL_MODE_CELL_TIMEOUT_S

ROOT = Path(__file__).resolve().parents[1]
MIRROR = ROOT.parent / "shared" / "assets"
NOTEBOOKS = sorted((ROOT / "solutions").glob("*/*.ipynb"))

pytestmark = [pytest.mark.notebooks, pytest.mark.full_mode]


@pytest.fixture(scope="module")
def full_mode_home(tmp_path_factory):
    """A temporary KERAS_HOME with stand-in MobileNetV2 weights, the mirror's class index and full-layout data."""
    if not MIRROR.exists():
        pytest.fail(f"the offline mirror is missing at {MIRROR}: full mode's test needs its photos.")
    home = standin.make_keras_home(tmp_path_factory.mktemp("keras_home_standin"), MIRROR)
    print(f"\n{standin.MARK}: {home}")
    return home


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.parent.name for p in NOTEBOOKS])
def test_solution_runs_in_full_mode(notebook, full_mode_home, tmp_path):
    env = runner.kernel_env(mode="full", keras_home=full_mode_home, COURSE_DATA_DIR=None, COURSE_TEST_EPOCHS="1,1",
                            MPLBACKEND="Agg")
    nb = nbformat.read(notebook, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(f"print({standin.MARK!r})"))
    runner.execute(nb, tmp_path, env=env, timeout=FULL_MODE_CELL_TIMEOUT_S)  # full mode on a CPU: longer cells
    outputs = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "mode: full" in outputs, "the notebook did not run in full mode"
    assert "MobileNetV2" in outputs, "full mode's base did not load"
    print(f"{notebook.parent.name}: executed in full mode on {standin.MARK.lower()}")
