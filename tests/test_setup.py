"""The setup block of every notebook (issues 11 and 12): the same lines everywhere, and GPU advice in Colab.

The advice is read as a student would: ``helpers.setup.start`` runs with Colab faked the way Colab shows itself
(a ``google.colab`` module), TensorFlow's GPU list patched, ``COURSE_MODE`` set, and a timing file we write
(or none), and its printed text must say the right thing in each case.
"""

from __future__ import annotations

import ast
import json
import re
import sys
import types
from pathlib import Path

import nbformat
import pytest

import helpers
from helpers import setup

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "03-fine-tuning"
GPU_MODEL = "Tesla T4"


def timing_file(tmp_path: Path, minutes: dict[str, float], gpu: dict[str, float] | None = None) -> Path:
    """A ``full_cost.json`` in the schema of ``benchmarks/run.py full-cost``."""
    def block(table):
        return {"machine": "test machine with 2 cores",
                "notebooks": {name: {"minutes": m, "peak_mb": 1234} for name, m in table.items()}}

    path = tmp_path / "full_cost.json"
    path.write_text(json.dumps({"measured": "2031-02-03", "command": "python benchmarks/run.py full-cost",
                                "cpu": block(minutes), "gpu": block(gpu) if gpu else None}))
    return path


@pytest.fixture
def world(monkeypatch):
    """Switches for Colab, the GPU and the mode; records whether TensorFlow was asked for GPUs."""
    import tensorflow as tf

    state = {"gpu": False, "asked": 0}

    def list_physical_devices(kind=None):
        state["asked"] += 1
        assert kind == "GPU", f"asked for {kind!r} devices, not GPUs"
        return [tf.config.PhysicalDevice("/physical_device:GPU:0", "GPU")] if state["gpu"] else []

    monkeypatch.setattr(tf.config, "list_physical_devices", list_physical_devices)
    monkeypatch.setattr(tf.config.experimental, "get_device_details", lambda device: {"device_name": GPU_MODEL})

    def colab(on: bool):
        if on:
            monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
        else:
            monkeypatch.delitem(sys.modules, "google.colab", raising=False)

    state["colab"] = colab
    state["mode"] = lambda mode: monkeypatch.setenv("COURSE_MODE", mode)
    return state


def run_start(capsys, notebook=NOTEBOOK, cost_file=None) -> str:
    setup.start(notebook, helpers.settings(), cost_file=cost_file)
    return capsys.readouterr().out


@pytest.mark.parametrize("measured", [True, False], ids=["timed", "untimed"])
@pytest.mark.parametrize("gpu", [True, False], ids=["gpu", "cpu"])
@pytest.mark.parametrize("mode", ["full", "small"])
@pytest.mark.parametrize("colab", [True, False], ids=["colab", "local"])
def test_advice_says_the_right_thing(world, capsys, tmp_path, colab, mode, gpu, measured):
    world["colab"](colab)
    world["mode"](mode)
    world["gpu"] = gpu
    minutes = 37.4
    cost = timing_file(tmp_path, {NOTEBOOK: minutes} if measured else {"01-pretrained-models": 5.0})
    out = run_start(capsys, cost_file=cost)
    assert f"mode: {mode}" in out, out

    if not colab or mode == "small":
        assert "GPU" not in out and "Runtime" not in out, f"nothing extra outside Colab or in small mode:\n{out}"
        assert world["asked"] == 0, "looked for a GPU where no advice is given"
        return
    assert world["asked"] >= 1, "Colab in full mode did not look for a GPU"
    advice = out.split("photos a class:", 1)[1].split("\n", 1)[1]
    if gpu:
        assert advice.strip() == f"GPU: {GPU_MODEL}. Full mode trains on it.", advice
        return
    assert "No GPU" in advice, advice
    assert "Runtime > Change runtime type > T4 GPU" in advice and "Run all" in advice, advice
    assert 'os.environ["COURSE_MODE"] = "small"' in advice, advice
    assert "before the setup cell" in advice, advice
    assert setup.small_mode_changes() in advice, "small mode's changes are not spelled out"
    if measured:
        assert f"about {round(minutes)} minutes on a CPU" in advice, advice
        assert "test machine with 2 cores" in advice and "2031-02-03" in advice, advice
        assert "not measured" not in advice
    else:
        assert "not measured" in advice and "minutes on a CPU" not in advice, advice
    assert len(advice.strip().splitlines()) <= 4, f"a few clear lines, not {len(advice.splitlines())}:\n{advice}"


def test_small_mode_changes_come_from_the_settings(monkeypatch):
    monkeypatch.setenv("COURSE_MODE", "small")
    small = helpers.settings()
    monkeypatch.setenv("COURSE_MODE", "full")
    full = helpers.settings()
    text = setup.small_mode_changes()
    for value in (small.base_name, full.base_name, f"{small.image_size} px", f"{full.image_size} px",
                  f"{small.max_images_per_class} photos a class", f"{small.epochs} + {small.fine_tune_epochs}",
                  f"{full.epochs} + {full.fine_tune_epochs}"):
        assert value in text, f"{value!r} missing from {text!r}"
    assert helpers.course_mode() == "full", "reading small mode's settings changed the mode"


def test_a_missing_timing_file_and_a_missing_entry_say_not_measured(world, capsys, tmp_path):
    world["colab"](True)
    world["mode"]("full")
    out = run_start(capsys, cost_file=tmp_path / "nowhere.json")
    assert "not measured" in out and "nowhere.json" in out, out
    broken = tmp_path / "broken.json"
    for text in ("{not json", json.dumps({"cpu": None}), json.dumps({"cpu": {"notebooks": {NOTEBOOK: {}}}}),
                 json.dumps({"cpu": {"notebooks": {NOTEBOOK: {"minutes": "soon"}}}}), json.dumps([1, 2])):
        broken.write_text(text)
        assert "not measured" in run_start(capsys, cost_file=broken), text


