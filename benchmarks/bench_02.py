"""Feature extraction (notebook 02) and fine-tuning (notebook 03) on the flowers subset: the speed-up of cached
features, and the accuracy of feature extraction vs fine-tuning the top of the base at several block boundaries."""

from __future__ import annotations

import time

import numpy as np

SEEDS = (42, 1)


def _setup():
    """The notebooks' flowers split, a frozen extractor (preprocess -> base -> pooling) and its cached features."""
    import keras

    import helpers
    from helpers import data, features, models

    cfg = helpers.settings()
    folder = data.list_images(cfg.flowers_dir)
    train, val = data.stratified_split(folder.labels, (0.8, 0.2), seed=42)
    paths = np.asarray(folder.paths)
    split = {"train": (paths[train], folder.labels[train]), "val": (paths[val], folder.labels[val])}
    base = models.load_base()
    base.trainable = False
    inputs = keras.Input(shape=base.input.shape[1:])
    x = base(models.base_module().preprocess_input(inputs))
    extractor = keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x), name=f"{base.name}_extractor")
    cached = {name: features.extract_features(extractor, *files, progress=False, verbose=False)
              for name, files in split.items()}
    return cfg, split, base, extractor, cached


def _head(inputs, num_classes):
    import keras

    outputs = keras.layers.Dense(num_classes, activation="softmax")(keras.layers.Dropout(0.2)(inputs))
    return outputs


def _compiled(model, learning_rate=1e-2):
    import keras

    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


class _EpochTimes:
    """A Keras callback factory: the wall time of every epoch (the first one includes tracing the train step)."""

    def __new__(cls):
        import keras

        class Callback(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                self.times, self.start = [], time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                now = time.perf_counter()
                self.times.append(now - self.start)
                self.start = now

        return Callback()


def cached_features_speedup():
    """Head on cached features vs the frozen base inside fit, the same number of epochs (notebook 02, section 6)."""
    import keras

    import helpers
    from helpers import data, features

    cfg, split, _, extractor, cached = _setup()
    (train_x, train_y), (val_x, val_y) = cached["train"], cached["val"]
    train_ds = data.make_dataset(*split["train"], shuffle=True)
    val_ds = data.make_dataset(*split["val"])
    for _ in train_ds:  # decode once: neither way pays for JPEG decoding
        pass
    start = time.perf_counter()
    features.extract_features(extractor, *split["train"], use_cache=False, progress=False)
    extraction = time.perf_counter() - start
    rows = []
    for epochs in (cfg.epochs, 4 * cfg.epochs):
        helpers.set_seeds(42)
        in_fit = _compiled(keras.Model(extractor.input, _head(extractor.output, 5)))
        in_fit_epochs = _EpochTimes()
        start = time.perf_counter()
        in_fit.fit(train_ds, epochs=epochs, verbose=0, callbacks=[in_fit_epochs])
        in_fit_s = time.perf_counter() - start
        in_fit_acc = in_fit.evaluate(val_ds, verbose=0)[1]
        helpers.set_seeds(42)
        vectors = keras.Input(shape=(train_x.shape[1],))
        on_cache = _compiled(keras.Model(vectors, _head(vectors, 5)))
        on_cache_epochs = _EpochTimes()
        start = time.perf_counter()
        on_cache.fit(train_x, train_y, epochs=epochs, batch_size=cfg.batch_size, verbose=0,
                     callbacks=[on_cache_epochs])
        on_cache_s = time.perf_counter() - start
        on_cache_acc = on_cache.evaluate(val_x, val_y, verbose=0)[1]
        rows.append([epochs, f"{in_fit_s:.2f}", f"{in_fit_acc:.2f}", f"{on_cache_s:.2f}", f"{on_cache_acc:.2f}",
                     f"{in_fit_s / on_cache_s:.1f}x", f"{in_fit_s / (on_cache_s + extraction):.1f}x",
                     f"{np.median(in_fit_epochs.times[1:]) / np.median(on_cache_epochs.times[1:]):.1f}x"])
    return (f"Flowers ({cfg.mode} mode, {len(train_y)} training photos, {cfg.base_name} at {cfg.image_size} px): "
            f"frozen base inside fit vs head on cached features (one extraction: {extraction:.2f} s)",
            ["epochs", "in fit s", "in fit acc", "cached s", "cached acc", "speed-up", "incl. extraction",
             "per epoch after the 1st (median)"], rows)


def extraction_vs_fine_tuning():
    """Validation accuracy: the head alone (feature extraction) vs two-phase fine-tuning from several k."""
    import keras

    import helpers
    from helpers import data, freezing, models

    cfg, split, base, _, cached = _setup()
    (train_x, train_y), (val_x, val_y) = cached["train"], cached["val"]
    train_images, _ = data.take_images(data.make_dataset(*split["train"]), len(train_y))
    val_images, _ = data.take_images(data.make_dataset(*split["val"]), len(val_y))
    inputs = keras.Input(shape=base.input.shape[1:])
    x = base(models.base_module().preprocess_input(inputs))
    x = keras.layers.Dropout(0.2)(keras.layers.GlobalAveragePooling2D()(x))
    model = keras.Model(inputs, keras.layers.Dense(5, activation="softmax")(x))
    candidates = freezing.block_boundaries(base)[-5:-1]
    scores = {"feature extraction (head only)": []} | {f"fine-tune from k = {k}": [] for k in candidates}
    for seed in SEEDS:
        helpers.set_seeds(seed)
        vectors = keras.Input(shape=(train_x.shape[1],))
        head = _compiled(keras.Model(vectors, _head(vectors, 5)))
        head.fit(train_x, train_y, epochs=cfg.epochs, batch_size=cfg.batch_size, verbose=0)
        scores["feature extraction (head only)"].append(float(np.mean(np.argmax(head(val_x), 1) == val_y)))
        model.layers[-1].set_weights(head.layers[-1].get_weights())
        phase1 = model.get_weights()
        for k in candidates:
            model.set_weights(phase1)
            freezing.unfreeze_from(base, k)  # the course's recipe: layers[k:] trainable, every BatchNorm frozen
            _compiled(model, freezing.FINE_TUNE_RATE)
            helpers.set_seeds(seed)
            model.fit(train_images, train_y, epochs=cfg.fine_tune_epochs, batch_size=cfg.batch_size, verbose=0)
            scores[f"fine-tune from k = {k}"].append(float(np.mean(np.argmax(model(val_images), 1) == val_y)))
            base.trainable = False
    best = max((name for name in scores if name.startswith("fine")), key=lambda name: np.mean(scores[name]))
    rows = [[name + ("  <- best fine-tuned" if name == best else ""), f"{np.mean(v):.3f}",
             " ".join(f"{s:.2f}" for s in v)] for name, v in scores.items()]
    return (f"Flowers ({cfg.mode} mode, {len(val_y)} validation photos): feature extraction ({cfg.epochs} epochs) vs "
            f"+ {cfg.fine_tune_epochs} epochs of fine-tuning (freezing.unfreeze_from, lr {freezing.FINE_TUNE_RATE:g}), "
            f"seeds {SEEDS}",
            ["model", "mean accuracy", "per seed"], rows)


SECTIONS = [cached_features_speedup, extraction_vs_fine_tuning]
