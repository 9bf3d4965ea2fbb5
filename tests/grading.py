"""nbgrader on a throwaway copy of the course: its release generator, and the timeout the grading tests use."""

from __future__ import annotations

from pathlib import Path

from helpers.instructor import course as grading_course

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
