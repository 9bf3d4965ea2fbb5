"""One noise rule for the whole course: is a difference between two recipes bigger than its spread?

Run both recipes on the same seeds (the same split, photos and initial weights for both in each seed), take
the paired differences ``a - b`` (one per seed), and call the lesson *visible* when their mean exceeds twice
its standard error (SD / sqrt(n)), in the direction the lesson claims (``a`` better). A *two-sided* lesson is a
question the notebook leaves open (which of two pulls harder here?): it is *shown* when the difference exceeds
twice its standard error either way, and its verdict names the side ahead. :func:`compare` makes one
:class:`Comparison`; :func:`table` prints the ledger (``benchmarks/run.py lessons``) and its closing line.
A notebook prints the same verdict with ``print(ledger.compare(name, a_scores, b_scores))``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Comparison", "compare", "paired_differences", "visible", "closing_line", "table"]


def paired_differences(a, b) -> np.ndarray:
    """``a[i] - b[i]`` for each seed ``i``: both recipes' scores, in the same order of seeds."""
    a, b = np.asarray(a, dtype="float64").ravel(), np.asarray(b, dtype="float64").ravel()
    if len(a) != len(b):
        raise ValueError(f"paired scores need one of each per seed: {len(a)} and {len(b)} given.")
    return a - b


def visible(differences) -> bool:
    """True when the mean paired difference exceeds twice its standard error (needs two seeds or more)."""
    d = np.asarray(differences, dtype="float64")
    if len(d) < 2:
        return False
    return bool(d.mean() > 2 * d.std(ddof=1) / math.sqrt(len(d)))


@dataclass(frozen=True)
class Comparison:
    """One lesson: ``a`` compared with ``b`` over seeds, by the paired differences ``a - b``."""

    name: str  # the lesson, e.g. "03 two rates vs one"
    a: str  # what the lesson claims is better (a two-sided one: either side)
    b: str
    differences: tuple  # a - b, one per seed
    unit: str = "accuracy"
    two_sided: bool = False  # a question the notebook leaves open: shown when either side is ahead beyond the noise

    @property
    def n(self) -> int:
        return len(self.differences)

    @property
    def mean(self) -> float:
        return float(np.mean(self.differences))

    @property
    def sd(self) -> float:
        return float(np.std(self.differences, ddof=1)) if self.n > 1 else float("nan")

    @property
    def visible(self) -> bool:
        return visible(self.differences)

    @property
    def reversed(self) -> bool:
        """True when the difference is visible the other way: ``b`` better than ``a`` beyond the noise."""
        return visible([-d for d in self.differences])

    @property
    def shown(self) -> bool:
        """What the ledger counts: ``visible``, or for a two-sided lesson, either side ahead beyond the noise."""
        return self.visible or (self.two_sided and self.reversed)

    @property
    def verdict(self) -> str:
        if self.two_sided and self.shown:
            return f"visible ({self.a if self.visible else self.b} ahead)"
        return "visible" if self.visible else "not visible (reversed)" if self.reversed else "not visible"

    def row(self) -> list:
        """The ledger's row: lesson, compared, mean difference, SD, seeds, verdict."""
        return [self.name, f"{self.a} vs {self.b}", f"{self.mean:+.3f}", f"{self.sd:.3f}", self.n, self.verdict]

    def __str__(self) -> str:
        se = self.sd / math.sqrt(self.n) if self.n > 1 else float("nan")
        return (f"{self.a} minus {self.b}: {self.mean:+.3f} {self.unit} (SD {self.sd:.3f} over {self.n} seeds, "
                f"standard error {se:.3f}): {self.verdict}")


def compare(name: str, a_scores, b_scores, a: str = "a", b: str = "b", unit: str = "accuracy",
            two_sided: bool = False) -> Comparison:
    """The :class:`Comparison` of two recipes' scores, paired by seed (``a_scores[i]`` and ``b_scores[i]``);
    ``two_sided``: the lesson asks which is ahead, and claims neither."""
    return Comparison(name, a, b, tuple(float(d) for d in paired_differences(a_scores, b_scores)), unit, two_sided)


def closing_line(comparisons) -> str:
    """``lessons: N of M visible`` (a two-sided lesson counts when either side is ahead: :attr:`Comparison.shown`)."""
    comparisons = list(comparisons)
    return f"lessons: {sum(c.shown for c in comparisons)} of {len(comparisons)} visible"


HEADERS = ["lesson", "compared", "mean diff", "SD", "seeds", "verdict"]


def table(comparisons) -> tuple[list[str], list[list]]:
    """``(headers, rows)`` of the ledger, one row per comparison."""
    return HEADERS, [c.row() for c in comparisons]
