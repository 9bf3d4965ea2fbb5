"""Autograde a folder of student notebooks as they arrive, in a throwaway copy of the course.

    python -m helpers.grade SUBMISSIONS_DIR [--assignment ID] [--timeout S] [--out DIR]

Accepted layouts of ``SUBMISSIONS_DIR`` (both may be mixed):

- one folder per student: ``alice/Copy of 01-pretrained-models.ipynb`` (files at any depth below
  ``alice/``; the folder name is the student);
- flat files named ``<student> - <file name>``: ``alice - Copy of 01-pretrained-models.ipynb``.

A file is matched to an assignment by its name once Colab's ``Copy of`` prefix(es) and a browser's
`` (1)`` suffix are removed (``Copy of 01-pretrained-models (1).ipynb`` is ``01-pretrained-models``).
A renamed notebook whose nbgrader cells belong to exactly one assignment is graded as that
assignment, with a note. Files that are not notebooks, empty notebooks and notebooks of no known
assignment get a row with a clear message; every other student is graded anyway.

How it grades: the course's ``nbgrader_config.py``, ``solutions/`` and ``helpers/`` are copied into
a temporary folder; ``nbgrader generate_assignment`` rebuilds the release and the gradebook there;
the source notebooks are then removed from that copy, so that student code cannot read them during
grading. Each submission is read (never written), normalised (Colab's nbformat 4.0 without cell ids),
locked cells it deleted are put back from the release, and it is written to ``submitted/``. One
``nbgrader autograde`` run per assignment executes every student's notebook with a per-cell timeout
(locked cells, hidden tests included, are restored from the gradebook), in a fresh ``HOME`` and
``TMPDIR``. Scores are read from the gradebook into ``grades.csv`` (one row per student and
assignment); ``nbgrader generate_feedback`` writes HTML feedback. ``--out`` receives ``grades.csv``,
``scores.json`` (points per graded cell), ``feedback/``, ``autograded/`` and ``grading.log``.
``solutions/``, ``notebooks/`` and the students' files are never modified.

This does NOT sandbox student code: it runs with your rights (see the README's instructor section).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from nbconvert.preprocessors import Preprocessor

ROOT = Path(__file__).resolve().parents[1]
CSV_COLUMNS = ["student", "assignment", "score", "max_score", "status", "message", "file"]
FLAT_SEPARATOR = " - "
FEEDBACK_CONFIG = """
# Added by helpers.grade to its grading copy: feedback shows no hidden tests (nbgrader's default does).
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, GetGrades

from helpers.grade import ShortTracebacks

c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, ShortTracebacks, CSSHTMLHeaderPreprocessor]
"""


@dataclass
class Submission:
    """One student's file, and what became of it."""

    student: str
    path: Path
    name: str = ""  # the file's name without the "<student> - " prefix of the flat layout
    assignment: str | None = None
    notebook: object | None = None  # nbformat.NotebookNode once read
    status: str = "pending"  # pending, graded, invalid, empty, unidentified, duplicate, failed
    notes: list[str] = field(default_factory=list)
    score: dict | None = None  # read_scores' entry once graded


class ShortTracebacks(Preprocessor):
    """Feedback preprocessor: errors of locked test cells show only ``Error: message``.

    Their tracebacks quote the source around the failing line, hidden tests included.
    """

    enabled = True  # nbconvert's preprocessors are off unless enabled

    def preprocess_cell(self, cell, resources, index):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and (meta.get("grade") or meta.get("locked")):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        return cell, resources


# --- the course ------------------------------------------------------------------------------------------


def assignments(root: Path = ROOT) -> dict[str, str]:
    """``{assignment id: notebook file name}`` of every ``solutions/<id>/`` folder."""
    found = {}
    for folder in sorted((root / "solutions").iterdir()):
        notebooks = sorted(folder.glob("*.ipynb")) if folder.is_dir() else []
        if notebooks and not folder.name.startswith("."):
            found[folder.name] = notebooks[0].name
    return found


