"""Which layers of a base to freeze: its blocks, clean cut points, parameter counts and a slider to explore them.

A *block* is a run of consecutive layers that share a block name (``conv_dw_3``/``conv_pw_3_relu`` in
MobileNet, ``block_3_expand``/``block_3_add`` in MobileNetV2, ``conv2_block1_...`` in ResNet, ``block2a_...`` in
EfficientNet); BatchNormalization and activation layers without one belong to the layer before them.
:func:`block_boundaries` lists the values of k for which ``layers[:k]`` is a whole number of blocks *and* only
one tensor flows from ``layers[:k]`` to the rest, so that freezing the first k layers never cuts a residual
connection; :func:`cut_layer` names the layer that makes that tensor and :func:`top_from` builds the model's
part after it. The graph is read with public Keras API only (each layer's ``input`` and ``output``).
:func:`parameter_split` says what freezing the first k layers would give.

:func:`unfreeze_from` is the course's one fine-tuning recipe, used by every notebook after 03 (which has students
write it themselves) and by the benchmarks: unfreeze a base from a block boundary on, keep every
BatchNormalization layer frozen, then recompile at a learning rate in :data:`FINE_TUNE_RATES`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

__all__ = ["FINE_TUNE_RATE", "FINE_TUNE_RATES", "HEAD_RATE", "Block", "Unfrozen", "block_boundaries", "block_names",
           "blocks", "boundary_near", "crossing", "cut_layer", "draw_freezing", "freezing_slider", "parameter_split",
           "producers", "top_from", "unfreeze_from"]

_BLOCK_PATTERNS = [
    re.compile(r"^(block_\d+)_"),  # MobileNetV2: block_3_expand ... block_3_add
    re.compile(r"^(expanded_conv)_"),  # MobileNetV2's first bottleneck
    re.compile(r"^conv_(?:pad|dw|pw)_(\d+)"),  # MobileNet: conv_pad_2, conv_dw_2_bn, conv_pw_2_relu
    re.compile(r"^(conv\d+_block\d+)_"),  # ResNet: conv2_block1_1_conv ... conv2_block1_out
    re.compile(r"^(block\d+[a-z])_"),  # EfficientNet: block2a_expand_conv ...
]
_FOLLOWERS = ("BatchNormalization", "ReLU", "Activation")  # layers that go with the layer before them

HEAD_RATE = 1e-3  # Adam's rate for a new head on a frozen base
FINE_TUNE_RATE = 1e-4  # Adam's rate once part of the pretrained base is unfrozen
FINE_TUNE_RATES = (1e-5, 1e-4)  # the course's range for fine-tuning pretrained layers (both ends included)


@dataclass
class Block:
    """Layers ``start`` to ``stop - 1`` of a model, with their number of (trainable-by-nature) parameters."""

    name: str
    start: int
    stop: int
    params: int


def block_names(model) -> list[str]:
    """The block name of every layer of ``model``, in order."""
    names: list[str] = []
    for layer in model.layers:
        for pattern in _BLOCK_PATTERNS:
            match = pattern.match(layer.name)
            if match:
                name = match.group(1)
                names.append(name if not name.isdigit() else f"conv_{name}")
                break
        else:
            follows = type(layer).__name__ in _FOLLOWERS and names
            names.append(names[-1] if follows else layer.name)
    return names


def producers(model) -> list[set[tuple[int, int]]]:
    """For every layer of ``model``, the ``(layer index, output index)`` of each tensor it takes as input.

    Read from each layer's public ``input`` and ``output``: the tensors of the first time it was called, which for
    a functional model (every ``keras.applications`` base) is its call inside that model, even after the model
    itself was called on new inputs. Tensors from outside ``layers`` (there are none in a functional model) are
    left out.
    """
    import keras

    made_by = {}
    for index, layer in enumerate(model.layers):
        for position, tensor in enumerate(keras.tree.flatten(layer.output)):
            made_by[id(tensor)] = (index, position)
    return [{made_by[id(tensor)] for tensor in keras.tree.flatten(layer.input) if id(tensor) in made_by}
            for layer in model.layers]


def crossing(model, k: int, found: list[set[tuple[int, int]]] | None = None) -> set[tuple[int, int]]:
    """The distinct tensors made by ``layers[:k]`` that ``layers[k:]`` use, as ``(layer index, output index)``.

    ``found`` is :func:`producers` of the model, if already computed.
    """
    found = producers(model) if found is None else found
    return {p for layer_producers in found[k:] for p in layer_producers if p[0] < k}


def block_boundaries(model) -> list[int]:
    """The values of k (1 to ``len(model.layers)``) where freezing ``layers[:k]`` freezes whole blocks.

    k counts the input layer, like ``model.layers[:k]``. k = ``len(model.layers)`` (everything) is included.
    """
    names = block_names(model)
    found = producers(model)
    n = len(names)
    return [k for k in range(1, n + 1)
            if k == n or (names[k] != names[k - 1] and len(crossing(model, k, found)) == 1)]


def cut_layer(model, k: int):
    """The layer whose output is the one tensor that crosses the block boundary ``k`` (layers[:k] to the rest).

    Its output is where a cut at k takes the "earlier features" and where the top part of the model starts.
    """
    allowed = block_boundaries(model)[:-1]
    if k not in allowed:
        raise ValueError(f"k={k} is not a block boundary inside {model.name}: no single tensor crosses it. "
                         f"Use one of {allowed} (freezing.boundary_near picks one).")
    ((index, position),) = crossing(model, k)
    if position:
        raise ValueError(f"the tensor crossing k={k} is output {position} of {model.layers[index].name}: cut "
                         "elsewhere (a layer with one output).")
    return model.layers[index]


def top_from(model, k: int):
    """``layers[k:]`` of ``model`` as a model of their own, from the tensor crossing boundary ``k`` to the output."""
    import keras

    return keras.Model(cut_layer(model, k).output, model.output, name=f"{model.name}_from_{k}")


def blocks(model) -> list[Block]:
    """The model's layers grouped into :class:`Block` s (whole blocks between consecutive boundaries)."""
    names = block_names(model)
    cuts = [0] + block_boundaries(model)
    out = []
    for start, stop in zip(cuts[:-1], cuts[1:]):
        params = sum(_trainable_by_nature(layer) for layer in model.layers[start:stop])
        out.append(Block(names[start], start, stop, params))
    return out


