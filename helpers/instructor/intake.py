"""Intake: whose file is this, and which assignment.

Accepted layouts of a submissions folder (both may be mixed):

- one folder per student: ``alice/Copy of 01-pretrained-models.ipynb`` (files at any depth below
  ``alice/``; the folder name is the student);
- flat files named ``<student> - <file name>``: ``alice - Copy of 01-pretrained-models.ipynb``.

A file is matched to an assignment by its name once Colab's ``Copy of`` prefix(es) and a browser's
`` (1)`` suffix are removed (``Copy of 01-pretrained-models (1).ipynb`` is ``01-pretrained-models``).
A renamed notebook whose nbgrader cells belong to exactly one assignment is that assignment, with a note.
Files that are not notebooks, empty notebooks and notebooks of no known assignment get a clear message.

No one is lost (:func:`fold_extras`): every student folder and flat-file name gets a row; a folder with nothing
gradable (empty, or only hidden files) gets a ``missing`` row saying what it holds. A folder whose only copy of a
notebook is Jupyter's checkpoint (``.ipynb_checkpoints/NAME-checkpoint.ipynb``, the last save Jupyter kept) is
graded from it, with a note: it is the student's own work, and a row that says where the grade came from lets
the instructor check it, where a zero would lose it. Files beside a notebook that are not notebooks (Colab's
``.py`` and ``.html`` downloads, a PDF) are named in that notebook's row, not given rows of their own.

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

from .marks import grade_ids

__all__ = ["CHECKPOINTS", "FLAT_SEPARATOR", "Submission", "clean_name", "collect", "fold_extras",
           "read_submission", "student_id", "student_ids", "student_name"]

FLAT_SEPARATOR = " - "
CHECKPOINTS = ".ipynb_checkpoints"  # Jupyter's folder of checkpoint copies, NAME-checkpoint.ipynb


@dataclass
class Submission:
    """One student's file, and what became of it."""

    student: str  # the name exactly as given (folder or file name prefix), NFC-normalised, outer spaces removed
    path: Path
    name: str = ""  # the file's name without the "<student> - " prefix of the flat layout
    assignment: str | None = None
    notebook: object | None = None  # nbformat.NotebookNode once read
    status: str = "pending"  # pending, graded, invalid, empty, unidentified, duplicate, skipped, failed, missing,
    # or beside (a file that is not a notebook, named in the row of its student's notebook)
    notes: list[str] = field(default_factory=list)
    score: dict | None = None  # report.score_of's entry once graded
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
        shorter = re.sub(r"-checkpoint$", "", shorter)  # Jupyter's checkpoint copy
        if shorter == stem:
            return stem.strip()
        stem = shorter


def _hidden(name: str) -> bool:
    return name.startswith(".") or name == "__MACOSX"


def _folder_files(student: str, folder: Path) -> list[Submission]:
    """The files of a student's folder; checkpoint copies of notebooks it lacks; else one ``missing`` entry."""
    inside = sorted(p for p in folder.rglob("*") if p.is_file())
    visible = [p for p in inside if not any(_hidden(part) for part in p.relative_to(folder).parts)]
    found = [Submission(student, p, p.name) for p in visible]
    have = {clean_name(p.name) for p in visible if p.name.lower().endswith(".ipynb")}
    for path in inside:
        parts = path.relative_to(folder).parts
        if (len(parts) > 1 and parts[-2] == CHECKPOINTS and path.name.endswith("-checkpoint.ipynb")
                and not any(_hidden(part) for part in parts[:-2]) and clean_name(path.name) not in have):
            have.add(clean_name(path.name))
            sub = Submission(student, path, path.name)
            sub.notes.append(f"only Jupyter's checkpoint copy was found ({'/'.join(parts)}): graded it (the last "
                             "save Jupyter kept, possibly older than the student's notebook)")
            found.append(sub)
    if not found:
        hidden = [str(p.relative_to(folder)) for p in inside]
        sub = Submission(student, folder, "", status="missing")
        sub.notes.append(f"no notebook: the folder {folder.name}/ is empty" if not hidden else
                         f"no notebook: the folder {folder.name}/ holds only hidden files ({', '.join(hidden[:5])}"
                         + (", ..." if len(hidden) > 5 else "") + ")")
        found.append(sub)
    return found


def collect(submissions_dir: Path) -> list[Submission]:
    """Every file of ``submissions_dir`` as a :class:`Submission` with its student (see the layouts above)."""
    found = []
    for path in sorted(Path(submissions_dir).iterdir()):
        if _hidden(path.name):
            continue
        if path.is_dir():
            found += _folder_files(student_name(path.name), path)
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


def _is_notebook_file(sub: Submission) -> bool:
    return (sub.name or sub.path.name).lower().endswith(".ipynb")


def fold_extras(subs: list[Submission]) -> None:
    """Name each student's files that are not notebooks in the row of a notebook (status ``beside``).

    A file goes to the row of its student's notebook for the same assignment, else to the student's first
    notebook row; a student without a notebook keeps one row per assignment, naming the other files there.
    """
    rowless = ("duplicate", "skipped", "beside", "missing")
    for student in sorted({s.student for s in subs}):
        mine = [s for s in subs if s.student == student]
        notebooks = [s for s in mine if _is_notebook_file(s) and s.status not in rowless]
        extras = [s for s in mine if not _is_notebook_file(s) and s.status == "invalid"]
        named: dict[int, list[str]] = {}
        for extra in extras:
            same = [s for s in mine if _is_notebook_file(s) and s.assignment and s.assignment == extra.assignment]
            rows = [s for s in same if s.status not in rowless] or ([] if same else notebooks)
            if same and not rows:  # its notebook is not graded this run
                extra.status = "skipped"
                continue
            if not rows:
                rows = [s for s in extras if s.assignment == extra.assignment and s.status == "invalid"]
                if rows[0] is extra:
                    continue
            extra.status = "beside"
            named.setdefault(id(rows[0]), []).append(extra.name or extra.path.name)
        for sub in mine:
            if id(sub) in named:
                sub.notes.append(f"also found, not graded (not notebooks): {', '.join(named[id(sub)])}")


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
