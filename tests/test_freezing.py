"""Unit tests of helpers.freezing: block names, boundaries that never cut a residual block, parameter counts,
the drawing and the slider."""

import itertools

import keras
import matplotlib
import numpy as np
import pytest

from helpers import freezing

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def mobilenet():
    return keras.applications.MobileNet(input_shape=(96, 96, 3), alpha=0.25, include_top=False, weights=None)


@pytest.fixture(scope="module")
def mobilenet_v2():
    return keras.applications.MobileNetV2(input_shape=(96, 96, 3), include_top=False, weights=None)


def freeze_first(model, k):
    for index, layer in enumerate(model.layers):
        layer.trainable = index >= k


def count(weights):
    return int(sum(np.prod(w.shape) for w in weights))


def test_mobilenet_boundaries_are_after_each_block(mobilenet):
    boundaries = freezing.block_boundaries(mobilenet)
    n = len(mobilenet.layers)
    assert boundaries == sorted(set(boundaries)) and boundaries[-1] == n
    # input, stem (conv1 + BN + ReLU), then 13 depthwise-separable blocks
    assert len(boundaries) == 15
    assert [mobilenet.layers[k - 1].name for k in boundaries[2:]] == [f"conv_pw_{i}_relu" for i in range(1, 14)]
    names = freezing.block_names(mobilenet)
    assert names[[layer.name for layer in mobilenet.layers].index("conv_dw_5_bn")] == "conv_5"


def test_mobilenet_v2_boundaries_never_cut_a_residual_block(mobilenet_v2):
    model = mobilenet_v2
    boundaries = freezing.block_boundaries(model)
    n = len(model.layers)
    assert boundaries[-1] == n and len(boundaries) >= 17
    assert all(len(freezing.crossing(model, k)) == 1 for k in boundaries[:-1])
    index = {layer.name: i for i, layer in enumerate(model.layers)}
    producers = freezing.producers(model)
    adds = [i for i, layer in enumerate(model.layers) if isinstance(layer, keras.layers.Add)]
    assert len(adds) == 10
    for a in adds:  # no cut between the layer the skip starts from and the addition
        first = min(p for p, _ in producers[a])
        assert not any(first + 1 < k <= a for k in boundaries), model.layers[a].name
    # a residual block ends at its addition; a block without one at its projection BatchNorm
    assert index["block_2_add"] + 1 in boundaries and index["block_2_project_BN"] + 1 not in boundaries
    assert index["block_3_project_BN"] + 1 in boundaries
    # whole blocks: the layer after each boundary starts a new block
    names = freezing.block_names(model)
    assert all(names[k] != names[k - 1] for k in boundaries[:-1])


# How the graph is read must not change what it says: these are the cuts computed by the first version of
# freezing.py (which read Keras's private node attributes), on the same two architectures. Boundaries are indices k
# of layers[:k]; crossings are runs of (tensors crossing the cut at k, for how many consecutive k from 0 on).
REFERENCE = {
    "mobilenet": {
        "boundaries": [1, 4, 10, 17, 23, 30, 36, 43, 49, 55, 61, 67, 73, 80, 86],
        "crossings": [(0, 1), (1, 85), (0, 1)],
        "skips": {},
    },
    "mobilenet_v2": {
        "boundaries": [1, 4, 9, 18, 27, 36, 45, 54, 63, 72, 81, 90, 98, 107, 116, 125, 134, 143, 151, 154],
        "crossings": [(0, 1), (1, 18), (2, 8), (1, 10), (2, 8), (1, 1), (2, 8), (1, 10), (2, 8), (1, 1), (2, 8),
                      (1, 1), (2, 8), (1, 9), (2, 8), (1, 1), (2, 8), (1, 10), (2, 8), (1, 1), (2, 8), (1, 11),
                      (0, 1)],
        # every layer takes the previous layer's output; each addition also takes the start of its skip
        "skips": {"block_2_add": "block_1_project_BN", "block_4_add": "block_3_project_BN",
                  "block_5_add": "block_4_add", "block_7_add": "block_6_project_BN", "block_8_add": "block_7_add",
                  "block_9_add": "block_8_add", "block_11_add": "block_10_project_BN",
                  "block_12_add": "block_11_add", "block_14_add": "block_13_project_BN",
                  "block_15_add": "block_14_add"},
    },
}


def _runs(values):
    return [(value, len(list(group))) for value, group in itertools.groupby(values)]


