"""`python -m helpers.instructor` on crafted submissions of notebook 01: every awkward case, one grading run."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from grading import SHORT_TIMEOUT_S

from helpers.instructor import intake, marks, preprocessors, repair

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "01-pretrained-models"
NAME = f"{ASSIGNMENT}.ipynb"
SOLUTION = ROOT / "solutions" / ASSIGNMENT / NAME
RELEASE = ROOT / "notebooks" / ASSIGNMENT / NAME
# course_cache: the feature cache, which the notebooks that other tests run at the same time (pytest-xdist) fill.
SKIP_DIRS = {".git", "__pycache__", ".pytest_cache", ".ruff_cache", ".ipynb_checkpoints", "course_cache"}


def tree_digest(root: Path) -> dict[str, str]:
    """``{relative path: sha256}`` of every file under ``root`` (caches and .git left out)."""
    digests = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
        for name in filenames:
            path = Path(dirpath) / name
            digests[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


def answers_of_solution() -> dict[str, str]:
    """The reference answer of every solution cell, without the BEGIN/END SOLUTION markers."""
    answers = {}
    for cell in nbformat.read(SOLUTION, as_version=4).cells:
        if marks.is_solution(cell):
            answers[marks.grade_id(cell)] = "\n".join(line for line in cell.source.splitlines()
                                                  if not re.search(r"### (BEGIN|END) SOLUTION", line))
    return answers


def points() -> dict[str, float]:
    return {marks.grade_id(c): marks.points(c) for c in nbformat.read(SOLUTION, as_version=4).cells
            if marks.is_grade(c)}


def student_notebook(changes: dict[str, str | None] | None = None) -> nbformat.NotebookNode:
    """The release filled with the reference answers; ``changes`` replaces (or, with None, deletes) cells."""
    nb = nbformat.read(RELEASE, as_version=4)
    sources = {**answers_of_solution(), **(changes or {})}
    kept = []
    for cell in nb.cells:
        grade_id = marks.grade_id(cell)
        if grade_id in sources:
            if sources[grade_id] is None:
                continue
            cell.source = sources[grade_id]
        kept.append(cell)
    nb.cells = kept
    return nb


def as_colab(nb: nbformat.NotebookNode) -> str:
    """The notebook as Colab saves it: nbformat 4.0, no cell ids, Colab metadata, sources as lists of lines."""
    data = json.loads(nbformat.writes(nb))
    data["nbformat_minor"] = 0
    data["metadata"] = {"colab": {"provenance": [], "name": f"Copy of {NAME}"},
                        "kernelspec": {"name": "python3", "display_name": "Python 3"},
                        "language_info": {"name": "python"}, "accelerator": "GPU"}
    for index, cell in enumerate(data["cells"]):
        cell.pop("id", None)
        cell["metadata"]["id"] = f"Xc{index:04d}ab"
        cell["source"] = cell["source"].splitlines(keepends=True) if isinstance(cell["source"], str) else cell["source"]
    return json.dumps(data, indent=2)


# Asleep, not busy: the tests that run meanwhile keep the CPU.
INFINITE_LOOP = "import time\n\nwhile True:\n    time.sleep(0.1)"
GUTTED_TEST = "pass  # the student emptied the test"
WRONG_SPLIT = "def split_model(model, layer_name):\n    return model, model"
MEGABYTES = 'print(("megabytes of output " * 40 + "\\n") * 6000)\n\n' + answers_of_solution()["count-parameters"]
VANDAL_AND_SNOOP = """import os, pathlib, re, shutil
# Look for the hidden tests: in the release the student has and in the grading copy around this notebook.
found = []
for place in [RELEASE_PATH, "../../../notebooks/NAME", "../../../solutions/NAME", "../../../release/NAME",
              "../../../source/NAME"]:
    try:
        text = pathlib.Path(place).read_text(errors="ignore")
    except OSError:
        continue
    found += re.findall(r'assert answer == .(\\w).', text)
