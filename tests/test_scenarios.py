"""Unit tests of notebook 04's helpers: the guide's strategies and widget (helpers.guide), the measured grid's
plumbing (helpers.measure, helpers.grid_models), and the notebook's graded test cells against mistakes."""

from pathlib import Path

import numpy as np
import pytest

from helpers import grid_models, guide, measure, strategies
from helpers.measure import GridPlan, GridResult

# --- the guide's plumbing (the guide itself is the student's graded function) -----------------------------

def test_no_reference_guide_in_helpers():
    """Notebook 04 grades `recommend`: no answer table or reference version may be importable (issue 10)."""
    for module in (guide, measure, grid_models, strategies):
        for name in ("recommend", "GUIDE", "classify", "Recommendation", "LARGE_FROM"):
            assert not hasattr(module, name), f"{module.__name__}.{name}"


def test_code_and_descriptions_cover_every_strategy():
    assert set(guide.CODE) == set(guide.STRATEGIES) == set(guide.LABELS) == set(guide.DESCRIPTIONS)
    assert "weights=None" in guide.CODE["from_scratch"]
    assert "base.trainable = False" in guide.CODE["feature_extraction"]
    assert "freezing.boundary_near" in guide.CODE["earlier_layers"]
    for strategy in ("partial_fine_tune", "full_fine_tune"):
        code = guide.CODE[strategy]
        assert "freezing.unfreeze_from" in code and "freezing.FINE_TUNE_RATE" in code, strategy
    for code in guide.CODE.values():  # one recipe: no hand-written loops, no training=False as protection
        assert "training=False" not in code and "for layer" not in code and "1e-" not in code


def test_guide_widget_calls_the_function_it_is_given():
    calls = []

    def mine(n, similarity):
        calls.append((n, similarity))
        if n < 1:
            raise ValueError("at least one image a class")
        return "feature_extraction" if similarity == "similar" else "partial_fine_tune"

    box = guide.widget(mine, images_per_class=20, similarity="similar")
    size, choice, answer = box.children
    assert calls == [(20, "similar")] and "feature_extraction" in answer.value and "mine" in answer.value
    choice.value = "different"
    assert calls[-1] == (20, "different") and "unfreeze_from" in answer.value
    size.value = -3
    assert "ValueError" in answer.value and "at least one image" in answer.value
    box = guide.widget(lambda n, s: "fine_tune")
    assert "not one of" in box.children[2].value

    def unwritten(n, similarity):
        raise NotImplementedError()

    assert "raised NotImplementedError" in guide.widget(unwritten).children[2].value


# --- the grid's plumbing -------------------------------------------------------------------------------------

def test_grid_plan_follows_the_settings():
    import helpers
    from helpers import freezing, recipes

    cfg = helpers.settings()
    plan = measure.grid_plan()
    assert (plan.image_size, plan.epochs, plan.batch_size) == (cfg.image_size // 2, cfg.epochs, cfg.grid_batch_size)
    assert (plan.fewer_per_class, plan.more_per_class, plan.held_out_per_class) == (10, 50, 100)
    assert plan.seeds == tuple(range(cfg.grid_seeds)) and len(plan.seeds) >= 5
    assert (plan.fine_tune_rate, plan.scratch_rate) == (freezing.FINE_TUNE_RATE, recipes.SCRATCH_RATE)
    assert plan.scratch_updates >= 300 and "from_scratch" in plan.seeded
    for n_classes in (5, 10):
        for per_class in (plan.fewer_per_class, plan.more_per_class):
            assert (n_classes * per_class) % plan.batch_size == 0  # no partial last batch to retrace


def test_grid_splits_nested_and_disjoint():
    labels = np.repeat(np.arange(4), 40)
    plan = GridPlan(image_size=32, fewer_per_class=10, more_per_class=30, epochs=1, batch_size=8,
                    held_out_per_class=10)
    splits = measure.grid_splits(labels, plan, seed=3)
    assert set(splits["fewer"]) < set(splits["more"])
    assert not set(splits["more"]) & set(splits["held_out"])
    assert len(splits["more"]) + len(splits["held_out"]) == len(labels)
    for label in range(4):
        assert (labels[splits["fewer"]] == label).sum() == 10
        assert (labels[splits["more"]] == label).sum() == 30
    again = measure.grid_splits(labels, plan, seed=3)
    assert all(np.array_equal(splits[k], again[k]) for k in splits)
    other = measure.grid_splits(labels, plan, seed=4)  # another seed, another split of the same sizes
    assert not np.array_equal(splits["more"], other["more"]) and len(other["held_out"]) == 40
    cut = measure.grid_splits(labels, GridPlan(32, 10, 50, 1, 8, held_out_per_class=100))  # 40 a class: shared
    assert len(cut["more"]) == 4 * 20 and len(cut["held_out"]) == 4 * 20
    with pytest.raises(ValueError, match="too few"):
        measure.grid_splits(np.repeat(np.arange(2), 11), plan)


def test_earlier_layer_is_the_last_layer_before_a_middle_block_boundary(small_assets):
    from helpers import freezing, models

    base = models.load_base(64)
    k = measure.fine_tune_at(base)
    assert k in freezing.block_boundaries(base) and len(freezing.crossing(base, k)) == 1
    assert measure.earlier_layer(base) == freezing.cut_layer(base, k).name == base.layers[k - 1].name
    assert 0.3 * len(base.layers) < k < 0.7 * len(base.layers)


def test_linear_head_fits_separable_data():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 20)
    features = rng.normal(size=(60, 5)).astype("float32") + 4 * np.eye(3, 5)[labels]
    head = grid_models.linear_head(features, labels)
    assert head[0].shape == (5, 3) and head[1].shape == (3,)
    assert grid_models.linear_accuracy(head, features, labels) > 0.95