def _trainable_by_nature(layer) -> int:
    """Parameters of a layer that training would update when it is trainable (not BatchNorm statistics).

    Public API only: a model is the sum of its ``layers``; a frozen layer is made trainable for the count and
    frozen again (a layer without inner layers, so no inner state is lost).
    """
    inner = getattr(layer, "layers", None)
    if inner is not None:
        return sum(_trainable_by_nature(sub) for sub in inner)
    if layer.trainable:
        return sum(int(np.prod(v.shape)) for v in layer.trainable_weights)
    layer.trainable = True
    try:
        return sum(int(np.prod(v.shape)) for v in layer.trainable_weights)
    finally:
        layer.trainable = False


def parameter_split(model, k: int) -> dict[str, int]:
    """Trainable and frozen parameter counts if ``layers[:k]`` were frozen and the rest trainable.

    BatchNormalization moving statistics are never trainable, so they count as frozen for any k.
    """
    if not 0 <= k <= len(model.layers):
        raise ValueError(f"k must be between 0 and {len(model.layers)}, got {k}.")
    trainable = sum(_trainable_by_nature(layer) for layer in model.layers[k:])
    total = int(model.count_params())
    return {"trainable": int(trainable), "frozen": total - int(trainable), "total": total}


def draw_freezing(model, k: int, figsize=(11, 3.6)):
    """Draw which blocks of ``model`` are frozen for a given k, and the trainable vs frozen parameters."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    groups = blocks(model)
    split = parameter_split(model, k)
    fig, (ax_blocks, ax_params) = plt.subplots(2, 1, figsize=figsize, gridspec_kw={"height_ratios": [3, 1.2]})
    for i, block in enumerate(groups):
        frozen = block.stop <= k
        ax_blocks.bar(i, max(block.params, 1), color="tab:blue" if frozen else "tab:orange", width=0.85)
    ax_blocks.set_yscale("log")
    ax_blocks.set_xticks(range(len(groups)), [g.name for g in groups], rotation=90, fontsize=7)
    ax_blocks.set_ylabel("parameters (log)")
    frozen_blocks = sum(g.stop <= k for g in groups)
    ax_blocks.set_title(f"k = {k}: layers[:{k}] frozen ({frozen_blocks} of {len(groups)} blocks), "
                        f"{len(model.layers) - k} layers trainable", fontsize=10)
    ax_blocks.legend(handles=[Patch(color="tab:blue", label="frozen"), Patch(color="tab:orange", label="trainable")],
                     fontsize=8, loc="upper left")
    ax_params.barh([0], [split["frozen"]], color="tab:blue")
    ax_params.barh([0], [split["trainable"]], left=[split["frozen"]], color="tab:orange")
    ax_params.set_xlim(0, split["total"])
    ax_params.set_yticks([])
    ax_params.set_xlabel(f"parameters: {split['frozen']:,} frozen, {split['trainable']:,} trainable "
                         f"({split['trainable'] / split['total']:.0%})")
    fig.tight_layout()
    plt.show()


def freezing_slider(model):
    """An ipywidgets slider over the block boundaries of ``model`` that redraws :func:`draw_freezing`."""
    import ipywidgets as widgets

    options = [0] + block_boundaries(model)
    slider = widgets.SelectionSlider(options=options, value=options[len(options) // 2],
                                     description="freeze k", continuous_update=False,
                                     layout=widgets.Layout(width="90%"))
    output = widgets.interactive_output(lambda k: draw_freezing(model, k), {"k": slider})
    return widgets.VBox([slider, output])


@dataclass(frozen=True)
class Unfrozen:
    """What :func:`unfreeze_from` did to a base."""

    k: int  # layers[:k] frozen, layers[k:] trainable except BatchNormalization
    layers: int  # layers of the base
    trainable_layers: int  # layers left trainable (BatchNorm not counted)
    frozen_batchnorm: int  # BatchNormalization layers kept frozen in layers[k:]
    trainable_params: int

    def __str__(self) -> str:
        return (f"layers[:{self.k}] frozen; {self.trainable_layers} of {self.layers} layers trainable "
                f"({self.frozen_batchnorm} BatchNorm layers kept frozen), {self.trainable_params:,} trainable "
                "parameters: recompile now")


def boundary_near(model, fraction: float) -> int:
    """The block boundary (a k of :func:`block_boundaries`) closest to ``fraction`` of the model's depth."""
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction must be between 0 and 1, got {fraction}.")
    target = fraction * len(model.layers)
    return min([0] + block_boundaries(model), key=lambda k: (abs(k - target), k))


