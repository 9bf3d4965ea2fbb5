"""The course's one reader of nbgrader's cell marks (``cell.metadata["nbgrader"]``).

Every part of the course that asks "is this a graded test? which grade id? how many points?" asks here: the
grader (:mod:`.repair`, :mod:`.intake`, :mod:`.report`, :mod:`.preprocessors`), the in-kernel wrong-answer runner
and the tests. The answers follow nbgrader 0.9's own (``nbgrader.utils.is_grade``, ``is_solution``, ``is_locked``,
``is_task``; ``tests/test_marks.py`` checks that they agree on every cell of the five solutions), but this module
imports nothing: the Colab CI environment, which runs the in-kernel tests, has no nbgrader. Unlike nbgrader's,
these readers do not raise on marks a student's edit made unreadable (not a dict): such a cell has no marks.
"""

from __future__ import annotations

__all__ = ["grade_id", "grade_ids", "index_of", "is_grade", "is_locked", "is_marked", "is_solution", "is_task",
           "is_test", "marks", "points"]


def marks(cell):
    """The cell's nbgrader metadata as stored (None when it has none; possibly not a dict, if edited)."""
    return cell.get("metadata", {}).get("nbgrader")


def _readable(cell) -> dict:
    """The cell's nbgrader metadata if it is a dict, else ``{}``."""
    meta = marks(cell)
    return meta if isinstance(meta, dict) else {}


def grade_id(cell) -> str | None:
    """The cell's grade id (None when it has no readable grading metadata or no grade id)."""
    return _readable(cell).get("grade_id")


def is_grade(cell) -> bool:
    """A cell with points (nbgrader's ``is_grade``): an autograded test, or an answer graded by hand."""
    return bool(_readable(cell).get("grade", False))


def is_solution(cell) -> bool:
    """An answer cell (nbgrader's ``is_solution``)."""
    return bool(_readable(cell).get("solution", False))


def is_locked(cell) -> bool:
    """A cell nbgrader puts back as released (nbgrader's ``is_locked``): never an answer, always a graded cell
    that is not one, else as marked."""
    if is_solution(cell):
        return False
    return is_grade(cell) or bool(_readable(cell).get("locked", False))


def is_task(cell) -> bool:
    """A task cell (nbgrader's ``is_task``; the course has none)."""
    return bool(_readable(cell).get("task", False))


def is_test(cell) -> bool:
    """An autograded test cell: a code cell with points that is not an answer (graded by hand)."""
    return cell.get("cell_type") == "code" and is_grade(cell) and not is_solution(cell)


def is_marked(cell) -> bool:
    """A cell of the assignment's grading: graded, an answer, locked, or at least named by a grade id."""
    return is_grade(cell) or is_solution(cell) or is_locked(cell) or bool(grade_id(cell))


def points(cell) -> float:
    """The cell's points (0.0 when it has none)."""
    return float(_readable(cell).get("points") or 0)


def grade_ids(nb) -> set[str]:
    """The grade ids of a notebook's cells."""
    return {gid for cell in nb.cells if (gid := grade_id(cell)) is not None}


def index_of(cells, wanted: str) -> int:
    """The position of the cell with grade id ``wanted`` among ``cells`` (a list, or a notebook's cells)."""
    cells = cells.cells if hasattr(cells, "cells") else cells
    for index, cell in enumerate(cells):
        if grade_id(cell) == wanted:
            return index
    raise KeyError(f"no cell with grade id {wanted!r}")
