"""Full mode's code path, executed: every solution notebook in ``COURSE_MODE=full`` on stand-in weights.

Full mode (MobileNetV2 at 224 px, the full data sets) is what students run, and its weights and data cannot be
downloaded here. This test writes random stand-in MobileNetV2 weights under Keras's real cache file names in a
temporary ``KERAS_HOME`` it owns, lays the mirror's photos out like the full data sets, shortens the epochs
(``COURSE_TEST_EPOCHS``, the only difference from a student's run) and executes each solution notebook top to
bottom, graded test cells included. The accuracies it produces are those of random features: not results.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
import standin
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
MIRROR = ROOT.parent / "shared" / "assets"
NOTEBOOKS = sorted((ROOT / "solutions").glob("*/*.ipynb"))

pytestmark = [pytest.mark.notebooks, pytest.mark.full_mode]


@pytest.fixture(scope="module")
def full_mode_home(tmp_path_factory):
    """A temporary KERAS_HOME with stand-in MobileNetV2 weights, the mirror's class index and full-layout data."""
    if not MIRROR.exists():
        pytest.fail(f"the offline mirror is missing at {MIRROR}: full mode's test needs its photos.")
    home = tmp_path_factory.mktemp("keras_home_standin")
    standin.write_standin_weights(home, MIRROR / "flower_photos_small")
    shutil.copy(MIRROR / "keras_models" / "imagenet_class_index.json", home / "models")
    standin.write_standin_data(home / "datasets", MIRROR)
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
def test_solution_runs_in_full_mode(notebook, full_mode_home, tmp_path, monkeypatch, request):
    monkeypatch.setenv("COURSE_MODE", "full")
    monkeypatch.setenv("KERAS_HOME", str(full_mode_home))
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    if notebook.parent.name.startswith("05"):  # its design needs more photos a class than the mirror has
        monkeypatch.setenv("COURSE_DATA_DIR", str(request.getfixturevalue("many_flowers_root")))
    monkeypatch.setenv("COURSE_TEST_EPOCHS", "1,1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(notebook, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(f"print({standin.MARK!r})"))
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "mode: full" in outputs, "the notebook did not run in full mode"
    assert "MobileNetV2" in outputs, "full mode's base did not load"
    print(f"{notebook.parent.name}: executed in full mode on {standin.MARK.lower()}")
