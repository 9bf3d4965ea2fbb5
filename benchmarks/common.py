"""Shared pieces of the benchmarks."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Executes a notebook (plus an optional last cell) in a fresh kernel, prints that cell's printed text, then the
# kernel's peak resident memory: the kernel is a child of this process and is reaped at shutdown, so
# RUSAGE_CHILDREN holds its maximum RSS (in kB on Linux).
_RUNNER = """
import json, resource, sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
extra = json.loads(sys.argv[4])
if extra:
    nb.cells.append(nbformat.v4.new_code_cell(extra))
NotebookClient(nb, timeout=int(sys.argv[3]), kernel_name="python3", resources={"metadata": {"path": sys.argv[2]}}
               ).execute()
last = "".join(o.get("text", "") for o in nb.cells[-1].get("outputs", []) if o.output_type == "stream")
print(json.dumps({"printed": last if extra else "", "peak_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def execute(path: Path, extra_cell: str = "", timeout: int = 600) -> tuple[float, float, str]:
    """Execute a notebook in a fresh kernel, with ``extra_cell`` appended if given.

    Returns (wall seconds, peak kernel memory in MB, what the extra cell printed). This venv's programs come
    first on PATH, so that the kernel is this Python's.
    """
    import json

    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", _RUNNER, str(path), str(path.parent), str(timeout),
                          json.dumps(extra_cell)], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if out.returncode != 0:
        raise RuntimeError(f"{path} failed:\n{out.stderr[-2000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return wall, result["peak_kb"] / 1024, result["printed"]


def run_notebook(path: Path) -> tuple[float, float]:
    """Execute a notebook in a fresh kernel; return (wall seconds, peak kernel memory in MB)."""
    wall, peak, _ = execute(path)
    return wall, peak


def run_with_report(path: Path, report: str, timeout: int = 900) -> tuple[dict, float]:
    """Execute a solution notebook plus one cell that prints ``"RESULTS " + json.dumps(...)``.

    The notebook itself is the code measured (no second copy of it in the benchmarks). Returns the reported
    dictionary and the notebook's wall seconds.
    """
    import json

    wall, _, text = execute(path, report, timeout)
    if "RESULTS " not in text:
        raise RuntimeError(f"{path.name}: the report cell printed no results:\n{text[-1000:]}")
    return json.loads(text.split("RESULTS ", 1)[1]), wall
