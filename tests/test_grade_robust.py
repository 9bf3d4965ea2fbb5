"""Every student gets a grade, and no row says `graded` unless nbgrader graded it (issue 10, sections 4 and 5).

Also what plain nbgrader 0.9 does with this course's ``nbgrader_config.py`` (section 6): feedback without
hidden tests, edited and deleted test cells, a dying kernel. A tiny assignment of pure Python (two answers,
two test cells with hidden tests) keeps these runs to seconds per student.
"""

from __future__ import annotations

import copy
import csv
import json
import shutil
import subprocess
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest
from grading import SHORT_TIMEOUT_S
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from helpers.instructor import batch, grader, intake, marks, repair, report
from helpers.instructor import course as courses

ROOT = Path(__file__).resolve().parents[1]
TINY = "tiny"
POINTS = {"double-tests": 2, "greet-tests": 3}
FULL = sum(POINTS.values())
RIGHT = {"double": "def double(x):\n    return 2 * x", "greet": 'def greet(name):\n    return "hi " + name'}
WRONG = {"double": "def double(x):\n    return x + 2", "greet": 'def greet(name):\n    return "hi " + name.upper()'}
CRASH = "import os\nos._exit(1)  # the kernel dies here"


def _meta(grade_id, grade=False, solution=False, locked=False, points=None):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "solution": solution, "schema_version": 3}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def tiny_source() -> nbformat.NotebookNode:
    """The instructor version: ``greet-tests`` sits under its own locked heading, as the course's often do."""
    return new_notebook(cells=[
        new_markdown_cell("# Tiny", metadata=_meta("md-1", locked=True)),
        new_code_cell("### BEGIN SOLUTION\n" + RIGHT["double"] + "\n### END SOLUTION", metadata=_meta("double",
                                                                                                     solution=True)),
        new_code_cell('assert double(2) == 4, "double(2) should be 4"\n### BEGIN HIDDEN TESTS\n'
                      'secret = -7  # SECRET-CODE\nassert double(secret) == -14, "double must work for negative '
                      'numbers"\n### END HIDDEN TESTS',
                      metadata=_meta("double-tests", grade=True, locked=True, points=POINTS["double-tests"])),
        new_markdown_cell("Now greet.", metadata=_meta("md-2", locked=True)),
        new_code_cell("### BEGIN SOLUTION\n" + RIGHT["greet"] + "\n### END SOLUTION", metadata=_meta("greet",
                                                                                                   solution=True)),
        new_markdown_cell("Test it.", metadata=_meta("md-3", locked=True)),
        new_code_cell('assert greet("a") == "hi a"\n### BEGIN HIDDEN TESTS\n'
                      'assert greet("SECRET-CODE") == "hi SECRET-CODE"\n### END HIDDEN TESTS',
                      metadata=_meta("greet-tests", grade=True, locked=True, points=POINTS["greet-tests"])),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})


def make_tiny_course(root: Path) -> Path:
    """A course with the real nbgrader_config.py and helpers/, and the tiny assignment, its release generated."""
    courses.make_course(root.parent, only=[], name=root.name)  # the grader's course copy, without its solutions
    (root / "solutions" / TINY).mkdir(parents=True)
    nbformat.write(tiny_source(), root / "solutions" / TINY / f"{TINY}.ipynb")
    courses.nbgrader(root, "generate_assignment", TINY, "--force")
    (root / "gradebook.db").unlink()
    return root


@pytest.fixture(scope="module")
def tiny_course(tmp_path_factory):
    return make_tiny_course(tmp_path_factory.mktemp("tiny") / "course")


def release(course: Path) -> nbformat.NotebookNode:
    return nbformat.read(course / "notebooks" / TINY / f"{TINY}.ipynb", as_version=4)


def answered(course: Path, double=True, greet=True) -> nbformat.NotebookNode:
    """The release with right (True) or wrong (False) answers."""
    nb = release(course)
    for cell in nb.cells:
        if marks.grade_id(cell) == "double":
            cell.source = RIGHT["double"] if double else WRONG["double"]
        if marks.grade_id(cell) == "greet":
            cell.source = RIGHT["greet"] if greet else WRONG["greet"]
    return nb