answer = found[0] if found else "c"
# Write and delete files around: here, in HOME, in the course folder above.
pathlib.Path("left-behind.txt").write_text("x")
pathlib.Path("deleted-again.txt").write_text("x")
os.remove("deleted-again.txt")
pathlib.Path(os.path.expanduser("~/graded-intruder.txt")).write_text("x")
pathlib.Path("../../../intruder.txt").write_text("x")
shutil.rmtree("../../../solutions", ignore_errors=True)
shutil.rmtree("../../../notebooks", ignore_errors=True)
""".replace("RELEASE_PATH", repr(str(RELEASE))).replace("NAME", f"{ASSIGNMENT}/{NAME}")
# A right answer built with keras.Model(inputs=[...]): calling it in the test cell makes Keras warn on stderr.
WARNING_SPLIT = answers_of_solution()["split-model"].replace(
    "keras.Model(model.input, cut.output,", "keras.Model(inputs=[model.input], outputs=cut.output,").replace(
    "keras.Model(head_input, x,", "keras.Model(inputs=[head_input], outputs=x,")
# Wrong (NumPy floats, which a hidden test rejects after a displayed value), displayed values on, and every
# grade of the grading copy's gradebook given its maximum as a manual score.
DISPLAY_AND_FORGE = """get_ipython().ast_node_interactivity = "all"
import pathlib, sqlite3
for _place in [pathlib.Path.cwd(), *pathlib.Path.cwd().parents]:
    if (_place / "gradebook.db").exists():
        with sqlite3.connect(_place / "gradebook.db") as _db:
            _db.execute("UPDATE grade SET manual_score = "
                       "(SELECT max_score FROM grade_cells WHERE grade_cells.id = grade.cell_id)")
""" + answers_of_solution()["top-k"].replace("float(probabilities[i])", "probabilities[i]")
# A wrong answer whose cell installs an input transformer that turns every later cell with an assert into `pass`.
REWRITER = """def _rewrite(lines):
    return ["pass\\n"] if any("assert" in line for line in lines) else lines


