"""The models notebook 04's measured grid trains and scores, one per strategy of :data:`helpers.strategies.TABLE`.

The linear strategies fit a logistic regression on cached features (:func:`linear_head`, as the weights of an
equivalent Dense layer). The trained ones (:func:`trainables`) are built once, compiled once, and reset before
each fit (:class:`Trainable`): tracing a network's training step costs more than training it on the small
subsets. The fine-tuned ones follow the course's recipe (:func:`helpers.freezing.unfreeze_from`); the network
from scratch is :func:`helpers.recipes.small_cnn` at its own rate.
"""

from __future__ import annotations

import numpy as np

from . import freezing, prefix
from .config import SEED
from .strategies import CUT, FINE_TUNE, SCRATCH, TABLE

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

    def reset(self, head=None, num_classes: int = 0) -> None:
        """The saved start again (weights and optimizer state); ``head``: a linear head's ``(kernel, bias)`` in
        the last layer, outputs this data set does not use switched off."""
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

    def accuracy(self, x, y, test, num_classes) -> float:
        """Held-out accuracy on the ``test`` rows of (x, y), the outputs past ``num_classes`` left off."""
        import tensorflow as tf

        test = np.asarray(test)
        predictions = np.concatenate([  # predict_on_batch: no new tf.data pipeline (and graph) per call
            np.asarray(self.model.predict_on_batch(tf.cast(tf.gather(x, test[i:i + 256]), "float32")))
            for i in range(0, len(test), 256)])[:, :num_classes]
        return float(np.mean(predictions.argmax(axis=1) == np.asarray(y)[test]))

    def score(self, x, y, train, test, num_classes, head, epochs, batch_size, seed) -> tuple[float, int]:
        """Reset, set the head (or keep its random start), fit on the ``train`` rows of (x, y), test on ``test``.

        ``x`` is a tensor of the whole data set: batches are gathered from it as fit needs them (no copy of the
        training set). Returns (test accuracy, optimizer updates).
        """
        from .config import set_seeds

        self.reset(head, num_classes)
        set_seeds(seed)
        self.model.fit(_batches(x, y, train, batch_size, seed), epochs=epochs, verbose=0,
                       shuffle=False)  # _batches shuffles
        return self.accuracy(x, y, test, num_classes), int(self.model.optimizer.iterations.numpy())

    def score_curve(self, x, y, train, test, num_classes, chunks, batch_size, seed) -> list[tuple[int, float]]:
        """From the random start, fit ``chunks[0]`` epochs, test, fit ``chunks[1]`` more, test...: the
        ``(optimizer updates, held-out accuracy)`` after each chunk (a learning curve at a few points)."""
        from .config import set_seeds

        self.reset()
        set_seeds(seed)
        import tensorflow as tf

        labels = np.asarray(y, "int32")
        curve, done = [], 0
        for epochs in chunks:  # the chunk's epochs' shuffles one after the other, a traced step per batch
            order = np.asarray(train)[prefix.epoch_order(len(train), int(epochs), seed + done)]
            for i in range(0, len(order), batch_size):
                rows = order[i:i + batch_size]
                self.model.train_on_batch(tf.cast(tf.gather(x, rows), "float32"), labels[rows])
            done += int(epochs)
            curve.append((int(self.model.optimizer.iterations.numpy()), self.accuracy(x, y, test, num_classes)))
        return curve


def _batches(x, y, index, batch_size: int, seed: int | None = None):
    """A ``tf.data`` pipeline of ``(x[i], y[i])`` batches over ``index`` (reshuffled each epoch when seeded)."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices(np.asarray(index, "int64"))
    if seed is not None:
        ds = ds.shuffle(len(index), seed=seed, reshuffle_each_iteration=True)
    y = tf.constant(np.asarray(y, "int32"))
    return ds.batch(batch_size).map(lambda i: (tf.cast(tf.gather(x, i), "float32"), tf.gather(y, i))).prefetch(1)


def _classifier(inputs, features, outputs):
    import keras

    x = keras.layers.GlobalAveragePooling2D()(features)
    return keras.Model(inputs, keras.layers.Dense(outputs, activation="softmax")(x))


def trainables(strategies, plan, k, outputs, scratch_sizes=(), small_cnn=None) -> dict:
    """The compiled models of the trained strategies, shared by every data set and split (``outputs`` units each).

    What each is comes from :data:`helpers.strategies.TABLE`. The fine-tuned ones follow the course's recipe
    (:func:`helpers.freezing.unfreeze_from`: BatchNorm frozen, rate ``plan.fine_tune_rate``) from their
    ``trains_from`` on; they start from the head the linear classifier learnt. One that trains from the cut ``k``
    reads the cached maps of the frozen prefix, one that trains every layer reads 8-bit pixels. The network from
    scratch is :func:`helpers.recipes.small_cnn` at ``plan.scratch_rate``, one per image side in
    ``scratch_sizes`` (keys ``(name, side)``), passed in as ``small_cnn`` (recipes imports this module, so this
    one does not import recipes); it reads 8-bit pixels. The linear strategies build nothing.
    """
    import keras

    from . import models

    table = [s for s in TABLE.values() if s.name in strategies]  # built in the table's order (seeded weights)
    if small_cnn is None and any(s.kind == SCRATCH for s in table):
        raise ValueError("trainables: a network from scratch is asked for but small_cnn is None: pass "
                         "small_cnn=helpers.recipes.small_cnn (or leave the from-scratch strategy out).")
    cfg = plan.settings()  # the plan's base, loaded once for each fine-tuned strategy
    built = {}
    for strategy in table:
        if strategy.kind == FINE_TUNE:
            base = models.load_base(plan.image_size, cfg=cfg)
            if strategy.trains_from == CUT:  # layers[:k] are frozen: their output maps are cached, and only the
                # layers from k on (BatchNorm frozen) and the head are built and trained. Same model as
                # unfreeze_from(base, k) on the whole base.
                freezing.unfreeze_from(base, k)
                top = freezing.top_from(base, k)
                inputs = keras.Input(top.input.shape[1:])
                features = top(inputs)
            else:  # from layer trains_from (0: every layer) on; reads 8-bit pixels: the preprocessing comes first
                freezing.unfreeze_from(base, strategy.trains_from)
                inputs = keras.Input(base.input.shape[1:])
                features = base(models.preprocessing_layer(cfg)(inputs))
            built[strategy.name] = Trainable(_classifier(inputs, features, outputs), plan.fine_tune_rate)
        elif strategy.kind == SCRATCH:
            for side in scratch_sizes or (plan.image_size,):  # reads pixels in [0, 255], like small_cnn
                built[strategy.name, side] = Trainable(small_cnn(outputs, side, strategy.name), plan.scratch_rate)
    return built
