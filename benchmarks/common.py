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
