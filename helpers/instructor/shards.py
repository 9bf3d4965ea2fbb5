"""A class graded in parts on several machines (``--shard i/n``), and the parts joined into one result (``merge``).

Shard ``i`` of ``n`` (counted from 1) grades the students whose id comes i-th, (i+n)-th, ... in the sorted ids of
the whole class: every shard reads the same submissions folder, so the parts are fixed and do not overlap, and
each student's rows, scores and feedback are in exactly one part. A shard's results folder also holds
``shard.json`` (``{"shard", "of", "students"}``); :func:`merge` checks that the parts are the ``n`` shards of one
class, each once, and writes what a single run would have: ``grades.csv``, ``scores.json``, ``feedback/``,
``autograded/`` and ``grading.log`` (the parts' logs, one after the other).
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
from pathlib import Path

from .report import CSV_COLUMNS

__all__ = ["MARKER", "copy_files", "merge", "parse", "select", "write_marker"]

MARKER = "shard.json"


def parse(text: str) -> tuple[int, int]:
    """``"2/4"`` as ``(2, 4)``; stop with a clear message if it is not ``i/n`` with 1 <= i <= n."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise SystemExit(f"error: --shard takes i/n with 1 <= i <= n (the i-th of n parts), got {text!r}")
    return int(match[1]), int(match[2])


def select(subs: list, index: int, count: int) -> list:
    """The submissions of shard ``index`` of ``count``: every count-th student id of the sorted class."""
    ids = sorted({sub.id for sub in subs})
    mine = set(ids[index - 1::count])
    return [sub for sub in subs if sub.id in mine]


def write_marker(out: Path, shard: tuple[int, int], subs: list) -> None:
    """Write ``out/shard.json``: which shard this is and whose results it holds."""
    marker = {"shard": shard[0], "of": shard[1], "students": sorted({sub.id for sub in subs})}
    (Path(out) / MARKER).write_text(json.dumps(marker, indent=1), encoding="utf-8")


def _read_part(part: Path) -> dict:
    if not (part / "grades.csv").is_file():
        raise SystemExit(f"error: {part} holds no grades.csv: not the results of a grading run")
    with open(part / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    scores = json.loads((part / "scores.json").read_text(encoding="utf-8")) if (part / "scores.json").is_file() else {}
    marker = json.loads((part / MARKER).read_text(encoding="utf-8")) if (part / MARKER).is_file() else None
    log = (part / "grading.log").read_text(encoding="utf-8") if (part / "grading.log").is_file() else ""
    return {"path": part, "rows": rows, "scores": scores, "marker": marker, "log": log}


def _check_shards(parts: list[dict]) -> None:
    """Stop unless the parts are shards 1..n of one run, each once (parts without ``shard.json``: not checked)."""
    markers = [p["marker"] for p in parts if p["marker"] is not None]
    if not markers:
        return
    if len(markers) != len(parts) or len({m["of"] for m in markers}) != 1:
        raise SystemExit("error: the parts are not the shards of one run (some have no shard.json, or they were "
                         "cut into different numbers of shards): " + ", ".join(str(p["path"]) for p in parts))
    count = markers[0]["of"]
    found = sorted(m["shard"] for m in markers)
    missing = sorted(set(range(1, count + 1)) - set(found))
    twice = sorted({i for i in found if found.count(i) > 1})
    if missing or twice:
        raise SystemExit(f"error: merging {len(parts)} part(s) of {count} shards: "
                         + "; ".join(([f"missing shard(s) {', '.join(map(str, missing))}"] if missing else [])
                                     + ([f"shard(s) {', '.join(map(str, twice))} given twice"] if twice else [])))


def copy_files(source: Path, target: Path, overwrite: bool = True) -> None:
    """The regular files under ``source`` copied to ``target``; links (which could point anywhere) left out.

    ``overwrite=False`` stops at a file already in ``target`` (merging: the same file from two parts).
    """
    for folder, dirs, files in os.walk(source):
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(folder, d))]
        for name in files:
            path = Path(folder) / name
            if path.is_symlink() or not path.is_file():
                continue
            dest = target / path.relative_to(source)
            if dest.exists() and not overwrite:
                raise SystemExit(f"error: {dest.relative_to(target.parent)} is in two parts: are they shards of "
                                 "one class?")
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest)


def merge(part_dirs: list[Path], out: Path) -> list[dict]:
    """Join the results folders ``part_dirs`` (the shards of one class) into ``out``; return the rows."""
    out = Path(out).resolve()
    part_dirs = [Path(p).resolve() for p in part_dirs]
    if not part_dirs:
        raise SystemExit("error: merge needs the results folders of the shards")
    if out in part_dirs:
        raise SystemExit(f"error: --out {out} is one of the parts: merge into a new folder")
    parts = [_read_part(p) for p in part_dirs]
    _check_shards(parts)
    owner: dict[tuple[str, str], Path] = {}
    for part in parts:
        for key in {("id", r["student_id"]) for r in part["rows"]} | {("name", n) for n in part["scores"]}:
            if owner.setdefault(key, part["path"]) != part["path"]:
                raise SystemExit(f"error: student {key[1]} is in two parts ({owner[key]} and {part['path']}): "
                                 "are they shards of one class?")
    rows = sorted((row for part in parts for row in part["rows"]), key=lambda r: (r["student"], r["assignment"]))
    maximum = {r["assignment"]: r["max_score"] for r in rows if r["status"] == "graded" and r["max_score"]}
    for row in rows:  # a shard where no one was graded for an assignment could not know its maximum
        if row["assignment"] and not row["max_score"]:
            row["max_score"] = maximum.get(row["assignment"], "")
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "grades.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    details = {name: value for part in parts for name, value in part["scores"].items()}
    (out / "scores.json").write_text(json.dumps(details, indent=1, sort_keys=True, ensure_ascii=False),
                                     encoding="utf-8")
    for kind in ("feedback", "autograded"):
        for part in parts:
            copy_files(part["path"] / kind, out / kind, overwrite=False)
    (out / "grading.log").write_text("\n".join(f"# {part['path']}\n{part['log']}" for part in parts),
                                     encoding="utf-8")
    return rows
