"""The course copies the grader works in, and the nbgrader commands run there.

The course's ``nbgrader_config.py``, ``solutions/`` (all of it, or one assignment's) and ``helpers/`` are copied
into a temporary folder, where ``nbgrader generate_assignment`` rebuilds the release and the gradebook; nbgrader
then runs in the copy, with its own ``HOME`` and ``TMPDIR``. ``solutions/`` and ``notebooks/`` of the real
course are never written.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from .runner import python_first_path

__all__ = ["ROOT", "assignments", "autograded_cells", "grading_env", "make_course", "nbgrader", "read_scores"]

ROOT = Path(__file__).resolve().parents[2]  # the course folder (helpers/instructor/ is two levels down)


def assignments(root: Path = ROOT) -> dict[str, str]:
    """``{assignment id: notebook file name}`` of every ``solutions/<id>/`` folder."""
    found = {}
    for folder in sorted((root / "solutions").iterdir()):
        notebooks = sorted(folder.glob("*.ipynb")) if folder.is_dir() else []
        if notebooks and not folder.name.startswith("."):
            found[folder.name] = notebooks[0].name
    return found


def make_course(where: Path, root: Path = ROOT, only: list[str] | None = None, name: str = "course") -> Path:
    """A copy of the course's grading parts (config, solutions, helpers) in ``where/name``.

    With ``only``, the solutions of those assignments alone: a grading copy holds no other assignment's
    solutions and hidden tests.
    """
    course = Path(where) / name
    course.mkdir(parents=True)
    ignore = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
    shutil.copy(root / "nbgrader_config.py", course)
    if only is None:
        shutil.copytree(root / "solutions", course / "solutions", ignore=ignore)
    for assignment in only or []:
        shutil.copytree(root / "solutions" / assignment, course / "solutions" / assignment, ignore=ignore)
    if (root / "helpers").is_dir():
        shutil.copytree(root / "helpers", course / "helpers", ignore=ignore)
    return course


def grading_env(course: Path, home: Path) -> dict[str, str]:
    """The environment of nbgrader and the kernels: own HOME and TMPDIR, this Python first on PATH.

    The data and weights stay where they are (``KERAS_HOME`` and ``COURSE_DATA_DIR`` are resolved
    before HOME changes); ``helpers`` is imported from the course copy; small mode unless
    ``COURSE_MODE`` says otherwise.
    """
    from ..config import data_dir, keras_home

    env = dict(os.environ)
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    python_path = [str(course)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    env.update(
        HOME=str(home), TMPDIR=str(home / "tmp"), KERAS_HOME=str(keras_home().resolve()),
        COURSE_DATA_DIR=str(data_dir().resolve()), COURSE_MODE=os.environ.get("COURSE_MODE") or "small",
        PATH=python_first_path(), PYTHONPATH=os.pathsep.join(python_path),
    )
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "MPLCONFIGDIR"):
        env.pop(name, None)
    return env


def nbgrader(course: Path, *args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """Run an nbgrader command in the course folder; with ``check``, fail loudly if it fails."""
    if env is None:
        env = dict(os.environ, PATH=python_first_path())  # kernels and nbgrader's helper programs come from here
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, capture_output=True, text=True,
                            env=env)
    if check and result.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}")
    return result


def read_scores(course: Path, assignment: str, notebook: str, students) -> dict[str, dict]:
    """``{student: {"score", "max_score", "cells": {grade id: score}}}`` from the course's gradebook.

    Students without a graded notebook in the gradebook are left out.
    """
    from nbgrader.api import Gradebook, MissingEntry

    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for student in students:
            try:
                submission = gb.find_submission_notebook(Path(notebook).stem, assignment, student)
            except MissingEntry:
                continue
            scores[student] = {
                "score": submission.score,
                "max_score": submission.max_score,
                "cells": {grade.name: grade.score for grade in submission.grades},
            }
    return scores


def autograded_cells(course: Path, student: str, assignment: str, notebook: str) -> list:
    """The cells of the notebook nbgrader autograded for ``student``; ``[]`` if it wrote none."""
    import nbformat

    path = course / "autograded" / student / assignment / notebook
    return nbformat.read(path, as_version=4).cells if path.exists() else []
