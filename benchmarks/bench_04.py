"""The measured 2x2 grid of notebook 04: held-out accuracy and time of every strategy, per scenario."""

from __future__ import annotations

_RESULT = {}


def _grid():
    """Run the grid once per benchmark session (both sections read the same run)."""
    if "grid" not in _RESULT:
        import helpers
        from helpers import measure

        helpers.set_seeds()
        _RESULT["grid"] = measure.run_grid(measure.grid_plan(), verbose=False)
    return _RESULT["grid"]


def grid_accuracy():
    """Accuracy on the held-out rest, one row per strategy, one column per (data set, training size)."""
    import helpers
    from helpers import guide

    cfg = helpers.settings()
    grid = _grid()
    cells = list(grid.accuracy)
    headers = ["strategy"] + [f"{d}, {grid.label(d, s)} ({grid.sizes[d, s][0]} train / {grid.sizes[d, s][1]} test)"
                              for d, s in cells]
    rows = [[guide.LABELS[s]] + [f"{grid.accuracy[c][s]:.2f} ({grid.steps[c][s]} updates)" for c in cells]
            for s in guide.STRATEGIES]
    rows.append(["chance"] + [f"{grid.chance[d]:.2f}" for d, _ in cells])
    plan = grid.plan
    return (f"Notebook 04 grid ({cfg.mode} mode, {plan.image_size} px, {plan.epochs} epochs, "
            f"earlier layer {grid.earlier_layer}): held-out accuracy "
            "(optimizer updates of the network)", headers, rows)


def grid_seconds():
    """Wall seconds each strategy took over the whole grid (tracing included), and the shared parts."""
    grid = _grid()
    return ("Notebook 04 grid: seconds", ["part", "seconds"], [[k, f"{v:.1f}"] for k, v in grid.seconds.items()])


SECTIONS = [grid_accuracy, grid_seconds]