get_ipython().input_transformers_cleanup.append(_rewrite)
""" + WRONG_SPLIT


def write_submissions(subs: Path) -> None:
    """The crafted class: one student per file layout, several awkward cases in each notebook that runs (each
    one costs a run of 01), both layouts mixed."""
    for folder in ("editor/.ipynb_checkpoints", "colab", "renamer", "pdf", "empty"):
        (subs / folder).mkdir(parents=True)
    # A checkpoint copy alone: top_k loops forever, its test emptied; split_model wrong, installing a rewriter of
    # the tests, its test deleted.
    nbformat.write(student_notebook({"top-k": INFINITE_LOOP, "top-k-tests": GUTTED_TEST,
                                     "split-model": REWRITER, "split-model-tests": None}),
                   subs / "editor" / ".ipynb_checkpoints" / f"{ASSIGNMENT}-checkpoint.ipynb")
    (subs / "colab" / f"Copy of {ASSIGNMENT} (1).ipynb").write_text(
        as_colab(student_notebook({"count-parameters-tests": None, "split-model": WARNING_SPLIT})))
    (subs / "colab" / f"Copy of {ASSIGNMENT}.py").write_text("# Colab: File > Download > Download .py\n")
    (subs / "colab" / f"Copy of {ASSIGNMENT}.html").write_text("<html></html>")
    nbformat.write(student_notebook({"top-k": DISPLAY_AND_FORGE, "count-parameters": MEGABYTES,
                                     "read-experiment": VANDAL_AND_SNOOP}), subs / f"vandal - Copy of {NAME}")
    # The release untouched (nothing answered), renamed in a folder of its own.
    (subs / "renamer" / "my homework final.ipynb").write_text(RELEASE.read_text())
    (subs / f"notjson - Copy of {NAME}").write_text("this is not a notebook {")
    (subs / "pdf" / f"Copy of {ASSIGNMENT}.pdf").write_bytes(b"%PDF-1.4 not a notebook")
    nbformat.write(nbformat.v4.new_notebook(), subs / f"emma - Copy of {NAME}")
    (subs / "stray.ipynb").write_text(RELEASE.read_text())


@dataclass
class Graded:
    """One run of the command on the crafted class, and what was around it before and after."""

    result: subprocess.CompletedProcess
    out: Path
    table: list[dict]  # grades.csv as read
    details: dict  # scores.json
    course_before: dict
    course_after: dict
    subs_before: dict
    subs_after: dict

    @property
    def rows(self) -> dict[str, dict]:
        return {row["student"]: row for row in self.table}

    def score(self, student: str) -> float:
        row = self.rows[student]
        assert row["status"] == "graded", row
        assert float(row["max_score"]) == sum(points().values()), row
        return float(row["score"])

    def cells(self, student: str) -> dict[str, float]:
        return self.details[student][ASSIGNMENT]["cells"]

    def file(self, kind: str, student: str) -> Path:
        """``kind`` (autograded, feedback) of ``student``: the notebook, or the HTML feedback."""
        name = NAME if kind == "autograded" else f"{ASSIGNMENT}.html"
        return self.out / kind / self.rows[student]["student_id"] / ASSIGNMENT / name


@pytest.fixture(scope="module")
def graded(tmp_path_factory, small_assets) -> Graded:
    """``python -m helpers.instructor`` once on the crafted class (the slow part: every test below reads it)."""
    where = tmp_path_factory.mktemp("command")
    subs, out = where / "submissions", where / "results"
    write_submissions(subs)
    course_before, subs_before = tree_digest(ROOT), tree_digest(subs)
    result = subprocess.run([sys.executable, "-m", "helpers.instructor", str(subs), "--assignment", ASSIGNMENT,
                             "--timeout", str(SHORT_TIMEOUT_S), "--out", str(out)], capture_output=True, text=True,
                            cwd=where, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    details = json.loads((out / "scores.json").read_text(encoding="utf-8"))
    return Graded(result, out, table, details, course_before, tree_digest(ROOT), subs_before, tree_digest(subs))


STUDENTS = {"editor", "colab", "renamer", "vandal", "notjson", "pdf", "emma", "stray", "empty"}


@pytest.mark.grading
def test_one_row_per_student(graded):
    assert len(graded.table) == len(graded.rows), "a student has two rows"
    assert set(graded.rows) == STUDENTS, graded.rows
    assert all(row["assignment"] in (ASSIGNMENT, "") for row in graded.table)
    assert (graded.out / "grading.log").exists()


@pytest.mark.grading
def test_the_untouched_release_scores_zero_and_runs_to_the_end(graded):
    """nbgrader end to end on 01's blank release (tests/test_wrong_answers.py judges every blank release in the
    solution's kernel): no graded test passes, and every code cell still ran."""
    assert graded.score("renamer") == 0, graded.rows["renamer"]
    assert not any(graded.cells("renamer").values()), graded.cells("renamer")
    run = nbformat.read(graded.file("autograded", "renamer"), as_version=4)
    assert all(c.execution_count for c in run.cells if c.cell_type == "code" and c.source.strip()), (
        "autograding the blank release stopped before the end")


@pytest.mark.grading
def test_infinite_loop_costs_only_its_test(graded):
    """(the editor's split_model is wrong too, and rewrites the tests: test_an_input_transformer_...)"""
    lost = points()["top-k-tests"] + points()["split-model-tests"]
    assert graded.score("editor") == sum(points().values()) - lost, graded.rows["editor"]
    assert graded.cells("editor")["top-k-tests"] == 0
    message = graded.rows["editor"]["message"]
    assert f"{SHORT_TIMEOUT_S} s timeout" in message and "top-k" in message, message


@pytest.mark.grading
def test_emptied_and_deleted_tests_are_restored(graded):
    """Hidden tests included: the answers behind them (an infinite loop, a wrong split_model) lose their points;
    the emptied test alone would have passed (editor's notebook is a checkpoint copy alone:
    test_a_checkpoint_copy_alone_...)."""
    lost = points()["top-k-tests"] + points()["split-model-tests"]
    assert graded.score("editor") == sum(points().values()) - lost, graded.rows["editor"]
    assert "split-model-tests" in graded.rows["editor"]["message"]
    assert graded.cells("editor")["top-k-tests"] == 0 and graded.cells("editor")["split-model-tests"] == 0
    assert "assert top_k(probs, names, k=1)" in graded.file("autograded", "editor").read_text()