def test_run_grid_linear_strategies_are_repeatable(small_assets):
    import dataclasses

    plan = dataclasses.replace(measure.grid_plan(), image_size=32, seeds=(0, 1, 2))  # 32 px: the smallest base
    kwargs = {"datasets": ("digits",), "strategies": ("feature_extraction", "earlier_layers"), "verbose": False}
    first = measure.run_grid(plan, **kwargs)
    second = measure.run_grid(plan, **kwargs)
    assert first.accuracy == second.accuracy and first.scores == second.scores
    assert set(first.accuracy) == {("digits", "fewer"), ("digits", "more")}
    assert first.sizes["digits", "fewer"] == (100, 1000) and first.sizes["digits", "more"] == (500, 1000)
    assert first.per_class["digits", "fewer"] == (10, 10) and first.label("digits", "more") == "50 a class"
    assert first.steps["digits", "more"] == {"feature_extraction": 0, "earlier_layers": 0}
    runs = first.scores["digits", "more"]["feature_extraction"]
    assert len(runs) == 3 and len(set(runs)) > 1  # three splits, three scores
    assert first.accuracy["digits", "more"]["feature_extraction"] == pytest.approx(np.mean(runs))
    for scores in first.accuracy.values():
        assert all(0.3 < v <= 1 for v in scores.values())  # pretrained features: far above 0.1 chance
    assert "frozen features" in first.table() and "digits, 10 a class" in first.table()
    with pytest.raises(ValueError, match="unknown strategies"):
        measure.run_grid(plan, strategies=("fine_tune",))