# --- section 4: names in any script, accents, case, option-like: one row each, the right score -------------

# name -> (double right?, greet right?); names that the old ids merged get different scores.
NAMES = {
    "王伟": (True, True), "李娜": (True, False), "Иван Петров": (True, False), "محمد علي": (False, True),
    "Zoë": (False, True), "Zoé": (True, True), "anna": (False, False), "Anna": (True, True),
    "--help": (True, False), "-rf": (False, True),
}


def expected_score(double: bool, greet: bool) -> float:
    return POINTS["double-tests"] * double + POINTS["greet-tests"] * greet


def _crashing(course):
    nb = answered(course)
    nb.cells.insert(marks.index_of(nb, "md-2"), new_code_cell(CRASH))
    return nb


def _copier(course):
    """Copied (Jupyter copy-paste keeps metadata, new cell id) a test cell and an answer cell to experiment."""
    nb = answered(course)
    test = copy.deepcopy(nb.cells[marks.index_of(nb, "double-tests")])
    test.id = "pasted-test"
    nb.cells.insert(marks.index_of(nb, "double-tests"), test)  # the copy lands above the original
    answer = copy.deepcopy(nb.cells[marks.index_of(nb, "greet")])
    answer.id = "pasted-answer"
    answer.source = 'def greet(name):\n    return "hello " + name  # an experiment'
    nb.cells.insert(marks.index_of(nb, "greet"), answer)  # and the original (right) answer runs last
    return nb


def _metadata_editor(course):
    """Edited test-cell metadata: points raised, schema version removed, a grade id renamed."""
    nb = answered(course)
    meta = nb.cells[marks.index_of(nb, "double-tests")].metadata.nbgrader
    meta["points"] = 20
    del meta["schema_version"]
    nb.cells[marks.index_of(nb, "greet-tests")].metadata.nbgrader["grade_id"] = "my-tests"
    return nb


def _deleter(course):
    """Deleted greet-tests (under a locked heading: nbgrader's own add_missing_cells fails there)."""
    nb = answered(course, greet=False)
    nb.cells.pop(marks.index_of(nb, "greet-tests"))
    return nb


HIDE_ERRORS = """ip = get_ipython()
ip.set_custom_exc((AssertionError,), lambda shell, etype, value, tb, tb_offset=None: None)  # no error shown
ip.events.register("post_run_cell", lambda result: setattr(result, "error_in_exec", None))  # the reply says ok
"""


def _hider(course):
    """A wrong double whose cell hides errors: no error output (nbgrader's rule) and an ``ok`` reply."""
    nb = answered(course, double=False)
    nb.cells[marks.index_of(nb, "double")].source = HIDE_ERRORS + WRONG["double"]
    return nb


def _warner(course):
    """Right answers; double warns on stderr, so its test cell has stderr output (nbgrader's rule: 0)."""
    nb = answered(course)
    nb.cells[marks.index_of(nb, "double")].source = (
        'import sys\n\n\ndef double(x):\n    print("double: a warning", file=sys.stderr)\n    return 2 * x')
    return nb


@pytest.fixture(scope="module")
def graded_class(tiny_course, tmp_path_factory):
    subs = tmp_path_factory.mktemp("class") / "submissions"
    subs.mkdir()
    for number, (name, (double, greet)) in enumerate(NAMES.items()):
        nb = answered(tiny_course, double, greet)
        if number % 2:  # flat files and folders, mixed
            nbformat.write(nb, subs / f"{name} - Copy of {TINY}.ipynb")
        else:
            folder = subs / (unicodedata.normalize("NFD", name) if name == "Zoë" else name)  # as macOS writes it
            folder.mkdir()
            nbformat.write(nb, folder / f"{TINY}.ipynb")
    for name, make in {"crash": _crashing, "copier": _copier, "editor": _metadata_editor,
                       "deleter": _deleter, "hider": _hider, "warner": _warner}.items():
        nbformat.write(make(tiny_course), subs / f"{name} - {TINY}.ipynb")
    out = subs.parent / "results"
    rows = grader.grade(subs, out, TINY, timeout=SHORT_TIMEOUT_S, root=tiny_course, log=lambda *a: None)
    with open(out / "grades.csv", encoding="utf-8", newline="") as handle:
        table = list(csv.DictReader(handle))
    return rows, out, table


