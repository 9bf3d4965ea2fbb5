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


# Photos a class that notebook 05's design draws from full mode's flower folder: 300 for the source task, then
# 10 + 60 for each seed's target and held-out photos (the real folder has 633 or more a class).
FLOWERS_05 = 370


@pytest.fixture(scope="module")
def many_flowers_root(tmp_path_factory):
    """A data folder whose ``flower_photos`` holds FLOWERS_05 stand-in photos a class (05's develop-model design)."""
    root = tmp_path_factory.mktemp("data_05")
    standin.write_full_size_data(root, MIRROR, flower_counts=dict.fromkeys(standin.FLOWER_CLASSES, FLOWERS_05),
                                 cats_dogs_counts={"train": 0})
    return root


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.parent.name for p in NOTEBOOKS])
def test_solution_runs_in_full_mode(notebook, full_mode_home, tmp_path, request):
    # 05's design needs more photos a class than the mirror has: its own flower folder
    data = str(request.getfixturevalue("many_flowers_root")) if notebook.parent.name.startswith("05") else None
    env = runner.kernel_env(mode="full", keras_home=full_mode_home, COURSE_DATA_DIR=data, COURSE_TEST_EPOCHS="1,1",
                            MPLBACKEND="Agg")
    nb = nbformat.read(notebook, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(f"print({standin.MARK!r})"))
    runner.execute(nb, tmp_path, env=env, timeout=FULL_MODE_CELL_TIMEOUT_S)  # full mode on a CPU: longer cells
    outputs = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "mode: full" in outputs, "the notebook did not run in full mode"
    assert "MobileNetV2" in outputs, "full mode's base did not load"
    print(f"{notebook.parent.name}: executed in full mode on {standin.MARK.lower()}")
