"""The models notebook 04's measured grid trains and scores, one per strategy of :data:`helpers.guide.STRATEGIES`.

The linear strategies fit a logistic regression on cached features (:func:`linear_head`, as the weights of an
equivalent Dense layer). The trained ones (:func:`trainables`) are built once, compiled once, and reset before
each fit (:class:`Trainable`): tracing a network's training step costs more than training it on the small
subsets. The fine-tuned ones follow the course's recipe (:func:`helpers.freezing.unfreeze_from`).
"""

from __future__ import annotations

import numpy as np

from . import freezing
from .config import SEED

__all__ = ["Trainable", "linear_accuracy", "linear_head", "trainables"]


def linear_head(features, labels, seed: int = SEED):
    """A logistic regression on ``features``, returned as the ``(kernel, bias)`` of an equivalent Dense layer.

    Features are divided by one overall scale (not per feature, which would blow up near-constant ones).
    The fit runs on one BLAS thread: on a busy 2-core machine, threaded BLAS makes this tiny fit 100x slower.
    """
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    scale = float(features.std()) + 1e-6
    with threadpool_limits(limits=1):
        model = LogisticRegression(max_iter=2000, random_state=seed).fit(features / scale, labels)
    return (model.coef_.T / scale).astype("float32"), model.intercept_.astype("float32")


def linear_accuracy(head, features, labels) -> float:
    """Accuracy of a ``(kernel, bias)`` linear head on features."""
    kernel, bias = head
    return float(np.mean(np.argmax(features @ kernel + bias, axis=1) == labels))


class Trainable:
    """One compiled model reused for every cell of the grid, so that its train and predict steps are traced once.

    Before each fit its weights and optimizer state are reset to the saved start (``reset``).
    """

    def __init__(self, model, rate):
        import keras

        self.model = model
        model.compile(optimizer=keras.optimizers.Adam(rate), loss="sparse_categorical_crossentropy")
        model.optimizer.build(model.trainable_variables)
        self.initial = [np.array(w) for w in model.get_weights()]
        self.optimizer_start = [np.array(v) for v in model.optimizer.variables]

    def score(self, x, y, train, test, num_classes, head, plan) -> tuple[float, int]:
        """Reset, set the head (or keep its random start), fit on the ``train`` rows of (x, y), test on ``test``.

        ``x`` is a tensor of the whole data set: batches are gathered from it as fit needs them (no copy of the
        training set). Returns (test accuracy, optimizer updates).
        """
        from .config import set_seeds

        self.model.set_weights(self.initial)
        if head is not None:
            kernel, bias = head
            dense = self.model.layers[-1]
            outputs = dense.units
            full_kernel = np.zeros((kernel.shape[0], outputs), "float32")
            full_kernel[:, :num_classes] = kernel
            full_bias = np.full(outputs, -10.0, "float32")  # outputs this data set does not use stay off
            full_bias[:num_classes] = bias
            dense.set_weights([full_kernel, full_bias])
        for variable, value in zip(self.model.optimizer.variables, self.optimizer_start, strict=True):
            variable.assign(value)
        set_seeds(plan.seed)
        self.model.fit(_batches(x, y, train, plan.batch_size, plan.seed), epochs=plan.epochs, verbose=0)
        steps = int(self.model.optimizer.iterations.numpy())
        predictions = self.model.predict(_batches(x, y, test, 256), verbose=0)[:, :num_classes]
        return float(np.mean(predictions.argmax(axis=1) == np.asarray(y)[test])), steps


def _batches(x, y, index, batch_size: int, seed: int | None = None):
    """A ``tf.data`` pipeline of ``(x[i], y[i])`` batches over ``index`` (reshuffled each epoch when seeded)."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices(np.asarray(index, "int64"))
    if seed is not None:
        ds = ds.shuffle(len(index), seed=seed, reshuffle_each_iteration=True)
    y = tf.constant(np.asarray(y, "int32"))
    return ds.batch(batch_size).map(lambda i: (tf.gather(x, i), tf.gather(y, i))).prefetch(1)


def _classifier(inputs, features, outputs):
    import keras

    x = keras.layers.GlobalAveragePooling2D()(features)
    return keras.Model(inputs, keras.layers.Dense(outputs, activation="softmax")(x))


def trainables(strategies, plan, k, outputs) -> dict:
    """The compiled models of the trained strategies, shared by every data set (``outputs`` units each).

    The fine-tuned ones follow the course's recipe (:func:`helpers.freezing.unfreeze_from`: BatchNorm frozen,
    rate :data:`helpers.freezing.FINE_TUNE_RATE`); they start from the head the linear classifier learnt.
    """
    import keras

    from . import models

    built = {}
    if "partial_fine_tune" in strategies:
        # layers[:k] are frozen: their output maps are cached, and only the layers from k on (BatchNorm
        # frozen) and the head are built and trained. Same model as unfreeze_from(base, k) on the whole base.
        base = models.load_base(plan.image_size)
        freezing.unfreeze_from(base, k)
        top = freezing.top_from(base, k)
        inputs = keras.Input(top.input.shape[1:])
        built["partial_fine_tune"] = Trainable(_classifier(inputs, top(inputs), outputs), plan.fine_tune_rate)
    if "full_fine_tune" in strategies:
        base = models.load_base(plan.image_size)
        freezing.unfreeze_from(base, 0)
        inputs = keras.Input(base.input.shape[1:])
        built["full_fine_tune"] = Trainable(_classifier(inputs, base(inputs), outputs), plan.fine_tune_rate)
    if "from_scratch" in strategies:
        base = models.load_base(plan.image_size, weights=None)
        for layer in base.layers:  # BatchNorm learns its statistics; they must settle within the grid's few steps
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.momentum = 0.9
        inputs = keras.Input(base.input.shape[1:])
        built["from_scratch"] = Trainable(_classifier(inputs, base(inputs), outputs), plan.scratch_rate)
    return built