def row_of(graded_class, student: str) -> dict:
    """The returned row of ``student``."""
    rows, _, _ = graded_class
    return next(r for r in rows if r["student"] == student)


@pytest.mark.grading
def test_every_student_gets_one_row_under_the_name_as_given(graded_class):
    rows, _, table = graded_class
    assert len(table) == len(rows) == len(NAMES) + 6
    assert set(NAMES) <= {row["student"] for row in table}, "a name is not shown exactly as given"


@pytest.mark.grading
def test_student_ids_are_unique_and_safe(graded_class):
    _, _, table = graded_class
    ids = [row["student_id"] for row in table]
    assert len({i.casefold() for i in ids}) == len(ids), f"two students share an id: {ids}"
    assert all(not i.startswith("-") and i.isascii() for i in ids), ids
    by_name = {row["student"]: row["student_id"] for row in table}
    assert by_name["Zoë"].startswith("zoe-") and by_name["anna"].startswith("anna-"), by_name


@pytest.mark.grading
@pytest.mark.parametrize("name", list(NAMES))
def test_each_name_gets_its_own_score_and_feedback(graded_class, name):
    _, out, table = graded_class
    row = next(r for r in table if r["student"] == name)
    assert row["status"] == "graded", row
    assert float(row["score"]) == expected_score(*NAMES[name]), row
    assert float(row["max_score"]) == FULL, row
    assert (out / "feedback" / row["student_id"] / TINY / f"{TINY}.html").exists()


@pytest.mark.grading
def test_scores_json_has_the_points_of_each_cell(graded_class):
    _, out, _ = graded_class
    details = json.loads((out / "scores.json").read_text(encoding="utf-8"))
    assert details["李娜"][TINY]["cells"] == {"double-tests": 2.0, "greet-tests": 0.0}


# --- section 5: no silent zero ----------------------------------------------------------------------------


@pytest.mark.grading
def test_kernel_death_costs_the_cells_from_the_crash_on(graded_class):
    row = row_of(graded_class, "crash")
    assert row["status"] == "graded", row  # nbgrader did grade it, with SurviveDeadKernel
    assert row["score"] == POINTS["double-tests"], row  # passed before the crash: kept; greet-tests after: 0
    assert "kernel died in cell 4 \"import os\"" in row["message"] and "(greet-tests)" in row["message"], row


@pytest.mark.grading
def test_copied_graded_cells_are_repaired_and_graded(graded_class):
    row = row_of(graded_class, "copier")
    assert row["status"] == "graded" and row["score"] == FULL, row
    assert "'double-tests' appears 2 times" in row["message"] and "'greet' appears 2 times" in row["message"], row


@pytest.mark.grading
def test_edited_test_metadata_is_repaired_and_graded(graded_class):
    row = row_of(graded_class, "editor")
    # greet-tests (renamed) is put back and run: full marks need it to pass; the points stay 2 + 3.
    assert row["status"] == "graded" and row["score"] == FULL and row["max_score"] == FULL, row
    assert "points 20" in row["message"] and "my-tests" in row["message"] and "greet-tests" in row["message"], row


@pytest.mark.grading
def test_test_cell_deleted_under_a_heading_is_put_back(graded_class):
    _, out, _ = graded_class
    row = row_of(graded_class, "deleter")
    assert row["status"] == "graded" and row["score"] == POINTS["double-tests"], row  # greet is wrong: caught
    assert "greet-tests" in row["message"]
    feedback = (out / "feedback" / row["student_id"] / TINY / f"{TINY}.html").read_text()
    assert "SECRET" not in feedback and "BEGIN HIDDEN" not in feedback


