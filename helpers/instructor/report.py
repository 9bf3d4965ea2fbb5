"""Reporting: what became of each submission, in words and in files.

``grades.csv`` has one row per student and assignment (``student``, ``student_id``, score, a status and a message);
``scores.json`` the points per graded cell, by student name. A row says ``graded`` only if nbgrader graded the
notebook; otherwise ``failed`` and, from nbgrader's log, what went wrong (:func:`explain_failure`). Scores come
from the verdicts the grading process recorded (:func:`score_of`) and the points of the release.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from . import marks

__all__ = ["CSV_COLUMNS", "FAILURES", "KERNEL_DIED", "explain_failure", "outcome_notes", "rows_of", "score_of",
           "write_results"]

CSV_COLUMNS = ["student", "student_id", "assignment", "score", "max_score", "status", "message", "file"]
KERNEL_DIED = "KernelDied"  # ename of the error output preprocessors.SurviveDeadKernel writes

FAILURES = [  # (pattern in nbgrader's log, what it means for an instructor)
    (r"Duplicate grade id: (\S+)", "two cells carry the grade id {0} (a copied graded cell)"),
    (r"Kernel died|DeadKernelError", "the kernel died (a crash, os._exit or out of memory)"),
    (r"the grading process died \(exit code (-?\d+)\)", "the grading process died while grading this notebook "
     "(exit code {0}: killed, or out of memory)"),
    (r"CellTimeoutError: .*\n.*Timeout waiting for IOPub output(?:.*\n)*?.*preview of the cell contents:\s*\n[-\s]*"
     r"\[?'?([^'\n]*)", "a cell ran past the timeout and the kernel did not answer the interrupt (the cell "
     "starting \"{0}\"): grade again with a longer --timeout, on a less busy machine"),
    (r"CellTimeoutError", "a cell ran past the timeout and the kernel did not answer the interrupt: grade again "
     "with a longer --timeout, on a less busy machine"),
    (r"UnresponsiveKernelError|became unresponsive", "the kernel stopped responding and could not be interrupted"),
    (r"Outdated schema version|old version\s+of the nbgrader metadata", "a cell's grading metadata is outdated or "
     "was edited"),
    (r"does not have a grade_id|grade_id is empty|KeyError: 'grade_id'", "a cell's grading metadata was edited "
     "(no grade id)"),
    (r"does not have points", "a test cell's grading metadata was edited (no points)"),
    (r"Notebook failed to validate|ValidationError: (.+)", "the grading metadata is invalid: {0}"),
    (r"Inconsistent checksums for cell (\S+)", "a locked cell ({0}) could not be put back"),
]


def explain_failure(log_text: str) -> str:
    """What nbgrader's log says went wrong, in words; the log's last error line when it is none we know."""
    for pattern, meaning in FAILURES:
        match = re.search(pattern, log_text)
        if match:
            return meaning.format(*[g for g in match.groups() if g] or [""]).rstrip(": ")
    errors = [line.strip() for line in log_text.splitlines() if re.search(r"Error|ERROR", line)]
    return errors[-1][:300] if errors else "nbgrader stopped without saying why"


def score_of(release, run: dict) -> dict:
    """``{"score", "max_score", "cells": {grade id: points}}`` of a run, with the points of the ``release``.

    A test cell scores its points if its verdict is passed, else 0 (no verdict: 0); an answer graded by hand
    scores what nbgrader gave it (0 if unanswered, else 0 until graded by hand).
    """
    cells = {}
    for cell in release.cells:
        if not marks.is_grade(cell):
            continue
        gid, points = marks.grade_id(cell), marks.points(cell)
        if marks.is_test(cell):
            cells[gid] = points if run["verdicts"].get(gid, {}).get("passed") else 0.0
        else:
            cells[gid] = min(points, float(run["manual"].get(gid) or 0.0))
    max_score = sum(marks.points(c) for c in release.cells if marks.is_grade(c))
    return {"score": sum(cells.values()), "max_score": max_score, "cells": cells}


def outcome_notes(run: dict, timeout: int) -> list[str]:
    """Notes on a run: tampering found, cells stopped at the timeout, where the kernel died, manual grades due."""
    notes = []
    if run["tampering"]:
        notes.append("tampering found and undone (the tests ran as released, scored from what ran): "
                     + "; ".join(run["tampering"]))
    if run["timed_out"]:
        notes.append(f"cell(s) stopped at the {timeout} s timeout: {', '.join(run['timed_out'])}")
    if run["died_in"]:
        lost = run["lost"]
        notes.append(f"the kernel died in {run['died_in']} (a crash, os._exit or out of memory): "
                     f"the cells before it kept their points, the tests from there on score 0"
                     + (f" ({', '.join(lost)})" if lost else ""))
    due = [gid for gid, score in run["manual"].items() if score is None]
    if due:
        notes.append(f"to grade by hand (0 until then): {', '.join(due)}")
    return notes


def rows_of(subs, known, assignment: str | None = None) -> list[dict]:
    """The rows of ``grades.csv``, sorted by student and assignment.

    One row per submission, except duplicates (an older file of the same student and assignment), assignments
    not graded this run and files that are not notebooks beside a notebook (named in its row,
    :func:`.intake.fold_extras`); a ``missing`` row for a folder with nothing gradable, and, with
    ``assignment``, for every student who sent something, but nothing for it, saying what was found.
    """
    from .intake import fold_extras

    fold_extras(subs)
    maximum = dict.fromkeys(known)
    for sub in subs:
        if sub.status == "graded":
            maximum[sub.assignment] = sub.score["max_score"]
    rows: list[dict] = []
    for sub in subs:
        if sub.status in ("duplicate", "skipped", "beside"):
            continue
        if sub.status == "missing":
            sub.assignment = sub.assignment or assignment
        score = sub.score["score"] if sub.status == "graded" else (0.0 if sub.status in ("empty", "invalid", "missing")
                                                                     and sub.assignment else "")
        rows.append({"student": sub.student, "student_id": sub.id, "assignment": sub.assignment or "", "score": score,
                     "max_score": maximum.get(sub.assignment) or "" if sub.assignment else "",
                     "status": sub.status, "message": "; ".join(sub.notes), "file": str(sub.path)})
    if assignment:
        have = {r["student"] for r in rows if r["assignment"] == assignment}
        ids = {s.student: s.id for s in subs}
        for student in sorted({s.student for s in subs if s.status != "unidentified" or s.assignment} - have):
            found = [s.name or s.path.name for s in subs if s.student == student]
            rows.append({"student": student, "student_id": ids[student], "assignment": assignment, "score": 0.0,
                         "max_score": maximum.get(assignment) or "", "status": "missing",
                         "message": f"no notebook for {assignment} (found: {', '.join(found)})", "file": ""})
    return sorted(rows, key=lambda r: (r["student"], r["assignment"]))


def write_results(out: Path, rows: list[dict], subs) -> None:
    """Write ``grades.csv`` (``rows``) and ``scores.json`` (points per graded cell, by student) to ``out``."""
    details: dict[str, dict] = {}
    for sub in subs:
        if sub.status == "graded":
            details.setdefault(sub.student, {"student_id": sub.id})[sub.assignment] = sub.score
    (out / "scores.json").write_text(json.dumps(details, indent=1, sort_keys=True, ensure_ascii=False),
                                     encoding="utf-8")
    with open(out / "grades.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
