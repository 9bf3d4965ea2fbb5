"""The nbgrader round trip, per assignment: release in sync, full marks, zero for a blank, a wrong answer loses.

Each assignment is autograded once, with the untouched release (it must score 0 and run to the end). For 01, two
more submissions go through nbgrader: the solution (full marks) and its first wrong answer (a mistake in each of
its four graded cells): the end-to-end proof that nbgrader, with the course's preprocessors, gives a graded test
cell its points when it runs cleanly and takes them when it raises. That is what ``tests/test_wrong_answers.py``
then checks of every solution (full marks from the verdicts of its one run) and every wrong answer, in one kernel
per notebook, so that no solution runs twice in a test run. (A submission runs its whole notebook again, a minute
or more for 03 to 05; the mechanism it proves is the same in every notebook.)
"""

import nbformat
import pytest
from grading import ASSIGNMENTS, ROOT, autograde, generate, make_course, notebook_name, with_answers
from wrong_answers import WRONG

pytestmark = pytest.mark.grading
END_TO_END = ASSIGNMENTS[:1]  # 01, the notebook that runs fastest: its solution and a wrong answer under nbgrader


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def graded(request, tmp_path_factory, small_assets):
    """``(assignment, course folder, release path, scores)`` after one autograding run of every submission."""
    assignment = request.param
    course = make_course(tmp_path_factory.mktemp(assignment))
    release = generate(course, assignment)
    solution = ROOT / "solutions" / assignment / notebook_name(assignment)
    answers, _ = next(iter(WRONG[assignment].values()))
    submissions = {"blank": nbformat.read(release, as_version=4)}
    if assignment in END_TO_END:
        submissions["solution"] = nbformat.read(solution, as_version=4)
        submissions["wrong"] = with_answers(solution, answers)
    return assignment, course, release, autograde(course, assignment, submissions)


def test_release_matches_generator(graded):
    """notebooks/ is exactly what `nbgrader generate_assignment` makes from solutions/."""
    assignment, _, generated, _ = graded
    committed = ROOT / "notebooks" / assignment / notebook_name(assignment)
    assert committed.exists(), f"{committed} is missing: run `nbgrader generate_assignment {assignment} --force`"
    assert committed.read_text() == generated.read_text(), (
        f"{committed} differs from the generator's output: run `nbgrader generate_assignment {assignment} --force`"
    )


def test_release_hides_solutions_and_tests(graded):
    _, _, generated, _ = graded
    text = generated.read_text()
    assert "BEGIN HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text
    release = nbformat.read(generated, as_version=4)
    assert all(not cell.get("outputs") for cell in release.cells if cell.cell_type == "code")


@pytest.mark.parametrize("graded", END_TO_END, indirect=True)
def test_solution_gets_full_marks_under_nbgrader(graded):
    *_, scores = graded
    full = scores["solution"]
    assert full["max_score"] > 0
    assert full["score"] == full["max_score"], f"the solution lost points: {full['cells']}"


def test_blank_release_scores_zero(graded):
    *_, scores = graded
    assert scores["blank"]["score"] == 0, f"the blank release scored: {scores['blank']['cells']}"


def test_blank_release_runs_to_the_end(graded):
    assignment, course, *_ = graded
    blank_run = nbformat.read(course / "autograded" / "blank" / assignment / notebook_name(assignment), as_version=4)
    assert all(c.execution_count for c in blank_run.cells if c.cell_type == "code" and c.source.strip()), (
        "autograding the blank release stopped before the end"
    )


@pytest.mark.parametrize("graded", END_TO_END, indirect=True)
def test_wrong_answer_loses_under_nbgrader(graded):
    assignment, *_, scores = graded
    case, (_, losing) = next(iter(WRONG[assignment].items()))
    full, wrong = scores["solution"], scores["wrong"]
    for grade_id in sorted(losing):
        assert wrong["cells"][grade_id] < full["cells"][grade_id], (
            f"wrong answer {case!r} did not lose points in {grade_id} under nbgrader: {wrong['cells']}"
        )
