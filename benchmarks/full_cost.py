"""What full mode costs: each notebook's minutes and peak memory in ``COURSE_MODE=full``, on stand-in weights.

    python benchmarks/run.py full-cost                      # all five, long fits projected (default)
    python benchmarks/run.py full-cost --notebooks 02 03    # some of them
    python benchmarks/run.py full-cost --complete           # every fit run to the end with its real epochs

MobileNetV2's ImageNet weights and the full data sets cannot be downloaded here, so this writes stand-in weights
and stand-in data sets of the real sizes (3,670 flower photos, 2,000 + 1,000 cats and dogs, made from the mirror's
photos) into a temporary ``KERAS_HOME`` (``helpers/instructor/standin.py``), then executes each solution notebook
in a fresh kernel with the real full-mode settings (``helpers/instructor/runner.py``). The notebooks run
unchanged: ``full_cost_probe.install`` runs in a cell inserted first and times them from the inside. By default a
long fit is cut after a few timed steps and its seconds projected with its real steps and epochs (see the probe's
docstring); everything else (feature extraction, predictions, custom loops) runs for real. The peak is the
kernel's resident-memory high-water mark. Speed and memory only: no accuracy computed on stand-in weights is a
result.

Prints a table per notebook and a summary, and writes the summary to ``helpers/full_cost.json``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import ROOT

from helpers.instructor import runner, standin
from helpers.instructor.limits import COMPLETE_FIT_CELL_TIMEOUT_S, FULL_COST_CELL_TIMEOUT_S

MIRROR = ROOT.parent / "shared" / "assets"
NOTEBOOKS = {path.parent.name[:2]: path for path in sorted((ROOT / "solutions").glob("*/*.ipynb"))}
RESULTS = ROOT / "helpers" / "full_cost.json"
STAND_IN = "measured on stand-in weights and data (speed and memory only; no accuracy from them is a result)"
MEMORY_LIMIT_MB = 4096  # what every notebook must stay within in full mode


def gpu_names(env: dict) -> list[str]:
    """The GPUs a kernel of this Python with ``env`` can use (``helpers.setup.gpu_names``, in a process of its own,
    so that this one does not load TensorFlow)."""
    code = "from helpers.setup import gpu_names; print('\\n'.join(gpu_names()))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT)
    return [line for line in result.stdout.splitlines() if line.strip()] if result.returncode == 0 else []


def cpu_name() -> str:
    """``"2-core AMD EPYC"``: the cores this process may use and lscpu's model name."""
    try:
        model = next(line.split(":", 1)[1].strip() for line in subprocess.run(
            ["lscpu"], capture_output=True, text=True).stdout.splitlines() if line.startswith("Model name"))
    except (OSError, StopIteration):
        model = "unknown CPU"
    return f"{len(os.sched_getaffinity(0))}-core {model}"


def prepare_home(root: Path) -> Path:
    """A KERAS_HOME with stand-in MobileNetV2 weights, the mirror's class index and full-size stand-in data."""
    if not MIRROR.exists():
        raise SystemExit(f"The offline mirror is missing at {MIRROR}: the stand-in data are made of its photos.")
    home = root / "keras_home"
    print(f"writing {standin.MARK.lower()} and full-size stand-in data to {home} ...", flush=True)
    return standin.make_keras_home(home, MIRROR, full_size=True)


class Watchdog(threading.Thread):
    """Kills the kernel if its resident memory passes ``limit_mb`` (the machine is shared: never swap it out)."""

    def __init__(self, log: Path, limit_mb: float):
        super().__init__(daemon=True)
        self.log, self.limit_mb, self.killed_at, self.done = log, limit_mb, None, threading.Event()

    def run(self) -> None:
        pid = None
        while not self.done.wait(0.2):
            if pid is None:
                pid = next((r["pid"] for r in read_log(self.log) if r["kind"] == "start"), None)
                continue
            try:
                with open(f"/proc/{pid}/status") as handle:
                    rss = next(int(line.split()[1]) / 1024 for line in handle if line.startswith("VmRSS"))
            except (OSError, StopIteration):
                return
            if rss > self.limit_mb:
                self.killed_at = rss
                os.kill(pid, signal.SIGKILL)
                return