@pytest.mark.grading
def test_feedback_shows_messages_not_hidden_tests(graded):
    feedback = graded.file("feedback", "editor").read_text()
    assert "BEGIN HIDDEN TESTS" not in feedback, "the feedback for students shows the hidden tests"
    assert "k=1" not in feedback and "AssertionError" in feedback


@pytest.mark.grading
def test_colab_file_with_a_deleted_test_gets_full_marks(graded):
    """Saved by Colab (nbformat 4.0, no ids); the deleted test is put back and its right answer passes (so does
    its split_model that makes Keras warn: test_a_warning_on_stderr_...)."""
    assert graded.score("colab") == sum(points().values()), graded.rows["colab"]
    assert "count-parameters-tests" in graded.rows["colab"]["message"]
    assert graded.cells("colab")["count-parameters-tests"] == points()["count-parameters-tests"]


@pytest.mark.grading
def test_renamed_file_is_recognised_by_its_cells(graded):
    """(The renamer's notebook is the untouched release: test_the_untouched_release_...)"""
    assert "renamed" in graded.rows["renamer"]["message"] and "my homework final" in graded.rows["renamer"]["message"]
    assert not any("renamed" in graded.rows[s]["message"] for s in ("colab", "editor", "vandal"))


@pytest.mark.grading
def test_vandal_loses_only_the_exercise(graded):
    """Megabytes of output, files written and deleted around, hidden tests not found (and a wrong top_k:
    test_a_displayed_value_...)."""
    lost = points()["read-experiment-tests"] + points()["chance-tests"] + points()["top-k-tests"]
    assert graded.score("vandal") == sum(points().values()) - lost, graded.rows["vandal"]
    assert graded.file("feedback", "vandal").exists()


@pytest.mark.grading
@pytest.mark.parametrize("student, status, words", [
    ("notjson", "invalid", "not a valid Jupyter notebook"), ("pdf", "invalid", "not a notebook (.ipynb)"),
    ("emma", "empty", "empty notebook"), ("stray", "unidentified", "whose file"),
])
def test_ungradable_file_gets_a_clear_row(graded, student, status, words):
    row = graded.rows[student]
    assert row["status"] == status and words in row["message"], row
    if status != "unidentified":  # known assignment, nothing to grade: 0 for it
        assert float(row["score"]) == 0 and row["assignment"] == ASSIGNMENT, row


@pytest.mark.grading
def test_colab_downloads_beside_the_notebook_are_named_in_its_row(graded):
    """Colab's .py and .html downloads beside the notebook: one row, the graded notebook's, naming them."""
    assert [row["student"] for row in graded.table].count("colab") == 1
    message = graded.rows["colab"]["message"]
    assert f"Copy of {ASSIGNMENT}.py" in message and f"Copy of {ASSIGNMENT}.html" in message, message


@pytest.mark.grading
def test_a_checkpoint_copy_alone_is_graded_with_a_note(graded):
    lost = points()["top-k-tests"] + points()["split-model-tests"]  # its wrong answers
    assert graded.score("editor") == sum(points().values()) - lost, graded.rows["editor"]
    assert "checkpoint" in graded.rows["editor"]["message"], graded.rows["editor"]
    assert not any("checkpoint" in graded.rows[s]["message"] for s in ("colab", "renamer", "vandal"))


@pytest.mark.grading
def test_an_empty_folder_gets_a_missing_row(graded):
    row = graded.rows["empty"]
    assert row["status"] == "missing" and "empty" in row["message"] and float(row["score"]) == 0, row


@pytest.mark.grading
def test_a_warning_on_stderr_costs_no_points_and_shows_in_the_feedback(graded):
    """A right split_model built with keras.Model(inputs=[...]): Keras warns on stderr in the test cell."""
    nb = nbformat.read(graded.file("autograded", "colab"), as_version=4)
    test = next(c for c in nb.cells if marks.grade_id(c) == "split-model-tests")
    assert any(o.get("name") == "stderr" and "UserWarning" in o.get("text", "") for o in test.outputs), test.outputs
    assert graded.cells("colab")["split-model-tests"] == points()["split-model-tests"]
    assert "UserWarning" in graded.file("feedback", "colab").read_text()