def _check_reference(model, which):
    reference = REFERENCE[which]
    assert freezing.block_boundaries(model) == reference["boundaries"]
    assert _runs(len(freezing.crossing(model, k)) for k in range(len(model.layers) + 1)) == reference["crossings"]
    producers = freezing.producers(model)
    names = [layer.name for layer in model.layers]
    assert producers[0] == set() and all((i - 1, 0) in found for i, found in enumerate(producers) if i)
    skips = {names[i]: [names[j] for j, _ in sorted(found) if j != i - 1]
             for i, found in enumerate(producers) if len(found) > (1 if i else 0)}
    assert skips == {add: [start] for add, start in reference["skips"].items()}


@pytest.mark.parametrize("which", ["mobilenet", "mobilenet_v2"])
def test_graph_reads_as_the_reference(which, request):
    _check_reference(request.getfixturevalue(which), which)


@pytest.mark.parametrize("which", ["mobilenet", "mobilenet_v2"])
def test_graph_of_a_base_used_inside_another_model(which):
    """Calling a base on a new input adds a second node to each of its layers: only the base's own graph counts."""
    build = {"mobilenet": lambda: keras.applications.MobileNet(input_shape=(64, 64, 3), alpha=0.25,
                                                                include_top=False, weights=None),
             "mobilenet_v2": lambda: keras.applications.MobileNetV2(input_shape=(64, 64, 3), include_top=False,
                                                                     weights=None)}[which]
    base = build()
    inputs = keras.Input((64, 64, 3))
    outer = keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(base(keras.layers.Rescaling(0.5)(inputs))))
    assert outer.layers[2] is base
    _check_reference(base, which)


def test_small_base_cuts_as_the_reference(small_assets):
    from helpers import models

    _check_reference(models.load_base(), "mobilenet")


@pytest.mark.parametrize("which", ["mobilenet", "mobilenet_v2"])
def test_cut_layer_and_top_from_follow_the_crossing_tensor(which, request):
    model = request.getfixturevalue(which)
    boundaries = freezing.block_boundaries(model)
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (2,) + tuple(model.input.shape[1:])).astype("float32")
    for k in boundaries[1:-1:4]:
        layer = freezing.cut_layer(model, k)
        assert freezing.crossing(model, k) == {(model.layers.index(layer), 0)}
        top = freezing.top_from(model, k)
        assert len(top.layers) == len(model.layers) - k + 1  # its new input, then layers[k:]
        bottom = keras.Model(model.input, layer.output)
        np.testing.assert_allclose(np.asarray(top(bottom(images))), np.asarray(model(images)), atol=1e-5)
    inside = next(k for k in range(2, len(model.layers)) if k not in boundaries)
    for k in (inside, len(model.layers)):
        with pytest.raises(ValueError, match="block boundary"):
            freezing.cut_layer(model, k)


@pytest.mark.parametrize("which", ["mobilenet", "mobilenet_v2"])
def test_parameter_split_matches_keras(which, request):
    model = request.getfixturevalue(which)
    n = len(model.layers)
    for k in [0, 1] + freezing.block_boundaries(model)[::3] + [n]:
        freeze_first(model, k)
        split = freezing.parameter_split(model, k)
        assert split["trainable"] == count(model.trainable_weights), k
        assert split["frozen"] == count(model.non_trainable_weights), k
        assert split["total"] == model.count_params()
    freeze_first(model, 0)
    assert sum(block.params for block in freezing.blocks(model)) == count(model.trainable_weights)
    unfrozen = [block.params for block in freezing.blocks(model)]
    model.trainable = False  # counted by nature: the same split and blocks, and nothing left unfrozen by counting
    assert [block.params for block in freezing.blocks(model)] == unfrozen
    assert freezing.parameter_split(model, 1)["trainable"] == count(model.weights) - count(
        [w for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)
         for w in (layer.moving_mean, layer.moving_variance)]) - count(model.layers[0].weights)
    assert not any(layer.trainable for layer in model.layers) and not model.trainable_weights
    model.trainable = True
    with pytest.raises(ValueError):
        freezing.parameter_split(model, n + 1)


def test_blocks_cover_the_model(mobilenet_v2):
    groups = freezing.blocks(mobilenet_v2)
    assert groups[0].start == 0 and groups[-1].stop == len(mobilenet_v2.layers)
    assert all(a.stop == b.start for a, b in zip(groups, groups[1:]))


