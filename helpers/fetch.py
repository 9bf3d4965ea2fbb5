"""Get the course's data and weights: download them, or copy them from a mirror.

``python data_scripts/fetch_data.py`` (or ``python -m helpers.fetch``) downloads
the Keras ImageNet weights of every mode's base, ``flower_photos.tgz`` and
``cats_and_dogs_filtered.zip``, and builds small mode's subsets of them (which
folders, how many photos a class: :func:`helpers.config.subsets`). ``--mirror
DIR`` copies the files of a folder laid out like the course's offline mirror
instead, putting each one exactly where a download would: Keras cache files into
``$KERAS_HOME/models/``, data sets into the course's data folder. Every step is
idempotent: a re-run does nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import shutil
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from pathlib import Path

from . import config
from .config import FETCH_COMMAND, SEED, CourseSetupError, data_dir, keras_home

__all__ = ["fetch_all", "fetch_keras_weights", "install_from_mirror", "build_subset", "download", "extract",
           "copy_if_needed", "read_checksums", "sha256", "main", "FLOWERS_URL", "CATS_DOGS_URL",
           "IMAGE_SUFFIXES", "MIRROR_MODELS"]

FLOWERS_URL = "https://storage.googleapis.com/download.tensorflow.org/example_images/flower_photos.tgz"
CATS_DOGS_URL = "https://storage.googleapis.com/mledu-datasets/cats_and_dogs_filtered.zip"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif"}
MIRROR_MODELS = "keras_models"  # the mirror's folder of Keras cache files (every other folder is a data folder)



def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_checksums(mirror: Path) -> dict[str, str]:
    """``relative path -> sha256`` from the mirror's ``SHA256SUMS`` (empty if it has none)."""
    sums = mirror / "SHA256SUMS"
    if not sums.exists():
        return {}
    table = {}
    for line in sums.read_text().splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            table[name.lstrip("*").strip()] = digest
    return table


def copy_if_needed(source: Path, target: Path) -> bool:
    """Copy ``source`` to ``target`` unless an identical file is there; return whether it copied."""
    if target.exists() and target.stat().st_size == source.stat().st_size and sha256(target) == sha256(source):
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    shutil.copyfile(source, partial)
    partial.replace(target)
    return True


def install_from_mirror(mirror: Path, keras_dir: Path | None = None, data_root: Path | None = None) -> dict:
    """Copy a mirror's files to where the downloads would put them; return counts.

    ``keras_models/*`` go to ``$KERAS_HOME/models/``; every other top-level
    folder (the small subsets) goes to the data folder under the same name.
    Files listed in ``SHA256SUMS`` are verified first; a mismatch is an error.
    """
    mirror = Path(mirror).expanduser().resolve()
    if not mirror.is_dir():
        raise CourseSetupError(f"Mirror folder {mirror} does not exist: pass a folder laid out like shared/assets.")
    keras_dir = Path(keras_dir) if keras_dir else keras_home()
    data_root = Path(data_root) if data_root else data_dir()
    checksums = read_checksums(mirror)
    bad = [name for name, digest in sorted(checksums.items())
           if not (mirror / name).exists() or sha256(mirror / name) != digest]
    if bad:
        raise CourseSetupError(
            f"{len(bad)} file(s) of the mirror do not match its SHA256SUMS (first: {bad[0]}); "
            "the mirror is damaged: copy it again."
        )
    counts = {"copied": 0, "unchanged": 0}
    for source in sorted(p for p in mirror.rglob("*") if p.is_file()):
        relative = source.relative_to(mirror)
        top = relative.parts[0]
        if len(relative.parts) == 1:
            continue  # MANIFEST.md, SHA256SUMS: about the mirror, not part of it
        if top == MIRROR_MODELS:
            target = keras_dir / "models" / Path(*relative.parts[1:])
        else:
            target = data_root / relative
        counts["copied" if copy_if_needed(source, target) else "unchanged"] += 1
    return counts


