"""Shared pieces of the benchmarks: run a notebook and measure it, fit a linear probe."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_RUNNER = """
import resource, sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": sys.argv[2]}}).execute()
"""


def run_notebook(path: Path) -> tuple[float, float]:
    """Execute a notebook in a fresh kernel; return (wall seconds, peak resident memory of the kernel in MB)."""
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    with tempfile.TemporaryDirectory() as scratch:
        start = time.perf_counter()
        # Run under /usr/bin/time-like accounting: RUSAGE_CHILDREN of this wrapper covers the kernel process.
        wrapper = ("import resource, runpy, subprocess, sys\n"
                   f"subprocess.run([sys.executable, '-c', {_RUNNER!r}, {str(path)!r}, {str(path.parent)!r}], check=True)\n"
                   "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
        out = subprocess.run([sys.executable, "-c", wrapper], cwd=scratch, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - start
    if out.returncode != 0:
        raise RuntimeError(f"{path} failed:\n{out.stderr[-2000:]}")
    peak_kb = int(out.stdout.strip().splitlines()[-1])
    return wall, peak_kb / 1024