def make_course(where: Path, root: Path = ROOT) -> Path:
    """A copy of the course's grading parts (config, solutions, helpers) in ``where/course``."""
    course = Path(where) / "course"
    course.mkdir()
    ignore = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
    shutil.copy(root / "nbgrader_config.py", course)
    shutil.copytree(root / "solutions", course / "solutions", ignore=ignore)
    if (root / "helpers").is_dir():
        shutil.copytree(root / "helpers", course / "helpers", ignore=ignore)
    return course


def grading_env(course: Path, home: Path) -> dict[str, str]:
    """The environment of nbgrader and the kernels: own HOME and TMPDIR, this Python first on PATH.

    The data and weights stay where they are (``KERAS_HOME`` and ``COURSE_DATA_DIR`` are resolved
    before HOME changes); ``helpers`` is imported from the course copy; small mode unless
    ``COURSE_MODE`` says otherwise.
    """
    from .config import data_dir, keras_home

    env = dict(os.environ)
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(home), TMPDIR=str(home / "tmp"), KERAS_HOME=str(keras_home().resolve()),
        COURSE_DATA_DIR=str(data_dir().resolve()), COURSE_MODE=os.environ.get("COURSE_MODE") or "small",
        PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
        PYTHONPATH=os.pathsep.join([str(course)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep)
                                                    if p]),
    )
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "MPLCONFIGDIR"):
        env.pop(name, None)
    return env


def nbgrader(course: Path, *args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """Run an nbgrader command in the course folder; with ``check``, fail loudly if it fails."""
    if env is None:
        env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, capture_output=True, text=True,
                            env=env)
    if check and result.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}")
    return result


def read_scores(course: Path, assignment: str, notebook: str, students) -> dict[str, dict]:
    """``{student: {"score", "max_score", "cells": {grade id: score}}}`` from the course's gradebook.

    Students without a graded notebook in the gradebook are left out.
    """
    from nbgrader.api import Gradebook, MissingEntry

    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for student in students:
            try:
                submission = gb.find_submission_notebook(Path(notebook).stem, assignment, student)
            except MissingEntry:
                continue
            scores[student] = {
                "score": submission.score,
                "max_score": submission.max_score,
                "cells": {grade.name: grade.score for grade in submission.grades},
            }
    return scores


# --- the submissions -------------------------------------------------------------------------------------


def student_id(name: str) -> str:
    """A student name usable as an nbgrader id and folder name."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "_", name.strip()).strip("._")
    return cleaned or "unnamed"


def clean_name(file_name: str) -> str:
    """The notebook name without Colab's ``Copy of`` prefixes, a `` (1)`` suffix and the extension."""
    stem = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", file_name)
    while True:
        shorter = re.sub(r"^\s*copy of\s+", "", stem, flags=re.IGNORECASE)
        shorter = re.sub(r"\s*\(\d+\)\s*$", "", shorter)
        if shorter == stem:
            return stem.strip()
        stem = shorter


def collect(submissions_dir: Path) -> list[Submission]:
    """Every file of ``submissions_dir`` as a :class:`Submission` with its student (see the layouts above)."""
    found = []
    for path in sorted(Path(submissions_dir).iterdir()):
        if path.name.startswith(".") or path.name == "__MACOSX":
            continue
        if path.is_dir():
            for inner in sorted(p for p in path.rglob("*") if p.is_file()):
                parts = inner.relative_to(path).parts
                if not any(part.startswith(".") or part == "__MACOSX" for part in parts):
                    found.append(Submission(student_id(path.name), inner, inner.name))
        elif FLAT_SEPARATOR in path.name:
            student, name = path.name.split(FLAT_SEPARATOR, 1)
            found.append(Submission(student_id(student), path, name))
        else:
            sub = Submission(student_id(Path(path.name).stem), path, path.name, status="unidentified")
            sub.notes.append(f"{path.name}: cannot tell whose file this is: put it in a folder named after the "
                             f"student or name it '<student>{FLAT_SEPARATOR}{path.name}'")
            found.append(sub)
    return found


