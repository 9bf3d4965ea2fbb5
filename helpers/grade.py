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

Students: each is shown by name exactly as given (Unicode NFC, outer spaces removed) and known to nbgrader
by an id of its own, ``zoe-martin-1a2b3c4d``: the name in ASCII plus a hash of the exact name, so that no
two students share an id (王伟 and 李娜, Zoë and Zoé, anna and Anna), and none starts with ``-``.

How it grades: the course's ``nbgrader_config.py``, ``solutions/`` and ``helpers/`` are copied into
a temporary folder; ``nbgrader generate_assignment`` rebuilds the release and the gradebook there;
the source notebooks are then removed from that copy, so that student code cannot read them during
grading. Each submission is read (never written) and repaired: grading metadata a student copied with a
cell or edited is put back as released, locked cells it deleted are put back from the release, and
Colab's nbformat 4.0 without cell ids is normalised; every repair is noted in the row's message. It is
written to ``submitted/``, and one ``nbgrader autograde`` per student, in the student's own copy of the
course, executes it with a per-cell timeout (locked cells, hidden tests included, are restored from the
gradebook), in a fresh ``HOME`` and ``TMPDIR``. A kernel that dies costs the cells from the crash on
(``SurviveDeadKernel``, set in ``nbgrader_config.py``). Scores are read from the gradebook into
``grades.csv`` (one row per student and assignment) only if nbgrader wrote the autograded notebook: a row
says ``graded`` only then, else ``failed`` and why. ``nbgrader generate_feedback`` writes HTML feedback,
without hidden tests (``nbgrader_config.py``). ``--out`` receives ``grades.csv``, ``scores.json`` (points
per graded cell), ``feedback/<student id>/``, ``autograded/<student id>/`` and ``grading.log``.
``solutions/``, ``notebooks/`` and the students' files are never modified.

This does NOT sandbox student code: it runs with your rights (see the README's instructor section).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from nbconvert.preprocessors import Preprocessor
from nbgrader.preprocessors import Execute

ROOT = Path(__file__).resolve().parents[1]
CSV_COLUMNS = ["student", "student_id", "assignment", "score", "max_score", "status", "message", "file"]
FLAT_SEPARATOR = " - "
KERNEL_DIED = "KernelDied"  # ename of the error output SurviveDeadKernel writes


@dataclass
class Submission:
    """One student's file, and what became of it."""

    student: str  # the name exactly as given (folder or file name prefix), NFC-normalised, outer spaces removed
    path: Path
    name: str = ""  # the file's name without the "<student> - " prefix of the flat layout
    assignment: str | None = None
    notebook: object | None = None  # nbformat.NotebookNode once read
    status: str = "pending"  # pending, graded, invalid, empty, unidentified, duplicate, failed
    notes: list[str] = field(default_factory=list)
    score: dict | None = None  # read_scores' entry once graded
    id: str = ""  # the nbgrader student id and folder name: unique in the class (see student_ids)


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


class SurviveDeadKernel(Execute):
    """nbgrader's ``Execute``, except that a kernel that dies costs the cells from the crash on, not the notebook.

    nbgrader 0.9 gives up on the whole notebook when the kernel dies (``os._exit``, a segfault, running out of
    memory): the autograded notebook is deleted and the gradebook keeps a score of 0, even for the tests that
    had passed before the crash. Here the cell that was running gets an error output (ename ``KernelDied``),
    every later code cell an error output saying it was not run, and nbgrader then scores the notebook as
    usual: tests that passed before the crash keep their points, tests from the crash on score 0. (We do not
    restart the kernel and go on: the later cells would run without what the crashed cell and the ones
    before it defined, which is neither the student's notebook nor a fair grade.)
    """

    def preprocess(self, nb, resources=None, km=None):
        self.died_in = None
        return super().preprocess(nb, resources, km=km)

    def preprocess_cell(self, cell, resources, index):
        from nbclient.exceptions import DeadKernelError
        from nbformat.v4 import new_output

        if getattr(self, "died_in", None) is not None:
            if cell.cell_type == "code":
                where = f"cell {self.died_in + 1}"  # counted from 1, as describe_cell does
                cell.outputs = [new_output("error", ename=KERNEL_DIED, evalue=f"not run: the kernel died in {where}",
                                           traceback=[f"{KERNEL_DIED}: not run (the kernel died in {where})"])]
            return cell, resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self.died_in = index
            self.log.error("The kernel died in cell %s: the cells after it are not run", index + 1)
            message = "the kernel died while running this cell (a crash, os._exit or out of memory)"
            cell.outputs.append(new_output("error", ename=KERNEL_DIED, evalue=message,
                                           traceback=[f"{KERNEL_DIED}: {message}"]))
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


def student_name(raw: str) -> str:
    """The student's name as given, in one Unicode form (macOS writes "Zoë" decomposed, Windows composed)."""
    return unicodedata.normalize("NFC", raw).strip()


def student_id(name: str, digits: int = 8) -> str:
    """An nbgrader id and folder name for ``name``: an ASCII form of the name and a hash of the exact name.

    ``Zoë Martin`` is ``zoe-martin-`` followed by 8 hex digits of the SHA-256 of the name, 王伟 is
    ``student-`` and its digits: readable where the name has Latin letters, and two different names (``Zoë``
    and ``Zoé``, ``anna`` and ``Anna``) differ in their hash. It starts with a letter or a digit, so a name like
    ``--help`` cannot be read as an option by nbgrader's command line, and it is lower case, so no two ids
    differ only in case (case-insensitive file systems). :func:`student_ids` lengthens the hash in the
    unlikely case that two names of one class still share an id.
    """
    name = student_name(name)
    ascii_form = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_form.lower()).strip("-")[:40].strip("-") or "student"
    return f"{slug}-{hashlib.sha256(name.encode()).hexdigest()[:digits]}"


