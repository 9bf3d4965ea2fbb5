"""Kernel-side instrumentation of the full-cost benchmark (``benchmarks/full_cost.py``). Not part of the course.

:func:`install` runs in a cell the benchmark inserts before a notebook's first one; the notebook's own cells then
run unchanged. It wraps ``keras.Model.fit``, ``predict`` and ``evaluate`` and ``helpers.features.extract_features``
to time them, and hooks IPython to record each cell's seconds and the kernel's memory (``VmRSS``, ``VmHWM``
from ``/proc/self/status``). Every record is one JSON line appended to a log file that the benchmark reads.

In projection mode a fit whose first measurements project more than ``budget`` seconds is cut short: a timing
callback measures its first training steps (the first one holds tracing, and JPEG decoding when the pipeline's
shuffle buffer fills) and, when it is long, sets ``model.stop_training``. Its first epoch's validation pass
runs whole (it fills the validation cache, and its seconds are measured, not guessed). The projection multiplies
the measured seconds a step by the fit's real steps per epoch and epochs. Shorter fits run to the end.
"""

from __future__ import annotations

import json
import os
import time
from statistics import mean

MEASURED_STEPS = 6  # training steps timed after the first one before a long fit is cut


def memory_mb() -> dict:
    """The process's resident memory now and its high-water mark, in MB (Linux)."""
    with open("/proc/self/status") as handle:
        fields = dict(line.split(":", 1) for line in handle if ":" in line)
    return {"rss_mb": int(fields["VmRSS"].split()[0]) / 1024, "hwm_mb": int(fields["VmHWM"].split()[0]) / 1024}


class Log:
    """JSON lines appended to one file, each stamped with the cell that wrote it: 1 for the first cell run after
    :func:`install`'s, 2 for the next... (nbclient runs cells without history: IPython's count stays put)."""

    def __init__(self, path: str):
        self.path, self.cell = path, 0

    def write(self, **record) -> None:
        with open(self.path, "a") as handle:
            handle.write(json.dumps({"cell": self.cell, **record}) + "\n")


class FitProbe:
    """Times the steps of one fit and decides whether to cut it (a Keras callback, built in :func:`install`)."""

    def __init__(self, epochs: int, project: bool, budget: float):
        self.epochs, self.project, self.budget = epochs, project, budget
        self.train, self.val, self.epochs_run, self.cut = [], [], 0, False
        self.steps = None

    def on_train_batch(self, seconds: float, model) -> None:
        self.train.append(seconds)
        if self.project and not self.cut and len(self.train) == 1 + MEASURED_STEPS and self.projected() > self.budget:
            self.cut = model.stop_training = True  # Keras ends the epoch after this step, then validates

    def on_epoch_end(self, model) -> None:
        self.epochs_run += 1
        if self.project and not self.cut and self.epochs_run == 1 and self.epochs > 1 \
                and self.projected() > self.budget:
            self.cut = model.stop_training = True

    def projected(self) -> float:
        """Seconds the whole fit takes: the first step and first validation pass as measured, the rest by steps."""
        if not self.train or not self.steps:
            return 0.0
        step = mean(self.train[1:]) if len(self.train) > 1 else self.train[0]
        total = self.train[0] + (self.epochs * self.steps - 1) * step
        if self.val:
            total += sum(self.val) + (self.epochs - 1) * len(self.val) * self.val_step()
        return total

    def val_step(self) -> float:
        return mean(self.val[1:]) if len(self.val) > 1 else (self.val[0] if self.val else 0.0)

    def record(self, model, seconds: float) -> dict:
        step = mean(self.train[1:]) if len(self.train) > 1 else (self.train[0] if self.train else 0.0)
        return {"kind": "fit", "model": model.name, "epochs": self.epochs, "steps": self.steps,
                "val_steps": len(self.val), "first_step_s": self.train[0] if self.train else 0.0, "step_s": step,
                "val_step_s": self.val_step(), "epoch_s": (self.steps or 0) * step + len(self.val) * self.val_step(),
                "actual_s": seconds, "projected_s": self.projected() if self.cut else seconds, "cut": self.cut}


def _callback(probe: FitProbe):
    import keras

    class Timing(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            probe.steps = self.params.get("steps")

        def on_train_batch_begin(self, batch, logs=None):
            self.start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            probe.on_train_batch(time.perf_counter() - self.start, self.model)

        def on_test_batch_begin(self, batch, logs=None):
            self.start = time.perf_counter()

        def on_test_batch_end(self, batch, logs=None):
            if probe.epochs_run == 0:  # the first epoch's validation pass: measured whole
                probe.val.append(time.perf_counter() - self.start)

        def on_epoch_end(self, epoch, logs=None):
            probe.on_epoch_end(self.model)

    return Timing()


def _with_callback(kwargs: dict, callback) -> dict:
    callbacks = kwargs.get("callbacks")
    return {**kwargs, "callbacks": [*(callbacks or []), callback]}


def install(log_path: str, project: bool, budget: float, min_seconds: float = 1.0) -> None:
    """Instrument this kernel: fits (cut short when ``project`` and longer than ``budget`` s), passes, cells."""
    import keras
    from IPython import get_ipython

    from helpers import features

    log = Log(log_path)
    state = {"in_fit": False}
    fit, predict, evaluate, extract = keras.Model.fit, keras.Model.predict, keras.Model.evaluate, \
        features.extract_features

    def timed_fit(self, *args, **kwargs):
        epochs = kwargs.get("epochs", args[3] if len(args) > 3 else 1) - kwargs.get("initial_epoch", 0)
        probe = FitProbe(max(1, epochs), project, budget)
        start, state["in_fit"] = time.perf_counter(), True
        try:
            return fit(self, *args, **_with_callback(kwargs, _callback(probe)))
        finally:
            state["in_fit"] = False
            log.write(**probe.record(self, time.perf_counter() - start))

    def timed_pass(method, kind):
        def wrapper(self, *args, **kwargs):
            if state["in_fit"]:
                return method(self, *args, **kwargs)
            start = time.perf_counter()
            try:
                return method(self, *args, **kwargs)
            finally:
                seconds = time.perf_counter() - start
                if seconds >= min_seconds:
                    log.write(kind=kind, model=self.name, actual_s=seconds, projected_s=seconds)
        return wrapper

    def timed_extract(model, paths, *args, **kwargs):
        start = time.perf_counter()
        try:
            return extract(model, paths, *args, **kwargs)
        finally:
            seconds = time.perf_counter() - start
            if seconds >= min_seconds:
                log.write(kind="extract_features", model=model.name, photos=len(paths), actual_s=seconds,
                          projected_s=seconds)

    keras.Model.fit = timed_fit
    keras.Model.predict = timed_pass(predict, "predict")
    keras.Model.evaluate = timed_pass(evaluate, "evaluate")
    features.extract_features = timed_extract

    clock = {}

    def pre_run_cell(info):
        log.cell += 1
        clock["start"] = time.perf_counter()

    def post_run_cell(result):
        error = result.error_in_exec or result.error_before_exec
        log.write(kind="cell", seconds=time.perf_counter() - clock.get("start", time.perf_counter()),
                  error=f"{type(error).__name__}: {error}"[:300] if error else None, **memory_mb())

    ip = get_ipython()
    ip.events.register("pre_run_cell", pre_run_cell)
    ip.events.register("post_run_cell", post_run_cell)
    log.write(kind="start", pid=os.getpid(), **memory_mb())
