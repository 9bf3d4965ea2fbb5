"""The ledger's statistics and verdict rule (helpers.ledger) and the ledger command's table and closing line
(benchmarks/lessons.py), with stand-in lessons: no training, seconds."""

import math
import sys

import numpy as np
import pytest
from grading import ROOT

from helpers import ledger

sys.path.insert(0, str(ROOT / "benchmarks"))
import lessons  # noqa: E402 - benchmarks/ is not a package


def test_paired_differences_are_per_seed_and_need_one_of_each():
    np.testing.assert_allclose(ledger.paired_differences([0.5, 0.7, 0.6], [0.4, 0.7, 0.65]), [0.1, 0.0, -0.05])
    with pytest.raises(ValueError, match="one of each per seed"):
        ledger.paired_differences([0.5, 0.6], [0.5])


@pytest.mark.parametrize("differences, expected", [
    ([3.0, 1.01], True),  # mean 2.005 > 2 SE = 1.99
    ([3.01, 1.0], False),  # mean 2.005 < 2 SE = 2.01: twice the SE (sqrt(n) in it), not once
    ([0.10, 0.12, 0.09, 0.11, 0.10], True),
    ([0.1, -0.1, 0.05, -0.05, 0.0], False),
    ([-0.10, -0.12, -0.09, -0.11, -0.10], False),  # clearly the other way: not the lesson's effect
    ([0.2], False),  # one seed has no spread
])
def test_visible_when_the_mean_exceeds_twice_its_standard_error(differences, expected):
    assert ledger.visible(differences) is expected


def test_a_comparison_reports_mean_sd_seeds_and_verdict():
    c = ledger.compare("02 pretrained vs random", [0.6, 0.62, 0.58, 0.61, 0.59], [0.3, 0.35, 0.28, 0.3, 0.31],
                       "pretrained", "random")
    d = np.array([0.3, 0.27, 0.3, 0.31, 0.28])
    assert c.n == 5 and math.isclose(c.mean, d.mean()) and math.isclose(c.sd, d.std(ddof=1))
    assert c.visible and c.verdict == "visible"
    assert c.row() == ["02 pretrained vs random", "pretrained vs random", f"{d.mean():+.3f}", f"{d.std(ddof=1):.3f}",
                       5, "visible"]
    assert str(c).startswith("pretrained minus random: +0.292") and str(c).endswith(": visible")
    noisy = ledger.compare("noise", [0.5, 0.6, 0.4], [0.55, 0.5, 0.45])
    assert noisy.verdict == "not visible" and "not visible" in str(noisy) and not noisy.reversed
    other_way = ledger.compare("reversed", [0.3, 0.35, 0.28], [0.6, 0.62, 0.58])
    assert not other_way.visible and other_way.reversed and other_way.verdict == "not visible (reversed)"


def test_the_closing_line_counts_visible_lessons():
    seen = ledger.compare("a", [1, 1.1, 1.2], [0, 0, 0])
    unseen = ledger.compare("b", [1, 0, 1], [0, 1, 0])
    assert ledger.closing_line([seen, unseen, seen]) == "lessons: 2 of 3 visible"
    headers, rows = ledger.table([seen, unseen])
    assert headers == ledger.HEADERS and [r[-1] for r in rows] == ["visible", "not visible"]


def test_a_two_sided_lesson_is_shown_either_way_and_names_the_side_ahead():
    ahead, behind, even = [0.6, 0.62, 0.58], [0.3, 0.35, 0.28], [0.5, 0.6, 0.4]
    b_ahead = ledger.compare("05 q", behind, ahead, "ImageNet", "develop", two_sided=True)
    assert b_ahead.shown and not b_ahead.visible and b_ahead.reversed
    assert b_ahead.verdict == "visible (develop ahead)" and str(b_ahead).endswith(": visible (develop ahead)")
    a_ahead = ledger.compare("05 q", ahead, behind, "ImageNet", "develop", two_sided=True)
    assert a_ahead.shown and a_ahead.visible and a_ahead.verdict == "visible (ImageNet ahead)"
    tie = ledger.compare("05 q", even, [0.55, 0.5, 0.45], "ImageNet", "develop", two_sided=True)
    assert not tie.shown and tie.verdict == "not visible"
    one_sided = ledger.compare("03 q", behind, ahead)  # the same numbers, a lesson that claims a side
    assert not one_sided.shown and one_sided.verdict == "not visible (reversed)"
    assert ledger.closing_line([b_ahead, a_ahead, tie, one_sided]) == "lessons: 2 of 4 visible"


def fake_lessons(seeds):
    n = len(seeds)
    return [ledger.compare("one", np.linspace(0.6, 0.7, n), np.full(n, 0.5), "A", "B"),
            ledger.compare("two", np.full(n, 0.5) + np.resize([0.01, -0.01], n), np.full(n, 0.5), "C", "D")]


def test_the_ledger_command_prints_one_row_per_lesson_and_the_closing_line(monkeypatch, capsys):
    monkeypatch.setattr(lessons, "LESSONS", {"fake": fake_lessons, "other": lambda seeds: []})
    assert lessons.main(["--seeds", "4", "--only", "fake"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith(("one ", "two "))]
    assert len(rows) == 2 and rows[0].split()[-1] == "visible" and rows[1].endswith("not visible")
    assert "A vs B" in rows[0] and rows[0].split()[-2] == "4"
    assert "lessons: 1 of 2 visible" in out.splitlines()


def test_the_ledger_command_refuses_an_unknown_lesson(monkeypatch):
    monkeypatch.setattr(lessons, "LESSONS", {"fake": fake_lessons})
    with pytest.raises(SystemExit):
        lessons.main(["--only", "nothing-like-this"])
