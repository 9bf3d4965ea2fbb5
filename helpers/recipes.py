"""The training recipes the ledger of lessons measures (``benchmarks/run.py lessons``), for notebooks to reuse.

Heads are trained until they have learnt what they can: :func:`probe` is a logistic regression fitted to
convergence (L-BFGS, :func:`helpers.grid_models.linear_head`), and :func:`rest_with_head` starts fine-tuning
from it, so that a phase 2 is compared with a finished phase 1. Fine-tuning trains ``layers[k:]`` on the cached
outputs of the frozen prefix (:mod:`helpers.prefix`), BatchNorm frozen, at one rate or two (:func:`fit_rest`).
:func:`small_cnn` is the network learnt from scratch (its own rate, :data:`SCRATCH_RATE`).
"""

from __future__ import annotations

import numpy as np

from . import freezing, grid_models, prefix

__all__ = ["SCRATCH_RATE", "per_class", "probe", "probe_accuracy", "rest_with_head", "fit_rest", "accuracy",
           "small_cnn", "fit_curve", "pooled"]

SCRATCH_RATE = 1e-3  # Adam's default: a network learnt from random weights


def per_class(labels, counts, seed: int) -> list[np.ndarray]:
    """Disjoint parts of ``range(len(labels))`` with ``counts[i]`` items of every class each (seeded, sorted)."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    parts: list[list[int]] = [[] for _ in counts]
    for c in np.unique(labels):
        index = rng.permutation(np.flatnonzero(labels == c))
        if sum(counts) > len(index):
            raise ValueError(f"class {c} has {len(index)} items: fewer than the {sum(counts)} asked for.")
        start = 0
        for part, n in zip(parts, counts, strict=True):
            part += index[start:start + n].tolist()
            start += n
    return [np.sort(np.array(part, dtype="int64")) for part in parts]


def probe(features, labels, seed: int = 0):
    """A logistic regression on the features, fitted to convergence: ``(kernel, bias)`` of a Dense layer."""
    return grid_models.linear_head(features, labels, seed)


def probe_accuracy(features, labels, train, test, seed: int = 0) -> float:
    """Held-out accuracy of :func:`probe` trained on the ``train`` rows, tested on the ``test`` rows."""
    head = probe(features[train], labels[train], seed)
    return grid_models.linear_accuracy(head, features[test], labels[test])


def pooled(maps) -> np.ndarray:
    """Global average pooling of ``(n, h, w, c)`` maps (``(n, c)`` features pass through)."""
    maps = np.asarray(maps)
    return maps.mean(axis=(1, 2)) if maps.ndim == 4 else maps


def rest_with_head(base, k: int, head, batchnorm_frozen: bool = True):
    """``base.layers[k:]`` + pooling + a softmax Dense layer holding ``head`` (a probe's ``(kernel, bias)``).

    The course's recipe (:func:`freezing.unfreeze_from`): ``layers[:k]`` and every BatchNorm frozen;
    ``batchnorm_frozen=False`` leaves the BatchNorm layers of ``layers[k:]`` trainable (what the recipe avoids).
    """
    import keras

    freezing.unfreeze_from(base, k)
    if not batchnorm_frozen:
        for layer in base.layers[k:]:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.trainable = True
    kernel, bias = head
    dense = keras.layers.Dense(kernel.shape[1], activation="softmax")
    model = prefix.rest_of(base, k, [keras.layers.GlobalAveragePooling2D(), dense])
    dense.set_weights([kernel, bias])
    return model


def fit_rest(model, x, y, epochs: int, rate: float, batch_size: int, seed: int, head_rate: float | None = None):
    """Train ``model`` (its last layer the head) on ``(x, y)`` with Adam at ``rate``, reshuffled each epoch.

    ``head_rate``: the head gets its own Adam at that rate (discriminative rates); ``None``: one rate for all.
    Both run the same custom step, so the two differ only in the head's rate. Returns the model.
    """
    import keras
    import tensorflow as tf

    head = model.layers[-1].trainable_variables
    head_ids = {id(v) for v in head}
    body = [v for v in model.trainable_variables if id(v) not in head_ids]
    optimizers = [keras.optimizers.Adam(rate), keras.optimizers.Adam(head_rate or rate)]
    for optimizer, variables in zip(optimizers, (body, head)):
        optimizer.build(variables)
    loss_fn = keras.losses.SparseCategoricalCrossentropy()

    @tf.function(reduce_retracing=True)
    def step(images, labels):
        with tf.GradientTape() as tape:
            loss = loss_fn(labels, model(images, training=True))
        gradients = tape.gradient(loss, body + head)
        if body:
            optimizers[0].apply(gradients[:len(body)], body)
        optimizers[1].apply(gradients[len(body):], head)
        return loss

    x = tf.convert_to_tensor(np.asarray(x, "float32"))
    y = tf.convert_to_tensor(np.asarray(y, "int32"))
    for rows in np.split(prefix.epoch_order(len(y), epochs, seed), epochs):
        for start in range(0, len(rows), batch_size):
            index = tf.constant(rows[start:start + batch_size])
            step(tf.gather(x, index), tf.gather(y, index))
    return model


def accuracy(model, x, y, batch_size: int = 256) -> float:
    """Fraction of ``x`` whose most probable class is ``y``."""
    predictions = np.concatenate([np.asarray(model.predict_on_batch(x[i:i + batch_size]))
                                  for i in range(0, len(x), batch_size)])
    return float(np.mean(predictions.argmax(axis=1) == np.asarray(y)))


def small_cnn(n_classes: int, image_size: int, name: str = "small_cnn"):
    """A small CNN for images in [0, 255]: body up to the pooled ``features``, then a softmax ``head``.

    Four 3x3 convolutions (16 to 128 filters, ``same`` padding, so any size from 32 px works) with max pooling.
    """
    import keras

    inputs = keras.Input((image_size, image_size, 3))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(x)
    for filters in (32, 64, 128):
        x = keras.layers.MaxPooling2D()(x)
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D(name="features")(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="head")(x)
    return keras.Model(inputs, outputs, name=name)


def fit_curve(model, x, y, x_test, y_test, epochs: int, rate: float, batch_size: int, seed: int) -> np.ndarray:
    """Compile ``model`` (Adam at ``rate``), train it ``epochs`` epochs; the held-out accuracy after each epoch."""
    import keras

    from .config import set_seeds

    model.compile(optimizer=keras.optimizers.Adam(rate), loss="sparse_categorical_crossentropy")
    curve = []
    order = prefix.epoch_order(len(y), epochs, seed)
    for rows in np.split(order, epochs):
        set_seeds(seed)
        model.fit(x[rows], y[rows], batch_size=batch_size, epochs=1, shuffle=False, verbose=0)
        curve.append(accuracy(model, x_test, y_test))
    return np.array(curve)
