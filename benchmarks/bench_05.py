"""Notebook 05 (flowers): the accuracies its solution prints, measured by running it.

The notebook itself is the code measured (no second copy of it here): it is executed in a fresh kernel
with one extra cell that prints its results as JSON.
"""

from __future__ import annotations

import functools

from common import ROOT, run_with_report

NOTEBOOK = ROOT / "solutions" / "05-flowers-example" / "05-flowers-example.ipynb"
REPORT = """import json
print("RESULTS " + json.dumps({
    "mode": cfg.mode, "base": cfg.base_name, "held_out": int(HELD_OUT * len(class_names)), "test": int(len(test_idx)),
    "seeds": len(SEEDS),
    "approaches": {name: float(np.mean([r["accuracy"] for r in rs])) for name, rs in comparison.items()},
    "tulip_recall": {name: float(np.mean([r["recall"][new_class] for r in rs])) for name, rs in comparison.items()},
    "fine_tuned_val": float(fine_history.history["val_accuracy"][-1]),
    "test_accuracy": test_result["accuracy"], "probe_accuracy": float(probe_accuracy),
    "curves": {name: {q: float(np.mean([r[q] for r in rows])) for q in rows[0]} for name, rows in curve_table.items()},
    "lessons": [lesson.row() for lesson in lessons],
    "curve_window": WINDOW, "curve_epochs": CURVE_EPOCHS,
}))"""


@functools.cache
def run_flowers_notebook() -> tuple[dict, float]:
    """Execute the solution notebook plus a reporting cell; return its results and the wall time."""
    return run_with_report(NOTEBOOK, REPORT)


def flowers_accuracies():
    """Held-out accuracy of the three few-photo approaches; test accuracy of the fine-tuned pipeline."""
    results, wall = run_flowers_notebook()
    rows = [[name, f"held out, mean of {results['seeds']} seeds", results["held_out"], f"{acc:.3f}",
             f"{results['tulip_recall'][name]:.2f}"] for name, acc in results["approaches"].items()]
    rows.append(["full pipeline, fine-tuned", "validation part", "-", f"{results['fine_tuned_val']:.3f}", "-"])
    rows.append(["full pipeline, fine-tuned", "test part (once)", results["test"],
                 f"{results['test_accuracy']:.3f}", "-"])
    rows.append(["linear probe, same training photos", "test part (once)", results["test"],
                 f"{results['probe_accuracy']:.3f}", "-"])
    return (f"Notebook 05 ({results['mode']} mode, {results['base']}): accuracies it prints "
            f"(chance 0.20; notebook ran in {wall:.0f} s)",
            ["model", "evaluated on", "photos", "accuracy", "tulip recall"], rows)


def learning_curves():
    """Start, slope and asymptote of the few-photo contenders' curves (mean of the seeds), and the ledger's verdicts."""
    results, _ = run_flowers_notebook()
    rows = [[name, f"{q['start']:.3f}", f"{q['slope']:+.3f}", f"{q['asymptote']:.3f}", ""]
            for name, q in results["curves"].items()]
    rows += [[lesson[0], lesson[2], lesson[3], lesson[4], lesson[5]] for lesson in results["lessons"]]
    return (f"Notebook 05: learning curves on {results['held_out']} held-out photos, {results['seeds']} seeds; "
            f"slope over epochs 1-{results['curve_window'] + 1}, asymptote over the last {results['curve_window']} "
            f"of {results['curve_epochs']}; then the comparisons (mean diff, SD, seeds, verdict)",
            ["model / comparison", "start / mean diff", "slope / SD", "asymptote / seeds", "verdict"], rows)


SECTIONS = [flowers_accuracies, learning_curves]