@pytest.mark.grading
def test_hidden_errors_still_fail_and_the_row_names_the_hooks(graded_class):
    row = row_of(graded_class, "hider")
    assert row["status"] == "graded" and row["score"] == POINTS["greet-tests"], row  # double is wrong: caught
    assert "custom exception handler" in row["message"] and "post_run_cell callback" in row["message"], row
    assert not any("tampering found" in row_of(graded_class, name)["message"] for name in NAMES)


@pytest.mark.grading
def test_a_warning_on_stderr_costs_no_points(graded_class):
    _, out, _ = graded_class
    row = row_of(graded_class, "warner")
    assert row["status"] == "graded" and row["score"] == FULL, row
    assert "double: a warning" in (out / "feedback" / row["student_id"] / TINY / f"{TINY}.html").read_text()


def test_a_notebook_nbgrader_cannot_grade_is_failed_with_the_reason(tiny_course, tmp_path):
    """What nbgrader still fails on comes out as `failed` and a reason, never as `graded, 0`."""
    shutil.copytree(tiny_course, tmp_path / "course")
    log = ("[AutogradeApp | ERROR] There was an error processing assignment\n"
           "nbgrader.nbgraderformat.common.ValidationError: Duplicate grade id: double-tests\n")
    sub = intake.Submission("Zoë", tmp_path / "x.ipynb", id=intake.student_id("Zoë"))
    sub.notebook = answered(tiny_course)
    assert grader.submit(tmp_path / "course", sub, TINY, f"{TINY}.ipynb", release(tiny_course))
    grader.record(tmp_path / "course", sub, TINY, f"{TINY}.ipynb", batch.Outcome(False, log), SHORT_TIMEOUT_S,
                  release(tiny_course))
    assert sub.status == "failed" and sub.score is None
    assert "two cells carry the grade id double-tests" in sub.notes[-1], sub.notes


def _jobs(tiny_course: Path, where: Path, notebooks: dict) -> list:
    """One :class:`batch.Job` per ``{student: notebook}``, each in its own course copy with a gradebook."""
    base = where / "base"
    shutil.copytree(tiny_course, base)
    courses.nbgrader(base, "generate_assignment", TINY, "--force")  # the gradebook, as the grader makes it
    jobs = []
    for student, nb in notebooks.items():
        course = where / student / "course"
        shutil.copytree(base, course)
        folder = course / "submitted" / student / TINY
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{TINY}.ipynb")
        jobs.append(batch.Job(student, str(course), student, TINY, SHORT_TIMEOUT_S,
                              courses.grading_env(course, where / student / "home")))
    return jobs


_FORGED_LINE = batch.RESULT + json.dumps({"graded": False, "log": "FORGED"})
PRINTED_RESULT = f"import os\nos.system({json.dumps('echo ' + repr(_FORGED_LINE))})"
FORGE_MANUAL_SCORES = """import pathlib, sqlite3
for _place in [pathlib.Path.cwd(), *pathlib.Path.cwd().parents]:
    if (_place / "gradebook.db").exists():
        with sqlite3.connect(_place / "gradebook.db") as _db:
            _db.execute("UPDATE grade SET manual_score = "
                        "(SELECT max_score FROM grade_cells WHERE grade_cells.id = grade.cell_id)")
"""


