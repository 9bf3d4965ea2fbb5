"""Repair: what nbgrader 0.9 would fail on, put right before grading, with a note per repair.

- a graded cell copied in Jupyter or Colab (the copy keeps the grading metadata, and nbgrader fails on the
  repeated grade id): the original keeps the metadata, the copy runs as an ordinary cell;
- edited grading metadata of a cell (points, grade id, locked...): put back as released;
- deleted test, answer and locked cells: put back in place from the release (nbgrader then restores the
  source of locked cells, hidden tests included, from the gradebook);
- Colab's nbformat 4.0 without cell ids: normalised to 4.5 with unique ids.

The submission's file is never written: these functions change the notebook read from it.
"""

from __future__ import annotations

import copy
import re

from .marks import grade_id, is_grade, is_locked, is_marked, is_solution, marks

__all__ = ["GRADING_KEYS", "describe_cell", "normalise", "repair_grading_marks", "restore_deleted_cells"]


def normalise(nb):
    """The notebook as nbformat 4.5 with unique cell ids (Colab saves 4.0 without them); validated.

    Outputs are dropped: nbgrader clears them before it runs the notebook anyway, and Colab's outputs (widget
    views, odd metadata) do not always pass nbformat's validation.
    """
    import nbformat
    from nbformat.corpus.words import generate_corpus_id

    nb.nbformat, nb.nbformat_minor = 4, max(5, nb.get("nbformat_minor", 0))
    seen = set()
    for cell in nb.cells:
        wanted = cell.get("id") or grade_id(cell)
        if not wanted or wanted in seen or not re.fullmatch(r"[a-zA-Z0-9-_]{1,64}", str(wanted)):
            wanted = generate_corpus_id()
        cell["id"] = wanted
        seen.add(wanted)
        if cell.cell_type == "code":
            cell["outputs"], cell["execution_count"] = [], None
        else:
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
    nbformat.validate(nb)
    return nb


def describe_cell(cells, index: int) -> str:
    """``cell 5 "import os; os._exit(1)"`` (counted from 1, as a person counts), with the grade id if any."""
    cell = cells[index]
    gid = grade_id(cell)
    first = next((line.strip() for line in cell.get("source", "").splitlines() if line.strip()), "")
    first = first if len(first) <= 50 else first[:47] + "..."
    return f"cell {index + 1}" + (f" '{gid}'" if gid else "") + (f' "{first}"' if first else " (empty)")


GRADING_KEYS = ("grade", "solution", "locked", "task", "points", "grade_id", "schema_version")


def repair_grading_marks(nb, release) -> list[str]:
    """Fix the nbgrader metadata that makes nbgrader 0.9 give up on a notebook; return a note per fix.

    - metadata that is not nbgrader's (not a dict): removed;
    - a graded or locked cell copied in Jupyter or Colab (the copy keeps the metadata, and nbgrader fails on
      the repeated grade id): the original keeps it (the cell whose id is the release's; without cell ids,
      the first one), the copies lose it and run as ordinary cells;
    - edited metadata of a cell of the assignment (points, locked, grade, schema version...): the release's;
    - marks that name no cell of the assignment (an edited grade id): removed, the cell runs as an ordinary
      cell (:func:`restore_deleted_cells` then puts the real one back).
    """
    expected = {grade_id(c): (marks(c), c.get("id")) for c in release.cells if grade_id(c)}
    notes = _drop_foreign_marks(nb, expected)
    by_id: dict[str, list[int]] = {}
    for index, cell in enumerate(nb.cells):
        if grade_id(cell) in expected:
            by_id.setdefault(grade_id(cell), []).append(index)
    for gid, where in by_id.items():
        wanted, release_id = expected[gid]
        index, note = _keep_original(nb, gid, where, release_id)
        notes += note
        notes += _restore_marks(nb, index, wanted)
    return notes


def _drop_foreign_marks(nb, expected: dict) -> list[str]:
    """Remove unreadable grading metadata and marks naming no cell of the assignment; a note for each."""
    notes = []
    for index, cell in enumerate(nb.cells):
        meta = marks(cell)
        if meta is None:
            continue
        if not isinstance(meta, dict):
            del cell.metadata["nbgrader"]
            notes.append(f"{describe_cell(nb.cells, index)}: unreadable grading metadata removed")
        elif grade_id(cell) not in expected and is_marked(cell):
            what = describe_cell(nb.cells, index)
            del cell.metadata["nbgrader"]
            notes.append(f"{what}: its grading metadata names no cell of this assignment (edited?): graded as an "
                         "ordinary cell")
    return notes


def _keep_original(nb, gid: str, where: list[int], release_id) -> tuple[int, list[str]]:
    """Of the cells ``where`` carrying grade id ``gid``, keep the marks on the original only: ``(its index, notes)``."""
    if len(where) == 1:
        return where[0], []
    same = [i for i in where if nb.cells[i].get("id") and nb.cells[i].get("id") == release_id]
    keep = same[0] if len(same) == 1 else where[0]
    copies = [i for i in where if i != keep]
    for i in copies:
        del nb.cells[i].metadata["nbgrader"]
    return keep, [f"cell '{gid}' appears {len(where)} times (a copied cell keeps its grading metadata): "
                  f"graded cell {keep + 1}; the copy at {', '.join(f'cell {i + 1}' for i in copies)} ran as an "
                  "ordinary cell"]


def _restore_marks(nb, index: int, wanted: dict) -> list[str]:
    """Put the released grading metadata ``wanted`` back on cell ``index`` if it was edited; a note if so."""
    meta = marks(nb.cells[index])
    changed = [f"{key} {meta.get(key)!r} instead of {wanted.get(key)!r}" for key in GRADING_KEYS
               if meta.get(key) != wanted.get(key)]
    if not changed:
        return []
    nb.cells[index].metadata["nbgrader"] = copy.deepcopy(wanted)
    return [f"{describe_cell(nb.cells, index)}: its grading metadata was edited ({', '.join(changed)}): put back "
            "as released"]


def restore_deleted_cells(nb, release) -> list[str]:
    """Put back the graded, locked and answer cells of ``release`` the student deleted; return their grade ids.

    Each goes after the nearest cell that precedes it in the release and is still in the submission.
    nbgrader then overwrites locked cells with their source (hidden tests included) from the gradebook.

    Why not only nbgrader's own ``--OverwriteCells.add_missing_cells=True`` (0.9.6, measured by
    tests/test_grade_robust.py): it puts back deleted *grade* cells only (not locked cells without points,
    nor answer cells), after the cell that precedes it in the source; when that cell is a locked markdown
    cell (a test cell under its own heading), it raises ``KeyError`` and the whole notebook fails. Without
    the option (its default), a deleted test cell is simply not run, and its points are lost or, for
    hidden tests, never checked. Edited test cells are another matter: nbgrader does put their source back
    (the checksum of a locked cell differs), with or without the option. We pass the option as well: by
    then nothing is missing, so it does nothing, but it is what a plain ``nbgrader autograde`` should use.
    """
    present = {grade_id(c) for c in nb.cells} - {None}
    restored = []
    for index, cell in enumerate(release.cells):
        gid = grade_id(cell)
        if gid is None or gid in present or not (is_grade(cell) or is_locked(cell) or is_solution(cell)):
            continue
        position = 0
        for previous in reversed(release.cells[:index]):
            where = [i for i, c in enumerate(nb.cells) if grade_id(c) is not None and grade_id(c) == grade_id(previous)]
            if where:
                position = where[0] + 1
                break
        nb.cells.insert(position, copy.deepcopy(cell))
        present.add(gid)
        restored.append(gid)
    return restored
