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
    "mode": cfg.mode, "base": cfg.base_name, "held_out": int(len(val_idx)), "test": int(len(test_idx)),
    "approaches": {name: r["accuracy"] for name, r in comparison.items()},
    "tulip_recall": {name: float(r["recall"][new_class]) for name, r in comparison.items()},
    "fine_tuned_val": float(fine_history.history["val_accuracy"][-1]),
    "test_accuracy": test_result["accuracy"],
    "curves": curve_table, "curve_window": WINDOW, "curve_epochs": FEW_EPOCHS,
}))"""


@functools.cache
def run_flowers_notebook() -> tuple[dict, float]:
    """Execute the solution notebook plus a reporting cell; return its results and the wall time."""
    return run_with_report(NOTEBOOK, REPORT)


def flowers_accuracies():
    """Held-out accuracy of the three few-photo approaches; test accuracy of the fine-tuned pipeline."""
    results, wall = run_flowers_notebook()
    rows = [[name, "validation part", results["held_out"], f"{acc:.3f}", f"{results['tulip_recall'][name]:.2f}"]
            for name, acc in results["approaches"].items()]
    rows.append(["full pipeline, fine-tuned", "validation part", results["held_out"],
                 f"{results['fine_tuned_val']:.3f}", "-"])
    rows.append(["full pipeline, fine-tuned", "test part (once)", results["test"],
                 f"{results['test_accuracy']:.3f}", "-"])
    return (f"Notebook 05 ({results['mode']} mode, {results['base']}): accuracies it prints "
            f"(chance 0.20; notebook ran in {wall:.0f} s)",
            ["model", "evaluated on", "photos", "accuracy", "tulip recall"], rows)


def learning_curves():
    """Start, slope and asymptote of the few-photo contenders' validation curves, as the notebook reads them."""
    results, _ = run_flowers_notebook()
    one_photo = 1 / results["held_out"]
    rows = [[name, f"{q['start']:.3f}", f"{q['slope']:+.3f}", f"{q['asymptote']:.3f}"]
            for name, q in results["curves"].items()]
    return (f"Notebook 05: learning curves on {results['held_out']} held-out photos (one photo = {one_photo:.3f}); "
            f"slope over epochs 1-{results['curve_window']}, asymptote over the last {results['curve_window']} "
            f"of {results['curve_epochs']}",
            ["model", "start (epoch 1)", "slope / epoch", "asymptote"], rows)


SECTIONS = [flowers_accuracies, learning_curves]
