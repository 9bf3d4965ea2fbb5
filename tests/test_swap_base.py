"""The settings describe the mode completely: swap the base in the settings alone, and the course follows.

No module is patched: the swapped settings are passed down, as a notebook passes its ``cfg`` (only ``KERAS_HOME``
points at a temporary folder this module owns, holding *stand-in* weights of the swapped base under the file
names its description gives). ``models.load_base``, the freezing and cut utilities and the measured grid's plan
and runner must then build, cut and size everything from the new description, with no other change. The swapped
base is another ``keras.applications`` constructor (MobileNetV2 with alpha 0.35, where small mode uses
MobileNet), at another image size, cap and grid batch size.
"""

from __future__ import annotations

import dataclasses
import math

import keras
import numpy as np
import pytest

from helpers import config, freezing, measure, models
from helpers.instructor import standin

SWAPPED = config.Base(name="MobileNetV2 (alpha 0.35), stand-in", constructor="MobileNetV2", module="mobilenet_v2",
                      weights_folder="mobilenet_v2", no_top_file="standin_mobilenet_v2_0.35_no_top.h5",
                      with_top_file="standin_mobilenet_v2_0.35.h5", kwargs={"alpha": 0.35}, top_on_demand=False)


@pytest.fixture(scope="module")
def swapped_home(tmp_path_factory, small_assets):
    """A KERAS_HOME of our own with stand-in weights (random, BatchNorm calibrated) of the swapped base."""
    home = tmp_path_factory.mktemp("keras_home_swapped")
    standin.write_standin_weights(home, small_assets.flowers_dir, base=SWAPPED)
    return home


@pytest.fixture
def swapped(monkeypatch, swapped_home, small_assets):
    cfg = dataclasses.replace(small_assets, base=SWAPPED, image_size=64, epochs=1, max_images_per_class=16,
                              grid_batch_size=7)
    monkeypatch.setenv("KERAS_HOME", str(swapped_home))
    yield cfg
    keras.backend.clear_session()


def _reference(**kwargs):
    return keras.applications.MobileNetV2(alpha=0.35, weights=None, **kwargs)


def test_load_base_follows_the_settings(swapped, swapped_home):
    base = models.load_base(cfg=swapped)
    reference = _reference(input_shape=(64, 64, 3), include_top=False)
    assert base.input.shape[1:] == (64, 64, 3) and base.output.shape[1:] == reference.output.shape[1:]
    assert [layer.name for layer in base.layers[1:]] == [layer.name for layer in reference.layers[1:]]
    reference.load_weights(str(swapped_home / "models" / SWAPPED.no_top_file))  # the file the description names
    assert all(np.array_equal(a, b) for a, b in zip(base.get_weights(), reference.get_weights(), strict=True))
    random = models.load_base(weights=None, cfg=swapped)
    assert not np.array_equal(random.get_layer("Conv1").get_weights()[0], base.get_layer("Conv1").get_weights()[0])
    assert models.base_module(swapped) is keras.applications.mobilenet_v2
    assert models.top_path(swapped) == swapped_home / "models" / SWAPPED.with_top_file
    classifier = models.imagenet_classifier(swapped)
    assert classifier.output.shape[1:] == (1000,) and classifier.count_params() == _reference().count_params()


def test_a_missing_weight_file_is_named_from_the_settings(swapped, monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure: no network")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    with pytest.raises(config.CourseSetupError, match=SWAPPED.no_top_file):
        models.load_base(cfg=swapped)
    assert models.imagenet_classifier(swapped) is None  # its top is not on demand and not in the cache: no predictions


def test_freezing_and_cuts_follow_the_settings(swapped):
    base = models.load_base(cfg=swapped)
    boundaries = freezing.block_boundaries(base)
    assert boundaries == freezing.block_boundaries(_reference(input_shape=(64, 64, 3), include_top=False))
    index = {layer.name: i for i, layer in enumerate(base.layers)}
    assert index["block_2_add"] + 1 in boundaries and index["block_2_project_BN"] + 1 not in boundaries
    k = measure.fine_tune_at(base)
    assert k in boundaries and measure.earlier_layer(base) == freezing.cut_layer(base, k).name
    done = freezing.unfreeze_from(base, k)
    assert done.layers == len(base.layers) and done.frozen_batchnorm > 0


def test_grid_follows_the_settings(swapped):
    assert config.settings().base != SWAPPED  # the kernel's own settings are untouched: the plan carries its own
    plan = measure.grid_plan(swapped)
    assert (plan.image_size, plan.epochs, plan.batch_size) == (32, 1, 7)
    assert (plan.fewer_per_class, plan.more_per_class, plan.seeds) == (10, 50, tuple(range(swapped.grid_seeds)))
    plan = dataclasses.replace(plan, seeds=(0, 1))
    result = measure.run_grid(plan, datasets=("digits",), verbose=False,
                              strategies=("feature_extraction", "earlier_layers", "partial_fine_tune"))
    base = models.load_base(32, cfg=swapped)
    assert result.earlier_layer == freezing.cut_layer(base, measure.fine_tune_at(base)).name
    assert result.earlier_layer in {layer.name for layer in _reference(input_shape=(32, 32, 3),
                                                                       include_top=False).layers}
    assert result.sizes["digits", "fewer"] == (100, 1000) and result.sizes["digits", "more"] == (500, 1000)
    for size in measure.SIZES:  # one epoch of batches of the settings' grid batch size, in the first split only
        assert result.steps["digits", size]["partial_fine_tune"] == math.ceil(result.sizes["digits", size][0] / 7)
        assert len(result.scores["digits", size]["partial_fine_tune"]) == 1
        assert len(result.scores["digits", size]["feature_extraction"]) == 2
