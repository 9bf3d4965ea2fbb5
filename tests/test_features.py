"""Unit tests of helpers.features: the cache key, memory and disk hits, corrupt files, PCA."""

import os

import keras
import numpy as np
import pytest
from PIL import Image

from helpers import features

SIZE = 16


class Counting:
    """A model wrapper that counts its forward passes (the cache must not run the model on a hit)."""

    def __init__(self, model):
        self.model, self.calls = model, 0

    def __getattr__(self, name):  # name, layers, weights
        return getattr(self.model, name)

    def __call__(self, images, training=False):
        self.calls += 1
        return self.model(images, training=training)

    def predict_on_batch(self, images):
        self.calls += 1
        return self.model.predict_on_batch(images)


def tiny_model(seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(SIZE, SIZE, 3))
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(4, 3)(inputs))
    return keras.Model(inputs, keras.layers.Dense(3)(x), name="tiny")


@pytest.fixture
def photos(tmp_path, monkeypatch):
    """Six small JPEG files in two classes, and a private cache folder."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    features.clear_memory_cache()
    rng = np.random.default_rng(0)
    paths = []
    for i in range(6):
        path = tmp_path / f"photo_{i}.jpg"
        Image.fromarray(rng.integers(0, 255, (20, 24, 3), dtype=np.uint8)).save(path)
        paths.append(str(path))
    yield paths, np.array([0, 1, 0, 1, 0, 1])
    features.clear_memory_cache()


def test_key_depends_on_weights_size_files_and_labels(photos):
    paths, labels = photos
    model = tiny_model()
    key = features.cache_key(model, paths, labels, SIZE)
    assert key == features.cache_key(model, list(paths), labels.copy(), SIZE)  # deterministic
    assert key != features.cache_key(model, paths, labels, SIZE + 1)
    assert key != features.cache_key(model, paths[1:], labels[1:], SIZE)
    assert key != features.cache_key(model, paths[::-1], labels, SIZE)
    assert key != features.cache_key(model, paths, 1 - labels, SIZE)
    assert key != features.cache_key(tiny_model(seed=1), paths, labels, SIZE)  # same architecture, other weights
    kernel = model.layers[-1].kernel
    kernel.assign(kernel.numpy() + 1e-3)
    assert key != features.cache_key(model, paths, labels, SIZE)
    Image.new("RGB", (30, 30), "red").save(paths[0])  # a photo replaced under the same name
    os.utime(paths[0], ns=(1, 1))
    changed = features.cache_key(model, paths, labels, SIZE)
    assert changed != key and changed != features.cache_key(tiny_model(), paths, labels, SIZE)


def test_memory_and_disk_hits_do_not_run_the_model(photos):
    paths, labels = photos
    model = Counting(tiny_model())
    first, first_labels = features.extract_features(model, paths, labels, SIZE, batch_size=4, progress=False)
    assert first.shape == (6, 3) and model.calls == 2  # two batches
    np.testing.assert_array_equal(first_labels, labels)
    key = features.cache_key(model, paths, labels, SIZE)
    assert (features.cache_dir() / f"{key}.npz").exists()

    from_memory, _ = features.extract_features(model, paths, labels, SIZE, batch_size=4, progress=False)
    assert model.calls == 2
    np.testing.assert_array_equal(from_memory, first)
    from_memory[:] = 0  # a copy: the cache is not changed through it
    features.clear_memory_cache()
    from_disk, disk_labels = features.extract_features(model, paths, labels, SIZE, batch_size=4, progress=False)
    assert model.calls == 2
    np.testing.assert_array_equal(from_disk, first)
    np.testing.assert_array_equal(disk_labels, labels)


def test_features_are_the_model_outputs_and_no_cache_means_no_cache(photos):
    paths, labels = photos
    model = Counting(tiny_model())
    fresh, _ = features.extract_features(model, paths, labels, SIZE, use_cache=False, progress=False)
    from helpers import data

    images = np.concatenate([x.numpy() for x, _ in data.make_dataset(paths, labels, SIZE, batch_size=6)])
    np.testing.assert_allclose(fresh, model.model(images).numpy(), atol=1e-5)
    assert not features.cache_dir().exists() or not any(features.cache_dir().iterdir())
    features.extract_features(model, paths, labels, SIZE, use_cache=False, progress=False)
    assert model.calls == 2


def test_a_corrupt_cache_file_is_recomputed(photos):
    paths, labels = photos
    model = Counting(tiny_model())
    first, _ = features.extract_features(model, paths, labels, SIZE, progress=False)
    file = features.cache_dir() / f"{features.cache_key(model, paths, labels, SIZE)}.npz"
    file.write_bytes(file.read_bytes()[:40])  # truncated
    features.clear_memory_cache()
    again, _ = features.extract_features(model, paths, labels, SIZE, progress=False)
    assert model.calls == 2
    np.testing.assert_array_equal(again, first)
    features.clear_memory_cache()
    features.extract_features(model, paths, labels, SIZE, progress=False)  # the file was rewritten
    assert model.calls == 2


def test_a_cache_that_cannot_be_written_keeps_the_features_in_memory(photos, monkeypatch, capsys):
    """A read-only cache folder (the grading sandbox mounts the Keras cache's folders read-only) is no error."""
    paths, labels = photos
    model = Counting(tiny_model())

    def read_only(*args, **kwargs):
        raise PermissionError(13, "Read-only file system")

    monkeypatch.setattr(features.np, "savez", read_only)
    first, _ = features.extract_features(model, paths, labels, SIZE, progress=False)
    assert "in memory (cache read-only)" in capsys.readouterr().out
    assert not (features.cache_dir() / f"{features.cache_key(model, paths, labels, SIZE)}.npz").exists()
    again, _ = features.extract_features(model, paths, labels, SIZE, progress=False)
    assert model.calls == 1 and np.array_equal(again, first), "the features were not kept in memory"


def test_mismatched_lengths_are_an_error(photos):
    paths, labels = photos
    with pytest.raises(ValueError):
        features.extract_features(tiny_model(), paths, labels[:-1], SIZE, progress=False)


def test_pca_2d():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 5)) * np.array([10, 3, 0.1, 0.1, 0.1])
    points, ratio = features.pca_2d(x)
    assert points.shape == (50, 2) and ratio[0] > ratio[1] > 0 and ratio.sum() > 0.95