def test_plot_grid_draws_every_scenario(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.setattr(plt, "show", lambda: None)
    result = GridResult(GridPlan(32, 10, 30, 1, 8))
    for name in ("flowers", "digits"):
        for size in measure.SIZES:
            result.accuracy[name, size] = {s: 0.1 * i for i, s in enumerate(guide.STRATEGIES)}
            result.scores[name, size] = {s: [0.1 * i] * 3 for i, s in enumerate(guide.STRATEGIES)}
            result.steps[name, size] = {s: 10 * i for i, s in enumerate(guide.STRATEGIES)}
            result.sizes[name, size] = (50, 50)
            result.per_class[name, size] = (10, 10) if size == "fewer" else (474, 673)
    measure.plot_grid(result)
    figure = plt.gcf()
    titles = [ax.get_title() for ax in figure.axes if ax.get_title()]
    assert len(titles) == 4 and "digits, 474-673 a class: 50 train / 50 held out" in titles
    assert "optimizer updates" in result.table() and "40" in result.table()
    plt.close(figure)


# --- notebook 04's graded test cells, run in-process against mistakes (cheaper than a notebook run each) -----

SOLUTION = Path(__file__).resolve().parents[1] / "solutions" / "04-four-scenarios" / "04-four-scenarios.ipynb"


def _cells() -> dict[str, str]:
    import nbformat

    from helpers.instructor import marks

    nb = nbformat.read(SOLUTION, as_version=4)
    return {marks.grade_id(c): c.source for c in nb.cells if marks.marks(c) is not None}


def _namespace(**extra) -> dict:
    return {"__name__": "__main__", "np": np, "guide": guide, "measure": measure, "STRATEGIES": guide.STRATEGIES,
            "LARGE_FROM": 1000, **extra}


def _passes(answer: str, test: str, namespace: dict) -> bool:
    exec(answer, namespace)  # noqa: S102 - the notebook's own cells
    try:
        exec(test, namespace)  # noqa: S102
    except Exception:  # noqa: BLE001 - any error in a test cell costs the student its points
        return False
    return True


_RECOMMEND = '''def recommend(images_per_class, similarity):
{checks}
    large = images_per_class {op} LARGE_FROM
    if similarity.lower() == "similar":
        return "full_fine_tune" if large else "feature_extraction"
    return "{large_different}" if large else "{small_different}"'''
_GOOD_CHECKS = '''    if isinstance(images_per_class, bool) or not isinstance(images_per_class, (int, np.integer)):
        raise ValueError("whole number")
    if images_per_class < 1:
        raise ValueError("at least 1")
    if not isinstance(similarity, str) or similarity.lower() not in ("similar", "different"):
        raise ValueError("similarity")'''


def _recommend(checks=_GOOD_CHECKS, op=">=", large_different="from_scratch", small_different="partial_fine_tune"):
    return _RECOMMEND.format(checks=checks, op=op, large_different=large_different, small_different=small_different)


RECOMMEND_MISTAKES = {
    "no type check: 2.5, '10' and True pass": _recommend(checks=_GOOD_CHECKS.replace(
        "isinstance(images_per_class, bool) or not isinstance(images_per_class, (int, np.integer))", "False")),
    "True counted as a size": _recommend(checks=_GOOD_CHECKS.replace("isinstance(images_per_class, bool) or ", "")),
    "similarity None raises AttributeError": _recommend(checks=_GOOD_CHECKS.replace(
        "not isinstance(similarity, str) or ", "")),
    "off by one at LARGE_FROM": _recommend(op=">"),
    "small and different: full fine-tune": _recommend(small_different="full_fine_tune"),
    "large and different: feature extraction": _recommend(large_different="feature_extraction"),
    "delegates through a function of its own": _recommend() + '''

def guide_of(n, similarity):
    return guide.DESCRIPTIONS[recommend(n, similarity)]''' + '''

recommend_own = recommend


def recommend(images_per_class, similarity):
    guide_of(images_per_class, similarity)
    return recommend_own(images_per_class, similarity)''',
    "imports the course's strategies inside": _recommend().replace(
        "    large = images_per_class",
        "    from helpers import guide as g\n    assert g.STRATEGIES\n    large = images_per_class"),
}


def test_recommend_tests_accept_names_of_its_own():
    """Only the course's helpers count as delegation: a table or function of the student's own named "guide"
    or "measure" does not."""
    own = _recommend() + '''

guide_table = {"similar": "feature_extraction"}
measure = len


def recommend_checked(images_per_class, similarity):
    assert measure(guide_table) == 1
    return recommend(images_per_class, similarity)'''
    cells = _cells()
    test = cells["recommend-tests"].replace("assert_own_work(recommend,", "assert_own_work(recommend_checked,")
    assert "assert_own_work(recommend_checked," in test
    assert _passes(own, test, _namespace())


def test_recommend_tests_pass_the_solution_and_either_source():
    cells = _cells()
    assert _passes(cells["recommend"], cells["recommend-tests"], _namespace())
    for answer in (_recommend(), _recommend(large_different="full_fine_tune", small_different="earlier_layers")):
        assert _passes(answer, cells["recommend-tests"], _namespace())


@pytest.mark.parametrize("mistake", RECOMMEND_MISTAKES)
def test_recommend_tests_catch(mistake):
    assert not _passes(RECOMMEND_MISTAKES[mistake], _cells()["recommend-tests"], _namespace()), mistake


def _grid_of(more, more_held_out=100):
    """A made-up grid whose digits (more) scores are ``more``: {strategy: scores by split}."""
    result = GridResult(GridPlan(32, 10, 30, 1, 8))
    fewer = {s: [v] * 5 for s, v in zip(guide.STRATEGIES, (0.9, 0.1, 0.1, 0.1, 0.1))}
    flowers = {s: [v] * 5 for s, v in zip(guide.STRATEGIES, (0.1, 0.2, 0.3, 0.4, 0.95))}
    for name, size, runs in (("digits", "fewer", fewer), ("digits", "more", more), ("flowers", "fewer", flowers),
                             ("flowers", "more", flowers)):
        result.scores[name, size] = {s: list(v) for s, v in runs.items()}
        result.accuracy[name, size] = {s: float(np.mean(v)) for s, v in runs.items()}
        result.sizes[name, size] = (30, more_held_out)
        result.per_class[name, size] = (3, 3)
    return result


_MORE = {"feature_extraction": [0.84, 0.86, 0.85, 0.83, 0.85], "earlier_layers": [0.78, 0.8, 0.79, 0.77, 0.78],
         "partial_fine_tune": [0.88], "full_fine_tune": [0.87], "from_scratch": [0.80, 0.82, 0.79, 0.80, 0.81]}


_RULE = '''def read_digits(result):
    means = result.accuracy["digits", "{size}"]
    scores = {source}.scores["digits", "{size}"]
    best = max(means, key=means.get)
    scratch = np.asarray(scores["from_scratch"], dtype="float64")
    paired = [s for s in scores if s != "from_scratch" and len(scores[s]) == len(scratch)]
    pretrained = max({candidates}, key=lambda s: np.mean(scores[s]))
    d = np.asarray(scores[pretrained], dtype="float64") - scratch
    return best, len(d) > 1 and bool(d.mean() > 2 * d.std(ddof={ddof}) / np.sqrt(len(d)))'''


def _rule(size="more", source="result", candidates="paired", ddof=1):
    return _RULE.format(size=size, source=source, candidates=candidates, ddof=ddof)


READ_MISTAKES = {
    "reads the run's grid, not its argument": _rule(source="grid"),
    "reads the fewer images": _rule(size="fewer"),
    "population SD (ddof=0)": _rule(ddof=0),
    "the best of all, measured in one split, against from scratch": _rule(
        candidates="[s for s in scores if s != 'from_scratch']"),
}


def test_read_digits_tests_pass_the_solution():
    cells = _cells()
    grid = _grid_of(_MORE)
    assert _passes(cells["read-digits"], cells["read-digits-tests"], _namespace(grid=grid))
    assert _passes(_rule(), cells["read-digits-tests"], _namespace(grid=grid))


@pytest.mark.parametrize("mistake", READ_MISTAKES)
def test_read_digits_tests_catch(mistake):
    grid = _grid_of(_MORE)
    assert not _passes(READ_MISTAKES[mistake], _cells()["read-digits-tests"], _namespace(grid=grid)), mistake


BUILD_MISTAKES = {
    "not compiled": ("    model.compile(", "    model.compile and None and model.compile("),
    "five outputs whatever num_classes": ('keras.layers.Dense(num_classes, activation="softmax")',
                                          'keras.layers.Dense(5, activation="softmax")'),
    "from scratch keeps the ImageNet weights": ('weights=None if strategy == "from_scratch" else "imagenet"',
                                                'weights="imagenet"'),
}


@pytest.fixture(scope="module")
def build_namespace(small_assets):
    import keras

    import helpers
    from helpers import freezing, models

    cells = _cells()
    base = models.load_base()
    k = measure.fine_tune_at(base)
    namespace = _namespace(keras=keras, models=models, freezing=freezing, cfg=helpers.settings(),
                           FINE_TUNE_AT=k, EARLIER_LAYER=freezing.cut_layer(base, k).name)
    assert _passes(cells["recommend"], cells["recommend-tests"], namespace)
    return namespace


def _failing_graded2(answer: str, namespace: dict) -> list[str]:
    """The test cells of Graded 2 that lose points for ``answer`` (run in order in one namespace, as in Jupyter)."""
    cells, namespace = _cells(), dict(namespace)
    return [test for test in ("build-model-tests", "build-model-behaviour-tests")
            if not _passes(answer, cells[test], namespace)]


def test_build_model_tests_pass_the_solution(build_namespace):
    assert _failing_graded2(_cells()["build-model"], build_namespace) == []


@pytest.mark.parametrize("mistake", BUILD_MISTAKES)
def test_build_model_tests_catch(mistake, build_namespace):
    old, new = BUILD_MISTAKES[mistake]
    solution = _cells()["build-model"]
    assert old in solution
    assert _failing_graded2(solution.replace(old, new), build_namespace), f"{mistake}: Graded 2 loses no points"
