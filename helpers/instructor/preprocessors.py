"""nbgrader preprocessors the course's ``nbgrader_config.py`` sets, for every grading path (plain nbgrader too).

- :class:`ShortTracebacks` (feedback): errors of test cells show only ``Error: message``, not the test's code;
- :class:`SurviveDeadKernel` (autograde): a kernel that dies costs the cells from the crash on, not the notebook.

Importing this module imports nbconvert and nbgrader: only ``nbgrader_config.py`` and the tests do.
"""

from __future__ import annotations

from nbconvert.preprocessors import Preprocessor
from nbgrader.preprocessors import Execute

from .report import KERNEL_DIED

__all__ = ["ShortTracebacks", "SurviveDeadKernel"]


class ShortTracebacks(Preprocessor):
    """Feedback preprocessor: errors of locked test cells show only ``Error: message``.

    Their tracebacks quote the source around the failing line, hidden tests included.
    """

    enabled = True  # nbconvert's preprocessors are off unless enabled

    def preprocess_cell(self, cell, resources, index):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and (meta.get("grade") or meta.get("locked")):
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
