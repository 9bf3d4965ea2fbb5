"""Every solution gets full marks and every wrong answer of our own loses points: one kernel per notebook.

The solution runs once, without a single error: that run is its full-marks check (every graded test cell ran
cleanly; ``tests/test_grading.py`` shows on 01 that nbgrader scores it so) and carries 05's BatchNorm check as
probes. Each wrong answer is then swapped into that kernel (see ``tests/inkernel.py``) and must make each graded
test cell it names raise, with a message. Putting the solution back must make them pass again, so that one case
cannot leak into the next. Last, the release's answer cells go in (the blank release, as a student gets it):
every graded test must raise, so the release scores 0 (``tests/test_grading.py`` grades 01's blank release with
nbgrader too).

One class of tests per notebook, its kernel a class fixture: pytest-xdist (``--dist loadscope``, pyproject.toml) hands
each class to one worker, so the five solutions' kernels are shared between the two workers.
"""

from __future__ import annotations

import json

import nbformat
import pytest
from grading import ASSIGNMENTS, ROOT, notebook_name
from inkernel import Probe, SolutionKernel
from wrong_answers import WRONG

pytestmark = pytest.mark.grading

# 05's fine-tuning must leave every BatchNorm weight of the pretrained base as it was (gamma, beta, moving mean and
# variance bit-identical) and move some other weight of the base: a snapshot once its model is built, a comparison
# once it is fine-tuned, both run in the solution's own kernel (its own code path and epochs).
BN_SNAPSHOT = Probe(after="flowers_model = keras.Model(", source="""def _base_weights():
    return {layer.name: (isinstance(layer, keras.layers.BatchNormalization), [w.numpy().copy() for w in layer.weights])
            for layer in base.layers if layer.weights}
_before = _base_weights()""")
BN_COMPARE = Probe(after="freezing.unfreeze_from(base", source="""import json
_after = _base_weights()
_report = {"batchnorm": [], "batchnorm_changed": [], "others_changed": [], "fine_tune_epochs": len(fine_history.epoch)}
for _name, (_is_bn, _old) in _before.items():
    _moved = any(not np.array_equal(a, b) for a, b in zip(_old, _after[_name][1], strict=True))
    if _is_bn:
        _report["batchnorm"].append(_name)
    if _moved:
        _report["batchnorm_changed" if _is_bn else "others_changed"].append(_name)
print("REPORT " + json.dumps(_report))""")
PROBES = {"05-flowers-example": [BN_SNAPSHOT, BN_COMPARE]}


def pytest_generate_tests(metafunc):
    """Each notebook class's wrong answers of our own, one test each."""
    if "case" in metafunc.fixturenames:
        cases = list(WRONG.get(metafunc.cls.assignment, {}))
        metafunc.parametrize("case", cases, ids=[f"{metafunc.cls.assignment[:2]}: {c[:60]}" for c in cases])


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_notebook_has_wrong_answers(assignment):
    assert WRONG.get(assignment), f"no wrong answers of our own for {assignment} in tests/wrong_answers/"


def test_every_notebook_has_its_class():
    assert sorted(cls.assignment for cls in SolutionChecks.__subclasses__()) == ASSIGNMENTS, (
        "add a SolutionChecks class for each notebook at the end of tests/test_wrong_answers.py")


