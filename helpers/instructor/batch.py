"""nbgrader's autograde and generate_feedback for many students, in one Python process.

Starting nbgrader costs about 4 s of imports on a laptop, twice per student with the ``nbgrader`` command (once to
grade, once for the feedback): a class of 100 pays over 10 minutes before a single cell runs. Here a worker,
``python -m helpers.instructor.batch JOBS.json``, imports nbgrader once and runs both steps for every job in turn,
each in its own course copy, with its own ``HOME``, ``TMPDIR`` and course config, as the command would. It prints
one result line per job. :func:`run_jobs` starts the worker, and starts it again after the job it was on if it dies,
so that one student's notebook can only cost that student's grade.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

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


def _worker(jobs_file: str) -> None:
    """Grade every job of ``jobs_file``; after each, print :data:`RESULT` and ``{"index", "outcome"}`` as JSON."""
    jobs = [Job(**job) for job in json.loads(Path(jobs_file).read_text(encoding="utf-8"))]
    # Results go to a private copy of stdout, which kernels do not inherit (os.dup makes it non-inheritable);
    # the stdout that kernels and nbgrader inherit goes to stderr, so that nothing a notebook prints reads as one.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    for index, job in enumerate(jobs):
        try:
            outcome = grade_job(job)
        except BaseException as error:  # noqa: BLE001 - one job's failure is that job's row, never the class's
            outcome = Outcome(False, f"{type(error).__name__}: {error}")
        out.write(RESULT + json.dumps({"index": index, "outcome": asdict(outcome)}) + "\n")
        out.flush()


def run_jobs(jobs: list[Job], log=print) -> list[Outcome]:
    """Grade ``jobs`` in worker processes; one :class:`Outcome` per job, in order; a progress line per job.

    If a worker dies (killed, out of memory), the job it was on fails with that reason and a new worker takes
    the rest.
    """
    outcomes: list[Outcome | None] = [None] * len(jobs)
    pending = list(range(len(jobs)))
    while pending:
        with tempfile.TemporaryDirectory(prefix="grading-jobs-") as scratch:
            jobs_file = Path(scratch) / "jobs.json"
            jobs_file.write_text(json.dumps([asdict(jobs[i]) for i in pending]), encoding="utf-8")
            with subprocess.Popen([sys.executable, "-m", "helpers.instructor.batch", str(jobs_file)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env=dict(jobs[pending[0]].env)) as worker:
                stderr, reader = _drain(worker.stderr)
                for line in worker.stdout:
                    if line.startswith(RESULT):
                        done = json.loads(line[len(RESULT):])
                        index = pending[done["index"]]
                        outcomes[index] = Outcome(**done["outcome"])
                        log(_progress(jobs, outcomes, index, "graded" if outcomes[index].graded else "not graded"))
                code = worker.wait()
                reader.join(timeout=10)
        left = [i for i in pending if outcomes[i] is None]
        if left:  # the worker died on left[0]
            outcomes[left[0]] = Outcome(False, f"the grading process died (exit code {code}) while grading this "
                                               f"notebook\n{''.join(stderr)[-3000:]}")
            log(_progress(jobs, outcomes, left[0], "not graded (the grading process died)"))
            left = left[1:]
        pending = left
    return outcomes


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
    _worker(sys.argv[1])
