"""Autograde a folder of student notebooks as they arrive, in a throwaway copy of the course.

How it grades: the course's grading parts are copied into a temporary folder (:mod:`.course`), where ``nbgrader
generate_assignment`` rebuilds the release and the gradebook; the source notebooks are then removed from that copy,
so that student code cannot read them during grading. Each submission is read, never written (:mod:`.intake`), and
repaired (:mod:`.repair`); every repair is noted in the row's message. It is written to ``submitted/``, and
nbgrader's autograde, per student in the student's own copy of the course (all students in one nbgrader process,
:mod:`.batch`), executes it with a per-cell timeout (locked cells, hidden tests included, are restored from the
gradebook), in a fresh ``HOME`` and ``TMPDIR``. A kernel that dies costs the cells from the crash on
(``SurviveDeadKernel``, set in ``nbgrader_config.py``). Each test cell's verdict is the kernel's reply to it,
recorded by the grading process (``RecordVerdicts``), the cell run as released whatever hooks the student
installed (:mod:`.guard`); the scores come from those verdicts and the release's points, never from a file
student code could have written (:mod:`.report`). nbgrader's generate_feedback writes HTML feedback, without
hidden tests (``nbgrader_config.py``). ``solutions/``, ``notebooks/`` and the students' files are never modified.

This does NOT sandbox student code: it runs with your rights (see the README's instructor section).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from . import course as courses
from .batch import Job, Outcome, run_jobs
from .intake import Submission, collect, read_submission
from .limits import CELL_TIMEOUT_S
from .repair import normalise, repair_grading_marks, restore_deleted_cells
from .report import explain_failure, outcome_notes, rows_of, score_of, write_results

__all__ = ["grade", "record", "submit"]


def grade(submissions_dir: Path, out: Path, assignment: str | None = None, timeout: int | None = None,
          root: Path = courses.ROOT, log=print) -> list[dict]:
    """Grade every submission of ``submissions_dir``; write ``grades.csv`` and the rest to ``out``; return rows.

    ``timeout`` is the seconds a cell may run (default :data:`~.limits.CELL_TIMEOUT_S`); ``root`` the course.
    """
    submissions_dir, out, root = Path(submissions_dir).resolve(), Path(out).resolve(), Path(root).resolve()
    if not submissions_dir.is_dir():
        raise SystemExit(f"error: {submissions_dir} is not a folder of submissions")
    known = courses.assignments(root)
    if assignment is not None and assignment not in known:
        raise SystemExit(f"error: no assignment {assignment!r} in {root / 'solutions'} (known: {', '.join(known)})")
    out.mkdir(parents=True, exist_ok=True)
    subs = collect(submissions_dir)
    wanted = {a: known[a] for a in ([assignment] if assignment else known)}
    with tempfile.TemporaryDirectory(prefix="course-grading-") as scratch:
        scratch = Path(scratch)
        base, releases = _base_course(scratch, root, wanted)
        for sub in subs:
            if sub.status == "pending":
                read_submission(sub, known, releases)
            if sub.status == "pending" and sub.assignment not in releases:
                sub.status = "skipped"
        chosen = _newest(subs)
        log_lines = _grade_students(scratch, base, chosen, wanted, releases, timeout or CELL_TIMEOUT_S, out, log)
    (out / "grading.log").write_text("\n".join(log_lines), encoding="utf-8")
    rows = rows_of(subs, known, assignment)
    write_results(out, rows, subs)
    return rows


def _base_course(scratch: Path, root: Path, wanted: dict[str, str]):
    """The course copy every student's copy starts from, and ``{assignment: released notebook}``.

    Its ``nbgrader_config.py`` keeps hidden tests out of the feedback; its source notebooks are removed once
    the release and the gradebook are built: student code must not find the solutions and hidden tests.
    """
    import nbformat

    base = courses.make_course(scratch, root)
    env = courses.grading_env(base, scratch / "home" / "_base")
    releases = {}
    for a, notebook in wanted.items():
        courses.nbgrader(base, "generate_assignment", a, "--force", env=env)
        releases[a] = nbformat.read(base / "notebooks" / a / notebook, as_version=4)
    for a in wanted:
        for source in (base / "solutions" / a).glob("*.ipynb"):
            source.unlink()
    return base, releases


def _newest(subs: list[Submission]) -> dict[tuple[str, str], Submission]:
    """One file per student and assignment, the most recent one: ``{(student id, assignment): submission}``."""
    chosen: dict[tuple[str, str], Submission] = {}
    for sub in sorted((s for s in subs if s.status == "pending"), key=lambda s: s.path.stat().st_mtime):
        previous = chosen.get((sub.id, sub.assignment))
        if previous is not None:
            previous.status = "duplicate"
            sub.notes.append(f"several files for {sub.assignment}: graded the newest, {sub.path.name}")
        chosen[(sub.id, sub.assignment)] = sub
    return chosen


def _grade_students(scratch: Path, base: Path, chosen: dict, wanted: dict[str, str], releases: dict,
                    timeout: int, out: Path, log) -> list[str]:
    """Grade each student in an own copy of the course and HOME; copy feedback and autograded files to ``out``.

    Whatever a student's code does to the files around it (the gradebook included) cannot touch another
    student's grades. All notebooks are graded by one nbgrader process (:mod:`.batch`). Returns the log lines.
    """
    log_lines: list[str] = []
    jobs, graded = [], []
    courses_of = {}
    for student in sorted({s for s, _ in chosen}):  # student ids: safe folder names
        course = courses_of[student] = scratch / "students" / student
        shutil.copytree(base, course)
        env = courses.grading_env(course, scratch / "home" / student)
        for a, notebook in wanted.items():
            sub = chosen.get((student, a))
            if sub is None:
                continue
            if submit(course, sub, a, notebook, releases[a]):
                jobs.append(Job(sub.student, str(course), sub.id, a, int(timeout), env))
                graded.append((sub, course, a, notebook))
            else:
                log_lines.append(f"# {sub.id}: not graded: {sub.notes[-1]}")
    for (sub, course, a, notebook), outcome in zip(graded, run_jobs(jobs, log)):
        log_lines += record(course, sub, a, notebook, outcome, int(timeout), releases[a])
    for course in courses_of.values():
        for name in ("feedback", "autograded"):
            if (course / name).is_dir():
                shutil.copytree(course / name, out / name, dirs_exist_ok=True)
    return log_lines


def _repaired(sub: Submission, release):
    """The submission's notebook repaired for nbgrader, with a note per repair in ``sub``.

    None, and ``sub`` ``failed`` with the reason, if it cannot be repaired.
    """
    try:
        nb = sub.notebook
        sub.notes += repair_grading_marks(nb, release)
        restored = restore_deleted_cells(nb, release)
        if restored:
            sub.notes.append(f"deleted cell(s) put back before grading: {', '.join(restored)}")
        return normalise(nb)
    except Exception as error:  # noqa: BLE001 - any damage we cannot repair: say so, grade the others
        sub.status = "failed"
        sub.notes.append(f"the notebook is damaged and could not be repaired for grading "
                         f"({type(error).__name__}: {str(error)[:200]})")
        return None


def submit(course: Path, sub: Submission, assignment: str, notebook: str, release) -> bool:
    """Write the repaired notebook of ``sub`` to ``course``'s ``submitted/``; False (``sub`` failed) if it cannot."""
    import nbformat

    nb = _repaired(sub, release)
    if nb is None:
        return False
    folder = course / "submitted" / sub.id / assignment
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / notebook)
    return True


def record(course: Path, sub: Submission, assignment: str, notebook: str, outcome: Outcome, timeout: int,
           release) -> list[str]:
    """Score ``sub`` from the verdicts of ``outcome`` and the points of ``release``; return the log lines.

    ``sub.status`` becomes ``graded`` only if nbgrader graded the notebook and the grading process sent its
    verdicts; else ``failed``, with what went wrong in words. Nothing is read from ``course``, where student
    code ran.
    """
    lines = [f"$ nbgrader autograde {assignment} --student {sub.id} --force  # {sub.student}", outcome.log]
    run = outcome.runs.get(Path(notebook).stem)
    if not outcome.graded or run is None:
        sub.status = "failed"
        sub.notes.append(f"nbgrader could not grade this notebook: {explain_failure(outcome.log)} "
                         "(details in grading.log)")
        return lines
    sub.status, sub.score = "graded", score_of(release, run)
    sub.notes += outcome_notes(run, timeout)
    lines += [f"$ nbgrader generate_feedback {assignment} --student {sub.id} --force  # {sub.student}",
              outcome.feedback_log]
    if not outcome.feedback:
        sub.notes.append("no feedback: nbgrader generate_feedback failed (see grading.log)")
    return lines