def student_ids(names) -> dict[str, str]:
    """``{name: id}`` for a class, every id different from every other (case ignored) by construction."""
    names = sorted({student_name(n) for n in names})
    digits = dict.fromkeys(names, 8)
    while True:
        ids = {n: student_id(n, digits[n]) for n in names}
        seen: dict[str, list[str]] = {}
        for n, i in ids.items():
            seen.setdefault(i.casefold(), []).append(n)
        clashes = [n for group in seen.values() if len(group) > 1 for n in group]
        if not clashes:
            return ids
        if all(digits[n] >= 64 for n in clashes):  # a SHA-256 collision: number them in name order
            for group in seen.values():
                for number, n in enumerate(group[1:], start=2):
                    ids[n] = f"{ids[n]}-{number}"
            return ids
        for n in clashes:
            digits[n] = min(64, digits[n] + 4)


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
                    found.append(Submission(student_name(path.name), inner, inner.name))
        elif FLAT_SEPARATOR in path.name:
            student, name = path.name.split(FLAT_SEPARATOR, 1)
            found.append(Submission(student_name(student), path, name))
        else:
            sub = Submission(student_name(Path(path.name).stem), path, path.name, status="unidentified")
            sub.notes.append(f"{path.name}: cannot tell whose file this is: put it in a folder named after the "
                             f"student or name it '<student>{FLAT_SEPARATOR}{path.name}'")
            found.append(sub)
    ids = student_ids(s.student for s in found)
    for sub in found:
        sub.id = ids[sub.student]
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
    """The notebook as nbformat 4.5 with unique cell ids (Colab saves 4.0 without them); validated.

    Outputs are dropped: nbgrader clears them before it runs the notebook anyway, and Colab's outputs (widget
    views, odd metadata) do not always pass nbformat's validation.
    """
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
            cell["outputs"], cell["execution_count"] = [], None
        else:
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
    nbformat.validate(nb)
    return nb


