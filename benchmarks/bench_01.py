"""Notebook run times and memory; pretrained vs random features on the flowers subset."""

from __future__ import annotations

import os

import numpy as np
from common import ROOT, run_notebook

BINDER_BUDGET_MB = 1536  # Binder gives about 2 GB; the notebooks must peak under 1.5 GB in small mode


def notebooks_time_and_memory():
    """Wall time and peak kernel memory of every solution notebook, in the current mode."""
    rows = []
    chosen = [name for name in os.environ.get("BENCH_NOTEBOOKS", "").split(",") if name]
    for path in sorted((ROOT / "solutions").glob("*/*.ipynb")):
        if chosen and not any(path.parent.name.startswith(name) for name in chosen):
            continue
        wall, peak = run_notebook(path)
        rows.append([path.parent.name, f"{wall:.0f}", f"{peak:.0f}", "yes" if peak < BINDER_BUDGET_MB else "NO"])
    return ("Notebooks (solutions, executed in a fresh kernel)",
            ["notebook", "wall s", "peak MB", f"under Binder's {BINDER_BUDGET_MB} MB"], rows)


def pooled_features(weights, image_size):
    """Pooled base features and labels of the whole flowers subset."""
    import helpers
    from helpers import data, models

    cfg = helpers.settings()
    folder = data.list_images(cfg.flowers_dir)
    images = np.concatenate([x.numpy() for x, _ in data.make_dataset(folder.paths, folder.labels, image_size)])
    base = models.load_base(image_size, weights=weights)
    maps = base.predict(models.base_module().preprocess_input(images), batch_size=64, verbose=0)
    return maps.mean(axis=(1, 2)), folder.labels


def flowers_linear_probe():
    """5-fold cross-validated logistic regression on pretrained vs random pooled features."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import helpers

    helpers.set_seeds()
    cfg = helpers.settings()
    rows = []
    for size in sorted({cfg.image_size, 224}):
        for weights in ("imagenet", None):
            x, y = pooled_features(weights, size)
            row = [cfg.base_name, size, weights or "random", len(y)]
            for probe in (LogisticRegression(max_iter=5000),
                          make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))):
                scores = cross_val_score(probe, x, y, cv=5)
                row.append(f"{scores.mean():.2f} ± {scores.std():.2f}")
            rows.append(row)
    return (f"Flowers ({cfg.mode} mode): linear head on pooled features, 5-fold CV accuracy (chance 0.20)",
            ["base", "image size", "weights", "images", "raw features", "standardised features"], rows)


SECTIONS = [flowers_linear_probe, notebooks_time_and_memory]
