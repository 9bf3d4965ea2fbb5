"""Where the course really runs: every notebook opens in Colab and Binder, and the Binder files agree.

Every notebook of ``notebooks/`` and ``solutions/`` must start with "Open in Colab" and "Launch Binder"
badges that open the student notebook of the same name, then a setup cell that in Colab installs the
course's helpers (only them) from a pinned ref and enables custom widgets, and elsewhere does nothing.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tomllib
import types
from pathlib import Path

import nbformat
import pytest

from helpers.instructor import runner

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for folder in ("notebooks", "solutions") for p in (ROOT / folder).glob("*/*.ipynb")
                   if ".ipynb_checkpoints" not in p.parts)
GITHUB = r"(?P<repo>[\w.-]+/[\w.-]+)"
COLAB = re.compile(r"\[!\[Open In Colab\]\(https://colab\.research\.google\.com/assets/colab-badge\.svg\)\]"
                   r"\(https://colab\.research\.google\.com/github/" + GITHUB
                   + r"/blob/(?P<ref>[\w.-]+)/(?P<path>[^)\s]+)\)")
BINDER = re.compile(r"\[!\[Launch Binder\]\(https://mybinder\.org/badge_logo\.svg\)\]"
                    r"\(https://mybinder\.org/v2/gh/" + GITHUB + r"/(?P<ref>[\w.-]+)\?labpath=(?P<path>[^)\s]+)\)")
# What Colab already ships: the setup cell must not install any of it.
COLAB_HAS = {"tensorflow", "tensorflow-cpu", "keras", "numpy", "matplotlib", "scikit-learn", "ipywidgets",
             "pillow", "tqdm", "jupyter", "notebook"}


def _id(path: Path) -> str:
    return str(path.relative_to(ROOT))


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found in notebooks/ or solutions/"
    slugs = {p.parent.name for p in NOTEBOOKS}
    for slug in slugs:
        for folder in ("notebooks", "solutions"):
            assert (ROOT / folder / slug / f"{slug}.ipynb").exists(), f"{folder}/{slug}/{slug}.ipynb is missing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_badges_open_this_notebook(path):
    first = nbformat.read(path, as_version=4).cells[0]
    assert first.cell_type == "markdown", f"{_id(path)}: the first cell must be the title with the badges"
    colab, binder = COLAB.search(first.source), BINDER.search(first.source)
    assert colab, f"{_id(path)}: no 'Open In Colab' badge in the first cell"
    assert binder, f"{_id(path)}: no 'Launch Binder' badge in the first cell"
    # Both open the student version (what nbgrader releases) of this notebook, in the same repository.
    student = f"notebooks/{path.parent.name}/{path.name}"
    assert (ROOT / student).exists()
    assert colab["path"] == student, f"{_id(path)}: the Colab badge opens {colab['path']}, not {student}"
    assert binder["path"] == student.replace("/", "%2F"), f"{_id(path)}: the Binder badge opens {binder['path']}"
    assert colab["repo"] == binder["repo"] and colab["ref"] == binder["ref"]


def setup_cell(path: Path) -> str:
    cells = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    assert cells, f"{_id(path)} has no code cell"
    return cells[0].source


def python_of(source: str) -> str:
    """A cell's source with IPython's %magics and !commands turned into Python (as the kernel does)."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_setup_cell_does_nothing_outside_colab(path):
    tree = ast.parse(python_of(setup_cell(path)))
    guards = [node for node in tree.body if isinstance(node, ast.If)]
    others = [node for node in tree.body if not isinstance(node, (ast.If, ast.Import))]
    assert len(guards) == 1 and not others, f"{_id(path)}: the setup cell must be `import sys` and one `if`"
    assert ast.unparse(guards[0].test) == "'google.colab' in sys.modules", ast.unparse(guards[0].test)
    assert not guards[0].orelse, f"{_id(path)}: the setup cell must do nothing outside Colab"
    # And really does nothing here: run it in a fresh interpreter without google.colab.
    code = ("import sys\nsys.modules.pop('google.colab', None)\n"
            "def get_ipython():\n    raise AssertionError('the setup cell ran IPython commands outside Colab')\n"
            + python_of(setup_cell(path)))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_setup_cell_in_colab_installs_only_the_helpers_at_a_pinned_ref(path):
    calls = []

    class FakeIPython:
        def run_line_magic(self, name, line):
            calls.append(("%" + name, line))

        def system(self, command):
            calls.append(("!", command))

        def getoutput(self, command):
            calls.append(("!", command))
            return ""

    output = types.SimpleNamespace(enable_custom_widget_manager=lambda: calls.append(("widgets", "")))
    colab = types.ModuleType("google.colab")
    colab.output = output
    google = types.ModuleType("google")
    google.colab = colab
    saved = {name: sys.modules.get(name) for name in ("google", "google.colab")}
    sys.modules.update({"google": google, "google.colab": colab})
    try:
        exec(python_of(setup_cell(path)), {"get_ipython": FakeIPython, "__name__": "__main__"})  # noqa: S102
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module

    pips = [line for kind, line in calls if kind == "%pip"]
    assert len(pips) == 1, f"{_id(path)}: expected one %pip install, got {calls}"
    requirements = [word.strip("'\"") for word in re.findall(r'"[^"]+"|\'[^\']+\'|\S+', pips[0])
                    if not word.startswith("-") and word != "install"]
    assert len(requirements) == 1, f"{_id(path)}: the setup cell installs {requirements}, not only the helpers"
    match = re.fullmatch(r"(?P<name>[\w.-]+) @ git\+https://github\.com/(?P<repo>[\w.-]+/[\w.-]+)@(?P<ref>\S+)",
                         requirements[0])
    assert match, f"{_id(path)}: {requirements[0]!r} is not '<package> @ git+https://github.com/<repo>@<ref>'"
    assert match["name"] == project()["name"]
    assert re.fullmatch(r"v\d+\.\d+\.\d+|[0-9a-f]{40}", match["ref"]), (
        f"{_id(path)}: install from a tag (vX.Y.Z) or a commit, not the moving ref {match['ref']!r}")
    colab_badge = COLAB.search(nbformat.read(path, as_version=4).cells[0].source)
    assert match["repo"] == colab_badge["repo"], "the helpers come from another repository than the notebook"
    assert ("widgets", "") not in calls, (  # only third-party widgets need it, and it loads them from a CDN
        f"{_id(path)}: the course's widgets are ipywidgets' own: Colab shows them without a custom widget manager")
    assert any(kind == "!" and "helpers.fetch" in line for kind, line in calls), "the data is not fetched in Colab"