@pytest.mark.grading
def test_a_displayed_value_does_not_pass_a_failing_test(graded):
    """ast_node_interactivity = "all": the test cell displays a value, then a hidden test fails."""
    nb = nbformat.read(graded.file("autograded", "vandal"), as_version=4)
    test = next(c for c in nb.cells if marks.grade_id(c) == "top-k-tests")
    kinds = [o.output_type for o in test.outputs]
    assert "execute_result" in kinds and kinds.index("execute_result") < kinds.index("error"), kinds
    assert graded.cells("vandal")["top-k-tests"] == 0, graded.cells("vandal")


@pytest.mark.grading
def test_a_manual_score_written_into_the_gradebook_is_not_a_grade(graded):
    """The vandal's top_k also tries to give every grade of its grading copy's gradebook its maximum as a manual
    score. In the sandbox it finds no gradebook, so nothing is forged (without a sandbox, the forgery is ignored
    and named: test_grade_robust); its score is its verdicts' (test_vandal_loses_only_the_exercise)."""
    assert graded.cells("vandal")["top-k-tests"] == 0, graded.cells("vandal")
    assert "manual scores" not in graded.rows["vandal"]["message"], graded.rows["vandal"]


@pytest.mark.grading
def test_an_input_transformer_does_not_rewrite_the_tests(graded):
    """It turns every later cell with an assert into `pass`: the tests run as released, and the row says so."""
    row = graded.rows["editor"]
    assert graded.cells("editor")["split-model-tests"] == 0, graded.cells("editor")
    assert graded.cells("editor")["count-parameters-tests"] == points()["count-parameters-tests"]  # not rewritten
    assert "input transformer" in row["message"] and "_rewrite" in row["message"], row
    honest = ("colab", "renamer")
    assert not any("tampering found" in graded.rows[s]["message"] for s in honest), graded.rows


@pytest.mark.grading
def test_nothing_outside_the_grading_copy_changed(graded):
    assert graded.course_after == graded.course_before, "grading changed files of the course folder"
    assert graded.subs_after == graded.subs_before, "grading changed a student's file"
    assert not (Path(os.path.expanduser("~")) / "graded-intruder.txt").exists(), "student code wrote into HOME"


# --- fast unit tests of the pieces -----------------------------------------------------------------------


@pytest.mark.parametrize("name, expected", [
    (f"Copy of {NAME}", ASSIGNMENT), (f"Copy of Copy of {ASSIGNMENT} (2).ipynb", ASSIGNMENT),
    (NAME, ASSIGNMENT), ("copy of  01-pretrained-models(1).ipynb", ASSIGNMENT), ("homework.ipynb", "homework"),
    (f"Copy of {ASSIGNMENT}.pdf", ASSIGNMENT),
])
def test_clean_name(name, expected):
    assert intake.clean_name(name) == expected


def test_collect_layouts(tmp_path):
    (tmp_path / "Alice Smith" / "deep").mkdir(parents=True)
    (tmp_path / "Alice Smith" / "deep" / f"Copy of {NAME}").write_text("{}")
    (tmp_path / f"bob - Copy of {NAME}").write_text("{}")
    (tmp_path / NAME).write_text("{}")
    (tmp_path / ".DS_Store").write_text("")
    found = {(s.student, s.name, s.status) for s in intake.collect(tmp_path)}
    assert found == {("Alice Smith", f"Copy of {NAME}", "pending"), ("bob", f"Copy of {NAME}", "pending"),
                     ("01-pretrained-models", NAME, "unidentified")}


