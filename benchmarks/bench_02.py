"""Notebooks 02 and 03 on the flowers data, measured by running them: the speed-up of cached features (02), and
feature extraction vs two-phase fine-tuning and the sweep over k (03).

The notebooks themselves are the code measured (no second copy of them here): each is executed in a fresh kernel
with one extra cell that prints the numbers it computed as JSON.
"""

from __future__ import annotations

import functools

from common import ROOT, run_with_report

NB02 = ROOT / "solutions" / "02-feature-extraction" / "02-feature-extraction.ipynb"
NB03 = ROOT / "solutions" / "03-fine-tuning" / "03-fine-tuning.ipynb"
REPORT_02 = """import json
print("RESULTS " + json.dumps({
    "mode": cfg.mode, "base": cfg.base_name, "image_size": cfg.image_size, "epochs": cfg.epochs,
    "train": int(len(flower_train_y)), "val": int(len(flower_val_y)),
    "in_fit_s": in_fit_seconds, "in_fit_accuracy": float(in_fit_accuracy),
    "cached_s": flower_head_seconds, "cached_accuracy": float(flower_head_accuracy),
    "extraction_s": extraction_seconds,
}))"""
REPORT_03 = """import json
print("RESULTS " + json.dumps({
    "mode": cfg.mode, "base": cfg.base_name, "epochs": cfg.epochs, "fine_tune_epochs": cfg.fine_tune_epochs,
    "val": int(len(val_labels)), "head_rate": HEAD_LEARNING_RATE, "head": float(head_accuracy),
    "fine_tuned": float(fine_tuned_accuracy), "sweep": {int(k): float(v) for k, v in results.items()},
    "sweep_epochs": sweep_epochs, "sweep_rate": sweep_rate, "base_layers": len(base.layers),
}))"""


@functools.cache
def _run(number: str) -> tuple[dict, float]:
    return run_with_report(NB02, REPORT_02) if number == "02" else run_with_report(NB03, REPORT_03)


def cached_features_speedup():
    """Notebook 02, section 6: the head on cached features vs the frozen base inside fit, same epochs."""
    r, wall = _run("02")
    rows = [[r["epochs"], f"{r['in_fit_s']:.2f}", f"{r['in_fit_accuracy']:.2f}", f"{r['cached_s']:.2f}",
             f"{r['cached_accuracy']:.2f}", f"{r['in_fit_s'] / r['cached_s']:.1f}x",
             f"{r['in_fit_s'] / (r['cached_s'] + r['extraction_s']):.1f}x"]]
    return (f"Notebook 02 ({r['mode']} mode, {r['train']} training and {r['val']} validation photos, {r['base']} at "
            f"{r['image_size']} px): frozen base inside fit vs head on cached features (one extraction: "
            f"{r['extraction_s']:.2f} s; notebook ran in {wall:.0f} s)",
            ["epochs", "in fit s", "in fit acc", "cached s", "cached acc", "speed-up", "incl. extraction"], rows)


def extraction_vs_fine_tuning():
    """Notebook 03: validation accuracy after the head alone, after fine-tuning, and for each k of the sweep."""
    r, wall = _run("03")
    one_photo = 1 / r["val"]
    best = max(r["sweep"].values())
    rows = [["after phase 1: head only (feature extraction)", f"{r['head']:.3f}",
             f"{r['epochs']} at {r['head_rate']:g}"],
            ["after phase 2: fine-tuned (the notebook's k)", f"{r['fine_tuned']:.3f}", f"+ {r['fine_tune_epochs']}"]]
    rows += [[f"sweep: k = {k} ({r['base_layers'] - int(k)} base layers trainable)"
              + ("  <- best" if v == best else ""), f"{v:.3f}", f"{r['sweep_epochs']} at {r['sweep_rate']:g}"]
             for k, v in r["sweep"].items()]
    return (f"Notebook 03 ({r['mode']} mode, {r['base']}, {r['val']} validation photos: one photo = {one_photo:.3f}; "
            f"one run, one seed; notebook ran in {wall:.0f} s)", ["model", "validation accuracy", "epochs at rate"],
            rows)


SECTIONS = [cached_features_speedup, extraction_vs_fine_tuning]