def read_log(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def run_notebook(path: Path, workdir: Path, project: bool, budget: float, kill_mb: float, env: dict) -> dict:
    """Execute one notebook with the probe installed, its kernel in ``env``; return its log, wall seconds, load and
    how it ended. Its cells stop at the named full-cost timeouts of ``helpers/instructor/limits.py``."""
    import nbformat
    from nbclient.exceptions import CellExecutionError, DeadKernelError

    log = workdir / f"{path.stem}.jsonl"
    nb = nbformat.read(path, as_version=4)
    setup = (f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import full_cost_probe\n"
             f"full_cost_probe.install({str(log)!r}, project={project}, budget={budget})\n"
             f"print({standin.MARK!r})")
    nb.cells.insert(0, nbformat.v4.new_code_cell(setup))
    shown, started = {"lines": 0}, []  # started: the notebook's cell numbers in execution order

    def progress(cell, cell_index, **_):
        records = read_log(log)
        for record in records[shown["lines"]:]:
            if record["kind"] == "cell" and record["seconds"] >= 5:
                print(f"  cell {cell_index - 1:3d}: {record['seconds']:6.0f} s, RSS {record['rss_mb']:5.0f} MB, "
                      f"peak {record['hwm_mb']:5.0f} MB" + (f"  [{record['error']}]" if record["error"] else ""),
                      flush=True)
            elif record["kind"] == "fit":
                print(f"    fit {record['model']}: {record['epochs']} epochs x {record['steps']} steps, "
                      f"{record['epoch_s']:.0f} s an epoch" + (", cut and projected" if record["cut"] else ""),
                      flush=True)
        shown["lines"] = len(records)

    timeout = FULL_COST_CELL_TIMEOUT_S if project else COMPLETE_FIT_CELL_TIMEOUT_S
    watchdog = Watchdog(log, kill_mb)
    watchdog.start()
    load, start, ended = os.getloadavg()[0], time.perf_counter(), "ok"
    try:
        runner.execute(nb, workdir, env=env, timeout=timeout, allow_errors=True,
                       on_cell_execute=lambda cell, cell_index, **_: started.append(cell_index - 1),
                       on_cell_executed=progress)
    except (DeadKernelError, CellExecutionError, RuntimeError) as error:
        ended = f"kernel died ({type(error).__name__})"
    finally:
        watchdog.done.set()
    if watchdog.killed_at:
        ended = f"killed: over {kill_mb:.0f} MB"  # its peak is at least watchdog.killed_at
    errors = [f"cell {i - 1}: {o.get('ename')}: {o.get('evalue', '')[:120]}" for i, c in enumerate(nb.cells)
              if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    index = dict(enumerate(started))  # the probe's cell count (0: its own cell) -> the notebook's cell number
    records = [{**r, "cell": index.get(r["cell"], "?")} for r in read_log(log)]
    return {"log": records, "wall_s": time.perf_counter() - start, "ended": ended, "errors": errors,
            "load": (load + os.getloadavg()[0]) / 2, "killed_mb": watchdog.killed_at}


def summarise(name: str, run: dict) -> tuple[dict, list[list]]:
    """Minutes (projected where fits were cut) and peak MB of one run, and the rows of its phase table."""
    log = run["log"]
    cells = [r for r in log if r["kind"] == "cell"]
    phases = [r for r in log if r["kind"] in ("fit", "predict", "evaluate", "extract_features")]
    seconds = sum(r["seconds"] for r in cells)
    projected = seconds + sum(r["projected_s"] - r["actual_s"] for r in phases)
    peak = max([r["hwm_mb"] for r in log if "hwm_mb" in r] + [run["killed_mb"] or 0.0])
    rows = []
    for r in phases:
        if r["kind"] == "fit":
            what = f"fit {r['model']}: {r['epochs']} ep x {r['steps']} steps" + (
                f" + {r['val_steps']} val" if r["val_steps"] else "")
            rows.append([r["cell"], what, f"{r['epoch_s']:.1f}", f"{r['projected_s'] / 60:.1f}",
                         "projected" if r["cut"] else "measured"])
        else:
            photos = f" ({r['photos']} photos)" if "photos" in r else ""
            rows.append([r["cell"], f"{r['kind']} {r['model']}{photos}", "-", f"{r['actual_s'] / 60:.1f}",
                         "measured"])
    in_phases = {}
    for r in phases:
        in_phases[r["cell"]] = in_phases.get(r["cell"], 0.0) + r["actual_s"]
    for r in cells:
        rest = r["seconds"] - in_phases.get(r["cell"], 0.0)
        if rest >= 30:
            rows.append([r["cell"], "other code of the cell (custom loops, eager calls...)", "-",
                         f"{rest / 60:.1f}", "measured"])
    result = {"minutes": round(projected / 60, 1), "peak_mb": round(peak)}
    if run["ended"] != "ok":
        result["ended"] = run["ended"]
    return result, sorted(rows, key=lambda row: str(row[0]).zfill(4))


def markdown(headers: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return "\n".join(lines + ["| " + " | ".join(str(v) for v in row) + " |" for row in rows])


def save(summary: dict, machine: str, command: str, complete: bool, load: float, gpus: list[str] | None = None,
         results: Path = RESULTS) -> None:
    """Merge this run's notebooks into ``helpers/full_cost.json`` (other notebooks' figures are kept): under
    ``"gpu"`` when the kernels had a GPU (``gpus``: its names), else under ``"cpu"``; the other entry is kept."""
    old = json.loads(results.read_text()) if results.exists() else {}
    key, machine = ("gpu", ", ".join(gpus)) if gpus else ("cpu", machine)
    before = old.get(key) or {}
    stamp = {"measured": datetime.date.today().isoformat(), "command": command}
    notebooks = {**(before.get("notebooks", {}) if before.get("machine") == machine else {}),
                 **{name: {**result, **stamp} for name, result in summary.items()}}  # each with its own run
    table = {"measured": old.get("measured"), "command": old.get("command"), "note": old.get("note"),
             "cpu": old.get("cpu"), "gpu": old.get("gpu")}
    if key == "cpu":  # the CPU run is what the Colab setup cell's minutes and date come from
        table.update(measured=stamp["measured"], command=command,
                     note=STAND_IN + "; minutes " + ("measured to the end" if complete
                                                     else "projected from timed steps"))
    table[key] = {"machine": machine, "load": round(load, 2), "notebooks": dict(sorted(notebooks.items()))}
    results.write_text(json.dumps(table, indent=2) + "\n")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks/run.py full-cost", description=__doc__.splitlines()[0])
    parser.add_argument("--complete", action="store_true", help="run every fit to the end (no projection)")
    parser.add_argument("--notebooks", nargs="+", default=sorted(NOTEBOOKS), choices=sorted(NOTEBOOKS),
                        metavar="NN", help="notebook numbers (default: all)")
    parser.add_argument("--budget", type=float, default=60.0,
                        help="a fit projected longer than this (seconds) is cut and projected (default 60)")
    parser.add_argument("--kill-mb", type=float, default=8000.0,
                        help="kill a kernel whose memory passes this many MB (default 8000)")
    parser.add_argument("--no-save", action="store_true", help=f"do not write {RESULTS.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    command = "python benchmarks/run.py full-cost" + " ".join([""] + argv)
    root = Path(tempfile.mkdtemp(prefix="full-cost-"))
    summary, loads = {}, []
    try:
        home = prepare_home(root)
        env = runner.kernel_env(mode="full", keras_home=home, MPLBACKEND="Agg", TF_CPP_MIN_LOG_LEVEL="2",
                                COURSE_DATA_DIR=None, COURSE_TEST_EPOCHS=None)
        gpus = gpu_names(env)
        machine = ", ".join(gpus) if gpus else cpu_name()
        print(f"Full mode's cost on {machine}, {STAND_IN}.", flush=True)
        for number in args.notebooks:
            path = NOTEBOOKS[number]
            print(f"\n{path.parent.name} (load average {os.getloadavg()[0]:.1f} on {machine})", flush=True)
            workdir = root / path.parent.name
            workdir.mkdir()
            run = run_notebook(path, workdir, not args.complete, args.budget, args.kill_mb, env)
            summary[path.parent.name], rows = summarise(path.parent.name, run)
            loads.append(run["load"])
            print(markdown(["cell", "phase", "s / epoch", "minutes", ""], rows))
            print(f"{path.parent.name}: {summary[path.parent.name]['minutes']} min, peak "
                  f"{summary[path.parent.name]['peak_mb']} MB; ended: {run['ended']}; load {run['load']:.1f}")
            for error in run["errors"]:
                print(f"  error in {error}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    load = sum(loads) / max(len(loads), 1)
    print(f"\nFull mode on {machine} ({STAND_IN}); "
          + ("every fit run to the end" if args.complete else f"fits longer than {args.budget:.0f} s projected"))
    print(markdown(["notebook", "minutes", "peak memory (MB)", f"within {MEMORY_LIMIT_MB} MB"],
                   [[name, r["minutes"], r["peak_mb"], ("yes" if r["peak_mb"] <= MEMORY_LIMIT_MB else "NO")
                     + (f" ({r['ended']})" if "ended" in r else "")] for name, r in summary.items()]))
    cores = len(os.sched_getaffinity(0))
    print(f"load average while measuring: {load:.1f} on {cores} cores"
          + (" (HIGH: other work shared the CPU, the minutes are inflated)" if load > cores + 0.5 else ""))
    if not args.no_save:
        save(summary, cpu_name(), command, args.complete, load, gpus)
        print(f"written to {RESULTS.relative_to(ROOT)}")
    return 0
