"""Unit tests of the helpers package: mode switch, mirror install, robust image folders, models."""

import io
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers import config, data, fetch, models
from helpers.config import CourseSetupError

MIRROR = Path(__file__).resolve().parents[2] / "shared" / "assets"


# --- mode switch -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("course_mode", "nbgrader", "expected"), [
    ("", "", "full"), ("small", "", "small"), ("full", "", "full"), ("", "autograde", "small"),
    ("", "validate", "small"), ("full", "autograde", "full"), (" SMALL ", "", "small"),
])
def test_course_mode(monkeypatch, course_mode, nbgrader, expected):
    monkeypatch.setenv("COURSE_MODE", course_mode)
    monkeypatch.setenv("NBGRADER_EXECUTION", nbgrader)
    assert config.course_mode() == expected
    assert config.settings().mode == expected


def test_unknown_mode_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("COURSE_MODE", "tiny")
    with pytest.raises(CourseSetupError, match="full, small"):
        config.settings()


def test_settings_differ_only_in_sizes(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COURSE_MODE", "small")
    small = config.settings()
    monkeypatch.setenv("COURSE_MODE", "full")
    full = config.settings()
    assert small == config.mode_settings("small") and full == config.all_settings()["full"]
    assert small.image_size < full.image_size and small.epochs < full.epochs
    assert small.flowers_dir.parent == full.flowers_dir.parent == tmp_path
    assert small.flowers_dir != full.flowers_dir
    assert small.base != full.base and small.base_name == small.base.name
    with pytest.raises(CourseSetupError, match="full, small"):
        config.mode_settings("tiny")


@pytest.mark.parametrize("mode", ["full", "small"])
def test_each_base_is_what_keras_applications_builds(mode):
    """A mode's base description names a real keras.applications constructor, module and weight files."""
    import keras

    base = config.mode_settings(mode).base
    model = getattr(keras.applications, base.constructor)(**base.kwargs, input_shape=(64, 64, 3),
                                                          include_top=False, weights=None)
    assert model.count_params() > 0
    assert callable(getattr(keras.applications, base.module).preprocess_input)
    assert base.no_top_file.endswith("_no_top.h5") and base.with_top_file.endswith(".h5")
    assert base.no_top_file != base.with_top_file


def test_small_mode_subsets_full_modes_folders(tmp_path):
    small, full = config.mode_settings("small", tmp_path), config.mode_settings("full", tmp_path)
    assert config.subsets(tmp_path) == [(full.flowers_dir, small.flowers_dir, small.max_images_per_class),
                                        (full.cats_dogs_dir, small.cats_dogs_dir, small.max_images_per_class)]
    assert full.max_images_per_class is None and small.max_images_per_class > 0


# --- fetching from a mirror ---------------------------------------------------------------------------------

def _tiny_mirror(root: Path) -> Path:
    mirror = root / "mirror"
    (mirror / "keras_models").mkdir(parents=True)
    (mirror / "keras_models" / "weights.h5").write_bytes(b"weights")
    (mirror / "flower_photos_small" / "daisy").mkdir(parents=True)
    (mirror / "flower_photos_small" / "daisy" / "a.jpg").write_bytes(b"jpeg")
    (mirror / "MANIFEST.md").write_text("about the mirror")
    lines = [f"{fetch.sha256(p)}  {p.relative_to(mirror)}" for p in sorted(mirror.rglob("*")) if p.is_file()]
    (mirror / "SHA256SUMS").write_text("\n".join(lines) + "\n")
    return mirror


def test_mirror_goes_where_downloads_go_and_is_idempotent(tmp_path):
    mirror = _tiny_mirror(tmp_path)
    keras_dir, data_root = tmp_path / "keras", tmp_path / "data"
    assert fetch.install_from_mirror(mirror, keras_dir, data_root) == {"copied": 2, "unchanged": 0}
    assert (keras_dir / "models" / "weights.h5").read_bytes() == b"weights"
    assert (data_root / "flower_photos_small" / "daisy" / "a.jpg").read_bytes() == b"jpeg"
    assert not (data_root / "MANIFEST.md").exists()
    before = (keras_dir / "models" / "weights.h5").stat().st_mtime_ns
    assert fetch.install_from_mirror(mirror, keras_dir, data_root) == {"copied": 0, "unchanged": 2}
    assert (keras_dir / "models" / "weights.h5").stat().st_mtime_ns == before


def test_mirror_with_bad_checksum_is_refused(tmp_path):
    mirror = _tiny_mirror(tmp_path)
    (mirror / "keras_models" / "weights.h5").write_bytes(b"tampered")
    with pytest.raises(CourseSetupError, match="SHA256SUMS"):
        fetch.install_from_mirror(mirror, tmp_path / "k", tmp_path / "d")
    assert not (tmp_path / "k").exists()


def test_missing_mirror_folder(tmp_path):
    with pytest.raises(CourseSetupError, match="does not exist"):
        fetch.install_from_mirror(tmp_path / "nowhere", tmp_path / "k", tmp_path / "d")
    assert fetch.main(["--mirror", str(tmp_path / "nowhere")]) == 1


@pytest.mark.skipif(not MIRROR.exists(), reason="the course's offline mirror is not beside the checkout")
def test_real_mirror_checksums_verify():
    sums = fetch.read_checksums(MIRROR)
    assert len(sums) > 200
    name, digest = next(iter(sums.items()))
    assert fetch.sha256(MIRROR / name) == digest


def test_build_subset_is_deterministic(tmp_path):
    source = tmp_path / "full"
    for cls in ("a", "b"):
        (source / cls).mkdir(parents=True)
        for i in range(10):
            (source / cls / f"{i:02d}.jpg").write_bytes(bytes([i]))
    assert fetch.build_subset(source, tmp_path / "s1", per_class=4) == 8
    assert fetch.build_subset(source, tmp_path / "s1", per_class=4) == 0  # re-run: nothing to do
    fetch.build_subset(source, tmp_path / "s2", per_class=4)
    listing = sorted(str(p.relative_to(tmp_path / "s1")) for p in (tmp_path / "s1").rglob("*.jpg"))
    assert listing == sorted(str(p.relative_to(tmp_path / "s2")) for p in (tmp_path / "s2").rglob("*.jpg"))
    assert len(listing) == 8


def test_download_failure_names_the_mirror_command(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(fetch.urllib.request, "urlopen", refuse)
    with pytest.raises(CourseSetupError, match="--mirror"):
        fetch.download("https://example.invalid/file.tgz", tmp_path / "file.tgz")
    assert not list(tmp_path.iterdir())  # no partial file left behind


# --- robust image folders -----------------------------------------------------------------------------------

def _save(path: Path, mode: str, fmt: str = "JPEG", size=(40, 30)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(len(str(path)))
    rgb = Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8))
    rgb.convert(mode).save(path, fmt)
    return path


@pytest.fixture
def messy_folder(tmp_path):
    root = tmp_path / "messy"
    for i in range(4):
        _save(root / "cats" / f"ok{i}.jpg", "RGB")
        _save(root / "dogs" / f"ok{i}.jpg", "RGB")
    _save(root / "cats" / "gray.jpg", "L")
    _save(root / "cats" / "alpha.png", "RGBA", "PNG")
    _save(root / "dogs" / "cmyk.jpg", "CMYK")
    _save(root / "dogs" / "palette.png", "P", "PNG")
    whole = io.BytesIO()
    Image.fromarray(np.full((64, 64, 3), 128, np.uint8)).save(whole, "JPEG")
    (root / "dogs" / "truncated.jpg").write_bytes(whole.getvalue()[: len(whole.getvalue()) // 2])
    (root / "cats" / "notes.jpg").write_text("this is not an image")
    (root / "cats" / "README.txt").write_text("ignored: not an image suffix")
    return root


def test_bad_files_skipped_or_converted_with_one_warning(messy_folder):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        folder = data.list_images(messy_folder)
    ours = [w for w in caught if issubclass(w.category, data.BadImageWarning)]
    assert len(ours) == 1
    message = str(ours[0].message)
    for name in ("truncated.jpg", "notes.jpg", "gray.jpg", "alpha.png", "cmyk.jpg", "palette.png"):
        assert name in message
    assert sorted(Path(p).name for p in folder.skipped) == ["notes.jpg", "truncated.jpg"]
    assert len(folder.converted) == 4
    assert folder.class_names == ["cats", "dogs"]
    assert len(folder) == 8 + 4 and folder.labels.tolist().count(0) == 6


def test_messy_folder_trains_without_crashing(messy_folder):
    import keras

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", data.BadImageWarning)
        folder = data.list_images(messy_folder)
        train, val = data.stratified_split(folder.labels, (0.75, 0.25), seed=0)
        paths = np.asarray(folder.paths)
        train_ds = data.make_dataset(paths[train], folder.labels[train], 32, 4, shuffle=True)
        val_ds = data.make_dataset(paths[val], folder.labels[val], 32, 4)
    seen = 0
    for images, labels in train_ds.concatenate(val_ds):
        assert images.shape[1:] == (32, 32, 3) and images.dtype == "float32"
        assert float(images.numpy().max()) <= 255.0
        seen += len(labels)
    assert seen == 12
    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(2)])
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(train_ds, validation_data=val_ds, epochs=2, verbose=0)  # every epoch decodes every file


def test_pipeline_batches_are_float32_pixels_of_the_decoded_photos_cached_as_bytes(tmp_path):
    rng = np.random.default_rng(0)
    paths = []
    for i in range(5):
        paths.append(str(tmp_path / f"{i}.png"))
        Image.fromarray(rng.integers(0, 256, (30 + i, 40, 3), dtype=np.uint8)).save(paths[-1])
    expected = np.stack([np.round(data.decode_image(p, 24).numpy()) for p in paths])
    assert not np.array_equal(expected, np.stack([data.decode_image(p, 24).numpy() for p in paths]))  # resized
    for cache in (True, False):
        ds = data.make_dataset(paths, np.arange(5), image_size=24, batch_size=2, cache=cache)
        images = np.concatenate([x.numpy() for x, _ in ds])
        assert images.dtype == np.float32 and images.shape == (5, 24, 24, 3)
        np.testing.assert_array_equal(images, expected)  # the photos, rounded to whole 8-bit pixel values
    np.testing.assert_array_equal(np.stack([data.load_image(p, 24) for p in paths]), expected)  # one at a time


def test_empty_class_folder_is_a_clear_error(messy_folder):
    (messy_folder / "birds").mkdir()
    with pytest.raises(CourseSetupError, match="birds"):
        data.list_images(messy_folder)


def test_class_of_only_bad_files_is_an_error(tmp_path):
    _save(tmp_path / "d" / "good" / "a.jpg", "RGB")
    (tmp_path / "d" / "bad").mkdir()
    (tmp_path / "d" / "bad" / "x.jpg").write_text("nope")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(CourseSetupError, match="bad"):
            data.list_images(tmp_path / "d")


def test_missing_data_set_names_the_command(tmp_path):
    with pytest.raises(CourseSetupError, match="fetch_data.py"):
        data.list_images(tmp_path / "nothing")
    (tmp_path / "flat").mkdir()
    with pytest.raises(CourseSetupError, match="class sub-folders"):
        data.list_images(tmp_path / "flat")


def test_stratified_split_is_disjoint_deterministic_and_stratified():
    labels = np.repeat(np.arange(3), [10, 20, 30])
    a = data.stratified_split(labels, (0.7, 0.15, 0.15), seed=1)
    b = data.stratified_split(labels, (0.7, 0.15, 0.15), seed=1)
    c = data.stratified_split(labels, (0.7, 0.15, 0.15), seed=2)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))
    together = np.concatenate(a)
    assert len(together) == len(set(together.tolist())) == 60
    assert np.bincount(labels[a[0]]).tolist() == [7, 14, 21]


