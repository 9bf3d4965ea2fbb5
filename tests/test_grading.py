"""The grading round trip, per assignment: release in sync, full marks, zero for a blank, wrong answers lose."""

import nbformat
import pytest
from grading import ASSIGNMENTS, ROOT, autograde, generate, make_course, notebook_name, with_answers
from wrong_answers import WRONG

pytestmark = pytest.mark.grading


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_matches_generator(assignment, tmp_path):
    """notebooks/ is exactly what `nbgrader generate_assignment` makes from solutions/."""
    generated = generate(make_course(tmp_path), assignment)
    committed = ROOT / "notebooks" / assignment / notebook_name(assignment)
    assert committed.exists(), f"{committed} is missing: run `nbgrader generate_assignment {assignment} --force`"
    assert committed.read_text() == generated.read_text(), (
        f"{committed} differs from the generator's output: run `nbgrader generate_assignment {assignment} --force`"
    )
    release = nbformat.read(generated, as_version=4)
    text = generated.read_text()
    assert "BEGIN HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text
    assert all(not cell.get("outputs") for cell in release.cells if cell.cell_type == "code")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_autograde_scores(assignment, tmp_path, small_assets):
    """Solutions get full marks, the untouched release 0 (and runs to the end), every wrong answer loses points."""
    course = make_course(tmp_path)
    release = generate(course, assignment)
    solution = ROOT / "solutions" / assignment / notebook_name(assignment)
    cases = WRONG.get(assignment, {})
    assert cases, f"no wrong answers of our own for {assignment} in tests/wrong_answers.py"
    submissions = {"solution": nbformat.read(solution, as_version=4), "blank": nbformat.read(release, as_version=4)}
    for index, (answers, _) in enumerate(cases.values()):
        submissions[f"wrong{index}"] = with_answers(solution, answers)
    scores = autograde(course, assignment, submissions)

    full = scores["solution"]
    assert full["max_score"] > 0
    assert full["score"] == full["max_score"], f"the solution lost points: {full['cells']}"
    assert scores["blank"]["score"] == 0, f"the blank release scored: {scores['blank']['cells']}"
    blank_run = nbformat.read(course / "autograded" / "blank" / assignment / notebook_name(assignment), as_version=4)
    assert all(c.execution_count for c in blank_run.cells if c.cell_type == "code" and c.source.strip()), (
        "autograding the blank release stopped before the end"
    )
    for index, (case, (_, losing)) in enumerate(cases.items()):
        result = scores[f"wrong{index}"]
        assert result["score"] < full["max_score"], f"wrong answer {case!r} got full marks"
        for grade_id in losing:
            assert result["cells"][grade_id] < full["cells"][grade_id], (
                f"wrong answer {case!r} did not lose points in {grade_id}: {result['cells']}"
            )
