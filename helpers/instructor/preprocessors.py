"""nbgrader preprocessors the course's ``nbgrader_config.py`` sets, for every grading path (plain nbgrader too).

- :class:`ShortTracebacks` (feedback): errors of test cells show only ``Error: message``, not the test's code;
- :class:`SurviveDeadKernel` (autograde): a kernel that dies costs the cells from the crash on, not the notebook;
- :class:`RecordVerdicts` (autograde, in place of nbgrader's ``Execute``): each graded test cell's verdict is its
  execute reply (passed if the kernel ran it without an error), decided in the grading process, the cell run as
  released (:mod:`.guard` takes away the student's hooks first);
- :class:`SaveVerdicts` (autograde, in place of ``SaveAutoGrades``): the gradebook's scores from those verdicts.
  nbgrader's own rule reads the cell's outputs instead: any stderr output (a Keras warning) fails a correct
  answer, and a displayed value (``ast_node_interactivity = "all"``) passes a failing test.

Importing this module imports nbconvert and nbgrader: only ``nbgrader_config.py``, the grading worker and the
tests do.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

from nbconvert.preprocessors import Preprocessor
from nbgrader import utils
from nbgrader.preprocessors import Execute, SaveAutoGrades

from . import guard
from .marks import grade_id, is_grade, is_locked, is_test, points
from .repair import describe_cell
from .report import KERNEL_DIED

__all__ = ["RecordVerdicts", "SaveVerdicts", "ShortTracebacks", "SurviveDeadKernel", "is_test", "take_runs"]

_RUNS: dict[tuple[str, str], dict] = {}  # {(student, assignment): {notebook: run}}, in this process's memory only


def take_runs(student: str, assignment: str) -> dict[str, dict]:
    """``{notebook name: run}`` that :class:`RecordVerdicts` recorded for this student and assignment (then forgotten).

    A run is ``{"verdicts": {grade id: {"passed", "error"}}, "manual": {grade id: auto score or None},
    "tampering": [...], "timed_out": [cell descriptions], "died_in": cell description or None, "lost": [...]}``.
    """
    return _RUNS.pop((student, assignment), {})


class ShortTracebacks(Preprocessor):
    """Feedback preprocessor: errors of locked test cells show only ``Error: message``.

    Their tracebacks quote the source around the failing line, hidden tests included.
    """

    enabled = True  # nbconvert's preprocessors are off unless enabled

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and (is_grade(cell) or is_locked(cell)):
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


class RecordVerdicts(SurviveDeadKernel):
    """``SurviveDeadKernel`` that records each graded test cell's verdict from its execute reply, in this process.

    A test passes if and only if the kernel's reply to it says ``ok``: warnings on stderr and displayed values
    do not count, errors raised, a timeout and a dead kernel fail it. Before the first cell the kernel gets the
    :mod:`.guard`; before each test cell the guard takes away the hooks the student's code installed (named in
    the run's ``tampering``), and puts them back after it. A test whose check does not answer fails.
    The run is kept in ``resources["nbgrader"]["verdicts"]`` (for :class:`SaveVerdicts`) and for
    :func:`take_runs`.
    """

    def preprocess(self, nb, resources=None, km=None):
        self.run = {"verdicts": {}, "manual": {}, "tampering": [], "timed_out": [], "died_in": None, "lost": []}
        self._guarded = False
        nb, resources = super().preprocess(nb, resources, km=km)
        for cell in nb.cells:
            if is_grade(cell) and not is_test(cell):
                self.run["manual"][grade_id(cell)] = utils.determine_grade(cell, self.log)[0]
        info = resources.get("nbgrader", {})
        info["verdicts"] = self.run["verdicts"]
        _RUNS.setdefault((info.get("student"), info.get("assignment")), {})[info.get("notebook")] = self.run
        return nb, resources

    def on_cell_executed(self, **kwargs):
        super().on_cell_executed(**kwargs)
        self._reply = kwargs["execute_reply"]

    def _ask(self, expression: str):
        """Evaluate ``expression`` in the kernel as a user expression (no input transformers): its JSON answer.

        None if the kernel gave no such answer (no reply, an error, another form); ``{"dead": True}`` if it died.
        """
        from nbclient.exceptions import DeadKernelError

        msg_id = self.kc.execute("", silent=True, store_history=False, user_expressions={"r": expression},
                                 allow_stdin=False)
        try:
            reply = self.wait_for_reply(msg_id)
            answer = reply["content"]["user_expressions"]["r"]
            value = json.loads(ast.literal_eval(answer["data"]["text/plain"]))
            return value if value.get("guard") == guard.NAME else None
        except DeadKernelError:
            return {"dead": True}
        except Exception:  # noqa: BLE001 - the check did not answer as it does
            return None

    def _guard(self, step: str):
        return self._ask(f"__import__('sys').modules[{guard.NAME!r}].{step}()")

    def _install(self) -> None:
        source = Path(guard.__file__).read_text(encoding="utf-8")
        code = (f"(lambda ns: (exec(compile({source!r}, '<course grading guard>', 'exec'), ns), ns['install']())[1])"
                f"({{'__name__': {guard.NAME!r}}})")
        answer = self._ask(code)
        if answer is None or "dead" in answer:
            raise RuntimeError("the grader could not install its check in the kernel (helpers/instructor/guard.py)")
        self._guarded = True

    def preprocess_cell(self, cell, resources, index):
        if not self._guarded:
            self._install()  # before the first cell: no student code has run
        gid, test, dead_before = grade_id(cell), is_test(cell), self.died_in is not None
        checked = self._guard("before") if test and not dead_before else None
        if test and not dead_before and checked is None:
            self.run["tampering"].append(f"the grader's check before {gid} did not answer (removed or replaced): "
                                         f"{gid} scores 0")
        elif checked and "found" in checked:
            self.run["tampering"] += [f for f in checked["found"] if f not in self.run["tampering"]]
        self._reply = None
        cell, resources = super().preprocess_cell(cell, resources, index)
        if self.died_in is not None and self.run["died_in"] is None:
            self.run["died_in"] = describe_cell(self.nb.cells, self.died_in)
        if any(o.get("ename") == "CellTimeoutError" for o in cell.get("outputs", [])):
            self.run["timed_out"].append(describe_cell(self.nb.cells, index))
        if self.died_in is not None and is_grade(cell):
            self.run["lost"].append(gid)
        if not test:
            return cell, resources
        if self.died_in is not None:
            where = "not run" if dead_before else "the kernel died in this test"
            self.run["verdicts"][gid] = {"passed": False, "error": f"{KERNEL_DIED}: {where}"}
            return cell, resources
        content = (self._reply or {}).get("content", {"status": "ok"})  # no reply: an empty cell, not run
        ok = content.get("status") == "ok"
        self.run["verdicts"][gid] = {"passed": ok and bool(checked) and "found" in checked,
                                     "error": "" if ok else f"{content.get('ename')}: {content.get('evalue')}"[:300]}
        if checked and "found" in checked:
            self._guard("after")
        return cell, resources


class SaveVerdicts(SaveAutoGrades):
    """nbgrader's ``SaveAutoGrades``, except that a test cell's score comes from its verdict, not its outputs.

    Full points if :class:`RecordVerdicts` recorded it as passed, 0 otherwise (no partial credit from a number the
    cell displays, which student code can display too: the course's tests are assertions); answer cells keep
    nbgrader's rule (0 if unanswered, else a manual grade). A manual score already in the gradebook is kept, as
    nbgrader does (an instructor's; the course's grader empties its throwaway gradebook of them).
    """

    def _add_score(self, cell, resources) -> None:
        verdicts = resources.get("nbgrader", {}).get("verdicts")
        if verdicts is None or not is_test(cell):
            return super()._add_score(cell, resources)
        grade = self.gradebook.find_grade(grade_id(cell), self.notebook_id, self.assignment_id, self.student_id)
        passed = verdicts.get(grade_id(cell), {}).get("passed", False)
        grade.auto_score = points(cell) if passed else 0.0
        grade.needs_manual_grade = grade.manual_score is not None
        self.gradebook.db.commit()