@pytest.fixture(scope="module")
def batch_run(tiny_course, tmp_path_factory):
    """One batch of five jobs in one worker, as the grader sends them: ``killer``'s course copy kills the worker
    while it grades (a stand-in for the OOM killer); ``printer`` writes a forged result line to its process's
    stdout (as C code or a shell would); ``forger`` writes every grade's maximum into its copy's gradebook as a
    manual score (these jobs run no sandbox). ``(jobs, outcomes, progress lines)``."""
    notebooks = {"first": answered(tiny_course), "killer": answered(tiny_course),
                 "third": answered(tiny_course, greet=False), "printer": answered(tiny_course),
                 "forger": answered(tiny_course, greet=False)}
    notebooks["printer"].cells.insert(1, new_code_cell(PRINTED_RESULT))
    notebooks["forger"].cells.insert(1, new_code_cell(FORGE_MANUAL_SCORES))
    jobs = _jobs(tiny_course, tmp_path_factory.mktemp("batch"), notebooks)
    # The worker loads each course copy's nbgrader_config.py: this one kills it.
    with open(Path(jobs[1].course) / "nbgrader_config.py", "a", encoding="utf-8") as config:
        config.write("\nos._exit(9)\n")
    lines = []
    return jobs, batch.run_jobs(jobs, log=lines.append), lines


def test_a_dying_grading_process_costs_only_its_notebook(batch_run):
    """The worker killed while grading the second job: it fails with the reason; a new worker grades the rest."""
    jobs, outcomes, lines = batch_run
    assert [o.graded for o in outcomes] == [True, False, True, True, True], outcomes
    assert "the grading process died" in report.explain_failure(outcomes[1].log)
    assert [line.split(":")[0] for line in lines] == [f"[{i}/5] {job.student} / tiny" for i, job in
                                                      enumerate(jobs, start=1)]
    first = courses.read_scores(Path(jobs[0].course), TINY, f"{TINY}.ipynb", ["first"])["first"]
    third = courses.read_scores(Path(jobs[2].course), TINY, f"{TINY}.ipynb", ["third"])["third"]
    assert first["score"] == FULL and third["score"] == POINTS["double-tests"], (first, third)


def test_what_a_notebook_prints_is_never_read_as_a_result(batch_run):
    """The forged result line (``graded: false``, log ``FORGED``) is nobody's outcome: the printer is graded."""
    jobs, outcomes, _ = batch_run
    assert outcomes[3].graded, outcomes[3]
    assert not [o for o in outcomes if "FORGED" in o.log], outcomes
    printer = courses.read_scores(Path(jobs[3].course), TINY, f"{TINY}.ipynb", ["printer"])["printer"]
    assert printer["score"] == FULL, printer


def test_manual_scores_written_without_a_sandbox_are_ignored_and_named(tiny_course, batch_run):
    """Without the sandbox student code reaches its copy's gradebook and gives every grade its maximum as a manual
    score: the score comes from the verdicts all the same, and the run names what was written."""
    _, outcomes, _ = batch_run
    run = outcomes[4].runs[TINY]
    assert report.score_of(release(tiny_course), run)["score"] == POINTS["double-tests"], run
    assert any("manual scores written into the grading copy's gradebook" in note for note in run["tampering"]), run


@pytest.mark.parametrize("log, words", [
    ("nbclient.exceptions.DeadKernelError: Kernel died", "kernel died"),
    ("One or more notebooks in the assignment use an old version \nof the nbgrader metadata", "outdated"),
    ("KeyError: 'grade_id'", "no grade id"),
    ("[AutogradeApp | ERROR] something new: RuntimeError: boom", "RuntimeError: boom"),
    ("    nbclient.exceptions.CellTimeoutError: A cell timed out while it was being executed, after 4 seconds.\n"
     "    The message was: Timeout waiting for IOPub output.\n    Here is a preview of the cell contents:\n"
     "    -------------------\n    ['import sys', '', 'import keras']\n", 'cell starting "import sys"'),
    ("", "without saying why"),
])
def test_explain_failure(log, words):
    assert words in report.explain_failure(log)


# --- fast checks of the pieces ------------------------------------------------------------------------------


