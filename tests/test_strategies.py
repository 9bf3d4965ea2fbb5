"""Notebook 04's one table of strategies (helpers.strategies): every strategy's guide text and grid fields come
from it, and the grid's code dispatches on its fields, never on a strategy's name."""

import ast
from dataclasses import FrozenInstanceError
from pathlib import Path

import numpy as np
import pytest

from helpers import grid_models, guide, measure, strategies
from helpers.measure import GridPlan
from helpers.strategies import TABLE, Strategy

ROOT = Path(__file__).resolve().parents[1]


def test_every_strategy_is_whole_and_the_guide_reads_the_table():
    assert tuple(TABLE) == guide.STRATEGIES and len(TABLE) == 5
    for name, strategy in TABLE.items():
        assert strategy.name == name and strategy.label and strategy.description and strategy.code, name
        assert strategy.kind in strategies.KINDS and strategy.reads in strategies.INPUTS, name
        assert (guide.LABELS[name], guide.DESCRIPTIONS[name], guide.CODE[name]) == (
            strategy.label, strategy.description, strategy.code)
    assert list(guide.LABELS) == list(guide.DESCRIPTIONS) == list(guide.CODE) == list(TABLE)
    assert strategies.baseline().name == "from_scratch"
    with pytest.raises(FrozenInstanceError):
        TABLE["from_scratch"].seeded = False


def test_the_grid_reads_its_plan_and_models_from_the_table():
    assert GridPlan(32, 10, 50, 1, 8).seeded == tuple(n for n, s in TABLE.items() if s.seeded)
    assert GridPlan(32, 10, 50, 1, 8).seeded == ("feature_extraction", "earlier_layers", "from_scratch")
    fine = {n: s.trains_from for n, s in TABLE.items() if s.kind == strategies.FINE_TUNE}
    assert fine == {"partial_fine_tune": strategies.CUT, "full_fine_tune": 0}
    assert {n: s.reads for n, s in TABLE.items()} == {
        "feature_extraction": "final_pooled", "earlier_layers": "cut_pooled", "partial_fine_tune": "cut_maps",
        "full_fine_tune": "x", "from_scratch": "x_scratch"}


def test_a_strategy_the_grid_cannot_score_is_refused():
    whole = dict(name="new", label="new", description="d", code="c", seeded=True)
    for wrong in (dict(kind="lasso", reads="x"), dict(kind=strategies.LINEAR, reads="pixels"),
                  dict(kind=strategies.FINE_TUNE, reads="x"),  # where its trainable part starts is missing
                  dict(kind=strategies.LINEAR, reads="final_pooled", trains_from=0),
                  dict(kind=strategies.FINE_TUNE, reads="x", trains_from=strategies.CUT)):  # from k reads maps
        with pytest.raises(ValueError):
            Strategy(**whole, **wrong)


def _names_in_code(path: Path) -> list[str]:
    """Every string literal of a module that is a strategy's name, docstrings left out: ``line: literal``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and node.body
                  and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [f"{node.lineno}: {node.value!r}" for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and node.value in TABLE and id(node) not in docstrings]


@pytest.mark.parametrize("module", [measure, grid_models], ids=lambda m: m.__name__)
def test_the_grid_never_names_a_strategy(module):
    """No ``strategy == "from_scratch"`` nor ``in ("feature_extraction", ...)``: what a strategy is, is the table's."""
    found = _names_in_code(Path(module.__file__))
    assert not found, f"{module.__name__} names strategies instead of reading helpers.strategies.TABLE: {found}"


def test_the_check_finds_a_strategy_named_in_code(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text('"""Mentions "from_scratch" in its docstring: allowed."""\n\n'
                   'def f(strategy):\n    """And here: \'from_scratch\'."""\n'
                   '    return strategy == "from_scratch" or strategy in ("feature_extraction", "x")\n')
    assert _names_in_code(bad) == ["5: 'from_scratch'", "5: 'feature_extraction'"]


def test_a_network_from_scratch_without_small_cnn_is_a_clear_error():
    plan = GridPlan(32, 10, 50, 1, 8)
    with pytest.raises(ValueError, match=r"small_cnn=helpers\.recipes\.small_cnn"):
        grid_models.trainables(("feature_extraction", "from_scratch"), plan, k=10, outputs=10, small_cnn=None)
    assert grid_models.trainables(("feature_extraction", "earlier_layers"), plan, k=10, outputs=10) == {}


def test_what_a_strategy_reads_is_what_the_forward_pass_caches():
    from helpers import grid_data

    class Extractor:  # two outputs, like the grid's: the earlier layer's maps and the base's final maps
        def predict_on_batch(self, batch):
            return batch[:, ::2, ::2, :2], batch[:, ::4, ::4]

    images = np.arange(6 * 8 * 8 * 3, dtype="uint8").reshape(6, 8, 8, 3)
    cell = grid_data.forward_pass(Extractor(), images, lambda x: x / 255.0, rows=np.array([1, 4]), side=4)
    assert set(cell) == set(strategies.INPUTS) >= {s.reads for s in TABLE.values()}
    assert cell["cut_maps"].shape[0] == cell["x"].shape[0] == 2 and cell["x_scratch"].shape == (6, 4, 4, 3)
