"""Helpers that notebook 01 uses: the receptive-field crops and their grid, the base's ImageNet top."""

from pathlib import Path

import numpy as np
import pytest

from helpers import config, fetch, models, plots
from helpers.config import CourseSetupError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _keras_imported_before_keras_home_changes():
    """Keras reads $KERAS_HOME once, when first imported: import it before a test points $KERAS_HOME elsewhere,
    so that the tests after this file still find the real cache."""
    import keras  # noqa: F401


def test_receptive_crop_is_centred_on_the_unit_and_stays_inside():
    image = np.arange(32 * 32).reshape(32, 32)
    # A map of stride 4: unit (3, 5) sits over pixel (14, 22); an 8-pixel crop spans rows 10..17, cols 18..25.
    crop = plots.receptive_crop(image, 3, 5, stride=4, size=8)
    assert crop.shape == (8, 8)
    assert crop[0, 0] == image[10, 18] and crop[-1, -1] == image[17, 25]
    # At a corner the crop is shifted, not shrunk.
    corner = plots.receptive_crop(image, 0, 7, stride=4, size=12)
    assert corner.shape == (12, 12) and corner[0, 0] == image[0, 20]
    # A crop larger than the image is the whole image.
    assert plots.receptive_crop(image, 1, 1, stride=16, size=100).shape == (32, 32)
    rgb = np.zeros((16, 16, 3))
    assert plots.receptive_crop(rgb, 2, 2, stride=4, size=6).shape == (6, 6, 3)


def test_show_top_patches_draws_one_row_per_channel(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = []
    monkeypatch.setattr(plt, "show", lambda: shown.append(plt.gcf()))
    rng = np.random.default_rng(0)
    patches = {"channel 3": [rng.uniform(0, 255, (8, 8, 3)) for _ in range(4)],
               "channel 7": [rng.uniform(0, 255, (8, 8, 3)) for _ in range(2)]}
    plots.show_top_patches(patches, "title")
    (figure,) = shown
    assert [ax.get_ylabel() for ax in figure.axes] == ["channel 3", "channel 7"]
    first, second = (ax.images[0].get_array() for ax in figure.axes)
    assert first.shape[:2] == second.shape[:2] == (8, 4 * 8 + 3 * 1)  # 4 patches of 8 px, 1 px gaps
    np.testing.assert_allclose(first[:, :8], patches["channel 3"][0] / 255, atol=1e-6)
    assert (second[:, 2 * 9:] == 1).all()  # a shorter row is padded with white
    plt.close(figure)


# --- the small base's ImageNet top (fetched only by fetch_data.py) -------------------------------------------

def _weights_server(root: Path) -> Path:
    """A folder laid out like Keras's weight bucket, holding MobileNet (alpha 0.25) files with and without its top.

    Its weights are random: it stands in for the real download only to test the plumbing (where the file goes,
    that the classifier loads it); no notebook ever shows predictions of random weights.
    """
    import h5py
    import keras
    from keras.src.legacy.saving import legacy_h5_format

    base = config.mode_settings("small").base
    target = root / base.weights_folder / base.with_top_file
    target.parent.mkdir(parents=True)
    for file, top in ((target, True), (target.parent / base.no_top_file, False)):
        model = getattr(keras.applications, base.constructor)(**base.kwargs, weights=None, include_top=top)
        with h5py.File(file, "w") as handle:
            legacy_h5_format.save_weights_to_hdf5_group(handle, model)
    return target


def _fetch_top() -> Path:
    """What fetch_data.py does for the mode's base (models.fetch_weights); the path of the file with the top."""
    return models.fetch_weights(config.settings().base)[1]


def test_fetch_small_top_puts_it_where_the_classifier_finds_it(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_MODE", "small")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    served = _weights_server(tmp_path / "bucket")
    monkeypatch.setattr(models, "KERAS_WEIGHTS_URL", (tmp_path / "bucket").as_uri() + "/")  # no network needed
    assert models.imagenet_classifier() is None  # not fetched yet: no predictions, not random ones
    path = _fetch_top()
    assert path == models.top_path() == tmp_path / "keras" / "models" / config.settings().base.with_top_file
    assert path.read_bytes() == served.read_bytes()
    classifier = models.imagenet_classifier()
    assert classifier.output.shape[1:] == (1000,)
    stored = h5py_kernel(path, "conv1")
    np.testing.assert_array_equal(classifier.get_layer("conv1").get_weights()[0], stored)
    assert _fetch_top() == path  # a re-run downloads nothing
    monkeypatch.setattr(models, "KERAS_WEIGHTS_URL", (tmp_path / "gone").as_uri() + "/")
    assert _fetch_top() == path


def h5py_kernel(path: Path, layer: str) -> np.ndarray:
    import h5py

    with h5py.File(path) as handle:
        group = handle[layer]
        return group[group.attrs["weight_names"][0]][()]


def test_fetch_small_top_offline_is_a_clear_error_and_leaves_nothing(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_MODE", "small")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(models, "KERAS_WEIGHTS_URL", (tmp_path / "no-bucket").as_uri() + "/")
    with pytest.raises(CourseSetupError, match="fetch_data.py"):
        _fetch_top()
    assert not models.top_path().exists()
    assert models.imagenet_classifier() is None


def test_a_damaged_top_is_an_error_not_random_weights(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_MODE", "small")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    models.top_path().parent.mkdir(parents=True)
    models.top_path().write_bytes(b"<html>not a weight file</html>")
    with pytest.raises(CourseSetupError, match="delete it"):
        models.imagenet_classifier()


def test_fetch_data_fetches_both_files_of_every_base(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    fetched = []
    monkeypatch.setattr(models, "_cached_weights", lambda name, folder: fetched.append(f"{folder}/{name}") or name)
    monkeypatch.setattr(models, "imagenet_class_names", lambda: fetched.append("class index"))
    fetch.fetch_keras_weights()
    expected = {f"{cfg.base.weights_folder}/{name}" for cfg in config.all_settings().values()
                for name in (cfg.base.no_top_file, cfg.base.with_top_file)}
    assert len(expected) == 4 and set(fetched) == expected | {"class index"}
    assert len(fetched) == len(set(fetched)), "a file fetched twice"


def test_mirror_install_says_it_has_no_top(monkeypatch, tmp_path, capsys):
    mirror = tmp_path / "mirror"
    (mirror / fetch.MIRROR_MODELS).mkdir(parents=True)
    small = config.mode_settings("small").base
    (mirror / fetch.MIRROR_MODELS / small.no_top_file).write_bytes(b"weights")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    assert fetch.main(["--mirror", str(mirror)]) == 0
    said = capsys.readouterr().out
    assert f"no ImageNet top for {small.name} ({small.with_top_file})" in said and "small mode" in said


def test_notebook_says_plainly_why_there_are_no_predictions(monkeypatch, tmp_path, capsys):
    """The notebook's classifier cell, run with no top in the cache: no predictions, and the reason."""
    import nbformat

    monkeypatch.setenv("COURSE_MODE", "small")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    notebook = nbformat.read(ROOT / "solutions" / "01-pretrained-models" / "01-pretrained-models.ipynb", 4)
    (cell,) = [c for c in notebook.cells if c.source.startswith("classifier = models.imagenet_classifier()")]
    namespace = {"models": models, "cfg": config.settings(), "photos": np.zeros((1, 224, 224, 3)), "np": np,
                 "photo_labels": ["daisy"]}
    exec(cell.source, namespace)
    assert namespace["imagenet_probs"] is None
    said = capsys.readouterr().out
    assert str(models.top_path()) in said and "fetch_data.py" in said and "mirror" in said
