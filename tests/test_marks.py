"""The course's one reader of nbgrader's cell marks (``helpers/instructor/marks.py``) agrees with nbgrader's own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from helpers.instructor import marks

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted(ROOT.glob("solutions/*/*.ipynb"))


def _cell(meta=None, cell_type="code"):
    cell = nbformat.v4.new_code_cell("x = 1") if cell_type == "code" else nbformat.v4.new_markdown_cell("x")
    if meta is not None:
        cell.metadata["nbgrader"] = meta
    return cell


@pytest.mark.parametrize("notebook", SOLUTIONS, ids=[p.parent.name[:2] for p in SOLUTIONS])
def test_marks_agree_with_nbgrader_on_every_cell_of_the_solutions(notebook):
    utils = pytest.importorskip("nbgrader.utils")  # absent from the Colab CI environment
    nb = nbformat.read(notebook, as_version=4)
    graded = 0
    for index, cell in enumerate(nb.cells):
        where = f"{notebook.name} cell {index + 1}"
        for name in ("is_grade", "is_solution", "is_locked", "is_task"):
            assert getattr(marks, name)(cell) == bool(getattr(utils, name)(cell)), f"{where}: {name} disagrees"
        if utils.is_grade(cell):
            graded += 1
            assert marks.points(cell) == utils.determine_grade(cell)[1], f"{where}: points disagree"
            assert marks.grade_id(cell) == cell.metadata.nbgrader["grade_id"], where
        assert marks.is_test(cell) == (cell.cell_type == "code" and bool(utils.is_grade(cell))
                                       and not utils.is_solution(cell)), f"{where}: is_test disagrees"
    assert graded, f"{notebook.name} has no graded cell: is it still an nbgrader source?"


def test_marks_agree_with_nbgrader_on_odd_marks():
    utils = pytest.importorskip("nbgrader.utils")
    for meta in ({}, {"grade": True}, {"locked": True}, {"solution": True, "locked": True},
                 {"grade": True, "solution": True}, {"task": True}, {"grade_id": "x"}):
        cell = _cell(dict(meta))
        for name in ("is_grade", "is_solution", "is_locked", "is_task"):
            assert getattr(marks, name)(cell) == bool(getattr(utils, name)(cell)), (meta, name)


def test_cells_without_readable_marks_have_none():
    for cell in (_cell(), _cell("edited into a string"), _cell(["a", "list"])):
        assert marks.grade_id(cell) is None and marks.points(cell) == 0.0
        assert not (marks.is_grade(cell) or marks.is_solution(cell) or marks.is_locked(cell) or marks.is_test(cell)
                    or marks.is_marked(cell))


def test_tests_answers_and_ids():
    test = _cell({"grade": True, "grade_id": "t", "locked": True, "points": 2, "solution": False})
    answer = _cell({"grade": False, "grade_id": "a", "locked": False, "solution": True})
    by_hand = _cell({"grade": True, "grade_id": "m", "points": 3, "solution": True}, cell_type="markdown")
    nb = nbformat.v4.new_notebook(cells=[_cell(), answer, test, by_hand])
    assert [marks.is_test(c) for c in nb.cells] == [False, False, True, False]
    assert marks.points(test) == 2.0 and marks.points(answer) == 0.0
    assert marks.grade_ids(nb) == {"t", "a", "m"} and marks.index_of(nb, "t") == 2
    with pytest.raises(KeyError, match="nope"):
        marks.index_of(nb.cells, "nope")


def test_marks_imports_nothing():
    code = ("import sys, helpers.instructor.marks\n"
            "print(' '.join(m for m in ('nbgrader', 'nbformat') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout + result.stderr