def grade_ids(nb) -> set[str]:
    """The nbgrader grade ids of a notebook's cells."""
    return {c.metadata["nbgrader"]["grade_id"] for c in nb.cells
            if isinstance(c.get("metadata", {}).get("nbgrader"), dict) and "grade_id" in c.metadata["nbgrader"]}


def read_submission(sub: Submission, known: dict[str, str], releases: dict) -> None:
    """Read the file, find its assignment, or say what is wrong with it (sets ``sub.status``)."""
    import nbformat

    name = sub.name or sub.path.name
    by_name = {Path(notebook).stem: a for a, notebook in known.items()}
    sub.assignment = by_name.get(clean_name(name)) or (clean_name(name) if clean_name(name) in known else None)
    if not name.lower().endswith(".ipynb"):
        sub.status = "invalid"
        sub.notes.append(f"{name} is not a notebook (.ipynb): download it from Colab with File > Download > "
                         "Download .ipynb")
        return
    if sub.path.stat().st_size == 0:
        sub.status = "empty"
        sub.notes.append(f"{name} is an empty file (0 bytes)")
        return
    try:
        with open(sub.path, encoding="utf-8") as handle:
            nb = nbformat.read(handle, as_version=4)
    except Exception as error:  # noqa: BLE001 - JSON, encoding or schema errors: all mean "not a notebook"
        sub.status = "invalid"
        sub.notes.append(f"{name} is not a valid Jupyter notebook ({type(error).__name__}: {str(error)[:200]})")
        return
    if not [c for c in nb.cells if c.get("source", "").strip()]:
        sub.status = "empty"
        sub.notes.append(f"{name} is an empty notebook (no cell has any content)")
        return
    if sub.assignment is None:
        ids = grade_ids(nb)
        matches = [a for a, release in releases.items() if ids & grade_ids(release)]
        if len(matches) == 1:
            sub.assignment = matches[0]
            sub.notes.append(f"{name} was renamed: graded as {matches[0]} (its cells belong to that assignment)")
        else:
            sub.status = "unidentified"
            sub.notes.append(f"{name}: cannot tell which assignment this is (expected a name like "
                             f"'Copy of {next(iter(known.values()), 'NN-name.ipynb')}')")
            return
    sub.notebook = nb


def normalise(nb):
    """The notebook as nbformat 4.5 with unique cell ids (Colab saves 4.0 without them); validated."""
    import nbformat
    from nbformat.corpus.words import generate_corpus_id

    nb.nbformat, nb.nbformat_minor = 4, max(5, nb.get("nbformat_minor", 0))
    seen = set()
    for cell in nb.cells:
        wanted = cell.get("id") or cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if not wanted or wanted in seen or not re.fullmatch(r"[a-zA-Z0-9-_]{1,64}", str(wanted)):
            wanted = generate_corpus_id()
        cell["id"] = wanted
        seen.add(wanted)
        if cell.cell_type == "code":
            cell.setdefault("outputs", [])
            cell.setdefault("execution_count", None)
        else:
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
    nbformat.validate(nb)
    return nb


def restore_deleted_cells(nb, release) -> list[str]:
    """Put back the graded and locked cells of ``release`` that the student deleted; return their grade ids.

    Each goes after the nearest cell that precedes it in the release and is still in the submission.
    nbgrader then overwrites locked cells with their source (hidden tests included) from the gradebook.
    """
    import copy

    def key(cell):
        meta = cell.get("metadata", {}).get("nbgrader")
        return meta.get("grade_id") if isinstance(meta, dict) else None

    present = {key(c) for c in nb.cells} - {None}
    restored = []
    for index, cell in enumerate(release.cells):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        grade_id = key(cell)
        if grade_id is None or grade_id in present or not (meta.get("grade") or meta.get("locked")
                                                          or meta.get("solution")):
            continue
        position = 0
        for previous in reversed(release.cells[:index]):
            where = [i for i, c in enumerate(nb.cells) if key(c) is not None and key(c) == key(previous)]
            if where:
                position = where[0] + 1
                break
        nb.cells.insert(position, copy.deepcopy(cell))
        present.add(grade_id)
        restored.append(grade_id)
    return restored