def extractor_with(preprocessing, seed=0):
    """The same layers and weights behind different preprocessing: ``preprocessing`` maps the input tensor."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(SIZE, SIZE, 3), name="images")
    x = keras.layers.Conv2D(4, 3, name="conv")(preprocessing(inputs))
    return keras.Model(inputs, keras.layers.GlobalAveragePooling2D(name="pool")(x), name="extractor")


PREPROCESSINGS = {
    "none": lambda x: x,
    "op: [-1, 1]": lambda x: x / 127.5 - 1.0,  # what MobileNet's preprocess_input does (two ops, no layer)
    "op: [0, 1]": lambda x: x / 255.0,
    "Rescaling to [-1, 1]": lambda x: keras.layers.Rescaling(1 / 127.5, offset=-1, name="scale")(x),
    "Rescaling to [0, 1]": lambda x: keras.layers.Rescaling(1 / 255, name="scale")(x),
}


def test_key_covers_the_whole_extractor_not_only_its_layers_and_weights(photos):
    """A student fixes the preprocessing and restarts the kernel: the old features must not come back."""
    paths, labels = photos
    models = {name: extractor_with(f) for name, f in PREPROCESSINGS.items()}
    reference = models["none"].get_weights()
    for model in models.values():  # the same layer names and weights everywhere: only preprocessing differs
        assert [w.shape for w in model.get_weights()] == [w.shape for w in reference]
        model.set_weights(reference)
    keys = {name: features.cache_key(model, paths, labels, SIZE) for name, model in models.items()}
    assert len(set(keys.values())) == len(keys), keys
    assert keys["none"] == features.cache_key(extractor_with(PREPROCESSINGS["none"]), paths, labels, SIZE)

    stale, _ = features.extract_features(models["none"], paths, labels, SIZE, progress=False)
    for name in ("op: [-1, 1]", "Rescaling to [0, 1]"):
        features.clear_memory_cache()  # a restart: only the disk cache is left
        fixed = Counting(models[name])
        fresh, _ = features.extract_features(fixed, paths, labels, SIZE, progress=False)
        assert fixed.calls == 1, f"{name}: served the cached features of another extractor"
        assert not np.allclose(fresh, stale)


def test_key_ignores_generated_names(photos):
    """Running the cell that builds an extractor again (new automatic layer names) still hits the cache."""
    paths, labels = photos

    def build():
        keras.utils.set_random_seed(0)
        inputs = keras.Input(shape=(SIZE, SIZE, 3))
        x = keras.layers.Conv2D(4, 3)(inputs / 127.5 - 1.0)
        return keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x))

    first, second = build(), build()
    assert first.layers[1].name != second.layers[1].name  # conv2d vs conv2d_1
    assert features.cache_key(first, paths, labels, SIZE) == features.cache_key(second, paths, labels, SIZE)

    def sequential(scale):
        keras.utils.set_random_seed(0)
        return keras.Sequential([keras.Input(shape=(SIZE, SIZE, 3)), keras.layers.Rescaling(scale),
                                 keras.layers.Conv2D(4, 3), keras.layers.GlobalAveragePooling2D()])

    key = features.cache_key(sequential(1 / 255), paths, labels, SIZE)
    assert key == features.cache_key(sequential(1 / 255), paths, labels, SIZE)
    assert key != features.cache_key(sequential(1 / 127.5), paths, labels, SIZE)


class Halve(keras.layers.Layer):
    """A custom layer: its config says nothing about what it computes."""

    factor = 0.5

    def call(self, x):
        return x * self.factor


def test_lambda_and_custom_layers_are_told_apart_by_their_outputs(photos):
    paths, labels = photos
    scale = {"value": 1 / 255}
    lambda_model = extractor_with(lambda x: keras.layers.Lambda(lambda t: t * scale["value"])(x))
    key = features.cache_key(lambda_model, paths, labels, SIZE)
    assert key == features.cache_key(lambda_model, paths, labels, SIZE)  # deterministic
    scale["value"] = 1 / 127.5  # the function's code is the same, what it computes is not
    assert key != features.cache_key(lambda_model, paths, labels, SIZE)

    custom = extractor_with(lambda x: Halve()(x))
    key = features.cache_key(custom, paths, labels, SIZE)
    Halve.factor = 0.25
    try:
        assert key != features.cache_key(custom, paths, labels, SIZE)
    finally:
        Halve.factor = 0.5
