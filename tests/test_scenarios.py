"""Unit tests of helpers.scenarios: the 2x2 guide, its widget, and the grid's plumbing."""

import numpy as np
import pytest

from helpers import scenarios
from helpers.scenarios import GridPlan, GridResult

# --- the guide -----------------------------------------------------------------------------------------------

CORNERS = [
    (10, "similar", "feature_extraction", 1),
    (10, "different", "earlier_layers", 2),
    (scenarios.LARGE_FROM, "different", "from_scratch", 3),
    (scenarios.LARGE_FROM, "similar", "full_fine_tune", 4),
]


@pytest.mark.parametrize(("size", "similarity", "strategy", "number"), CORNERS)
def test_recommend_corners(size, similarity, strategy, number):
    result = scenarios.recommend(size, similarity)
    assert (result.strategy, result.scenario, result.similarity) == (strategy, number, similarity)
    assert result.reason and result.variants and result.code == scenarios.CODE[strategy]
    assert result.label == scenarios.LABELS[strategy]


def test_recommend_boundary_and_numpy_sizes():
    assert scenarios.recommend(scenarios.LARGE_FROM - 1, "similar").size == "small"
    assert scenarios.recommend(np.int64(scenarios.LARGE_FROM), "similar").size == "large"
    assert scenarios.recommend(1, " Different ").strategy == "earlier_layers"


@pytest.mark.parametrize("size", [0, -1, -1000, 2.5, "10", None, True, float("nan"), float("inf")])
def test_recommend_rejects_bad_sizes(size):
    with pytest.raises(ValueError, match="images_per_class"):
        scenarios.recommend(size, "similar")


@pytest.mark.parametrize("similarity", ["unknown", "", None, 0.5, "dissimilar"])
def test_recommend_rejects_unknown_similarity(similarity):
    with pytest.raises(ValueError, match="similarity"):
        scenarios.recommend(100, similarity)


def test_code_matches_strategy():
    assert "weights=None" in scenarios.CODE["from_scratch"]
    assert "trainable = False" in scenarios.CODE["feature_extraction"]
    assert "EARLIER_LAYER" in scenarios.CODE["earlier_layers"]
    assert set(scenarios.CODE) == set(scenarios.STRATEGIES) == set(scenarios.LABELS)
    assert {strategy for _, strategy, _, _ in scenarios.GUIDE.values()} <= set(scenarios.STRATEGIES)


def test_guide_widget_calls_recommend():
    box = scenarios.guide(images_per_class=20, similarity="similar")
    size, choice, answer = box.children
    assert "feature_extraction" in answer.value and "Scenario 1" in answer.value
    choice.value = "different"
    assert "earlier_layers" in answer.value
    size.value = 5000
    assert "from_scratch" in answer.value and "Scenario 3" in answer.value


# --- the grid's plumbing -------------------------------------------------------------------------------------

def test_grid_plan_small_mode():
    plan = scenarios.grid_plan()
    assert plan.small_per_class == 10 and plan.large_per_class == 30 and plan.max_per_class == 40
    for n_classes in (5, 10):
        for per_class in (plan.small_per_class, plan.large_per_class):
            assert (n_classes * per_class) % plan.batch_size == 0


def test_grid_splits_nested_and_disjoint():
    labels = np.repeat(np.arange(4), 40)
    plan = GridPlan(image_size=32, small_per_class=10, large_per_class=30, epochs=1, batch_size=8)
    splits = scenarios.grid_splits(labels, plan)
    assert set(splits["small"]) < set(splits["large"])
    assert not set(splits["large"]) & set(splits["held_out"])
    assert len(splits["large"]) + len(splits["held_out"]) == len(labels)
    for label in range(4):
        assert (labels[splits["small"]] == label).sum() == 10
        assert (labels[splits["large"]] == label).sum() == 30
    again = scenarios.grid_splits(labels, plan)
    assert all(np.array_equal(splits[k], again[k]) for k in splits)
    full = scenarios.grid_splits(labels, GridPlan(32, 10, None, 1, 8))
    assert len(full["large"]) == 4 * 30
    with pytest.raises(ValueError, match="too few"):
        scenarios.grid_splits(np.repeat(np.arange(2), 12), plan)


def test_cut_points_skip_residual_blocks():
    import keras

    inputs = keras.Input((8,))
    a = keras.layers.ReLU(name="a")(keras.layers.Dense(8)(inputs))
    b = keras.layers.ReLU(name="b")(keras.layers.Dense(8)(a))
    c = keras.layers.Add(name="c")([a, keras.layers.Dense(8)(b)])
    d = keras.layers.ReLU(name="d")(keras.layers.Dense(8)(c))
    model = keras.Model(inputs, keras.layers.Dense(2)(d))
    points = scenarios.cut_points(model)
    assert "b" not in points  # the skip connection from a to c crosses a cut after b
    assert {"a", "c", "d"} <= set(points)


def test_earlier_layer_of_the_base_is_a_middle_block_end(small_assets):
    from helpers import models

    base = models.load_base(64)
    name = scenarios.earlier_layer(base)
    index = [layer.name for layer in base.layers].index(name)
    assert name in scenarios.cut_points(base)
    assert 0.3 * len(base.layers) < index < 0.7 * len(base.layers)


def test_freeze_batchnorm_only_touches_batchnorm():
    import keras

    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.BatchNormalization()(keras.layers.Dense(3)(inputs)))
    scenarios.freeze_batchnorm(model)
    assert model.layers[1].trainable and not model.layers[2].trainable


def test_linear_head_fits_separable_data():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 20)
    features = rng.normal(size=(60, 5)).astype("float32") + 4 * np.eye(3, 5)[labels]
    head = scenarios.linear_head(features, labels)
    assert head[0].shape == (5, 3) and head[1].shape == (3,)
    assert scenarios.linear_accuracy(head, features, labels) > 0.95


def test_run_grid_linear_strategies_are_repeatable(small_assets):
    plan = scenarios.grid_plan()
    kwargs = {"datasets": ("digits",), "strategies": ("feature_extraction", "earlier_layers"), "verbose": False}
    first = scenarios.run_grid(plan, **kwargs)
    second = scenarios.run_grid(plan, **kwargs)
    assert first.accuracy == second.accuracy
    assert set(first.accuracy) == {("digits", "small"), ("digits", "large")}
    assert first.sizes["digits", "small"] == (100, 100) and first.sizes["digits", "large"] == (300, 100)
    for scores in first.accuracy.values():
        assert all(0.3 < v <= 1 for v in scores.values())  # pretrained features: far above 0.1 chance
    assert "frozen features" in first.table() and first.best("digits", "large") in kwargs["strategies"]
    with pytest.raises(ValueError, match="unknown strategies"):
        scenarios.run_grid(plan, strategies=("fine_tune",))


def test_plot_grid_draws_every_scenario(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.setattr(plt, "show", lambda: None)
    result = GridResult(GridPlan(32, 10, 30, 1, 8))
    for name in ("flowers", "digits"):
        for size in ("small", "large"):
            result.accuracy[name, size] = {s: 0.1 * i for i, s in enumerate(scenarios.STRATEGIES)}
            result.sizes[name, size] = (50, 50)
    scenarios.plot_grid(result)
    figure = plt.gcf()
    assert len([ax for ax in figure.axes if ax.get_title()]) == 4
    assert result.best("flowers", "small") == "from_scratch"
    plt.close(figure)
