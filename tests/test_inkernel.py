"""The in-kernel wrong-answer runner on a tiny notebook: it reports a failing test, a passing one, and restores."""

import nbformat
import pytest
from inkernel import SolutionKernel, bound_names


def _cell(source, grade_id=None, test=False):
    cell = nbformat.v4.new_code_cell(source)
    if grade_id:
        cell.metadata["nbgrader"] = {"grade_id": grade_id, "grade": test, "solution": not test, "locked": test,
                                     "points": 1 if test else None, "schema_version": 3}
    return cell


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    nb = nbformat.v4.new_notebook(cells=[
        _cell("calls = []"),
        _cell("def double(x):\n    return 2 * x", "double"),
        _cell("value = double(21)\ncalls.append(value)"),
        _cell('assert value == 42, f"double(21) gave {value}"', "double-tests", test=True),
        _cell('assert double(0) == 0, "double(0) must be 0"', "zero-tests", test=True),
        _cell("def half(x):\n    return x / 2", "half"),
        _cell("calls.append('half')"),
        _cell('assert half(8) == 4, "half(8) must be 4"', "half-tests", test=True),
    ])
    where = tmp_path_factory.mktemp("tiny")
    nbformat.write(nb, where / "tiny.ipynb")
    with SolutionKernel(where / "tiny.ipynb", where / "run") as running:
        yield running


def test_solution_runs_clean(kernel):
    assert kernel.errors == {}


def test_wrong_answer_makes_its_tests_raise_and_is_undone(kernel):
    run = kernel.try_answers({"double": "def double(x):\n    return x + 2"}, {"zero-tests"})
    assert run.errors == {"double-tests": "AssertionError: double(21) gave 23", "zero-tests": "AssertionError: "
                          "double(0) must be 0"}
    assert run.restore_errors == {}


def test_right_answer_reports_no_error(kernel):
    run = kernel.try_answers({"double": "def double(x):\n    return x * 2"}, {"zero-tests"})
    assert run.errors == {"double-tests": None, "zero-tests": None}


def test_cells_after_the_last_named_test_are_not_run(kernel):
    run = kernel.try_answers({"double": "def double(x):\n    return 0"}, {"double-tests"})
    assert set(run.errors) == {"double-tests"}  # range ends at the last test named...
    assert run.restore_errors == {}


def test_restore_leaves_a_state_that_fails_without_it(kernel):
    broken = kernel.try_answers({"double": "def double(x):\n    return -x"}, {"zero-tests"})
    assert broken.errors["double-tests"] and broken.errors["zero-tests"] is None  # -0 == 0: only 21 -> -21 fails
    assert kernel.try_answers({"double": "def double(x):\n    return 2 * x"}, {"zero-tests"}).errors == {
        "double-tests": None, "zero-tests": None}


def test_two_mistakes_run_apart(kernel):
    """Each mistake re-runs only its own cells (double: 1 to 4; half: 5 to 7), each alone, each restored."""
    answers = {"double": "def double(x):\n    return x + 2", "half": "def half(x):\n    return x // 3"}
    groups = kernel.groups(answers, {"zero-tests", "half-tests"})
    assert groups == [({1: answers["double"]}, {"zero-tests"}), ({5: answers["half"]}, {"half-tests"})]
    run = kernel.try_answers(answers, {"zero-tests", "half-tests"})
    assert run.errors == {"double-tests": "AssertionError: double(21) gave 23",
                          "zero-tests": "AssertionError: double(0) must be 0",
                          "half-tests": "AssertionError: half(8) must be 4"}
    assert run.restore_errors == {}


def test_an_answer_without_its_own_test_stays_with_the_next_mistake(kernel):
    answers = {"double": "def double(x):\n    return 2 * x", "half": "def half(x):\n    return double(x)"}
    assert kernel.groups(answers, {"half-tests"}) == [({1: answers["double"], 5: answers["half"]}, {"half-tests"})]


def test_each_test_runs_under_the_grader_s_guard(kernel):
    """A hook that swallows failing assertions is taken away for the tests, as the grader does (last: the hook
    stays in this kernel for its own cells, as a student's would)."""
    hide = "def double(x):\n    return x + 2\nget_ipython().set_custom_exc((AssertionError,), lambda *a, **k: None)"
    run = kernel.try_answers({"double": hide}, {"zero-tests"})
    assert run.errors["zero-tests"] == "AssertionError: double(0) must be 0"
    assert run.restore_errors == {}
    assert kernel.found == []  # the solution's own run: nothing named


def test_bound_names_are_the_cell_s_top_level_bindings():
    source = ("import numpy as np, os.path\nfrom math import pi as tau\nrate, (low, high) = 1, (2, 3)\n"
              "total += 1\nfor i in range(3):\n    inner = i\ndef f(x):\n    hidden = x\nclass C:\n    field = 1\n"
              "squares = [n * n for n in range(3)]\nwith open('x') as handle:\n    pass")
    assert bound_names(source) == ["np", "os", "tau", "rate", "low", "high", "total", "i", "inner", "f", "C",
                                   "squares", "handle"]
    assert bound_names("%matplotlib inline") == []


def test_the_blank_release_fails_every_test_even_where_the_solution_left_values(tmp_path):
    """The release's answers in place (a function raising NotImplementedError, a value cell that raises before
    binding its value): every test raises, although the solution's run had bound both names."""
    solution = nbformat.v4.new_notebook(cells=[
        _cell("def double(x):\n    return 2 * x", "double"),
        _cell("assert double(2) == 4, 'double(2) must be 4'", "double-tests", test=True),
        _cell("rate = double(0.25)", "rate"),
        _cell("assert rate == 0.5, 'rate must be 0.5'", "rate-tests", test=True),
        _cell("assert rate < 1, 'rate is a fraction'", "fraction-tests", test=True),
    ])
    release = nbformat.from_dict(solution)
    release.cells[0].source = "def double(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()"
    release.cells[2].source = "# YOUR CODE HERE\nraise NotImplementedError()"
    nbformat.write(solution, tmp_path / "blank.ipynb")
    with SolutionKernel(tmp_path / "blank.ipynb", tmp_path / "run") as running:
        assert running.errors == {}
        errors = running.try_blank(release)
        assert set(errors) == {"double-tests", "rate-tests", "fraction-tests"}
        assert all(errors.values()), errors
        assert errors["rate-tests"].startswith("NameError"), errors  # the solution's rate was taken away
        with pytest.raises(AssertionError, match="try_blank"):
            running.try_answers({"double": "def double(x):\n    return x"}, {"double-tests"})