def test_load_image_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        data.load_image(tmp_path / "missing.jpg", 32)
    (tmp_path / "bad.jpg").write_text("x")
    with pytest.raises(ValueError, match="not a readable image"):
        data.load_image(tmp_path / "bad.jpg", 32)
    image = data.load_image(_save(tmp_path / "ok.png", "LA", "PNG"), 24)
    assert image.shape == (24, 24, 3)


def test_digits_are_upscaled_three_channel():
    x, y = data.digits(16)
    assert x.shape == (1797, 16, 16, 3) and y.shape == (1797,)
    assert 200 < x.max() <= 255.0 and x.min() >= 0
    assert np.array_equal(x[..., 0], x[..., 2])


# --- models -------------------------------------------------------------------------------------------------

def test_small_base_has_the_mirrors_imagenet_weights(small_assets):
    import h5py
    import keras

    cfg = small_assets
    base = models.load_base(image_size=96)
    built = getattr(keras.applications, cfg.base.constructor)(**cfg.base.kwargs, input_shape=(96, 96, 3),
                                                              include_top=False, weights=None)
    assert base.output.shape[1:] == built.output.shape[1:] and base.count_params() == built.count_params()
    with h5py.File(config.keras_home() / "models" / cfg.base.no_top_file) as weights:
        stored = weights["conv1"]["conv1"]["kernel:0"][()]
    np.testing.assert_array_equal(base.get_layer("conv1").get_weights()[0], stored)
    random = models.load_base(image_size=96, weights=None)
    assert not np.allclose(random.get_layer("conv1").get_weights()[0], stored)