def download(url: str, target: Path) -> Path:
    """Download ``url`` to ``target`` with a progress bar, unless it is already there."""
    if target.exists():
        return target
    from tqdm.auto import tqdm

    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(partial, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=target.name) as bar:
                for block in iter(lambda: response.read(1 << 16), b""):
                    out.write(block)
                    bar.update(len(block))
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise CourseSetupError(
            f"Could not download {url} ({error}). Check the network, or copy the course's offline "
            f"mirror into place with `{FETCH_COMMAND} --mirror DIR`."
        ) from error
    partial.replace(target)
    return target


def extract(archive: Path, into: Path, expected: str) -> Path:
    """Unpack ``archive`` into ``into`` unless ``into/expected`` already exists."""
    final = into / expected
    if final.exists():
        return final
    with tempfile.TemporaryDirectory(dir=into) as scratch:
        if archive.suffix == ".zip":
            with zipfile.ZipFile(archive) as zipped:
                zipped.extractall(scratch)
        else:
            with tarfile.open(archive) as tarred:
                tarred.extractall(scratch, filter="data")
        (Path(scratch) / expected).replace(final)
    return final


def build_subset(class_root: Path, target: Path, per_class: int, seed: int = SEED) -> int:
    """Copy ``per_class`` photos of each class folder of ``class_root`` into ``target``.

    The choice is deterministic: the sorted file names of each class, shuffled
    with ``seed``. Returns how many files were copied (0 on a re-run).
    """
    copied = 0
    for class_dir in sorted(p for p in class_root.iterdir() if p.is_dir()):
        files = sorted(p for p in class_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        chosen = random.Random(f"{seed}-{class_dir.name}").sample(files, min(per_class, len(files)))
        for source in sorted(chosen):
            copied += copy_if_needed(source, target / class_dir.name / source.name)
    return copied


def fetch_keras_weights() -> None:
    """Have Keras download (into ``$KERAS_HOME/models``) every weight file the course loads, and the class index.

    That is both files (without and with the ImageNet top) of every mode's base, so that notebook 01 shows real
    top-k predictions in small mode (Binder) too; the offline mirror cannot provide the small base's top.
    """
    from . import models

    bases = []
    for cfg in config.all_settings().values():
        if cfg.base not in bases:
            bases.append(cfg.base)
            models.fetch_weights(cfg.base)
    models.imagenet_class_names()


def fetch_all(root: Path | None = None, weights: bool = True) -> None:
    """Download the full data sets (and weights) and build the small subsets."""
    root = Path(root) if root else data_dir()
    root.mkdir(parents=True, exist_ok=True)
    flowers_tgz = download(FLOWERS_URL, root / "flower_photos.tgz")
    extract(flowers_tgz, root, "flower_photos")
    cats_zip = download(CATS_DOGS_URL, root / "cats_and_dogs_filtered.zip")
    extract(cats_zip, root, "cats_and_dogs_filtered")
    for source, subset, per_class in config.subsets(root):
        build_subset(source, subset, per_class)
        if (source / "LICENSE.txt").exists():  # the photos' credits go with them
            copy_if_needed(source / "LICENSE.txt", subset / "LICENSE.txt")
    if weights:
        fetch_keras_weights()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mirror", type=Path,
                        help="copy from this folder (laid out like shared/assets) instead of downloading")
    parser.add_argument("--no-weights", action="store_true", help="skip the Keras weight downloads")
    args = parser.parse_args(argv)
    try:
        if args.mirror:
            counts = install_from_mirror(args.mirror)
            print(f"Mirror {args.mirror}: {counts['copied']} file(s) copied, {counts['unchanged']} already in place.")
            print(f"  Keras cache: {keras_home() / 'models'}\n  data:        {data_dir()}")
            for cfg in config.all_settings().values():
                top = cfg.base.with_top_file
                if not cfg.base.top_on_demand and not (keras_home() / "models" / top).exists():
                    print(f"  The mirror has no ImageNet top for {cfg.base.name} ({top}), so notebook 01 shows "
                          f"no ImageNet predictions in {cfg.mode} mode; `{FETCH_COMMAND}` fetches it where there "
                          "is network.")
        else:
            fetch_all(weights=not args.no_weights)
            print(f"Data in {data_dir()}, Keras weights in {keras_home() / 'models'}.")
    except CourseSetupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
