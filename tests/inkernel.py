"""Run a solution notebook once in one kernel, then swap wrong answers into that kernel.

A full nbgrader round trip per wrong answer executes the whole notebook again (about a minute each, in small mode).
Here the solution runs once; each mistake of a wrong answer then re-executes only the cells from its answer cell to
its graded test cell, with the wrong sources, and those cells again with the solution's sources to put the kernel
back. As in the grader (:class:`~helpers.instructor.preprocessors.RecordVerdicts`), the kernel gets the grader's
check (:mod:`helpers.instructor.guard`) before the first cell, and each graded test cell runs between its
``before()`` (the student's hooks taken away, the write-it-yourself check put back as installed) and ``after()``; a
test whose check does not answer fails. A case that names two independent mistakes (``tests/wrong_answers/``) runs
them one at a time, so that the training cells between them are not re-run. A graded test cell that raises scores 0
under nbgrader's autograder (and full points when it runs cleanly; ``RecordVerdicts`` reads the cell's execute
reply), so "loses points" here means "raises", and the solution's own run is its full-marks check:
:meth:`SolutionKernel.scores` gives each graded test cell's points from that run. ``tests/test_grading.py`` keeps
nbgrader's round trip end to end for 01, where it checks that nbgrader scores as this run does.

That run is the only execution of each solution in the test suite: checks of the solution's state at some point
of it (05's BatchNorm weights around its fine-tuning) run there too, as *probes*: cells of ours executed in the
kernel right after the first solution cell whose source contains a given text, their output kept. The blank
release is judged there too (:meth:`SolutionKernel.try_blank`): the release's answer cells swapped in, every
graded test must raise.
"""

from __future__ import annotations

import ast
import copy
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat

from helpers.instructor import guard, runner
from helpers.instructor.marks import grade_id, index_of, is_grade, is_solution, is_test, points


def bound_names(source: str) -> list[str]:
    """The names a cell binds at its top level (defs, classes, imports, assignment and loop targets), in order:
    what a blank answer cell must not inherit from the solution's run. Function and class bodies are not read."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    names: list[str] = []

    def visit(node) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names.extend((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.append(node.id)
        elif isinstance(node, (ast.Lambda, ast.GeneratorExp, ast.ListComp, ast.SetComp, ast.DictComp)):
            return
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return list(dict.fromkeys(names))


def error_of(cell) -> str | None:
    """``"Name: message"`` of the error the executed cell raised, or None."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output.get('ename')}: {output.get('evalue')}"
    return None


@dataclass
class CaseRun:
    """What one wrong answer did: errors of the graded test cells it re-ran, and of the restore."""

    errors: dict[str, str | None]  # graded test id -> error with the wrong answer in place (None: passed)
    restore_errors: dict[str, str]  # graded test id -> error after putting the solution back (should be empty)


@dataclass
class Probe:
    """A cell of ours run in the solution's kernel right after the first code cell whose source contains ``after``."""

    after: str
    source: str
    ran_after: int | None = None  # index of the solution cell it followed (None: never run)
    output: str = ""  # what it printed
    error: str | None = None  # what it raised


