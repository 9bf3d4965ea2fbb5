"""Run nbgrader on a throwaway copy of the course and read the scores from its gradebook."""

from __future__ import annotations

from pathlib import Path

import nbformat

from helpers.instructor import course as grading_course
from helpers.instructor import marks

ROOT = Path(__file__).resolve().parents[1]
# The tests' per-cell timeout for the grader: shorter than the course's (helpers/instructor/limits.py), so that
# a crafted infinite loop costs a minute, not five.
SHORT_TIMEOUT_S = 60
ASSIGNMENTS = sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir() and not p.name.startswith("."))


def notebook_name(assignment: str) -> str:
    (path,) = (ROOT / "solutions" / assignment).glob("*.ipynb")
    return path.name


def make_course(where: Path) -> Path:
    """A copy of the course's grading parts (config, solutions, helpers) in ``where/course``."""
    return grading_course.make_course(where, ROOT)


def nbgrader(course: Path, *args: str):
    """Run an nbgrader command in the course folder; fail loudly if it fails."""
    try:
        return grading_course.nbgrader(course, *args)
    except RuntimeError as error:
        raise AssertionError(str(error)) from None


def generate(course: Path, assignment: str) -> Path:
    nbgrader(course, "generate_assignment", assignment, "--force")
    return course / "notebooks" / assignment / notebook_name(assignment)


def with_answers(notebook: Path, answers: dict[str, str]) -> nbformat.NotebookNode:
    """The notebook with the source of the cells named by grade id replaced."""
    nb = nbformat.read(notebook, as_version=4)
    found = set()
    for cell in nb.cells:
        gid = marks.grade_id(cell)
        if gid in answers:
            cell.source = answers[gid]
            found.add(gid)
    missing = set(answers) - found
    assert not missing, f"no cells with grade ids {missing} in {notebook}"
    return nb


def autograde(course: Path, assignment: str, submissions: dict[str, nbformat.NotebookNode]) -> dict[str, dict]:
    """Autograde one notebook per student; return ``{student: {"score", "max_score", "cells": {id: score}}}``."""
    name = notebook_name(assignment)
    for student, nb in submissions.items():
        folder = course / "submitted" / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, folder / name)
    nbgrader(course, "autograde", assignment, "--force")
    return grading_course.read_scores(course, assignment, name, submissions)
