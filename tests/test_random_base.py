"""models.random_base: a random base whose BatchNorm statistics are the photos' own is a live network (a fair
"random weights" baseline), where the plain random base (BatchNorm at mean 0, variance 1) collapses."""

import keras
import numpy as np
import pytest

import helpers
from helpers import data, models

SIZE = 64


@pytest.fixture(scope="module")
def photos(small_assets):
    folder = data.list_images(small_assets.flowers_dir, max_per_class=8)
    return data.take_images(data.make_dataset(folder.paths, folder.labels, SIZE, batch_size=40), 40)[0]


def pooled(base, images):
    x = models.base_module().preprocess_input(images.copy())
    return np.asarray(base(x, training=False)).mean(axis=(1, 2))


def spread(features) -> float:
    """How much the features differ from photo to photo (mean over features of the SD across photos)."""
    return float(features.std(axis=0).mean())


def test_recalibrated_statistics_are_those_of_the_photos(photos):
    helpers.set_seeds(0)
    base = models.random_base(photos, SIZE)
    x = models.base_module().preprocess_input(photos.copy())
    inference, training = np.asarray(base(x, training=False)), np.asarray(base(x, training=True))
    np.testing.assert_allclose(inference, training, rtol=1e-3, atol=1e-3 * float(np.abs(training).max()))
    norms = [layer for layer in base.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert norms and all(layer.momentum == 0.99 and layer.trainable for layer in norms), "settings not restored"


def test_the_recalibrated_random_base_is_alive_and_the_plain_one_collapses(photos):
    helpers.set_seeds(0)
    dead = pooled(models.load_base(SIZE, weights=None), photos)
    helpers.set_seeds(0)
    alive = pooled(models.random_base(photos, SIZE), photos)
    assert spread(alive) > 1e-2 * float(np.abs(alive).mean()), "the recalibrated features hardly vary"
    singular = np.linalg.svd(alive - alive.mean(axis=0), compute_uv=False)
    assert np.sum(singular > 1e-3 * singular[0]) >= 10, "the recalibrated features span almost nothing"
    assert spread(dead) < 1e-3 * spread(alive), "the plain random base was expected to be (nearly) dead"


def test_a_reused_base_gets_the_same_draw_as_a_new_one(photos):
    """reuse= puts seed 1's draw (weights and recomputed statistics) into the base of seed 0: the same object,
    the same outputs as a base made new under seed 1, and different from seed 0's."""
    helpers.set_seeds(0)
    reused = models.random_base(photos, SIZE)
    first = pooled(reused, photos)
    helpers.set_seeds(1)
    fresh = pooled(models.random_base(photos, SIZE), photos)
    helpers.set_seeds(1)
    assert models.random_base(photos, SIZE, reuse=reused) is reused
    again = pooled(reused, photos)
    np.testing.assert_allclose(again, fresh, rtol=1e-5, atol=1e-6 * float(np.abs(fresh).max()))
    assert np.abs(again - first).max() > 0.1 * float(np.abs(first).max()), "seeds 0 and 1 drew the same base"