def test_missing_weights_are_an_error_not_random_weights(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    import keras

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure: no network")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    monkeypatch.setattr(keras.src.applications.mobilenet.file_utils, "get_file", offline)
    for size in (224, 96):
        with pytest.raises(CourseSetupError, match="fetch_data.py"):
            models.load_base(image_size=size)
    assert models.imagenet_classifier() is None  # small mode offline: no top, said plainly
    with pytest.raises(ValueError):
        models.load_base(weights="random")


def test_full_mode_without_network_says_what_to_download(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_MODE", "full")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    import keras

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure: no network")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    monkeypatch.setattr(keras.src.applications.mobilenet_v2.file_utils, "get_file", offline)
    with pytest.raises(CourseSetupError, match="MobileNetV2"):
        models.load_base()
    with pytest.raises(CourseSetupError, match="classification top"):
        models.imagenet_classifier()


def test_imagenet_class_names(small_assets):
    names = models.imagenet_class_names()
    assert len(names) == 1000 and names[985] == "daisy"


def test_fetch_all_downloads_extracts_and_builds_subsets(tmp_path, monkeypatch):
    """The download path end to end, with the network replaced by local archives laid out like the real ones."""
    import tarfile
    import zipfile

    src = tmp_path / "src"
    for cls in ("daisy", "tulips"):
        for i in range(45):
            _save(src / "flower_photos" / cls / f"{cls}{i:02d}.jpg", "RGB", size=(8, 8))
    (src / "flower_photos" / "LICENSE.txt").write_text("credits")
    for split, n in (("train", 50), ("validation", 5)):
        for cls in ("cats", "dogs"):
            for i in range(n):
                _save(src / "cats_and_dogs_filtered" / split / cls / f"{cls[:-1]}.{i}.jpg", "RGB", size=(8, 8))
    archives = {"flower_photos.tgz": tmp_path / "flowers.tgz", "cats_and_dogs_filtered.zip": tmp_path / "cd.zip"}
    with tarfile.open(archives["flower_photos.tgz"], "w:gz") as tar:
        tar.add(src / "flower_photos", arcname="flower_photos")
    with zipfile.ZipFile(archives["cats_and_dogs_filtered.zip"], "w") as zipped:
        for path in (src / "cats_and_dogs_filtered").rglob("*.jpg"):
            zipped.write(path, path.relative_to(src))
    requested = []

    class Response(io.BytesIO):
        headers = {}

    def fake_urlopen(url, timeout=None):
        requested.append(url)
        return Response(archives[url.rsplit("/", 1)[1]].read_bytes())

    monkeypatch.setattr(fetch.urllib.request, "urlopen", fake_urlopen)
    root = tmp_path / "data"
    fetch.fetch_all(root, weights=False)
    assert requested == [fetch.FLOWERS_URL, fetch.CATS_DOGS_URL]
    assert len(list((root / "flower_photos" / "daisy").glob("*.jpg"))) == 45
    assert len(list((root / "cats_and_dogs_filtered" / "validation" / "dogs").glob("*.jpg"))) == 5
    small = config.mode_settings("small", root)
    for cls in ("daisy", "tulips"):
        assert len(list((small.flowers_dir / cls).glob("*.jpg"))) == small.max_images_per_class
    assert (small.flowers_dir / "LICENSE.txt").read_text() == "credits"
    for cls in ("cats", "dogs"):
        assert len(list((small.cats_dogs_dir / cls).glob("*.jpg"))) == small.max_images_per_class
    fetch.fetch_all(root, weights=False)  # idempotent: nothing downloaded again
    assert len(requested) == 2


def test_max_per_class_keeps_the_first_usable_files(messy_folder):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", data.BadImageWarning)
        folder = data.list_images(messy_folder, max_per_class=2)
    assert folder.labels.tolist() == [0, 0, 1, 1]
    assert [Path(p).name for p in folder.paths] == ["alpha.png", "gray.jpg", "cmyk.jpg", "ok0.jpg"]