def test_collect_loses_no_folder(tmp_path):
    """A checkpoint copy counts where the notebook is missing; a folder with nothing gradable is `missing`."""
    (tmp_path / "ann" / ".ipynb_checkpoints").mkdir(parents=True)
    (tmp_path / "ann" / ".ipynb_checkpoints" / f"{ASSIGNMENT}-checkpoint.ipynb").write_text("{}")
    (tmp_path / "bo" / ".ipynb_checkpoints").mkdir(parents=True)
    (tmp_path / "bo" / NAME).write_text("{}")
    (tmp_path / "bo" / ".ipynb_checkpoints" / f"{ASSIGNMENT}-checkpoint.ipynb").write_text("{}")
    (tmp_path / "cy").mkdir()
    (tmp_path / "di" / "__MACOSX").mkdir(parents=True)
    (tmp_path / "di" / "__MACOSX" / "._x").write_text("")
    found = {s.student: s for s in intake.collect(tmp_path)}
    assert found["ann"].status == "pending" and "checkpoint" in found["ann"].notes[0]
    assert intake.clean_name(found["ann"].name) == ASSIGNMENT
    assert found["bo"].path == tmp_path / "bo" / NAME and not found["bo"].notes  # the notebook, not its checkpoint
    assert found["cy"].status == "missing" and "empty" in found["cy"].notes[0]
    assert found["di"].status == "missing" and "hidden" in found["di"].notes[0]
    assert len(intake.collect(tmp_path)) == 4


def test_files_beside_a_notebook_are_named_in_its_row(tmp_path):
    from helpers.instructor import report

    (tmp_path / "ann").mkdir()
    nbformat.write(student_notebook(), tmp_path / "ann" / f"Copy of {NAME}")
    for extension in ("py", "html"):
        (tmp_path / "ann" / f"Copy of {ASSIGNMENT}.{extension}").write_text("x")
    (tmp_path / "bo").mkdir()
    (tmp_path / "bo" / f"Copy of {ASSIGNMENT}.pdf").write_text("x")
    (tmp_path / "bo" / f"Copy of {ASSIGNMENT}.py").write_text("x")
    subs = intake.collect(tmp_path)
    release = nbformat.read(RELEASE, as_version=4)
    for sub in subs:
        intake.read_submission(sub, {ASSIGNMENT: NAME}, {ASSIGNMENT: release})
    rows = {r["student"]: r for r in report.rows_of(subs, {ASSIGNMENT: NAME}, ASSIGNMENT)}
    assert len(report.rows_of(subs, {ASSIGNMENT: NAME}, ASSIGNMENT)) == 2
    assert f"Copy of {ASSIGNMENT}.py" in rows["ann"]["message"] and ".html" in rows["ann"]["message"], rows["ann"]
    assert rows["bo"]["status"] == "invalid" and f"Copy of {ASSIGNMENT}.py" in rows["bo"]["message"], rows["bo"]


def test_restore_deleted_cells_puts_them_back_in_place():
    release = nbformat.read(RELEASE, as_version=4)
    nb = student_notebook({"split-model-tests": None, "read-experiment": None, "read-experiment-tests": None})
    restored = repair.restore_deleted_cells(nb, release)
    assert restored == ["split-model-tests", "read-experiment", "read-experiment-tests"]
    order = [marks.grade_id(c) for c in nb.cells]
    assert order.index("split-model-tests") == order.index("split-model") + 1
    assert order.index("read-experiment-tests") == order.index("read-experiment") + 1


def test_normalise_colab_notebook():
    nb = nbformat.reads(as_colab(student_notebook()), as_version=4)
    assert nb.nbformat_minor == 0 and "id" not in nb.cells[0]
    fixed = repair.normalise(nb)
    assert fixed.nbformat_minor >= 5
    ids = [c.id for c in fixed.cells]
    assert len(set(ids)) == len(ids) and "top-k-tests" in ids


def test_short_tracebacks_in_feedback_of_test_cells():
    test = nbformat.v4.new_code_cell("assert secret == 1", metadata={"nbgrader": {"grade": True, "locked": True}})
    answer = nbformat.v4.new_code_cell("x = 1/0")
    for cell in (test, answer):
        cell.outputs = [nbformat.v4.new_output("error", ename="E", evalue="v", traceback=["line with secret", "E: v"])]
    nb = nbformat.v4.new_notebook(cells=[test, answer])
    nb, _ = preprocessors.ShortTracebacks()(nb, {})  # as nbconvert calls it
    assert nb.cells[0].outputs[0].traceback == ["E: v"]
    assert nb.cells[1].outputs[0].traceback == ["line with secret", "E: v"]


def test_release_has_no_hidden_tests_or_solutions():
    text = RELEASE.read_text()
    assert "BEGIN HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text
    assert not re.search(r'assert answer == "', text)
