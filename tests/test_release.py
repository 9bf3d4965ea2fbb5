"""Solutions stay with the instructor: the student edition and the Binder image hold none (issue 10, section 6)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from helpers.instructor import release, runner

ROOT = Path(__file__).resolve().parents[1]
REPO, REF = "some-school/transfer-learning-2027", "v2.3.4"
MARKERS = re.compile(r"BEGIN\s+(SOLUTION|HIDDEN\s+TESTS)")  # nbgrader's markers (not written here literally)


def tracked_files() -> list[str]:
    return [p for p in subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
            .stdout.decode().split("\0") if p and (ROOT / p).is_file()]


def copy_course(to: Path, files=None) -> Path:
    """A copy of the course's tracked files (outside git)."""
    for rel in files or tracked_files():
        (to / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, to / rel)
    return to


def with_markers(root: Path) -> list[str]:
    return [str(p.relative_to(root)) for p in root.rglob("*")
            if p.is_file() and MARKERS.search(p.read_text(encoding="utf-8", errors="ignore"))]


def test_the_course_itself_has_solutions_to_protect():
    """What the checks below look for is really in this repository (so they can fail)."""
    assert with_markers(ROOT / "solutions") and (ROOT / "tests" / "wrong_answers").is_dir()
    text = (ROOT / "notebooks" / "01-pretrained-models" / "01-pretrained-models.ipynb").read_text()
    assert REPO not in text and REF not in text


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    out = tmp_path_factory.mktemp("edition") / "student-edition"
    command = [sys.executable, "-m", "helpers.instructor.release", str(out), "--repo", REPO, "--ref", REF]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def test_student_edition_has_no_solutions_or_hidden_tests(edition):
    for gone in ("solutions", "tests", "benchmarks", ".ci", "gradebook.db", ".git"):
        assert not (edition / gone).exists(), f"the student edition contains {gone}"
    assert not list(edition.rglob("solutions")) and not list(edition.rglob("gradebook.db"))
    assert with_markers(edition) == [], "nbgrader's solution or hidden-test markers in the student edition"
    for needed in ("helpers/__init__.py", "helpers/data.py", "data_scripts/fetch_data.py", "binder/postBuild",
                   "binder/start", "requirements.txt", "pyproject.toml", "README.md"):
        assert (edition / needed).is_file(), f"the student edition lacks {needed}"
    assert os.access(edition / "binder" / "postBuild", os.X_OK)
    readme = (edition / "README.md").read_text()
    assert "## For instructors" not in readme and "## The notebooks" in readme and "solutions/" not in readme


def test_student_edition_links_name_the_published_repository(edition):
    notebooks = sorted(edition.glob("notebooks/*/*.ipynb"))
    assert [p.relative_to(edition) for p in notebooks] == [p.relative_to(ROOT)
                                                            for p in sorted(ROOT.glob("notebooks/*/*.ipynb"))]
    for path in notebooks:
        text = path.read_text()
        student = f"notebooks/{path.parent.name}/{path.name}"
        assert f"https://colab.research.google.com/github/{REPO}/blob/{REF}/{student})" in text
        assert f"https://mybinder.org/v2/gh/{REPO}/{REF}?labpath={student.replace('/', '%2F')})" in text
        assert f"git+https://github.com/{REPO}@{REF}" in text
        links = re.findall(r"(?:github\.com/|github/|/gh/)([\w.-]+/[\w.-]+)", text)
        assert links and set(links) == {REPO}, f"{path.name} still links elsewhere: {set(links)}"
        nbformat.validate(nbformat.read(path, as_version=4))
        # Nothing else changed.
        original = (ROOT / student).read_text()
        assert len(text.splitlines()) == len(original.splitlines())


def test_release_refuses_a_leak_and_leaves_nothing(tmp_path):
    course = copy_course(tmp_path / "course", [p for p in tracked_files() if not p.startswith("solutions/")])
    (course / "helpers" / "answers.py").write_text("### BEGIN " + "SOLUTION\nx = 1\n")
    with pytest.raises(SystemExit, match="answers.py"):
        release.release(tmp_path / "out", REPO, REF, course)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("repo, ref, error", [("not-a-repo", REF, "OWNER/NAME"), (REPO, "v1 ; rm", "--ref"),
                                              ("a/b/c", REF, "OWNER/NAME")])
def test_release_checks_its_arguments(tmp_path, repo, ref, error):
    with pytest.raises(SystemExit, match=error):
        release.release(tmp_path / "out", repo, ref)


def test_release_refuses_a_folder_that_is_not_empty(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with pytest.raises(SystemExit, match="not empty"):
        release.release(tmp_path / "out", REPO, REF)
    assert (tmp_path / "out" / "keep.txt").read_text() == "mine"


# --- Binder ------------------------------------------------------------------------------------------------


def _postbuild(repo: Path, home: Path) -> subprocess.CompletedProcess:
    env = {"PATH": runner.python_first_path(), "HOME": str(home)}
    return subprocess.run(["bash", "binder/postBuild"], cwd=repo, capture_output=True, text=True, env=env)


def test_binder_image_holds_no_solutions_or_gradebook(tmp_path):
    """binder/postBuild, run as repo2docker runs it (in the image's copy of the repository), removes them."""
    repo = copy_course(tmp_path / "repo")
    (repo / "gradebook.db").write_bytes(b"SQLite format 3\0")
    (repo / ".git").mkdir()
    (repo / ".git" / "packed").write_text("### BEGIN " + "HIDDEN TESTS")
    (repo / "data_scripts" / "fetch_data.py").write_text("open('fetched', 'w').write('yes')\n")  # no download
    for name in release.INSTRUCTOR_ONLY - {"gradebook.db"}:  # the one list: postBuild removes every entry
        (repo / name).mkdir(exist_ok=True)
    assert with_markers(repo)
    result = _postbuild(repo, home=repo)
    assert result.returncode == 0, result.stderr
    assert (repo / "fetched").exists(), "postBuild no longer fetches the data"
    for gone in sorted(release.INSTRUCTOR_ONLY | {".git"}):
        assert not (repo / gone).exists(), f"the Binder image keeps {gone}"
    assert with_markers(repo) == []
    assert (repo / "notebooks").is_dir() and (repo / "helpers").is_dir()


def test_binder_postbuild_refuses_to_run_outside_an_image(tmp_path):
    repo = copy_course(tmp_path / "repo", [p for p in tracked_files() if p.startswith(("binder/", "solutions/"))])
    result = _postbuild(repo, home=tmp_path)
    assert result.returncode != 0 and "nothing done" in result.stderr
    assert (repo / "solutions").is_dir()