def test_scores_come_from_verdicts_and_the_releases_points():
    """Tests score their release's points if passed; answers graded by hand what nbgrader gave (0 until then)."""
    nb = tiny_source()
    nb.cells.append(new_code_cell("# YOUR ANSWER", metadata=_meta("by-hand", grade=True, solution=True, points=4)))
    nb.cells.append(new_markdown_cell("YOUR ANSWER HERE", metadata=_meta("essay", grade=True, solution=True,
                                                                        points=1)))
    run = {"verdicts": {"double-tests": {"passed": True, "error": ""}, "greet-tests": {"passed": False}},
           "manual": {"by-hand": None, "essay": 0}, "tampering": [], "timed_out": [], "died_in": None, "lost": []}
    score = report.score_of(nb, run)
    assert score == {"score": 2.0, "max_score": FULL + 5.0,
                     "cells": {"double-tests": 2.0, "greet-tests": 0.0, "by-hand": 0.0, "essay": 0.0}}, score
    assert report.score_of(nb, {**run, "verdicts": {}})["score"] == 0, "a test without a verdict scored"
    assert any("by-hand" in note for note in report.outcome_notes(run, SHORT_TIMEOUT_S))


def test_student_ids_are_unique_readable_and_safe():
    names = list(NAMES) + ["Zoe", "zoe", "ZOË", "Zoë Martin", "  spaced  ", "", "王伟2", "Ab" * 50]
    ids = intake.student_ids(names)
    assert len({i.casefold() for i in ids.values()}) == len(ids) == len(set(map(intake.student_name, names)))
    for name, sid in ids.items():
        assert sid.isascii() and sid[0].isalnum() and sid == sid.lower() and len(sid) <= 64, (name, sid)
    assert ids["Zoë Martin"].startswith("zoe-martin-") and ids["王伟"].startswith("student-")
    assert ids["Zoë"] != ids["Zoé"] and ids["anna"] != ids["Anna"]
    # The same name gives the same id whatever the Unicode form and the rest of the class.
    assert intake.student_ids([unicodedata.normalize("NFD", "Zoë")]) == {"Zoë": ids["Zoë"]}


def test_student_ids_lengthen_the_hash_on_a_collision(monkeypatch):
    real = intake.student_id
    monkeypatch.setattr(intake, "student_id", lambda name, digits=8: "same-id" if digits < 12 else real(name, digits))
    ids = intake.student_ids(["a", "b", "c"])
    assert len(set(ids.values())) == 3 and all(len(i.split("-")[-1]) == 12 for i in ids.values()), ids


def test_collect_keeps_names_as_given(tmp_path):
    (tmp_path / unicodedata.normalize("NFD", "Zoë")).mkdir()
    (tmp_path / unicodedata.normalize("NFD", "Zoë") / f"{TINY}.ipynb").write_text("{}")
    (tmp_path / f"Zoé - {TINY}.ipynb").write_text("{}")
    (tmp_path / f"-rf - {TINY}.ipynb").write_text("{}")
    found = {s.student: s.id for s in intake.collect(tmp_path)}
    assert set(found) == {"Zoë", "Zoé", "-rf"} and len(set(found.values())) == 3


def test_outputs_that_do_not_validate_are_dropped(tiny_course):
    nb = answered(tiny_course)
    nb.cells[marks.index_of(nb, "double")].outputs = [{"output_type": "display_data", "data": {"x": 1}}]  # invalid
    with pytest.raises(nbformat.ValidationError):
        nbformat.validate(nb)
    fixed = repair.normalise(nb)
    assert fixed.cells[marks.index_of(fixed, "double")].outputs == []


def test_repair_keeps_the_original_of_a_copied_cell_by_its_id(tiny_course):
    nb = _copier(tiny_course)
    notes = repair.repair_grading_marks(nb, release(tiny_course))
    kept = [c for c in nb.cells if marks.grade_id(c) == "double-tests"]
    assert len(kept) == 1 and kept[0].id == release(tiny_course).cells[marks.index_of(release(tiny_course),
                                                                               "double-tests")].id
    assert len(notes) == 2, notes
    assert repair.repair_grading_marks(answered(tiny_course), release(tiny_course)) == []


# --- section 6: what plain nbgrader 0.9 does with this course's nbgrader_config.py -------------------------


