"""Shared pieces of the benchmarks."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Executes a notebook in a fresh kernel, then prints the kernel's peak resident memory: the kernel is a child of
# this process and is reaped at shutdown, so RUSAGE_CHILDREN holds its maximum RSS (in kB on Linux).
_RUNNER = """
import resource, sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": sys.argv[2]}}).execute()
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def run_notebook(path: Path) -> tuple[float, float]:
    """Execute a notebook in a fresh kernel; return (wall seconds, peak kernel memory in MB)."""
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", _RUNNER, str(path), str(path.parent)], env=env,
                         capture_output=True, text=True)
    wall = time.perf_counter() - start
    if out.returncode != 0:
        raise RuntimeError(f"{path} failed:\n{out.stderr[-2000:]}")
    return wall, int(out.stdout.strip().splitlines()[-1]) / 1024


def run_with_report(path: Path, report: str, timeout: int = 900) -> tuple[dict, float]:
    """Execute a solution notebook plus one cell that prints ``"RESULTS " + json.dumps(...)``.

    The notebook itself is the code measured (no second copy of it in the benchmarks). Returns the reported
    dictionary and the notebook's wall seconds.
    """
    import json

    import nbformat
    from nbclient import NotebookClient

    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(report))
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
                   ).execute()
    wall = time.perf_counter() - start
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.output_type == "stream")
    if "RESULTS " not in text:
        raise RuntimeError(f"{path.name}: the report cell printed no results:\n{text[-1000:]}")
    return json.loads(text.split("RESULTS ", 1)[1]), wall
