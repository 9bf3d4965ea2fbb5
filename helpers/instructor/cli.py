"""Autograde a folder of student notebooks as they arrive, in throwaway copies of the course.

    python -m helpers.instructor SUBMISSIONS_DIR [--assignment ID] [--timeout S] [--out DIR] [--course DIR]
                                 [--jobs N] [--shard I/N] [--no-sandbox]
    python -m helpers.instructor merge PART_DIR... --out DIR

Accepted layouts of SUBMISSIONS_DIR (both may be mixed):

- one folder per student: "alice/Copy of 01-pretrained-models.ipynb" (at any depth below "alice/");
- flat files named "<student> - <file name>": "alice - Copy of 01-pretrained-models.ipynb".

Colab's "Copy of" prefix and a browser's " (1)" suffix are ignored; a renamed notebook is recognised by its
nbgrader cells; of several files of one student for one assignment, the newest is graded. Copied or edited
grading cells, deleted test cells and Colab's format are repaired before grading, with a note.

--out receives grades.csv (one row per student and assignment), scores.json (points per graded cell),
feedback/<student id>/ (HTML without hidden tests), autograded/<student id>/ and grading.log.
solutions/, notebooks/ and the students' files are never modified.

Each notebook's kernel runs in a bubblewrap sandbox: no network, and no access to the solutions, the gradebook,
other students' work or the results (see the README's instructor section). --no-sandbox runs student code with
your rights. --shard I/N grades the I-th of N fixed parts of the class (on N machines); "merge" joins the N
results folders into one.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .course import ROOT
from .limits import CELL_TIMEOUT_S

__all__ = ["main", "merge_parser", "parser"]


def parser() -> argparse.ArgumentParser:
    """The command line of ``python -m helpers.instructor``."""
    from .grader import JOB_MEMORY_GB, default_jobs

    p = argparse.ArgumentParser(prog="python -m helpers.instructor", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("submissions", type=Path, help="folder of student files (see the layouts above)")
    p.add_argument("--assignment", help="grade only this assignment (default: every one found)")
    p.add_argument("--timeout", type=int, default=CELL_TIMEOUT_S,
                   help="seconds a cell may run (default: %(default)s, the course's cell timeout)")
    p.add_argument("--out", type=Path, default=Path("grading-results"), help="where results go")
    p.add_argument("--course", type=Path, default=ROOT, help="the course folder (default: this one)")
    p.add_argument("--jobs", type=int, default=default_jobs(),
                   help=f"notebooks graded at once, each with its share of the cores (default: %(default)s, the "
                        f"cores here, or fewer if the free memory cannot hold {JOB_MEMORY_GB} GB per job)")
    p.add_argument("--shard", help="I/N: grade only the I-th of N fixed parts of the class (then merge the N results)")
    p.add_argument("--no-sandbox", action="store_true",
                   help="run student code without the bubblewrap sandbox, with your rights (every row says so)")
    return p


def merge_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m helpers.instructor merge``."""
    p = argparse.ArgumentParser(prog="python -m helpers.instructor merge",
                                description="Join the results folders of the shards of one class into one.")
    p.add_argument("parts", type=Path, nargs="+", help="the results folders of the shards (--out of each)")
    p.add_argument("--out", type=Path, required=True, help="where the joined results go")
    return p


def main(argv: list[str] | None = None) -> int:
    """Grade (or merge), print one line per row, and say where the results are."""
    import sys

    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["merge"]:
        from .shards import merge

        args = merge_parser().parse_args(argv[1:])
        rows = merge(args.parts, args.out)
    else:
        from .grader import grade
        from .shards import parse

        args = parser().parse_args(argv)
        if args.timeout <= 0:
            raise SystemExit(f"error: --timeout must be a positive number of seconds, got {args.timeout}")
        if args.jobs <= 0:
            raise SystemExit(f"error: --jobs must be at least 1, got {args.jobs}")
        shard = parse(args.shard) if args.shard is not None else None
        rows = grade(args.submissions, args.out, args.assignment, args.timeout, args.course, jobs=args.jobs,
                     shard=shard, sandboxed=not args.no_sandbox)
    for row in rows:
        score = f"{row['score']}/{row['max_score']}" if row["status"] == "graded" else row["status"]
        print(f"{row['student']:<20} {row['student_id']:<24} {row['assignment']:<28} {score:<12} {row['message']}")
    print(f"\n{len(rows)} row(s) in {args.out / 'grades.csv'}; feedback in {args.out / 'feedback'}")
    return 0
