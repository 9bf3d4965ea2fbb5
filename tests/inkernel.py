"""Run a solution notebook once in one kernel, then swap wrong answers into that kernel.

A full nbgrader round trip per wrong answer executes the whole notebook again (about a minute each, in small mode).
Here the solution runs once; each mistake of a wrong answer then re-executes only the cells from its answer cell to
its graded test cell, with the wrong sources, and those cells again with the solution's sources to put the kernel
back. A case that names two independent mistakes (``tests/wrong_answers/``) runs them one at a time, so that the
training cells between them are not re-run. A graded test cell that raises scores 0 under nbgrader's autograder (and
full points when it runs cleanly; the course's ``RecordVerdicts`` reads the cell's execute reply), so "loses
points" here means "raises", and the solution's own run is its full-marks check: :meth:`SolutionKernel.scores`
gives each graded test cell's points from that run. ``tests/test_grading.py`` keeps nbgrader's round trip end to
end for 01 and a tiny course, where it also checks that these scores are nbgrader's.

That run is the only execution of each solution in the test suite: checks of the solution's state at some point
of it (05's BatchNorm weights around its fine-tuning) run there too, as *probes*: cells of ours executed in the
kernel right after the first solution cell whose source contains a given text, their output kept.
"""

from __future__ import annotations

import copy
import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat

from helpers.instructor import runner
from helpers.instructor.marks import grade_id, index_of, is_grade, is_test, points


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

    def __enter__(self) -> SolutionKernel:
        self._kernel = self.client.setup_kernel(env=runner.kernel_env())
        self._kernel.__enter__()
        for index, cell in enumerate(self.nb.cells):
            if cell.cell_type == "code":
                self.client.execute_cell(cell, index)
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

    def __exit__(self, *exc):
        if self._kernel is not None:
            self._kernel.__exit__(*exc)
            self._kernel = None

    def index_of(self, wanted: str) -> int:
        """The position of the cell with grade id ``wanted`` in the solution."""
        return index_of(self.pristine, wanted)

    def _run(self, first: int, last: int, sources: dict[int, str]) -> dict[str, str | None]:
        """Execute code cells first..last (sources replaced where given); errors of the graded test cells."""
        errors = {}
        for index in range(first, last + 1):
            cell = copy.deepcopy(self.pristine[index])
            if cell.cell_type != "code":
                continue
            cell.source = sources.get(index, cell.source)
            self.client.execute_cell(cell, index)
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

    def try_answers(self, answers: dict[str, str], losing: set[str]) -> CaseRun:
        """Swap each mistake of ``answers`` ({grade id: source}) in, re-run up to its last test, then restore.

        Each mistake runs alone (see :meth:`groups`): the wrong sources from its first answer cell to its last
        test cell, then the same cells with the solution's sources, which must pass again.
        """
        errors: dict[str, str | None] = {}
        restore_errors: dict[str, str] = {}
        for swapped, tests in self.groups(answers, losing):
            first = min(swapped)
            last = max([self.index_of(name) for name in tests] + list(swapped))
            errors.update(self._run(first, last, swapped))
            restored = self._run(first, last, {})
            restore_errors.update({name: error for name, error in restored.items() if error})
        return CaseRun(errors, restore_errors)
