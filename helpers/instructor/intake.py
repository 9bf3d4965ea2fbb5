"""Intake: whose file is this, and which assignment.

Accepted layouts of a submissions folder (both may be mixed):

- one folder per student: ``alice/Copy of 01-pretrained-models.ipynb`` (files at any depth below
  ``alice/``; the folder name is the student);
- flat files named ``<student> - <file name>``: ``alice - Copy of 01-pretrained-models.ipynb``.

A file is matched to an assignment by its name once Colab's ``Copy of`` prefix(es) and a browser's
`` (1)`` suffix are removed (``Copy of 01-pretrained-models (1).ipynb`` is ``01-pretrained-models``).
A renamed notebook whose nbgrader cells belong to exactly one assignment is that assignment, with a note.
Files that are not notebooks, empty notebooks and notebooks of no known assignment get a clear message.

Students: each is shown by name exactly as given (Unicode NFC, outer spaces removed) and known to nbgrader
by an id of its own, ``zoe-martin-1a2b3c4d``: the name in ASCII plus a hash of the exact name, so that no
two students share an id (王伟 and 李娜, Zoë and Zoé, anna and Anna), and none starts with ``-``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["FLAT_SEPARATOR", "Submission", "clean_name", "collect", "grade_ids", "read_submission", "student_id",
           "student_ids", "student_name"]

FLAT_SEPARATOR = " - "


@dataclass
class Submission:
    """One student's file, and what became of it."""

    student: str  # the name exactly as given (folder or file name prefix), NFC-normalised, outer spaces removed
    path: Path
    name: str = ""  # the file's name without the "<student> - " prefix of the flat layout
    assignment: str | None = None
    notebook: object | None = None  # nbformat.NotebookNode once read
    status: str = "pending"  # pending, graded, invalid, empty, unidentified, duplicate, skipped, failed
    notes: list[str] = field(default_factory=list)
    score: dict | None = None  # course.read_scores' entry once graded
    id: str = ""  # the nbgrader student id and folder name: unique in the class (see student_ids)


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


def _hidden(name: str) -> bool:
    return name.startswith(".") or name == "__MACOSX"


def collect(submissions_dir: Path) -> list[Submission]:
    """Every file of ``submissions_dir`` as a :class:`Submission` with its student (see the layouts above)."""
    found = []
    for path in sorted(Path(submissions_dir).iterdir()):
        if _hidden(path.name):
            continue
        if path.is_dir():
            for inner in sorted(p for p in path.rglob("*") if p.is_file()):
                if not any(_hidden(part) for part in inner.relative_to(path).parts):
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
    """Read the file, find its assignment, or say what is wrong with it (sets ``sub.status``).

    ``known`` is ``{assignment: notebook file name}``, ``releases`` ``{assignment: released notebook}``.
    """
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
        if len(matches) != 1:
            sub.status = "unidentified"
            sub.notes.append(f"{name}: cannot tell which assignment this is (expected a name like "
                             f"'Copy of {next(iter(known.values()), 'NN-name.ipynb')}')")
            return
        sub.assignment = matches[0]
        sub.notes.append(f"{name} was renamed: graded as {matches[0]} (its cells belong to that assignment)")
    sub.notebook = nb