def plain_submissions(course: Path) -> dict[str, nbformat.NotebookNode]:
    """One student per case plain nbgrader meets; nbgrader takes them in this (name) order."""
    edited = answered(course, double=False)
    edited.cells[marks.index_of(edited, "double-tests")].source = "pass  # emptied by the student"
    deleted_after_answer = answered(course, double=False)
    deleted_after_answer.cells.pop(marks.index_of(deleted_after_answer, "double-tests"))
    deleted_under_heading = answered(course, greet=False)
    deleted_under_heading.cells.pop(marks.index_of(deleted_under_heading, "greet-tests"))
    renamed = answered(course)
    renamed.cells[marks.index_of(renamed, "greet-tests")].metadata.nbgrader["grade_id"] = "my-tests"
    no_schema = answered(course)
    del no_schema.cells[marks.index_of(no_schema, "double-tests")].metadata.nbgrader["schema_version"]
    return {"edited": edited, "deleted-after-answer": deleted_after_answer,
            "deleted-under-heading": deleted_under_heading, "crash": _crashing(course),
            "wrong": answered(course, double=False, greet=False), "copied": _copier(course),
            "renamed-id": renamed, "zz-no-schema": no_schema}  # the edited schema version comes last


def submit(course: Path, student: str, nb) -> None:
    (course / "submitted" / student / TINY).mkdir(parents=True)
    nbformat.write(nb, course / "submitted" / student / TINY / f"{TINY}.ipynb")


@dataclass
class PlainRun:
    """What plain nbgrader did with the course's config: logs, scores, which notebooks it wrote, feedback."""

    course: Path
    log: str = ""  # autograde's stdout and stderr
    scores: dict = field(default_factory=dict)
    autograded: set = field(default_factory=set)  # students whose autograded notebook was written
    plain_cells: list = field(default_factory=list)  # grade ids of "plain"'s autograded notebook
    plain_grades: dict = field(default_factory=dict)  # {grade id: (score, needs manual grade)}
    feedback: dict = field(default_factory=dict)  # {student: HTML} with the course's config
    default_feedback: dict = field(default_factory=dict)  # {student: HTML} with nbgrader's default


@pytest.fixture(scope="module")
def plain(tiny_course, tmp_path_factory) -> PlainRun:
    """``nbgrader autograde`` (with and without add_missing_cells) and ``generate_feedback`` (the course's
    config, then nbgrader's default), each run once: the tests below read what they did."""
    from nbgrader.api import Gradebook

    run = PlainRun(shutil.copytree(tiny_course, tmp_path_factory.mktemp("plain") / "course"))
    courses.nbgrader(run.course, "generate_assignment", TINY, "--force")
    students = plain_submissions(run.course)
    for student, nb in students.items():
        submit(run.course, student, nb)
    result = courses.nbgrader(run.course, "autograde", TINY, "--OverwriteCells.add_missing_cells=True", check=False)
    run.log = result.stdout + result.stderr
    run.scores = courses.read_scores(run.course, TINY, f"{TINY}.ipynb", students)
    # Without add_missing_cells (nbgrader's default): a deleted test cell after a right answer.
    right = students["deleted-after-answer"]
    right.cells[marks.index_of(right, "double")].source = RIGHT["double"]
    submit(run.course, "plain", right)
    courses.nbgrader(run.course, "autograde", TINY, "--student", "plain")
    run.autograded = {s for s in [*students, "plain"] if courses.autograded_cells(run.course, s, TINY, f"{TINY}.ipynb")}
    run.plain_cells = [marks.grade_id(c) for c in courses.autograded_cells(run.course, "plain", TINY, f"{TINY}.ipynb")]
    with Gradebook(f"sqlite:///{run.course / 'gradebook.db'}") as gb:
        run.plain_grades = {g.name: (g.score, g.needs_manual_grade)
                            for g in gb.find_submission_notebook(TINY, TINY, "plain").grades}
    run.feedback = feedback_html(run.course)
    config = (run.course / "nbgrader_config.py").read_text()
    (run.course / "nbgrader_config.py").write_text(config.replace("c.GenerateFeedback.preprocessors", "_unused"))
    run.default_feedback = feedback_html(run.course)
    return run


