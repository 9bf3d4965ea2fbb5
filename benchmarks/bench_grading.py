"""Grading: one student's five notebooks, and the throughput on one class with 1 job and one per core.

    COURSE_MODE=small python benchmarks/run.py grading

One student: the five assignments with the reference answers, graded in the sandbox with ``--jobs 1`` (what one
student costs the instructor's machine, in seconds, and whether each got full marks).

The class: ``BENCH_GRADING_STUDENTS`` students (default 4), each sending ``BENCH_GRADING_ASSIGNMENT`` (default
01-pretrained-models) with the reference answers; graded in the sandbox with ``--jobs 1`` and ``--jobs N`` (the
grader's default: the cores, fewer if memory is short). The last column says whether ``grades.csv`` is the same.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from pathlib import Path

from common import ROOT

STUDENTS = int(os.environ.get("BENCH_GRADING_STUDENTS", "4"))
ASSIGNMENT = os.environ.get("BENCH_GRADING_ASSIGNMENT", "01-pretrained-models")


def _answered(assignment: str):
    """The release of ``assignment`` with each answer cell holding the solution's code (markers removed)."""
    import nbformat

    from helpers.instructor import marks

    (solution,) = (ROOT / "solutions" / assignment).glob("*.ipynb")
    answers = {marks.grade_id(c): "\n".join(line for line in c.source.splitlines()
                                            if not re.search(r"### (BEGIN|END) SOLUTION", line))
               for c in nbformat.read(solution, as_version=4).cells if marks.is_solution(c)}
    nb = nbformat.read(ROOT / "notebooks" / assignment / solution.name, as_version=4)
    for cell in nb.cells:
        grade_id = marks.grade_id(cell)
        if grade_id in answers:
            cell.source = answers[grade_id]
    return nb, solution.name


def one_student():
    """Seconds to grade one student's five notebooks (reference answers) with 1 job, sandboxed."""
    import nbformat

    from helpers.instructor import course as courses
    from helpers.instructor import grader

    assignments = courses.assignments(ROOT)
    with tempfile.TemporaryDirectory(prefix="bench-grading-one-") as where:
        student = Path(where) / "submissions" / "student 1"
        student.mkdir(parents=True)
        for assignment in assignments:
            nb, name = _answered(assignment)
            nbformat.write(nb, student / name)
        start = time.perf_counter()
        graded = grader.grade(student.parent, Path(where) / "out", log=lambda *a: None, jobs=1)
        wall = time.perf_counter() - start
    rows = [[r["assignment"], f"{r['score']}/{r['max_score']}", r["status"]] for r in graded]
    rows.append(["all five", f"{wall:.0f} s", ""])
    return (f"Grading one student's {len(assignments)} notebooks ({grader.cores()} cores, sandboxed, 1 job)",
            ["notebook", "score", "status"], rows)


def grading_throughput():
    """Seconds and notebooks per minute for 1 and N jobs on the same class, and the speed-up."""
    import nbformat

    from helpers.instructor import grader

    nb, name = _answered(ASSIGNMENT)
    many = grader.default_jobs()
    rows, seen, walls = [], {}, {}
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as where:
        subs = Path(where) / "submissions"
        for number in range(STUDENTS):
            (subs / f"student {number + 1}").mkdir(parents=True)
            nbformat.write(nb, subs / f"student {number + 1}" / name)
        for jobs in sorted({1, many}):
            out = Path(where) / f"out-{jobs}"
            start = time.perf_counter()
            graded = grader.grade(subs, out, ASSIGNMENT, log=lambda *a: None, jobs=jobs)
            wall = walls[jobs] = time.perf_counter() - start
            seen[jobs] = (out / "grades.csv").read_text(encoding="utf-8")
            full = sum(r["status"] == "graded" and r["score"] == r["max_score"] for r in graded)
            rows.append([jobs, STUDENTS, f"{wall:.0f}", f"{STUDENTS / wall * 60:.2f}", f"{full}/{STUDENTS}",
                         "yes" if seen[jobs] == seen[1] else "NO"])
    speed_up = walls[1] / walls[many]
    rows.append([f"{many} vs 1", "", "", f"x{speed_up:.2f}", "", ""])
    return (f"Grading {ASSIGNMENT} ({grader.cores()} cores, sandboxed): throughput",
            ["jobs", "notebooks", "seconds", "notebooks per minute", "full marks", "same grades.csv as 1 job"], rows)


SECTIONS = [one_student, grading_throughput]