def describe_cell(cells, index: int) -> str:
    """``cell 5 "import os; os._exit(1)"`` (counted from 1, as a person counts), with the grade id if any."""
    cell = cells[index]
    meta = cell.get("metadata", {}).get("nbgrader")
    grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
    first = next((line.strip() for line in cell.get("source", "").splitlines() if line.strip()), "")
    first = first if len(first) <= 50 else first[:47] + "..."
    return f"cell {index + 1}" + (f" '{grade_id}'" if grade_id else "") + (f' "{first}"' if first else " (empty)")


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
    import copy

    expected = {}
    release_ids = {}
    for cell in release.cells:
        meta = cell.get("metadata", {}).get("nbgrader")
        if isinstance(meta, dict) and meta.get("grade_id"):
            expected[meta["grade_id"]] = meta
            release_ids[meta["grade_id"]] = cell.get("id")
    notes = []
    for index, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("nbgrader")
        if meta is None:
            continue
        if not isinstance(meta, dict):
            del cell.metadata["nbgrader"]
            notes.append(f"{describe_cell(nb.cells, index)}: unreadable grading metadata removed")
            continue
        if meta.get("grade_id") not in expected and (meta.get("grade") or meta.get("solution")
                                                      or meta.get("locked") or meta.get("grade_id")):
            what = describe_cell(nb.cells, index)
            del cell.metadata["nbgrader"]
            notes.append(f"{what}: its grading metadata names no cell of this assignment (edited?): graded as an "
                         "ordinary cell")
    by_id: dict[str, list[int]] = {}
    for index, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("nbgrader")
        if isinstance(meta, dict) and meta.get("grade_id") in expected:
            by_id.setdefault(meta["grade_id"], []).append(index)
    for grade_id, where in by_id.items():
        if len(where) > 1:
            same = [i for i in where if nb.cells[i].get("id") and nb.cells[i].get("id") == release_ids[grade_id]]
            keep = same[0] if len(same) == 1 else where[0]
            copies = [i for i in where if i != keep]
            notes.append(f"cell '{grade_id}' appears {len(where)} times (a copied cell keeps its grading "
                         f"metadata): graded cell {keep + 1}; the copy at "
                         f"{', '.join(f'cell {i + 1}' for i in copies)} ran as an ordinary cell")
            for i in copies:
                del nb.cells[i].metadata["nbgrader"]
        index = keep if len(where) > 1 else where[0]
        meta, wanted = nb.cells[index].metadata["nbgrader"], expected[grade_id]
        changed = [f"{key} {meta.get(key)!r} instead of {wanted.get(key)!r}" for key in GRADING_KEYS
                   if meta.get(key) != wanted.get(key)]
        if changed:
            nb.cells[index].metadata["nbgrader"] = copy.deepcopy(wanted)
            notes.append(f"{describe_cell(nb.cells, index)}: its grading metadata was edited ({', '.join(changed)}):"
                         " put back as released")
    return notes


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
        base = make_course(scratch, root)  # its nbgrader_config.py keeps hidden tests out of the feedback
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
            previous = chosen.get((sub.id, sub.assignment))
            if previous is not None:
                previous.status = "duplicate"
                sub.notes.append(f"several files for {sub.assignment}: graded the newest, {sub.path.name}")
            chosen[(sub.id, sub.assignment)] = sub
        # Each student is graded in an own copy of the course (and own HOME): whatever their code does
        # to the files around it (the gradebook included) cannot touch another student's grades.
        for student in sorted({s for s, _ in chosen}):  # student ids: safe folder names
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
    (out / "grading.log").write_text("\n".join(log_lines), encoding="utf-8")

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
        rows.append({"student": sub.student, "student_id": sub.id, "assignment": sub.assignment or "", "score": score,
                     "max_score": maximum.get(sub.assignment) or "" if sub.assignment else "",
                     "status": sub.status, "message": "; ".join(sub.notes), "file": str(sub.path)})
    if assignment:  # a row for every student who sent something, even if not this assignment
        have = {r["student"] for r in rows if r["assignment"] == assignment}
        ids = {s.student: s.id for s in subs}
        for student in sorted({s.student for s in subs if s.status != "unidentified" or s.assignment} - have):
            rows.append({"student": student, "student_id": ids[student], "assignment": assignment, "score": 0.0,
                         "max_score": maximum.get(assignment) or "", "status": "missing",
                         "message": f"no notebook for {assignment}", "file": ""})
    rows.sort(key=lambda r: (r["student"], r["assignment"]))
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
    return rows