def feedback_html(course: Path) -> dict[str, str]:
    """``nbgrader generate_feedback`` for the class: ``{student: HTML}``."""
    courses.nbgrader(course, "generate_feedback", TINY, "--force")
    return {p.parts[-3]: p.read_text() for p in (course / "feedback").glob(f"*/{TINY}/{TINY}.html")}


@pytest.mark.grading
def test_plain_puts_an_edited_test_cell_back(plain):
    """Hidden tests included: the wrong answer behind it fails."""
    assert "edited" in plain.autograded and plain.scores["edited"]["cells"]["double-tests"] == 0


@pytest.mark.grading
def test_plain_add_missing_cells_puts_a_deleted_test_back_after_its_answer(plain):
    assert "deleted-after-answer" in plain.autograded
    assert plain.scores["deleted-after-answer"]["cells"]["double-tests"] == 0


@pytest.mark.grading
def test_plain_fails_on_a_test_deleted_under_a_heading(plain):
    """add_missing_cells raises KeyError after a locked markdown cell (hence repair.restore_deleted_cells);
    the gradebook then holds a silent 0."""
    assert "deleted-under-heading" not in plain.autograded and "KeyError: 'md-3'" in plain.log
    assert plain.scores["deleted-under-heading"]["score"] == 0


@pytest.mark.grading
@pytest.mark.parametrize("student", ["copied", "renamed-id"])
def test_plain_fails_on_a_copied_cell_or_an_edited_grade_id(plain, student):
    """nbgrader fails on the notebook (KeyError): a silent 0 again."""
    assert student not in plain.autograded and plain.scores[student]["score"] == 0


@pytest.mark.grading
def test_plain_stops_on_an_edited_schema_version(plain):
    """It stops the whole run (it came last here, so the others were graded)."""
    assert "zz-no-schema" not in plain.autograded and "old version" in plain.log


@pytest.mark.grading
def test_plain_with_the_course_config_survives_a_dead_kernel(plain):
    """The course's SurviveDeadKernel: the test before the crash keeps its points."""
    assert "crash" in plain.autograded
    assert plain.scores["crash"]["cells"] == {"double-tests": 2.0, "greet-tests": 0.0}


@pytest.mark.grading
def test_plain_default_leaves_a_deleted_test_for_a_manual_grade(plain):
    """Without add_missing_cells a deleted test cell is not put back nor run: a right answer gets 0 for it."""
    assert "plain" in plain.autograded and "double-tests" not in plain.plain_cells
    assert plain.plain_grades["double-tests"] == (0, True)
    assert plain.plain_grades["greet-tests"][0] == POINTS["greet-tests"]


@pytest.mark.grading
def test_plain_feedback_shows_no_hidden_test(plain):
    html = plain.feedback["wrong"]
    assert "SECRET" not in html and "HIDDEN TESTS" not in html and "double(2) should be 4" in html


@pytest.mark.grading
def test_plain_feedback_shows_a_failing_hidden_tests_message_not_its_code(plain):
    html = plain.feedback["edited"]
    assert "double must work for negative numbers" in html and "SECRET" not in html


@pytest.mark.grading
def test_nbgraders_default_feedback_would_show_hidden_tests(plain):
    """The control: without the course's feedback settings, the hidden tests are in the HTML."""
    assert "SECRET-CODE" in plain.default_feedback["wrong"], "nbgrader's default no longer shows hidden tests?"


def test_tiny_course_is_valid(tiny_course):
    result = subprocess.run([sys.executable, "-c", "import helpers.instructor.preprocessors"], cwd=tiny_course,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "BEGIN HIDDEN" not in (tiny_course / "notebooks" / TINY / f"{TINY}.ipynb").read_text()
