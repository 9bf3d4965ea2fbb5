"""Autograde a folder of student notebooks as they arrive, in throwaway copies of the course.

How it grades: for each assignment, the course's grading parts with only that assignment's solutions are copied
into a temporary folder (:mod:`.course`), where ``nbgrader generate_assignment`` rebuilds the release and the
gradebook; the source notebooks are then removed from that copy. Each submission is read, never written
(:mod:`.intake`), and repaired (:mod:`.repair`); every repair is noted in the row's message. It is written to
``submitted/`` of a copy of its own (one per student and assignment), and nbgrader's autograde (:mod:`.batch`,
``jobs`` notebooks at a time) executes it there with a per-cell timeout (locked cells, hidden tests included, are
restored from the gradebook). The kernel runs in a bubblewrap sandbox (:mod:`.sandbox`): it reads the Python
environment, ``helpers``, the release and the data, writes only its own folder and HOME, and sees no network,
solutions, gradebook, classmates or results. A kernel that dies costs the cells from the crash on
(``SurviveDeadKernel``, set in ``nbgrader_config.py``). Each test cell's verdict is the kernel's reply to it,
recorded by the grading process (``RecordVerdicts``), the cell run as released whatever hooks the student
installed (:mod:`.guard`); the scores come from those verdicts and the release's points, never from a file
student code could have written (:mod:`.report`). nbgrader's generate_feedback writes HTML feedback, without
hidden tests (``nbgrader_config.py``); only each student's own feedback and autograded files are copied to
``out``. ``solutions/``, ``notebooks/`` and the students' files are never modified. ``shard=(i, n)`` grades the
i-th of n parts of the class (:mod:`.shards`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from . import course as courses
from . import sandbox, shards
from .batch import Job, Outcome, run_jobs
from .intake import Submission, collect, read_submission
from .limits import CELL_TIMEOUT_S
from .repair import normalise, repair_grading_marks, restore_deleted_cells
from .report import explain_failure, outcome_notes, rows_of, score_of, write_results

__all__ = ["JOB_MEMORY_GB", "cores", "default_jobs", "grade", "record", "submit", "thread_share"]


def grade(submissions_dir: Path, out: Path, assignment: str | None = None, timeout: int | None = None,
          root: Path = courses.ROOT, log=print, jobs: int = 1, shard: tuple[int, int] | None = None,
          sandboxed: bool = True) -> list[dict]:
    """Grade every submission of ``submissions_dir``; write ``grades.csv`` and the rest to ``out``; return rows.

    ``timeout`` is the seconds a cell may run (default :data:`~.limits.CELL_TIMEOUT_S`); ``root`` the course;
    ``jobs`` how many notebooks are graded at once; ``shard`` ``(i, n)``: only the i-th of n parts of the class;
    ``sandboxed=False`` runs student code without the sandbox, with your rights (every row says so).
    """
    submissions_dir, out, root = Path(submissions_dir).resolve(), Path(out).resolve(), Path(root).resolve()
    if not submissions_dir.is_dir():
        raise SystemExit(f"error: {submissions_dir} is not a folder of submissions")
    known = courses.assignments(root)
    if assignment is not None and assignment not in known:
        raise SystemExit(f"error: no assignment {assignment!r} in {root / 'solutions'} (known: {', '.join(known)})")
    bwrap = sandbox.require(shutil.which("bwrap"), [root, submissions_dir, out]) if sandboxed else ""
    if not sandboxed:
        log(f"warning: {sandbox.NO_SANDBOX_NOTE.replace('this notebook', 'each notebook')}")
    out.mkdir(parents=True, exist_ok=True)
    subs = collect(submissions_dir)
    if shard is not None:
        subs = shards.select(subs, *shard)
    wanted = {a: known[a] for a in ([assignment] if assignment else known)}
    with tempfile.TemporaryDirectory(prefix="course-grading-") as scratch:
        scratch = Path(scratch)
        bases, releases = _base_courses(scratch, root, wanted)
        for sub in subs:
            if sub.status == "pending":
                read_submission(sub, known, releases)
            if sub.status == "pending" and sub.assignment not in releases:
                sub.status = "skipped"
        chosen = _newest(subs)
        log_lines = _grade_students(scratch, bases, chosen, wanted, releases, timeout or CELL_TIMEOUT_S, out, log,
                                    jobs, bwrap)
    (out / "grading.log").write_text("\n".join(log_lines), encoding="utf-8")
    rows = rows_of(subs, known, assignment)
    write_results(out, rows, subs)
    if shard is not None:
        shards.write_marker(out, shard, subs)
    return rows


def _base_courses(scratch: Path, root: Path, wanted: dict[str, str]):
    """``{assignment: course copy}``, the copies each job's copy starts from, and ``{assignment: release}``.

    Each copy holds one assignment: its release, and its gradebook (hidden tests included), with the config that
    keeps hidden tests out of the feedback; its source notebooks are removed once those are built.
    """
    import nbformat

    bases, releases = {}, {}
    for a, notebook in wanted.items():
        base = bases[a] = courses.make_course(scratch / "bases", root, only=[a], name=a)
        env = courses.grading_env(base, scratch / "home" / "_base")
        courses.nbgrader(base, "generate_assignment", a, "--force", env=env)
        releases[a] = nbformat.read(base / "notebooks" / a / notebook, as_version=4)
        for source in (base / "solutions" / a).glob("*.ipynb"):
            source.unlink()
    return bases, releases


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


def _grade_students(scratch: Path, bases: dict, chosen: dict, wanted: dict[str, str], releases: dict,
                    timeout: int, out: Path, log, jobs: int, bwrap: str) -> list[str]:
    """Grade each notebook in a course copy of its own; copy its feedback and autograded files to ``out``.

    ``jobs`` notebooks at a time (:mod:`.batch`), each kernel in a sandbox of its own unless ``bwrap`` is "".
    Returns the log lines, in the order of the students (not of the grading).
    """
    log_lines: list[str] = []
    todo, graded = [], []
    jobs = max(1, min(jobs, len(chosen)))  # fewer notebooks than jobs: each gets a larger share of the cores
    for n, (student, a) in enumerate(sorted(chosen)):  # student ids: safe folder names
        sub = chosen[(student, a)]
        course = scratch / "students" / student / a
        shutil.copytree(bases[a], course)
        env = dict(courses.grading_env(course, scratch / "home" / str(n)), **thread_share(jobs))
        box = scratch / "b" / str(n)  # short: the kernel's unix sockets are in box/run
        if bwrap:
            exposed = [course / "helpers", course / "notebooks", Path(env["COURSE_DATA_DIR"])]
            env.update(sandbox.prepare(box, bwrap, exposed, env, python_path=str(course),
                                       layered=[Path(env["KERAS_HOME"])]))
        if submit(course, sub, a, wanted[a], releases[a]):
            todo.append(Job(sub.student, str(course), sub.id, a, int(timeout), env, str(box) if bwrap else ""))
            graded.append((sub, course, a, wanted[a]))
        else:
            log_lines.append(f"# {sub.id}: not graded: {sub.notes[-1]}")
    for (sub, course, a, notebook), outcome in zip(graded, run_jobs(todo, log, jobs)):
        log_lines += record(course, sub, a, notebook, outcome, int(timeout), releases[a])
        if not bwrap:
            sub.notes.append(sandbox.NO_SANDBOX_NOTE)
        for kind in ("feedback", "autograded"):
            shards.copy_files(course / kind / sub.id / a, out / kind / sub.id / a)
    return log_lines


JOB_MEMORY_GB = 2  # a notebook's kernel peaks under 1.5 GB in small mode (benchmarks), nbgrader's worker adds some


def cores() -> int:
    """The CPU cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def default_jobs() -> int:
    """``--jobs``' default: the cores, fewer if the available memory cannot hold :data:`JOB_MEMORY_GB` per job."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            available_kb = next(int(line.split()[1]) for line in meminfo if line.startswith("MemAvailable:"))
    except (OSError, StopIteration, ValueError):
        return cores()
    return max(1, min(cores(), available_kb // (JOB_MEMORY_GB * 1024 * 1024)))


def thread_share(jobs: int) -> dict[str, str]:
    """The environment that gives each of ``jobs`` kernels its share of the cores for TensorFlow's threads."""
    share = str(max(1, cores() // max(1, jobs)))
    return {"TF_NUM_INTRAOP_THREADS": share, "TF_NUM_INTEROP_THREADS": share, "OMP_NUM_THREADS": share}


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