def unfreeze_from(base, k: int) -> Unfrozen:
    """The course's fine-tuning recipe: ``base.layers[k:]`` trainable, the rest and every BatchNorm frozen.

    ``k`` must be 0 or a block boundary (:func:`block_boundaries`, :func:`boundary_near`), so that no
    residual block is half frozen. Every inner layer's flag is set explicitly (assigning ``trainable`` the
    value it already has does nothing on the TensorFlow backend). BatchNormalization layers stay frozen:
    in Keras 3 a frozen BatchNorm layer runs in inference mode, and nothing else keeps ``fit`` from moving
    its ImageNet statistics (a ``training=False`` in a functional model does not, keras-team/keras#20285).
    Recompile the model afterwards, at a rate in :data:`FINE_TUNE_RATES`.
    """
    import keras

    allowed = [0] + block_boundaries(base)
    if k not in allowed:
        raise ValueError(f"k={k} is not a block boundary of {base.name}: freezing layers[:{k}] would cut a "
                         f"block. Use one of {allowed} (freezing.boundary_near picks one).")
    base.trainable = True
    batchnorm = 0
    for index, layer in enumerate(base.layers):
        is_batchnorm = isinstance(layer, keras.layers.BatchNormalization)
        layer.trainable = index >= k and not is_batchnorm
        batchnorm += index >= k and is_batchnorm
    trainable = sum(int(np.prod(w.shape)) for w in base.trainable_weights)
    return Unfrozen(k, len(base.layers), sum(layer.trainable for layer in base.layers[k:]), batchnorm, trainable)
