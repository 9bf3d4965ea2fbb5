"""Autograde a folder of student notebooks as they arrive, in a throwaway copy of the course.

    python -m helpers.instructor SUBMISSIONS_DIR [--assignment ID] [--timeout S] [--out DIR] [--course DIR]

Accepted layouts of SUBMISSIONS_DIR (both may be mixed):

- one folder per student: "alice/Copy of 01-pretrained-models.ipynb" (at any depth below "alice/");
- flat files named "<student> - <file name>": "alice - Copy of 01-pretrained-models.ipynb".

Colab's "Copy of" prefix and a browser's " (1)" suffix are ignored; a renamed notebook is recognised by its
nbgrader cells; of several files of one student for one assignment, the newest is graded. Copied or edited
grading cells, deleted test cells and Colab's format are repaired before grading, with a note.

--out receives grades.csv (one row per student and assignment), scores.json (points per graded cell),
feedback/<student id>/ (HTML without hidden tests), autograded/<student id>/ and grading.log.
solutions/, notebooks/ and the students' files are never modified.

This does NOT sandbox student code: it runs with your rights (see the README's instructor section).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .course import ROOT
from .limits import CELL_TIMEOUT_S

__all__ = ["main", "parser"]


def parser() -> argparse.ArgumentParser:
    """The command line of ``python -m helpers.instructor``."""
    p = argparse.ArgumentParser(prog="python -m helpers.instructor", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("submissions", type=Path, help="folder of student files (see the layouts above)")
    p.add_argument("--assignment", help="grade only this assignment (default: every one found)")
    p.add_argument("--timeout", type=int, default=CELL_TIMEOUT_S,
                   help="seconds a cell may run (default: %(default)s, the course's cell timeout)")
    p.add_argument("--out", type=Path, default=Path("grading-results"), help="where results go")
    p.add_argument("--course", type=Path, default=ROOT, help="the course folder (default: this one)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Grade, print one line per row, and say where the results are."""
    from .grader import grade

    args = parser().parse_args(argv)
    if args.timeout <= 0:
        raise SystemExit(f"error: --timeout must be a positive number of seconds, got {args.timeout}")
    rows = grade(args.submissions, args.out, args.assignment, args.timeout, args.course)
    for row in rows:
        score = f"{row['score']}/{row['max_score']}" if row["status"] == "graded" else row["status"]
        print(f"{row['student']:<20} {row['student_id']:<24} {row['assignment']:<28} {score:<12} {row['message']}")
    print(f"\n{len(rows)} row(s) in {args.out / 'grades.csv'}; feedback in {args.out / 'feedback'}")
    return 0
