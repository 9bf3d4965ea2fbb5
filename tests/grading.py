"""Run nbgrader on a throwaway copy of the course and read the scores from its gradebook."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir() and not p.name.startswith("."))


def notebook_name(assignment: str) -> str:
    (path,) = (ROOT / "solutions" / assignment).glob("*.ipynb")
    return path.name


def make_course(where: Path) -> Path:
    """A copy of the course's grading parts (config, solutions) in ``where``."""
    course = where / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions", course / "solutions", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    return course


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    """Run an nbgrader command in the course folder; fail loudly if it fails."""
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, capture_output=True, text=True)
    if result.returncode != 0:
        raise AssertionError(f"nbgrader {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}")
    return result


def generate(course: Path, assignment: str) -> Path:
    nbgrader(course, "generate_assignment", assignment, "--force")
    return course / "notebooks" / assignment / notebook_name(assignment)


def with_answers(notebook: Path, answers: dict[str, str]) -> nbformat.NotebookNode:
    """The notebook with the source of the cells named by grade id replaced."""
    nb = nbformat.read(notebook, as_version=4)
    found = set()
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
            found.add(grade_id)
    missing = set(answers) - found
    assert not missing, f"no cells with grade ids {missing} in {notebook}"
    return nb


def autograde(course: Path, assignment: str, submissions: dict[str, nbformat.NotebookNode]) -> dict[str, dict]:
    """Autograde one notebook per student; return ``{student: {"score", "max_score", "cells": {id: score}}}``."""
    from nbgrader.api import Gradebook

    name = notebook_name(assignment)
    for student, nb in submissions.items():
        folder = course / "submitted" / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, folder / name)
    nbgrader(course, "autograde", assignment, "--force")
    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for student in submissions:
            submission = gb.find_submission_notebook(Path(name).stem, assignment, student)
            scores[student] = {
                "score": submission.score,
                "max_score": submission.max_score,
                "cells": {grade.name: grade.score for grade in submission.grades},
            }
    return scores
