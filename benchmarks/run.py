"""Measure the course: speed, memory and accuracy, printed as tables. Not part of the test suite.

    COURSE_MODE=small python benchmarks/run.py            # every section
    COURSE_MODE=small python benchmarks/run.py notebooks  # sections whose name contains "notebooks"
    COURSE_MODE=small python benchmarks/run.py notebooks 05  # ... on the notebooks whose folder starts with 05
    python benchmarks/run.py full-cost [--complete] [--notebooks 01 02 ...]  # full mode's minutes and memory
    python benchmarks/run.py lessons [--only NAME] [--seeds N]  # the ledger of lessons (benchmarks/lessons.py)

Each ``benchmarks/bench_*.py`` defines ``SECTIONS``: a list of functions returning
``(title, headers, rows)``; this script runs them and prints one table each.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ.setdefault("COURSE_MODE", "small")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def table(title: str, headers: list[str], rows: list[list]) -> str:
    """A plain-text table, columns padded to their widest cell."""
    cells = [[str(h) for h in headers]] + [[f"{v:.3f}" if isinstance(v, float) else str(v) for v in row]
                                          for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [title, "-" * len(title)]
    for n, row in enumerate(cells):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if argv[:1] == ["full-cost"]:  # its own command line: see benchmarks/full_cost.py
        import full_cost

        return full_cost.main(argv[1:])
    if argv[:1] == ["lessons"]:  # the ledger of lessons: see benchmarks/lessons.py
        import lessons

        return lessons.main(argv[1:])
    if argv[:1] in (["--help"], ["-h"]):
        print(__doc__)
        return 0
    wanted = argv[0] if argv else ""
    if argv[1:]:  # the notebooks to run, by the start of their folder's name (bench_01's notebooks section)
        os.environ["BENCH_NOTEBOOKS"] = ",".join(argv[1:])
    for path in sorted(HERE.glob("bench_*.py")):
        module = importlib.import_module(path.stem)
        for section in module.SECTIONS:
            if wanted and wanted not in section.__name__:
                continue
            start = time.perf_counter()
            title, headers, rows = section()
            print(table(title, headers, rows))
            print(f"({time.perf_counter() - start:.0f} s)\n", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