def test_an_unfinished_run_is_not_a_time(world, capsys, tmp_path):
    world["colab"](True)
    world["mode"]("full")
    path = timing_file(tmp_path, {NOTEBOOK: 0.3})
    table = json.loads(path.read_text())
    table["cpu"]["notebooks"][NOTEBOOK]["ended"] = "killed: over 8000 MB"
    path.write_text(json.dumps(table))
    out = run_start(capsys, cost_file=path)
    assert "not measured" in out and "under a minute" not in out, out


def test_the_shipped_timing_file_has_every_notebook_measured_within_the_memory_budget():
    table = json.loads((ROOT / "helpers" / "full_cost.json").read_text())
    notebooks = sorted(p.parent.name for p in (ROOT / "solutions").glob("*/*.ipynb"))
    for notebook in notebooks:
        cost = setup.cpu_cost(notebook)
        assert cost is not None, f"helpers/full_cost.json has no finished run of {notebook}: run full-cost"
        peak = table["cpu"]["notebooks"][notebook]["peak_mb"]
        assert peak <= 4096, f"{notebook} peaked at {peak} MB in full mode: over the 4 GB budget"


def test_the_default_timing_file_is_helpers_full_cost_json(world, capsys, tmp_path, monkeypatch):
    world["colab"](True)
    world["mode"]("full")
    assert setup.COST_FILE == ROOT / "helpers" / "full_cost.json"
    monkeypatch.setattr(setup, "COST_FILE", timing_file(tmp_path, {NOTEBOOK: 61.0}, gpu={NOTEBOOK: 3.2}))
    out = run_start(capsys)
    assert "about 61 minutes on a CPU" in out and "on a GPU, about 3 minutes" in out, out


def test_advice_never_stops_the_notebook(world, capsys, tmp_path, monkeypatch):
    import tensorflow as tf

    world["colab"](True)
    world["mode"]("full")

    def broken(kind=None):
        raise RuntimeError("CUDA driver exploded")

    monkeypatch.setattr(tf.config, "list_physical_devices", broken)
    out = run_start(capsys, cost_file=timing_file(tmp_path, {NOTEBOOK: 9.0}))
    assert "mode: full" in out and "CUDA driver exploded" in out, out
    monkeypatch.setattr(setup, "gpu_advice", lambda *a, **k: 1 / 0)
    assert "ZeroDivisionError" in run_start(capsys)


def test_version_checks_say_what_to_do():
    setup.check_versions()  # this environment is supported
    with pytest.raises(helpers.CourseSetupError, match=r"Python 3\.11 or newer; this kernel runs 3\.10\.4"):
        setup.check_versions(python=(3, 10, 4), keras_version="3.10.0")
    with pytest.raises(helpers.CourseSetupError, match=r"Keras 3; this kernel has Keras 2\.15\.0.*pip install"):
        setup.check_versions(python=(3, 11, 0), keras_version="2.15.0")


def test_the_colab_install_carries_the_timing_file():
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    data = config["tool"]["setuptools"].get("package-data", {}).get("helpers", [])
    assert any(Path("full_cost.json").match(pattern) for pattern in data), (
        "pyproject.toml's [tool.setuptools.package-data] must ship helpers/full_cost.json to Colab")


# --- the setup cell of every notebook -----------------------------------------------------------------------

NOTEBOOKS = sorted(p for folder in ("solutions", "notebooks") for p in (ROOT / folder).glob("*/*.ipynb")
                   if ".ipynb_checkpoints" not in p.parts)


def setup_cell(path: Path) -> str:
    """The code cell after the Colab cell: the setup block."""
    code = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    return code[1]


def block_of(source: str, name: str) -> list[str]:
    """The setup cell's lines other than imports and blank lines, with the notebook's own name taken out."""
    tree = ast.parse(source)
    assert all(isinstance(node, ast.Import | ast.ImportFrom | ast.Expr | ast.Assign) for node in tree.body), (
        "the setup cell holds imports and the setup block only")
    return [line.replace(f'"{name}"', '"NAME"') for line in source.splitlines()
            if line.strip() and not re.match(r"(import|from) \S+", line)]


def test_every_notebook_has_the_same_setup_block():
    blocks = {}
    for path in NOTEBOOKS:
        source = setup_cell(path)
        name = path.parent.name
        calls = re.findall(r'helpers\.setup\.start\("([^"]+)", cfg\)', source)
        assert calls == [name], f"{path.relative_to(ROOT)}: calls helpers.setup.start with {calls}, not [{name!r}]"
        blocks[str(path.relative_to(ROOT))] = block_of(source, name)
    first, *_ = blocks.values()
    differ = [where for where, block in blocks.items() if block != first]
    assert not differ, f"setup blocks differ from {next(iter(blocks))}: {differ}"
    assert [line.split("(")[0].split(" = ")[-1] for line in first] == [
        "helpers.set_seeds", "helpers.settings", "helpers.setup.start"], first


def test_setup_cell_runs_and_prints_the_mode(capsys, monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.setenv("COURSE_MODE", "small")
    source = setup_cell(ROOT / "solutions" / NOTEBOOK / f"{NOTEBOOK}.ipynb")
    namespace = {"__name__": "__main__"}
    exec(source, namespace)  # noqa: S102 - the notebook's own cell
    out = capsys.readouterr().out
    assert namespace["cfg"] == helpers.settings()
    assert "'keras': '3." in out and setup.describe(namespace["cfg"]) in out, out
    assert "GPU" not in out, out
