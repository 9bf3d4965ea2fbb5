"""Every wrong answer of our own loses points in the graded cells it names: one kernel per notebook.

The solution runs once, without a single error; each wrong answer is then swapped into that kernel (see
``tests/inkernel.py``) and must make each graded test cell it names raise, with a message. Putting the solution
back must make them pass again, so that one case cannot leak into the next.
"""

from __future__ import annotations

import pytest
from grading import ASSIGNMENTS, ROOT, notebook_name
from inkernel import SolutionKernel
from wrong_answers import WRONG

pytestmark = pytest.mark.grading

CASES = [(assignment, case) for assignment in ASSIGNMENTS for case in WRONG.get(assignment, {})]


@pytest.fixture(scope="module")
def kernel(request, tmp_path_factory, small_assets):
    """The solution of ``request.param`` executed once in a kernel (pytest groups the tests by notebook)."""
    assignment = request.param
    solution = ROOT / "solutions" / assignment / notebook_name(assignment)
    with SolutionKernel(solution, tmp_path_factory.mktemp(assignment)) as running:
        yield running


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_notebook_has_wrong_answers(assignment):
    assert WRONG.get(assignment), f"no wrong answers of our own for {assignment} in tests/wrong_answers/"


@pytest.mark.parametrize("kernel", ASSIGNMENTS, indirect=True, scope="module")
def test_solution_runs_without_an_error(kernel):
    """Every cell of the solution, graded tests and hidden tests included, runs cleanly (what nbval checked)."""
    assert not kernel.errors, f"the solution raised: {kernel.errors}"
    assert not kernel.found, f"the grader's guard named hooks in the solution's run (its row would say tampering): " \
                             f"{kernel.found}"


@pytest.mark.parametrize("kernel", ASSIGNMENTS, indirect=True, scope="module")
def test_no_fit_shows_a_zero_loss(kernel):
    """A custom train_step without its own loss tracker makes Keras 3's fit print ``loss: 0.0000e+00``."""
    printed = ["".join(output.get("text", "") for output in cell.get("outputs", []))
               for cell in kernel.nb.cells if cell.cell_type == "code"]
    zero = [index for index, text in enumerate(printed) if "loss: 0.0000e+00" in text]
    assert not zero, f"fit printed a loss of 0 in code cell(s) {zero}: keep a keras.metrics.Mean loss tracker"


@pytest.mark.parametrize(("kernel", "case"), CASES, ids=[f"{a[:2]}: {c[:60]}" for a, c in CASES], indirect=["kernel"],
                         scope="module")
def test_wrong_answer_loses(kernel, case):
    assignment = kernel.path.stem
    assert not kernel.errors, f"the solution itself raised, so wrong answers cannot be judged: {kernel.errors}"
    answers, losing = WRONG[assignment][case]
    run = kernel.try_answers(answers, losing)
    for name in sorted(losing):
        assert run.errors.get(name), f"wrong answer {case!r} passed {name} (it must lose points there)"
        assert ":" in run.errors[name] and run.errors[name].split(":", 1)[1].strip(), (
            f"{name} failed wrong answer {case!r} without a message for the student: {run.errors[name]}"
        )
    assert not run.restore_errors, f"after {case!r}, the solution failed again: {run.restore_errors}"