def _grade_one(course: Path, env: dict, sub: Submission, assignment: str, notebook: str, release,
               timeout: int | None, log) -> list[str]:
    """Autograde one student's notebook in its own course copy and write its feedback; return the log.

    ``sub.status`` becomes ``graded`` only if nbgrader wrote the autograded notebook and its scores; else
    ``failed``, with what went wrong in words.
    """
    import nbformat

    try:
        nb = sub.notebook
        sub.notes += repair_grading_marks(nb, release)
        restored = restore_deleted_cells(nb, release)
        if restored:
            sub.notes.append(f"deleted cell(s) put back before grading: {', '.join(restored)}")
        nb = normalise(nb)
    except Exception as error:  # noqa: BLE001 - any damage we cannot repair: say so, grade the others
        sub.status = "failed"
        sub.notes.append(f"the notebook is damaged and could not be repaired for grading "
                         f"({type(error).__name__}: {str(error)[:200]})")
        return [f"# {sub.id}: not graded: {error!r}"]
    folder = course / "submitted" / sub.id / assignment
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / notebook)
    args = ["autograde", assignment, "--student", sub.id, "--force", "--OverwriteCells.add_missing_cells=True"]
    if timeout:
        args.append(f"--Execute.timeout={int(timeout)}")
    log(f"Autograding {sub.student} ({sub.id}) / {assignment}...")
    result = nbgrader(course, *args, env=env, check=False)
    lines = [f"$ nbgrader {' '.join(args)}  # {sub.student}", result.stdout, result.stderr]
    cells = _autograded(course, sub.id, assignment, notebook)
    scores = read_scores(course, assignment, notebook, [sub.id]) if cells else {}
    if result.returncode != 0 or not cells or sub.id not in scores:
        sub.status = "failed"
        sub.notes.append(f"nbgrader could not grade this notebook: {explain_failure(result.stdout + result.stderr)}"
                         " (details in grading.log)")
        return lines
    sub.status, sub.score = "graded", scores[sub.id]
    timed_out = [describe_cell(cells, i) for i, c in enumerate(cells)
                 if any(o.get("ename") == "CellTimeoutError" for o in c.get("outputs", []))]
    if timed_out:
        sub.notes.append(f"cell(s) stopped at the {timeout or 'configured'} s timeout: {', '.join(timed_out)}")
    died = [i for i, c in enumerate(cells) if any(o.get("ename") == KERNEL_DIED and "not run" not in o.get("evalue", "")
                                                  for o in c.get("outputs", []))]
    if died:
        lost = [c.metadata.get("nbgrader", {}).get("grade_id") for c in cells[died[0]:]
                if c.get("metadata", {}).get("nbgrader", {}).get("grade")]
        sub.notes.append(f"the kernel died in {describe_cell(cells, died[0])} (a crash, os._exit or out of memory): "
                         f"the cells before it kept their points, the tests from there on score 0"
                         + (f" ({', '.join(lost)})" if lost else ""))
    feedback = nbgrader(course, "generate_feedback", assignment, "--student", sub.id, "--force", env=env,
                        check=False)
    lines += [f"$ nbgrader generate_feedback {assignment} --student {sub.id} --force  # {sub.student}",
              feedback.stdout, feedback.stderr]
    if feedback.returncode != 0:
        sub.notes.append("no feedback: nbgrader generate_feedback failed (see grading.log)")
    return lines


FAILURES = [  # (pattern in nbgrader's log, what it means for an instructor)
    (r"Duplicate grade id: (\S+)", "two cells carry the grade id {0} (a copied graded cell)"),
    (r"Kernel died|DeadKernelError", "the kernel died (a crash, os._exit or out of memory)"),
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
        print(f"{row['student']:<20} {row['student_id']:<24} {row['assignment']:<28} {score:<12} {row['message']}")
    print(f"\n{len(rows)} row(s) in {args.out / 'grades.csv'}; feedback in {args.out / 'feedback'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