class SolutionKernel:
    """One kernel that has executed a solution notebook from top to bottom, ready to take wrong answers."""

    def __init__(self, notebook: Path, workdir: Path, probes: list[Probe] = ()):
        workdir.mkdir(parents=True, exist_ok=True)
        self.path = Path(shutil.copy(notebook, workdir / notebook.name))
        self.nb = nbformat.read(self.path, as_version=4)
        self.pristine = copy.deepcopy(self.nb.cells)  # nbclient writes executed cells back into self.nb
        self.client = runner.client(self.nb, workdir, allow_errors=True)  # the course's cell timeout
        self._kernel = None
        self.errors: dict[int, str] = {}  # cell index -> error of the solution's own run
        self.tests: dict[str, str | None] = {}  # graded test id -> its error in the solution's own run (None: passed)
        self.probes = list(probes)
        self.found: list[str] = []  # what the guard named before the tests of the solution's own run
        self.blanked = False  # try_blank ran: the kernel holds the release's answers, no longer the solution's

    def __enter__(self) -> SolutionKernel:
        self._kernel = self.client.setup_kernel(env=runner.kernel_env())
        self._kernel.__enter__()
        source = Path(guard.__file__).read_text(encoding="utf-8")
        installed = self._ask(f"(lambda ns: (exec(compile({source!r}, '<course grading guard>', 'exec'), ns), "
                              f"ns['install']())[1])({{'__name__': {guard.NAME!r}}})")
        assert installed and installed.get("installed"), f"the grader's check did not install: {installed}"
        for index, cell in enumerate(self.nb.cells):
            if cell.cell_type == "code":
                self.found += self._execute(cell, index)
                if error := error_of(cell):
                    self.errors[index] = error
                if is_test(cell):
                    self.tests[grade_id(cell)] = error_of(cell)
                for probe in self.probes:
                    if probe.ran_after is None and probe.after in cell.source:
                        self._probe(probe, index)
        return self

    def _probe(self, probe: Probe, index: int) -> None:
        cell = nbformat.v4.new_code_cell(probe.source)
        self.client.execute_cell(cell, index)
        probe.ran_after, probe.error = index, error_of(cell)
        probe.output = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")

    def scores(self) -> dict[str, float]:
        """``{graded test id: points}`` of the solution's own run: the cell's points if it ran without an error."""
        cells = {grade_id(cell): cell for cell in self.pristine if is_test(cell)}
        return {gid: points(cells[gid]) if gid in self.tests and self.tests[gid] is None else 0.0 for gid in cells}

    def max_score(self) -> float:
        """The notebook's total: the points of every graded cell (tests and any answer graded by hand)."""
        return sum(points(cell) for cell in self.pristine if is_grade(cell))

    def _ask(self, expression: str) -> dict | None:
        """Evaluate ``expression`` in the kernel as a user expression, as the grader does: its JSON answer, or
        None if it gave none."""
        msg_id = self.client.kc.execute("", silent=True, store_history=False, user_expressions={"r": expression},
                                        allow_stdin=False)
        try:
            answer = self.client.wait_for_reply(msg_id)["content"]["user_expressions"]["r"]
            value = json.loads(ast.literal_eval(answer["data"]["text/plain"]))
        except Exception:  # noqa: BLE001 - the check did not answer as it does
            return None
        return value if isinstance(value, dict) and value.get("guard") == guard.NAME else None

    def _execute(self, cell, index: int) -> list[str]:
        """Execute a cell; a graded test cell between the guard's ``before()`` and ``after()``, as in the grader:
        what the guard named. A test whose check does not answer fails, as in the grader (an error output)."""
        if not is_test(cell):
            self.client.execute_cell(cell, index)
            return []
        step = f"__import__('sys').modules[{guard.NAME!r}].{{}}()"
        checked = self._ask(step.format("before"))
        self.client.execute_cell(cell, index)
        if checked is None or "found" not in checked:
            cell.outputs.append(nbformat.v4.new_output("error", ename="GuardError", traceback=[],
                                                       evalue="the grader's check before this test did not answer"))
            return []
        self._ask(step.format("after"))
        return checked["found"]

    def __exit__(self, *exc):
        if self._kernel is not None:
            self._kernel.__exit__(*exc)
            self._kernel = None

    def index_of(self, wanted: str) -> int:
        """The position of the cell with grade id ``wanted`` in the solution."""
        return index_of(self.pristine, wanted)

    def _run(self, first: int, last: int, sources: dict[int, str], unbind: bool = False) -> dict[str, str | None]:
        """Execute code cells first..last (sources replaced where given); errors of the graded test cells.
        ``unbind``: before a replaced cell runs, the names the solution's version of it bound are deleted."""
        errors = {}
        for index in range(first, last + 1):
            cell = copy.deepcopy(self.pristine[index])
            if cell.cell_type != "code":
                continue
            if unbind and index in sources and (names := bound_names(cell.source)):
                self.client.execute_cell(nbformat.v4.new_code_cell(
                    f"for _name in {names!r}:\n    globals().pop(_name, None)\ndel _name"), index)
            cell.source = sources.get(index, cell.source)
            self._execute(cell, index)
            if is_test(cell):
                errors[grade_id(cell)] = error_of(cell)
        return errors

    def groups(self, answers: dict[str, str], losing: set[str]) -> list[tuple[dict[int, str], set[str]]]:
        """The case cut into independent mistakes: ``[({cell index: wrong source}, {test ids}), ...]``.

        A test cell judges the answer cells above it, back to the previous test cell of the case; an answer with
        no test of its own below it stays with the next one. So "k off by one; rate not lowered" becomes two runs
        of a few cells each, not one run through every training cell between them.
        """
        items = sorted([(self.index_of(name), name, source) for name, source in answers.items()]
                       + [(self.index_of(name), name, None) for name in losing])
        groups: list[tuple[dict[int, str], set[str]]] = []
        swapped: dict[int, str] = {}
        tests: set[str] = set()
        for index, name, source in items:
            if source is not None and tests:  # an answer after a test: the previous mistake is complete
                groups.append((swapped, tests))
                swapped, tests = {}, set()
            if source is not None:
                swapped[index] = source
            else:
                tests.add(name)
        groups.append((swapped, tests))
        return groups

    def _span(self, swapped: dict[int, str], tests: set[str]) -> tuple[int, int]:
        """The cells one mistake re-runs: from its first answer cell (or test, if it swaps none) to its last."""
        indices = list(swapped) + [self.index_of(name) for name in tests]
        return min(swapped or indices), max(indices)

    def try_answers(self, answers: dict[str, str], losing: set[str]) -> CaseRun:
        """Swap each mistake of ``answers`` ({grade id: source}) in, re-run up to its last test, then restore.

        Each mistake runs alone (see :meth:`groups`): the wrong sources from its first answer cell to its last
        test cell, then the same cells with the solution's sources, which must pass again.
        """
        assert not self.blanked, "try_blank has run in this kernel: judge the wrong answers before the blank release"
        errors: dict[str, str | None] = {}
        restore_errors: dict[str, str] = {}
        for swapped, tests in self.groups(answers, losing):
            first, last = self._span(swapped, tests)
            errors.update(self._run(first, last, swapped))
            restored = self._run(first, last, {})
            restore_errors.update({name: error for name, error in restored.items() if error})
        return CaseRun(errors, restore_errors)

    def try_blank(self, release: nbformat.NotebookNode) -> dict[str, str | None]:
        """Every answer cell as the release has it, as nbgrader grades a blank submission: ``{graded test id:
        its error}`` (None: it passed, so the blank release would score there).

        Each mistake (see :meth:`groups`) runs from its first answer cell to its last test, the release's source
        in every answer cell (the names the solution's version bound deleted first, so that nothing of the
        solution's answer survives); nothing is restored, so later answers see the earlier ones blank, as in
        nbgrader. The cells between two mistakes keep what the solution's run computed: stricter than nbgrader's
        blank run, where they see blank answers too. The kernel is the release's afterwards: run this last.
        """
        released = {grade_id(cell): cell.source for cell in release.cells if grade_id(cell)}
        answers = {grade_id(cell): released[grade_id(cell)] for cell in self.pristine
                   if is_solution(cell) and not is_test(cell) and cell.cell_type == "code"}
        tests = {grade_id(cell) for cell in self.pristine if is_test(cell)}
        errors: dict[str, str | None] = {}
        self.blanked = True
        for swapped, judged in self.groups(answers, tests):
            errors.update(self._run(*self._span(swapped, judged), swapped, unbind=True))
        return errors
