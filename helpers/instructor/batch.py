"""nbgrader's autograde and generate_feedback for many students, in a few long-lived Python processes.

Starting nbgrader costs about 4 s of imports on a laptop, twice per student with the ``nbgrader`` command (once to
grade, once for the feedback): a class of 100 pays over 10 minutes before a single cell runs. Here a worker,
``python -m helpers.instructor.batch``, imports nbgrader once and runs both steps for each job it reads on its
stdin, in the job's own course copy, with its own ``HOME``, ``TMPDIR``, course config and sandbox
(:mod:`.sandbox`), as the command would. It prints one result line per job. :func:`run_jobs` keeps ``workers``
of them busy, each taking the next job when done, and starts a new one after the job it was on if one dies, so that
one student's notebook can only cost that student's grade.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass, field

__all__ = ["Job", "Outcome", "run_jobs"]

RESULT = "@@graded "  # starts the worker's result lines: anything else it prints is not a result


@dataclass
class Job:
    """One notebook to grade: where (a course copy), whose, which assignment, the cell timeout, the environment."""

    label: str  # for the progress lines: the student's name as given
    course: str
    student: str
    assignment: str
    timeout: int
    env: dict
    sandbox: str = ""  # the job's sandbox box (see sandbox.prepare); "" runs the kernel without one


@dataclass
class Outcome:
    """What nbgrader said of one job: whether each step succeeded, its log (tracebacks included), and the runs.

    ``runs`` is ``{notebook name: run}``, each test cell's verdict as the grading process recorded it from the
    kernel's replies (:func:`.preprocessors.take_runs`), sent back on the worker's private result channel: the
    scores come from these, never from a file student code could have written.
    """

    graded: bool
    log: str
    feedback: bool = False
    feedback_log: str = ""
    runs: dict = field(default_factory=dict)


def _config(job: Job):
    """The course copy's ``nbgrader_config.py`` and the command line's options, as one traitlets config."""
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=job.course).load_config()
    config.Execute.timeout = int(job.timeout)
    config.OverwriteCells.add_missing_cells = True  # a deleted test cell is put back (the grader repairs first)
    config.CourseDirectory.root = job.course
    if job.sandbox:
        from .sandbox import kernel_config

        kernel_config(config, job.sandbox)
    return config


def _text(result: dict) -> str:
    return "\n".join(part for part in (result.get("log", ""), result.get("error", "")) if part)


def _forget_manual_scores(coursedir, job: Job) -> list[str]:
    """Empty the manual scores of the job's grades in its throwaway gradebook, so that the feedback shows the
    scores of the verdicts; the grade ids that had one (no instructor wrote any there: only student code can)."""
    from nbgrader.api import Gradebook

    forged = []
    with Gradebook(coursedir.db_url) as gb:
        for notebook in gb.find_submission(job.assignment, job.student).notebooks:
            for grade in notebook.grades:
                if grade.manual_score is not None:
                    forged.append(grade.name)
                grade.manual_score = None
                grade.needs_manual_grade = grade.auto_score is None
        gb.db.commit()
    return forged


def grade_job(job: Job) -> Outcome:
    """Autograde, then write the feedback of, one job in this process (the worker's loop body)."""
    from nbgrader.converters import Autograde, GenerateFeedback
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import capture_log

    from .preprocessors import take_runs

    os.chdir(job.course)
    os.environ.clear()
    os.environ.update(job.env)  # kernels inherit it: the student's own HOME and TMPDIR
    config = _config(job)
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id, coursedir.student_id = job.assignment, job.student
    autograde = Autograde(coursedir=coursedir, config=config)
    autograde.force, autograde.create_student = True, True
    take_runs(job.student, job.assignment)  # none left from an earlier try
    graded = capture_log(autograde)
    outcome = Outcome(graded["success"], _text(graded), runs=take_runs(job.student, job.assignment))
    if outcome.graded:
        try:
            forged = _forget_manual_scores(coursedir, job)
        except Exception as error:  # noqa: BLE001 - a damaged gradebook costs the feedback, not the grade
            outcome.feedback_log = f"could not reset the gradebook's manual scores: {type(error).__name__}: {error}"
            return outcome
        for run in outcome.runs.values() if forged else ():
            run["tampering"].append(f"manual scores written into the grading copy's gradebook ({', '.join(forged)}): "
                                    "ignored, the scores are the tests' verdicts")
        feedback = GenerateFeedback(coursedir=coursedir, config=config)
        feedback.force = True
        written = capture_log(feedback)
        outcome.feedback, outcome.feedback_log = written["success"], _text(written)
    return outcome


def _worker() -> None:
    """Grade each job read from stdin (one JSON line each); after each, print :data:`RESULT` and its outcome."""
    # Results go to a private copy of stdout, which kernels do not inherit (os.dup makes it non-inheritable);
    # the stdout that kernels and nbgrader inherit goes to stderr, so that nothing a notebook prints reads as one.
    # Jobs come on a private copy of stdin; what they inherit reads nothing.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    jobs = os.fdopen(os.dup(sys.stdin.fileno()), encoding="utf-8")
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    with open(os.devnull, encoding="utf-8") as nothing:
        os.dup2(nothing.fileno(), sys.stdin.fileno())
    for line in jobs:
        try:
            outcome = grade_job(Job(**json.loads(line)))
        except BaseException as error:  # noqa: BLE001 - one job's failure is that job's row, never the class's
            outcome = Outcome(False, f"{type(error).__name__}: {error}")
        out.write(RESULT + json.dumps(asdict(outcome)) + "\n")
        out.flush()


def run_jobs(jobs: list[Job], log=print, workers: int = 1) -> list[Outcome]:
    """Grade ``jobs`` in ``workers`` worker processes; one :class:`Outcome` per job, in order; a progress line each.

    Each worker takes the next job when it is done with one. If a worker dies (killed, out of memory), the job it
    was on fails with that reason and a new worker takes its next job.
    """
    import queue
    import threading

    outcomes: list[Outcome | None] = [None] * len(jobs)
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for index in range(len(jobs)):
        todo.put(index)
    lock = threading.Lock()

    def done(index: int, outcome: Outcome, words: str) -> None:
        with lock:
            outcomes[index] = outcome
            log(_progress(jobs, outcomes, index, words))

    threads = [threading.Thread(target=_serve, args=(jobs, todo, done), daemon=True)
               for _ in range(max(1, min(workers, len(jobs))))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _serve(jobs: list[Job], todo, done) -> None:
    """One worker's loop in the grader: take the next job from ``todo``, send it, wait for its outcome."""
    import queue

    worker = None
    try:
        while True:
            try:
                index = todo.get_nowait()
            except queue.Empty:
                return
            if worker is None:
                worker = _Worker(jobs[index].env)
            outcome = worker.grade(jobs[index])
            if outcome is _NOT_SENT:  # it had died after its last job: this one goes to a new worker
                worker.close()
                worker = _Worker(jobs[index].env)
                outcome = worker.grade(jobs[index])
            if outcome is None:  # the worker died on this job
                code, stderr = worker.close()
                worker = None
                done(index, Outcome(False, f"the grading process died (exit code {code}) while grading this "
                                           f"notebook\n{stderr[-3000:]}"), "not graded (the grading process died)")
            else:
                done(index, outcome, "graded" if outcome.graded else "not graded")
    finally:
        if worker is not None:
            worker.close()


_NOT_SENT = Outcome(False, "not sent")


class _Worker:
    """A ``python -m helpers.instructor.batch`` process, its last 200 lines of stderr kept."""

    def __init__(self, env: dict):
        self.process = subprocess.Popen([sys.executable, "-m", "helpers.instructor.batch"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(env))
        self.stderr, self.reader = _drain(self.process.stderr)

    def grade(self, job: Job) -> Outcome | None:
        """Send ``job``; its :class:`Outcome`, None if the worker died on it, :data:`_NOT_SENT` if before."""
        try:
            self.process.stdin.write(json.dumps(asdict(job)) + "\n")
            self.process.stdin.flush()
        except OSError:
            return _NOT_SENT
        for line in self.process.stdout:
            if line.startswith(RESULT):
                return Outcome(**json.loads(line[len(RESULT):]))
        return None

    def close(self) -> tuple[int, str]:
        """Stop (no more jobs), wait; ``(exit code, last lines of stderr)``."""
        try:
            self.process.stdin.close()
        except OSError:
            pass
        code = self.process.wait()
        self.reader.join(timeout=10)
        self.process.stdout.close()
        return code, "".join(self.stderr)


def _progress(jobs: list[Job], outcomes: list, index: int, words: str) -> str:
    """``[done/total] student / assignment: words``, the progress line of job ``index``."""
    done = sum(outcome is not None for outcome in outcomes)
    return f"[{done}/{len(jobs)}] {jobs[index].label} / {jobs[index].assignment}: {words}"


def _drain(stream):
    """Read ``stream`` on a thread, so that a chatty worker never blocks on a full pipe: ``(last lines, thread)``."""
    import threading
    from collections import deque

    lines: deque[str] = deque(maxlen=200)
    reader = threading.Thread(target=lambda: lines.extend(stream), daemon=True)
    reader.start()
    return lines, reader


if __name__ == "__main__":
    _worker()