class SolutionChecks:
    """The checks of one solution (``assignment``), in one kernel; a subclass per notebook runs them."""

    assignment = ""

    @pytest.fixture(scope="class")
    def kernel(self, tmp_path_factory, small_assets):
        """The solution executed once in a kernel, for every test of the class."""
        solution = ROOT / "solutions" / self.assignment / notebook_name(self.assignment)
        with SolutionKernel(solution, tmp_path_factory.mktemp(self.assignment),
                            PROBES.get(self.assignment, [])) as running:
            yield running

    def test_solution_runs_without_an_error(self, kernel):
        """Every cell of the solution, graded tests and hidden tests included, runs cleanly (what nbval checked)."""
        assert not kernel.errors, f"the solution raised: {kernel.errors}"
        assert not kernel.found, f"the grader's guard named hooks in the solution's run (its row would say " \
                                 f"tampering): {kernel.found}"

    def test_solution_gets_full_marks(self, kernel):
        """Every graded test cell of the solution's run passed: nbgrader gives it every point (the course's
        RecordVerdicts scores a test cell from its execute reply, as here)."""
        scores = kernel.scores()
        assert kernel.max_score() > 0, "the notebook has no graded cell"
        lost = {gid: kernel.tests.get(gid, "never ran") for gid, got in scores.items() if not got}
        assert sum(scores.values()) == kernel.max_score(), f"the solution lost points: {lost}"

    def test_no_fit_shows_a_zero_loss(self, kernel):
        """A custom train_step without its own loss tracker makes Keras 3's fit print ``loss: 0.0000e+00``."""
        printed = ["".join(output.get("text", "") for output in cell.get("outputs", []))
                   for cell in kernel.nb.cells if cell.cell_type == "code"]
        zero = [index for index, text in enumerate(printed) if "loss: 0.0000e+00" in text]
        assert not zero, f"fit printed a loss of 0 in code cell(s) {zero}: keep a keras.metrics.Mean loss tracker"

    def test_wrong_answer_loses(self, kernel, case):
        assert not kernel.errors, f"the solution itself raised, so wrong answers cannot be judged: {kernel.errors}"
        answers, losing = WRONG[self.assignment][case]
        run = kernel.try_answers(answers, losing)
        for name in sorted(losing):
            assert run.errors.get(name), f"wrong answer {case!r} passed {name} (it must lose points there)"
            assert ":" in run.errors[name] and run.errors[name].split(":", 1)[1].strip(), (
                f"{name} failed wrong answer {case!r} without a message for the student: {run.errors[name]}"
            )
        assert not run.restore_errors, f"after {case!r}, the solution failed again: {run.restore_errors}"

    # Last test of the class: pytest runs a class's tests in their order, and the blank release leaves the kernel
    # holding the release's answers (try_answers refuses to run after it).
    def test_blank_release_scores_zero(self, kernel):
        """The released notebook as the student gets it: every graded test cell raises, with a message."""
        release = nbformat.read(ROOT / "notebooks" / self.assignment / notebook_name(self.assignment), as_version=4)
        errors = kernel.try_blank(release)
        assert set(errors) == set(kernel.scores()), f"graded tests never ran with the blank answers: " \
                                                    f"{set(kernel.scores()) - set(errors)}"
        passed = sorted(name for name, error in errors.items() if not error)
        assert not passed, f"the blank release passes {passed}: it would score there"


class TestNb01(SolutionChecks):
    assignment = "01-pretrained-models"


class TestNb02(SolutionChecks):
    assignment = "02-feature-extraction"


class TestNb03(SolutionChecks):
    assignment = "03-fine-tuning"


class TestNb04(SolutionChecks):
    assignment = "04-four-scenarios"


class TestNb05(SolutionChecks):
    assignment = "05-flowers-example"

    def test_fine_tuning_keeps_every_batchnorm_weight(self, kernel):
        """05's fine-tuning changes no BatchNorm weight of the pretrained base, and does change the base (issue 9)."""
        for probe in PROBES[self.assignment]:
            assert probe.ran_after is not None, f"no cell of 05 contains {probe.after!r}: update the probe"
            assert probe.error is None, f"the probe after {probe.after!r} raised: {probe.error}"
        report = json.loads(BN_COMPARE.output.split("REPORT ", 1)[1])
        assert report["fine_tune_epochs"] >= 1
        assert len(report["batchnorm"]) > 0, "the base has no BatchNormalization layer: wrong base?"
        assert report["others_changed"], "fine-tuning changed no weight of the base: nothing was unfrozen"
        assert report["batchnorm_changed"] == [], (
            f"fine-tuning changed {len(report['batchnorm_changed'])} of {len(report['batchnorm'])} BatchNorm layers "
            f"of the pretrained base: {report['batchnorm_changed']}"
        )
