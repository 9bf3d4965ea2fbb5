"""benchmarks/common.py executes a notebook in a fresh kernel and reads what its report cell printed."""

import json
import sys

import nbformat
import pytest
from grading import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import common  # noqa: E402 - benchmarks/ is not a package


@pytest.fixture
def notebook(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("values = [1, 2, 3]"),
                                         nbformat.v4.new_code_cell("blob = bytearray(50 * 2**20)  # 50 MB held")])
    path = tmp_path / "tiny.ipynb"
    nbformat.write(nb, path)
    return path


def test_run_with_report_returns_what_the_notebook_computed(notebook):
    results, wall = common.run_with_report(notebook, 'import json\nprint("RESULTS " + json.dumps({"n": sum(values)}))')
    assert results == {"n": 6} and wall > 0


def test_run_notebook_measures_the_kernels_peak_memory(notebook):
    wall, peak_mb = common.run_notebook(notebook)
    assert wall > 0 and peak_mb >= 50, peak_mb  # the kernel held 50 MB: its peak cannot be below


def test_a_report_cell_that_prints_no_results_is_an_error(notebook):
    with pytest.raises(RuntimeError, match="printed no results"):
        common.run_with_report(notebook, 'print("nothing here")')


def test_a_failing_notebook_is_an_error(tmp_path):
    path = tmp_path / "broken.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 / 0")]), path)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        common.run_notebook(path)


def test_full_cost_files_a_gpu_run_under_gpu_and_the_setup_cell_reads_it(tmp_path):
    """A run on a GPU goes under "gpu" and keeps the CPU figures (the setup cell's minutes and date); the setup
    cell then names the GPU minutes. A run without one replaces the CPU entry and keeps the GPU's."""
    import full_cost  # noqa: E402 - benchmarks/ is not a package

    from helpers import setup

    results = tmp_path / "full_cost.json"
    cpu = {"01-a": {"minutes": 10.0, "peak_mb": 900}}
    full_cost.save(cpu, "2-core test CPU", "cmd cpu", False, 1.0, results=results)
    full_cost.save({"01-a": {"minutes": 2.5, "peak_mb": 800}}, "2-core test CPU", "cmd gpu", False, 0.5,
                   gpus=["Tesla T4"], results=results)
    cost = setup.cpu_cost("01-a", results)
    assert cost["minutes"] == 10.0 and cost["machine"] == "2-core test CPU", cost
    assert cost["gpu_minutes"] == 2.5, cost
    table = json.loads(results.read_text())
    assert table["gpu"]["machine"] == "Tesla T4" and table["command"] == "cmd cpu", table
    full_cost.save({"01-a": {"minutes": 12.0, "peak_mb": 900}}, "2-core test CPU", "cmd cpu 2", False, 1.0,
                   results=results)
    cost = setup.cpu_cost("01-a", results)
    assert (cost["minutes"], cost["gpu_minutes"]) == (12.0, 2.5), cost
