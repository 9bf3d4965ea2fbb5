"""A frozen prefix is a fixed function: run it once, cache its outputs, train only the rest on them.

With ``base.layers[:k]`` frozen (their BatchNorm frozen too, so it runs in inference mode, and nothing random
such as augmentation before them) the prefix computes the same output for a photo in every epoch. Its
outputs can be computed once (:func:`outputs`, batch by batch like :func:`helpers.features.extract`) and
``layers[k:]`` trained on them as a model of their own (:func:`rest_of`): the same layer objects, so training
the rest trains the whole model, to float tolerance the same weights as training it end to end on the same
batches (``tests/test_prefix.py``), at the cost of the rest alone. 02's cached features are the case
k = every layer. The cut must be a block boundary (:func:`helpers.freezing.block_boundaries`), where one
tensor crosses: :func:`helpers.freezing.cut_layer`.
"""

from __future__ import annotations

import numpy as np

from . import freezing

__all__ = ["frozen_problems", "prefix_of", "rest_of", "outputs", "classifier", "epoch_order", "fresh_start"]


def frozen_problems(base, k: int, preprocess=None) -> list[str]:
    """Why ``base.layers[:k]`` (after the ``preprocess`` layers) is not a fixed function: empty if it is.

    A layer with trainable weights would change while the rest trains; a trainable BatchNormalization layer
    normalises with each batch's statistics in ``fit`` (and moves its moving ones); a ``Random*`` layer
    (augmentation) or a Dropout changes the prefix's output from one epoch to the next.
    """
    import keras

    problems = []
    for layer in list(preprocess or []) + list(base.layers[:k]):
        kind = type(layer).__name__
        if kind.startswith("Random") or isinstance(layer, keras.layers.Dropout):
            problems.append(f"{layer.name} ({kind}) is random in training: put it after the prefix or drop it")
        elif isinstance(layer, keras.layers.BatchNormalization) and layer.trainable:
            problems.append(f"{layer.name} is a trainable BatchNormalization: freeze it (trainable = False)")
        elif layer.trainable_weights:
            problems.append(f"{layer.name} has trainable weights: freeze layers[:{k}] (freezing.unfreeze_from)")
    return problems


def prefix_of(base, k: int, preprocess=None):
    """``images -> preprocess -> base.layers[:k]`` as a model (shared layers), checked to be a fixed function.

    ``preprocess``: layers applied to the images first (e.g. ``[keras.layers.Rescaling(1 / 127.5, offset=-1)]``,
    MobileNet's ``preprocess_input``). Raises ``ValueError`` naming what is not frozen, if anything.
    """
    import keras

    problems = frozen_problems(base, k, preprocess)
    if problems:
        raise ValueError(f"layers[:{k}] of {base.name} are not a fixed function: " + "; ".join(problems))
    inner = keras.Model(base.input, freezing.cut_layer(base, k).output, name=f"{base.name}_to_{k}")
    inputs = keras.Input(base.input.shape[1:])
    x = inputs
    for layer in preprocess or []:
        x = layer(x)
    return keras.Model(inputs, inner(x), name=f"{base.name}_prefix_{k}")


def rest_of(base, k: int, head=()):
    """``base.layers[k:]`` followed by the ``head`` layers, as a model taking the prefix's outputs.

    The layers are the base's and the head's own objects: training this model trains them, in the whole model
    too. BatchNorm layers of the rest should stay frozen (the course's recipe, :func:`freezing.unfreeze_from`).
    """
    import keras

    top = freezing.top_from(base, k)
    inputs = keras.Input(top.input.shape[1:])
    x = top(inputs)
    for layer in head:
        x = layer(x)
    return keras.Model(inputs, x, name=f"{base.name}_rest_{k}")


def classifier(base, head=(), preprocess=None):
    """The whole model end to end: ``images -> preprocess -> base -> head`` (the same layer objects)."""
    import keras

    inputs = keras.Input(base.input.shape[1:])
    x = inputs
    for layer in preprocess or []:
        x = layer(x)
    x = base(x)
    for layer in head:
        x = layer(x)
    return keras.Model(inputs, x, name=f"{base.name}_classifier")


def outputs(prefix, images, batch_size: int = 64, progress: bool = False) -> np.ndarray:
    """The prefix's outputs for ``images`` (an array, or a ``tf.data`` pipeline of ``(images, labels)`` batches),
    computed batch by batch with ``predict_on_batch`` (each layer's output freed once used)."""
    from tqdm.auto import tqdm

    if isinstance(images, np.ndarray):
        batches = (images[start:start + batch_size] for start in range(0, len(images), batch_size))
        total = len(images)
    else:
        batches = (x for x, _ in images)
        total = None
    chunks = []
    with tqdm(total=total, desc=f"running {prefix.name} once", unit="img", disable=not progress) as bar:
        for batch in batches:
            chunks.append(np.asarray(prefix.predict_on_batch(batch)))
            bar.update(len(chunks[-1]))
    return np.concatenate(chunks)


def epoch_order(n: int, epochs: int, seed: int) -> np.ndarray:
    """The rows of ``epochs`` seeded shuffles of ``range(n)``, one after the other: the same batches for two
    trainings fed with ``fit(x[order], y[order], shuffle=False, epochs=1)``."""
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.permutation(n) for _ in range(epochs)])


def fresh_start(*optimizers):
    """A function that puts each of ``optimizers`` back to its state now: step count, moments, learning rate.

    Training one compiled model again from new weights, with its optimizer put back, is the same run as with a
    new model and a new compile, without tracing ``fit``'s step again (a new compile always does: about a second
    for the course's small models, more than training them on a few hundred cached maps). Build each optimizer
    first (``optimizer.build(model.trainable_variables)``), so that its moments exist to be saved.
    """
    for optimizer in optimizers:
        if not optimizer.built:
            raise ValueError(f"{optimizer.name} is not built yet, so it has no moments to save: call "
                             "optimizer.build(model.trainable_variables) first")
    saved = [[np.array(variable.numpy()) for variable in optimizer.variables] for optimizer in optimizers]

    def restart():
        for optimizer, values in zip(optimizers, saved, strict=True):
            for variable, value in zip(optimizer.variables, values, strict=True):
                variable.assign(value)

    return restart