def test_helpers_package_installs_nothing_colab_already_has():
    dependencies = {re.split(r"[\s<>=!~;\[]", d, maxsplit=1)[0].lower() for d in project().get("dependencies", [])}
    assert not dependencies & COLAB_HAS, f"pip would reinstall Colab's {dependencies & COLAB_HAS}"
    assert tuple(map(int, re.findall(r"\d+", project()["requires-python"])[:2])) <= (3, 11)


# --- Binder -----------------------------------------------------------------------------------------------


def requirement_lines(path: Path) -> list[str]:
    """The requirement lines of a pip file, ``-r`` includes followed (relative to the including file)."""
    lines = []
    for raw in path.read_text().splitlines():
        line = raw.split(" #")[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r ", "--requirement ")):
            lines += requirement_lines((path.parent / line.split(maxsplit=1)[1]).resolve())
        else:
            lines.append(line)
    return lines


def test_binder_runtime_is_recent_enough():
    runtime = (ROOT / "binder" / "runtime.txt").read_text().strip()
    match = re.fullmatch(r"python-(\d+)\.(\d+)", runtime)
    assert match, f"binder/runtime.txt must read python-X.Y, not {runtime!r}"
    assert (int(match[1]), int(match[2])) >= (3, 11), "nbgrader 0.9 and the course need Python 3.11 or newer"


def test_binder_requirements_include_the_course_requirements():
    binder = requirement_lines(ROOT / "binder" / "requirements.txt")
    course = requirement_lines(ROOT / "requirements.txt")
    missing = [line for line in course if line not in binder]
    assert not missing, f"binder/requirements.txt lacks {missing}"
    names = {re.split(r"[\s<>=!~;\[]", line, maxsplit=1)[0].lower() for line in binder}
    assert {"jupyterlab", "nbgrader", "ipywidgets"} <= names
    x86 = [line for line in binder if line.lower().startswith("tensorflow") and 'platform_machine == "x86_64"' in line]
    assert x86 and all(line.lower().startswith("tensorflow-cpu") for line in x86), "Binder (x86_64) needs CPU TF"


def test_binder_start_uses_small_mode_and_postbuild_fetches_the_data():
    start = ROOT / "binder" / "start"
    post = ROOT / "binder" / "postBuild"
    for script in (start, post):
        assert script.read_text().startswith("#!"), f"{script.name} needs a shebang"
        mode = subprocess.run(["git", "ls-files", "-s", str(script)], capture_output=True, text=True,
                              cwd=ROOT).stdout.split()
        assert not mode or mode[0] == "100755", f"{script.name} must be executable in git (git update-index --chmod=+x)"
    lines = [line.strip() for line in start.read_text().splitlines()]
    assert "export COURSE_MODE=small" in lines
    assert lines[-1] == 'exec "$@"', 'binder/start must end with exec "$@"'
    assert "python data_scripts/fetch_data.py" in post.read_text()
    assert (ROOT / "data_scripts" / "fetch_data.py").exists()
    # The start script really sets small mode for what it launches.
    result = subprocess.run(["bash", str(start), sys.executable, "-c",
                             "import os; from helpers.config import course_mode; print(course_mode())"],
                            capture_output=True, text=True, cwd=ROOT, env={"PATH": "/usr/bin:/bin",
                                                                            "PYTHONPATH": str(ROOT)})
    assert result.stdout.strip() == "small", result.stderr


def test_binder_postbuild_keeps_only_what_small_mode_reads(tmp_path):
    """postBuild, run in a fake Binder build whose fetch_data.py lays out what the real one downloads: the
    archives, the full-size folders and the full base's weights go; small mode's folders and weights stay."""
    from helpers import config, fetch

    repo, keras_dir = tmp_path / "repo", tmp_path / "keras"
    shutil.copytree(ROOT / "helpers", repo / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
    (repo / "binder").mkdir()
    shutil.copy2(ROOT / "binder" / "postBuild", repo / "binder" / "postBuild")
    for folder in ("solutions/01-x", "tests", "benchmarks", "notebooks/01-x"):
        (repo / folder).mkdir(parents=True)
        (repo / folder / "a.ipynb").write_text("{}")
    # A stand-in for fetch_data.py: the files a download puts where the real one puts them (helpers.fetch).
    (repo / "data_scripts").mkdir()
    (repo / "data_scripts" / "fetch_data.py").write_text(
        "import sys; sys.path.insert(0, '.')\n"
        "from pathlib import Path\nfrom helpers import config, fetch\n"
        "root = config.data_dir(); root.mkdir(parents=True)\n"
        "for url in (fetch.FLOWERS_URL, fetch.CATS_DOGS_URL):\n"
        "    (root / url.rsplit('/', 1)[1]).write_bytes(b'x' * 1000)\n"
        "for mode in config.MODES:\n"
        "    cfg = config.mode_settings(mode)\n"
        "    for folder in (cfg.flowers_dir, cfg.cats_dogs_dir):\n"
        "        (folder / 'daisy').mkdir(parents=True, exist_ok=True)\n"
        "        (folder / 'daisy' / '1.jpg').write_bytes(b'j')\n"
        "    models = config.keras_home() / 'models'; models.mkdir(parents=True, exist_ok=True)\n"
        "    for name in (cfg.base.no_top_file, cfg.base.with_top_file, 'imagenet_class_index.json'):\n"
        "        (models / name).write_bytes(b'w')\n")
    env = {"PATH": runner.python_first_path("/usr/bin:/bin"), "REPO_DIR": str(repo), "HOME": str(tmp_path),
           "KERAS_HOME": str(keras_dir)}
    result = subprocess.run(["bash", "binder/postBuild"], cwd=repo, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr

    root = keras_dir / "datasets"
    small, full = config.mode_settings("small", root), config.mode_settings("full", root)
    for folder in ("solutions", "tests", "benchmarks"):
        assert not (repo / folder).exists(), f"postBuild left {folder}/"
    assert (repo / "notebooks" / "01-x" / "a.ipynb").exists()
    for url in (fetch.FLOWERS_URL, fetch.CATS_DOGS_URL):
        assert not (root / url.rsplit("/", 1)[1]).exists(), f"postBuild kept the archive of {url}"
    assert not full.flowers_dir.exists() and not (root / "cats_and_dogs_filtered").exists(), sorted(root.iterdir())
    assert (small.flowers_dir / "daisy" / "1.jpg").exists() and (small.cats_dogs_dir / "daisy" / "1.jpg").exists()
    models = keras_dir / "models"
    assert (models / small.base.no_top_file).exists() and (models / small.base.with_top_file).exists()
    assert (models / "imagenet_class_index.json").exists()
    assert not (models / full.base.no_top_file).exists() and not (models / full.base.with_top_file).exists()
    assert "Small mode only: removed" in result.stdout