def test_drawing_and_slider(mobilenet, monkeypatch):
    import matplotlib.pyplot as plt

    k = freezing.block_boundaries(mobilenet)[5]
    freezing.draw_freezing(mobilenet, k)
    fig = plt.gcf()
    ax_blocks, ax_params = fig.axes
    assert f"k = {k}" in ax_blocks.get_title()
    assert f"{freezing.parameter_split(mobilenet, k)['trainable']:,} trainable" in ax_params.get_xlabel()
    plt.close("all")

    drawn = []
    monkeypatch.setattr(freezing, "draw_freezing", lambda model, k: drawn.append(k))
    box = freezing.freezing_slider(mobilenet)
    slider = box.children[0]
    assert list(slider.options) == [0] + freezing.block_boundaries(mobilenet)
    slider.value = slider.options[-1]
    assert drawn[-1] == slider.options[-1]
    monkeypatch.undo()
    box = freezing.freezing_slider(mobilenet)  # the real callback draws under Agg without error
    box.children[0].value = box.children[0].options[1]
    assert not box.children[1].outputs or all(o.get("output_type") != "error" for o in box.children[1].outputs)
    plt.close("all")


def test_unfreeze_from_freezes_below_k_and_every_batchnorm(mobilenet_v2):
    model = mobilenet_v2
    k = freezing.boundary_near(model, 2 / 3)
    assert k in freezing.block_boundaries(model)
    model.trainable = False
    done = freezing.unfreeze_from(model, k)
    batchnorm = [isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers]
    flags = [layer.trainable for layer in model.layers]
    assert flags == [i >= k and not bn for i, bn in enumerate(batchnorm)]
    assert done.k == k and done.frozen_batchnorm == sum(batchnorm[k:]) > 0
    assert done.trainable_layers == sum(flags) and done.trainable_params == count(model.trainable_weights) > 0
    assert "recompile" in str(done)
    # From a larger k to a smaller one with the base already marked trainable: earlier layers unfrozen again.
    smaller = freezing.block_boundaries(model)[3]
    freezing.unfreeze_from(model, smaller)
    assert all(layer.trainable for layer in model.layers[smaller:] if not isinstance(layer,
                                                                                      keras.layers.BatchNormalization))


def test_unfreeze_from_refuses_a_cut_inside_a_block(mobilenet_v2):
    inside = next(k for k in range(2, len(mobilenet_v2.layers)) if k not in freezing.block_boundaries(mobilenet_v2))
    with pytest.raises(ValueError, match="block boundary"):
        freezing.unfreeze_from(mobilenet_v2, inside)
    with pytest.raises(ValueError):
        freezing.boundary_near(mobilenet_v2, 1.5)


def test_fit_after_unfreeze_from_moves_weights_but_no_batchnorm_statistic(small_assets):
    from helpers import models

    base = models.load_base(64)  # real weights: random ones let the activations (and gradients) collapse
    k = freezing.boundary_near(base, 0.5)
    freezing.unfreeze_from(base, k)
    inputs = keras.Input((64, 64, 3))
    outputs = keras.layers.Dense(3, activation="softmax")(keras.layers.GlobalAveragePooling2D()(base(inputs)))
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.Adam(freezing.FINE_TUNE_RATE), "sparse_categorical_crossentropy")
    batchnorm = [layer for layer in base.layers if isinstance(layer, keras.layers.BatchNormalization)]
    stats = [np.array(w) for layer in batchnorm for w in layer.weights]
    frozen = [np.array(w) for layer in base.layers[:k] for w in layer.weights]
    top = [np.array(w) for layer in base.layers[k:] for w in layer.trainable_weights]
    rng = np.random.default_rng(0)
    model.fit(rng.uniform(-1, 1, (8, 64, 64, 3)).astype("float32"), rng.integers(0, 3, 8), epochs=1, verbose=0)
    after = [np.array(w) for layer in batchnorm for w in layer.weights]
    assert all(np.array_equal(a, b) for a, b in zip(stats, after)), "a BatchNorm weight or statistic moved"
    assert all(np.array_equal(a, np.array(w)) for a, w in
               zip(frozen, [w for layer in base.layers[:k] for w in layer.weights]))
    moved = [not np.array_equal(a, np.array(w)) for a, w in
             zip(top, [w for layer in base.layers[k:] for w in layer.trainable_weights])]
    assert top and all(moved), "the unfrozen layers did not train"
