"""The instructor subpackage's plumbing: one cell timeout for every runner, and nothing heavy for students."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from traitlets.config.loader import PyFileConfigLoader

from helpers.instructor import cli
from helpers.instructor.limits import CELL_TIMEOUT_S

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.grading  # nbgrader_config.py imports nbgrader (absent from the Colab CI environment)
def test_nbgrader_config_reads_the_cell_timeout():
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    assert config.Execute.timeout == CELL_TIMEOUT_S, "nbgrader_config.py sets its own cell timeout"


def test_nbval_reads_the_cell_timeout(pytestconfig):
    given = any(str(a).startswith("--nbval-cell-timeout") for a in pytestconfig.invocation_params.args)
    if not given:  # an explicit --nbval-cell-timeout on the command line wins, on purpose
        assert pytestconfig.option.nbval_cell_timeout == CELL_TIMEOUT_S, "conftest.py did not set nbval's timeout"
    addopts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["addopts"]
    assert "nbval-cell-timeout" not in addopts, "pyproject.toml sets a second cell timeout: conftest.py sets it"


def test_grader_and_browser_test_read_the_cell_timeout():
    import test_browser

    assert cli.parser().parse_args(["submissions"]).timeout == CELL_TIMEOUT_S
    assert test_browser.CELL_TIMEOUT_S == CELL_TIMEOUT_S


def test_instructor_guide_states_the_cell_timeout():
    readme = (ROOT / "docs" / "instructor.md").read_text()
    stated = [int(n) for n in re.findall(r"(\d+) s cell timeout", readme)]
    stated += [int(n) for n in re.findall(r"--timeout`, default (\d+) s", readme)]
    assert stated and set(stated) == {CELL_TIMEOUT_S}, (
        f"docs/instructor.md states cell timeouts of {stated} s, the course's is {CELL_TIMEOUT_S} s")


def _sources():
    """``(relative path, text)`` of the course's Python outside the venv: helpers, tests, benchmarks, the root."""
    files = [*ROOT.glob("*.py"), *ROOT.glob("helpers/**/*.py"), *ROOT.glob("tests/**/*.py"),
             *ROOT.glob("benchmarks/*.py")]
    return [(str(p.relative_to(ROOT)), p.read_text()) for p in sorted(files)]


def test_notebooks_run_only_through_the_course_runner():
    """One runner (helpers/instructor/runner.py): no other NotebookClient, no literal cell timeout, no other
    copy of "this Python first on PATH"."""
    mine, runner = "tests/test_instructor.py", "helpers/instructor/runner.py"
    clients = [f for f, text in _sources() if "NotebookClient(" in text and f not in (runner, mine)]
    literal = [f for f, text in _sources() if re.search(r"runner\.(execute|client)\([^)]*timeout\s*=\s*\d", text)]
    paths = [f for f, text in _sources() if "Path(sys.executable).parent" in text and f not in (runner, mine)]
    assert not clients, f"{clients} run notebooks with their own NotebookClient: use helpers.instructor.runner"
    assert not literal, f"{literal} set a cell timeout of their own: use helpers/instructor/limits.py's"
    assert not paths, f"{paths} put this Python first on PATH themselves: use runner.python_first_path"


def test_the_runner_and_its_environment(tmp_path, monkeypatch):
    from helpers.instructor import runner

    monkeypatch.setenv("COURSE_DATA_DIR", "/somewhere")
    env = runner.kernel_env(mode="full", keras_home=tmp_path, COURSE_DATA_DIR=None, EXTRA="1")
    assert env["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)
    assert (env["COURSE_MODE"], env["KERAS_HOME"], env["EXTRA"]) == ("full", str(tmp_path), "1")
    assert "COURSE_DATA_DIR" not in env
    assert runner.client(object(), tmp_path).timeout == CELL_TIMEOUT_S
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import os, sys; print(os.environ['COURSE_MODE'], sys.executable)")])
    runner.execute(nb, tmp_path, env=runner.kernel_env(mode="full"))
    assert nb.cells[0].outputs[0]["text"].split() == ["full", sys.executable]


HEAVY = ("nbgrader", "nbconvert", "nbformat", "nbclient", "tensorflow", "keras")


def test_importing_helpers_imports_nothing_heavy():
    """Students install helpers in Colab: ``import helpers`` loads no instructor code, and the instructor
    package and its timeout load no grading stack."""
    code = ("import sys, helpers\nprint('helpers.instructor' in sys.modules)\n"
            "import helpers.instructor, helpers.instructor.limits, helpers.instructor.runner\n"
            f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    instructor_loaded, heavy = result.stdout.splitlines()
    assert instructor_loaded == "False", "import helpers imports helpers.instructor"
    assert heavy == "", f"importing helpers.instructor loads {heavy}"


def test_every_package_of_helpers_is_installed():
    """pyproject.toml lists its packages one by one: a subpackage left out is missing from a pip install."""
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "helpers").rglob("__init__.py")}
    assert found == listed, f"pyproject.toml's packages {sorted(listed)}, helpers' packages {sorted(found)}"