# --- grading ---------------------------------------------------------------------------------------------


def grade(submissions_dir: Path, out: Path, assignment: str | None = None, timeout: int | None = None,
          root: Path = ROOT, log=print) -> list[dict]:
    """Grade every submission of ``submissions_dir``; write ``grades.csv`` and the rest to ``out``; return rows."""
    import nbformat

    submissions_dir, out, root = Path(submissions_dir).resolve(), Path(out).resolve(), Path(root).resolve()
    if not submissions_dir.is_dir():
        raise SystemExit(f"error: {submissions_dir} is not a folder of submissions")
    known = assignments(root)
    if assignment is not None and assignment not in known:
        raise SystemExit(f"error: no assignment {assignment!r} in {root / 'solutions'} (known: {', '.join(known)})")
    out.mkdir(parents=True, exist_ok=True)
    subs = collect(submissions_dir)
    wanted = [assignment] if assignment else list(known)
    log_lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="course-grading-") as scratch:
        scratch = Path(scratch)
        base = make_course(scratch, root)
        with open(base / "nbgrader_config.py", "a") as config:  # feedback goes to students: no hidden tests
            config.write(FEEDBACK_CONFIG)
        env = grading_env(base, scratch / "home" / "_base")
        releases = {}
        for a in wanted:
            nbgrader(base, "generate_assignment", a, "--force", env=env)
            releases[a] = nbformat.read(base / "notebooks" / a / known[a], as_version=4)
        for a in wanted:  # student code must not find the solutions and hidden tests in the copy
            for source in (base / "solutions" / a).glob("*.ipynb"):
                source.unlink()
        for sub in subs:
            if sub.status == "pending":
                read_submission(sub, {a: known[a] for a in known}, releases)
            if sub.status == "pending" and sub.assignment not in releases:
                sub.status = "skipped"
        # One file per student and assignment: the most recent one.
        chosen: dict[tuple[str, str], Submission] = {}
        for sub in sorted((s for s in subs if s.status == "pending"), key=lambda s: s.path.stat().st_mtime):
            previous = chosen.get((sub.student, sub.assignment))
            if previous is not None:
                previous.status = "duplicate"
                sub.notes.append(f"several files for {sub.assignment}: graded the newest, {sub.path.name}")
            chosen[(sub.student, sub.assignment)] = sub
        # Each student is graded in an own copy of the course (and own HOME): whatever their code does
        # to the files around it (the gradebook included) cannot touch another student's grades.
        for student in sorted({s for s, _ in chosen}):
            course = scratch / "students" / student
            shutil.copytree(base, course)
            student_env = grading_env(course, scratch / "home" / student)
            for a in wanted:
                sub = chosen.get((student, a))
                if sub is not None:
                    log_lines += _grade_one(course, student_env, sub, a, known[a], releases[a], timeout, log)
            for name in ("feedback", "autograded"):
                if (course / name).is_dir():
                    shutil.copytree(course / name, out / name, dirs_exist_ok=True)
    (out / "grading.log").write_text("\n".join(log_lines))

    rows: list[dict] = []
    maximum = {a: None for a in known}
    for sub in subs:
        if sub.status == "graded":
            maximum[sub.assignment] = sub.score["max_score"]
    for sub in subs:
        if sub.status in ("duplicate", "skipped"):
            continue
        score = sub.score["score"] if sub.status == "graded" else (0.0 if sub.status in ("empty", "invalid")
                                                                     and sub.assignment else "")
        rows.append({"student": sub.student, "assignment": sub.assignment or "", "score": score,
                     "max_score": maximum.get(sub.assignment) or "" if sub.assignment else "",
                     "status": sub.status, "message": "; ".join(sub.notes), "file": str(sub.path)})
    if assignment:  # a row for every student who sent something, even if not this assignment
        have = {r["student"] for r in rows if r["assignment"] == assignment}
        for student in sorted({s.student for s in subs if s.status != "unidentified" or s.assignment} - have):
            rows.append({"student": student, "assignment": assignment, "score": 0.0,
                         "max_score": maximum.get(assignment) or "", "status": "missing",
                         "message": f"no notebook for {assignment}", "file": ""})
    rows.sort(key=lambda r: (r["student"], r["assignment"]))
    details: dict[str, dict] = {}
    for sub in subs:
        if sub.status == "graded":
            details.setdefault(sub.student, {})[sub.assignment] = sub.score
    (out / "scores.json").write_text(json.dumps(details, indent=1, sort_keys=True))
    with open(out / "grades.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return rows


def _grade_one(course: Path, env: dict, sub: Submission, assignment: str, notebook: str, release,
               timeout: int | None, log) -> list[str]:
    """Autograde one student's notebook in its own course copy and write its feedback; return the log."""
    import nbformat

    nb = normalise(sub.notebook)
    restored = restore_deleted_cells(nb, release)
    if restored:
        sub.notes.append(f"deleted cell(s) put back before grading: {', '.join(restored)}")
    folder = course / "submitted" / sub.student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / notebook)
    args = ["autograde", assignment, "--force", "--OverwriteCells.add_missing_cells=True"]
    if timeout:
        args.append(f"--Execute.timeout={int(timeout)}")
    log(f"Autograding {sub.student} / {assignment}...")
    result = nbgrader(course, *args, env=env, check=False)
    lines = [f"$ nbgrader {' '.join(args)}  # {sub.student}", result.stdout, result.stderr]
    scores = read_scores(course, assignment, notebook, [sub.student])
    if sub.student in scores:
        sub.status, sub.score = "graded", scores[sub.student]
        timed_out = [c.get("metadata", {}).get("nbgrader", {}).get("grade_id") or c.get("id")
                     for c in _autograded(course, sub.student, assignment, notebook)
                     if any(o.get("ename") == "CellTimeoutError" for o in c.get("outputs", []))]
        if timed_out:
            sub.notes.append(f"cell(s) stopped at the {timeout or 'configured'} s timeout: {', '.join(timed_out)}")
        feedback = nbgrader(course, "generate_feedback", assignment, "--force", env=env, check=False)
        lines += [f"$ nbgrader generate_feedback {assignment} --force  # {sub.student}", feedback.stdout,
                  feedback.stderr]
    else:
        sub.status = "failed"
        sub.notes.append("nbgrader could not grade this notebook: see grading.log")
    return lines


def _autograded(course: Path, student: str, assignment: str, notebook: str) -> list:
    import nbformat

    path = course / "autograded" / student / assignment / notebook
    return nbformat.read(path, as_version=4).cells if path.exists() else []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.grade", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("submissions", type=Path, help="folder of student files (see the layouts above)")
    parser.add_argument("--assignment", help="grade only this assignment (default: every one found)")
    parser.add_argument("--timeout", type=int, help="seconds a cell may run (default: nbgrader_config.py's)")
    parser.add_argument("--out", type=Path, default=Path("grading-results"), help="where results go")
    parser.add_argument("--course", type=Path, default=ROOT, help="the course folder (default: this one)")
    args = parser.parse_args(argv)
    rows = grade(args.submissions, args.out, args.assignment, args.timeout, args.course)
    for row in rows:
        score = f"{row['score']}/{row['max_score']}" if row["status"] == "graded" else row["status"]
        print(f"{row['student']:<20} {row['assignment']:<28} {score:<12} {row['message']}")
    print(f"\n{len(rows)} row(s) in {args.out / 'grades.csv'}; feedback in {args.out / 'feedback'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
