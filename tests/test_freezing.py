"""Unit tests of helpers.freezing: block names, boundaries that never cut a residual block, parameter counts,
the drawing and the slider."""

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
    assert all(freezing.tensors_crossing(model, k) == 1 for k in boundaries[:-1])
    index = {layer.name: i for i, layer in enumerate(model.layers)}
    producers = freezing._producers(model)
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
