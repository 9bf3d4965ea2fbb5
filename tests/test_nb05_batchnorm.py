"""Notebook 05's fine-tuning leaves the pretrained base's BatchNorm layers exactly as they were (issue 9).

The solution notebook's own code runs in a kernel, from the top to its fine-tuning cell, with two cells of
ours around it: one snapshots every weight of the base after the model is built, one compares after
fine-tuning. Only the number of epochs is cut (through the notebook's `cfg`), so the code path is the
notebook's. Every BatchNorm weight (gamma, beta, moving mean, moving variance) must be bit-identical, and
some other weight of the base must have moved, or the fine-tuning did not fine-tune anything.
"""

import json
from pathlib import Path

import nbformat
import pytest

from helpers.instructor import runner

pytestmark = pytest.mark.notebooks

NOTEBOOK = "05-flowers-example"
FOLDER = Path(__file__).resolve().parents[1] / "solutions" / NOTEBOOK

FEWER_EPOCHS = "import dataclasses\ncfg = dataclasses.replace(cfg, epochs=1, fine_tune_epochs=1)"
SNAPSHOT = """def _base_weights():
    return {layer.name: (isinstance(layer, keras.layers.BatchNormalization), [w.numpy().copy() for w in layer.weights])
            for layer in base.layers if layer.weights}
_before = _base_weights()"""
COMPARE = """import json
_after = _base_weights()
_report = {"batchnorm": [], "batchnorm_changed": [], "others_changed": [], "fine_tune_epochs": len(fine_history.epoch)}
for _name, (_is_bn, _old) in _before.items():
    _moved = any(not np.array_equal(a, b) for a, b in zip(_old, _after[_name][1], strict=True))
    if _is_bn:
        _report["batchnorm"].append(_name)
    if _moved:
        _report["batchnorm_changed" if _is_bn else "others_changed"].append(_name)
print("REPORT " + json.dumps(_report))"""


def test_fine_tuning_keeps_every_batchnorm_weight(small_assets):
    nb = nbformat.read(FOLDER / f"{NOTEBOOK}.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    setup = next(i for i, c in enumerate(code) if "cfg = helpers.settings()" in c.source)
    built = next(i for i, c in enumerate(code) if "flowers_model = keras.Model(" in c.source)
    fine = next(i for i, c in enumerate(code) if "freezing.unfreeze_from(base" in c.source)
    assert setup < built < fine
    cells = [nbformat.v4.new_code_cell(c.source) for c in code[:fine + 1]]
    cells.insert(built + 1, nbformat.v4.new_code_cell(SNAPSHOT))
    cells.insert(setup + 1, nbformat.v4.new_code_cell(FEWER_EPOCHS))
    cells.append(nbformat.v4.new_code_cell(COMPARE))
    run = nbformat.v4.new_notebook(cells=cells, metadata=nb.metadata)
    runner.execute(run, FOLDER)
    text = "".join(o.get("text", "") for o in run.cells[-1].outputs if o.output_type == "stream")
    report = json.loads(text.split("REPORT ", 1)[1])

    assert report["fine_tune_epochs"] >= 1
    assert len(report["batchnorm"]) > 0, "the base has no BatchNormalization layer: wrong base?"
    assert report["others_changed"], "fine-tuning changed no weight of the base: nothing was unfrozen"
    assert report["batchnorm_changed"] == [], (
        f"fine-tuning changed {len(report['batchnorm_changed'])} of {len(report['batchnorm'])} BatchNorm layers "
        f"of the pretrained base: {report['batchnorm_changed']}"
    )

