"""Shared pieces of the benchmarks."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Executes a notebook (plus an optional last cell) with the course's runner (helpers/instructor/runner.py: a fresh
# kernel of this Python, the course's cell timeout), prints that cell's printed text, then the kernel's peak
# resident memory: the kernel is a child of this process and is reaped at shutdown, so RUSAGE_CHILDREN holds its
# maximum RSS (in kB on Linux).
_RUNNER = """
import json, resource, sys, nbformat
from helpers.instructor import runner
nb = nbformat.read(sys.argv[1], as_version=4)
extra = json.loads(sys.argv[3])
if extra:
    nb.cells.append(nbformat.v4.new_code_cell(extra))
runner.execute(nb, sys.argv[2])
last = "".join(o.get("text", "") for o in nb.cells[-1].get("outputs", []) if o.output_type == "stream")
print(json.dumps({"printed": last if extra else "", "peak_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def execute(path: Path, extra_cell: str = "") -> tuple[float, float, str]:
    """Execute a notebook in a fresh kernel, with ``extra_cell`` appended if given.

    Returns (wall seconds, peak kernel memory in MB, what the extra cell printed). The kernel is this Python's
    (:func:`helpers.instructor.runner.kernel_env`), each cell within the course's cell timeout.
    """
    import json

    from helpers.instructor import runner

    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", _RUNNER, str(path), str(path.parent), json.dumps(extra_cell)],
                         env=runner.kernel_env(), cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if out.returncode != 0:
        raise RuntimeError(f"{path} failed:\n{out.stderr[-2000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return wall, result["peak_kb"] / 1024, result["printed"]


def run_notebook(path: Path) -> tuple[float, float]:
    """Execute a notebook in a fresh kernel; return (wall seconds, peak kernel memory in MB)."""
    wall, peak, _ = execute(path)
    return wall, peak


def run_with_report(path: Path, report: str) -> tuple[dict, float]:
    """Execute a solution notebook plus one cell that prints ``"RESULTS " + json.dumps(...)``.

    The notebook itself is the code measured (no second copy of it in the benchmarks). Returns the reported
    dictionary and the notebook's wall seconds.
    """
    import json

    wall, _, text = execute(path, report)
    if "RESULTS " not in text:
        raise RuntimeError(f"{path.name}: the report cell printed no results:\n{text[-1000:]}")
    return json.loads(text.split("RESULTS ", 1)[1]), wall
