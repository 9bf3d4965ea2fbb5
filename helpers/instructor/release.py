"""Write the student edition of the course: what students may see, with its links pointing at where it is published.

    python -m helpers.instructor.release OUT --repo OWNER/NAME --ref TAG

This repository holds the solutions and the hidden tests (``solutions/``, and the tests and benchmarks that
read them): keep it private. The student edition written to ``OUT`` (a new or empty folder) is a copy of the
course's files (those git tracks, or every file outside git) without:

- ``solutions/``: the instructor notebooks, solutions and hidden tests;
- ``tests/``, ``benchmarks/``, ``.ci/``, ``.github/``: they read ``solutions/`` (and ``tests/wrong_answers/``
  holds near-answers);
- the gradebook and nbgrader's working folders (``gradebook.db``, ``submitted/``, ``autograded/``,
  ``feedback/``, ``source_with_tests/``, ``release/``), should any be there.

Its README is written for students (title, setup, the notebook table and links). In every notebook of
``notebooks/`` the "Open in Colab" and "Launch Binder" badges and the Colab setup cell's
``pip install ...@REF`` name ``OWNER/NAME`` and ``TAG``; a notebook without exactly those three links is an
error. Finally the edition is searched for nbgrader's solution and hidden-test markers, and the command
fails (removing ``OUT``) if it finds one. Push ``OUT`` as the public repository, and create the tag ``TAG``
there: the setup cell installs ``helpers`` from it.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

from .course import ROOT  # the course folder

__all__ = [
    "course_files", "remove_instructor_only", "student_readme", "point_links", "leaks", "release", "main",
]

# Top-level paths that never go to students.
INSTRUCTOR_ONLY = {"solutions", "tests", "benchmarks", ".ci", ".github", "gradebook.db", "submitted", "autograded",
                   "feedback", "source_with_tests", "release", "grading-results"}
SKIP_ANYWHERE = {".git", "__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".ruff_cache", ".venv", "venv",
                 ".cache"}
# nbgrader's markers, written so that this file does not contain them.
MARKERS = re.compile(r"BEGIN\s+(SOLUTION|HIDDEN\s+TESTS)|END\s+(SOLUTION|HIDDEN\s+TESTS)")
NAME = r"[A-Za-z0-9_.-]+"
LINKS = [  # (pattern, replacement): the course's three links to its own repository
    (re.compile(r"(https://colab\.research\.google\.com/github/)" + NAME + "/" + NAME + "/blob/" + NAME + "/"),
     r"\g<1>{repo}/blob/{ref}/"),
    (re.compile(r"(https://mybinder\.org/v2/gh/)" + NAME + "/" + NAME + "/" + NAME + r"\?"), r"\g<1>{repo}/{ref}?"),
    (re.compile(r"(git\+https://github\.com/)" + NAME + "/" + NAME + "@" + NAME), r"\g<1>{repo}@{ref}"),
]


def remove_instructor_only(root: Path) -> list[str]:
    """Delete from ``root`` (an image's copy of the course) what never reaches students: the top-level
    :data:`INSTRUCTOR_ONLY` paths and git's history (which holds the solutions too). Return what went."""
    gone = []
    for name in sorted(INSTRUCTOR_ONLY | {".git"}):
        path = root / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
        else:
            continue
        gone.append(name)
    return gone


def course_files(root: Path = ROOT) -> list[Path]:
    """The files of the course, relative to ``root``: git's tracked and not ignored ones, or all outside git."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root,
                                capture_output=True, check=True).stdout.decode().split("\0")
        files = sorted({Path(p) for p in listed if p and (root / p).is_file()})
    except (OSError, subprocess.CalledProcessError):
        files = sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())
    return [p for p in files if p.parts[0] not in INSTRUCTOR_ONLY and not SKIP_ANYWHERE & set(p.parts)]


def student_readme(text: str, repo: str, ref: str, notebooks: list[str]) -> str:
    """A README for students, from the course README's title, first paragraph, setup command and notebook table.

    The course README also speaks of solutions, grading and tests: students get none of that.
    """
    title = next((line for line in text.splitlines() if line.startswith("# ")), "# Transfer learning with Keras")
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text.split(title, 1)[-1]) if p.strip()]
    intro = next((p for p in paragraphs if not p.startswith(("#", "`", "|", "*"))), "")
    setup = re.search(r"```bash\n(.*?)```", text, re.S)
    section = re.search(r"(?ms)^## The notebooks\n(.*?)(?=^## |\Z)", text)
    table = "\n".join(line for line in (section[1] if section else "").splitlines() if line.startswith("|"))
    links = "\n".join(f"- [{Path(n).stem}](https://colab.research.google.com/github/{repo}/blob/{ref}/{n}) "
                      f"([Binder](https://mybinder.org/v2/gh/{repo}/{ref}?labpath={n.replace('/', '%2F')}))"
                      for n in notebooks)
    parts = [title, intro, "This is the student edition of the course: the notebooks to work on, the `helpers` "
             "package they use, the data script and the Binder files.", "## Open a notebook",
             "In Google Colab or on Binder (nothing to install):", links]
    if setup:
        parts += ["Or on your machine (Python 3.11 to 3.13):", f"```bash\n{setup[1]}```"]
    if table:
        parts += ["## The notebooks", table]
    parts += ["Cells marked *graded* are autograded: before you submit, restart the kernel and run the notebook "
              "top to bottom in small mode (`COURSE_MODE=small jupyter lab`, or in Colab `%env COURSE_MODE=small` "
              "in a first cell), as the grader does."]
    return "\n\n".join(part for part in parts if part) + "\n"


def point_links(text: str, repo: str, ref: str) -> tuple[str, int]:
    """``text`` with the course's Colab, Binder and pip links naming ``repo`` and ``ref``; and how many."""
    count = 0
    for pattern, replacement in LINKS:
        text, n = pattern.subn(replacement.format(repo=repo, ref=ref), text)
        count += n
    return text, count


def leaks(out: Path) -> list[str]:
    """Files of ``out`` holding nbgrader's solution or hidden-test markers, or a solutions folder."""
    found = [str(p.relative_to(out)) for p in out.rglob("*")
             if p.is_file() and MARKERS.search(p.read_text(encoding="utf-8", errors="ignore"))]
    found += [str(p.relative_to(out)) for p in out.rglob("solutions") if p.is_dir()]
    found += [str(p.relative_to(out)) for p in out.rglob("gradebook.db")]
    return found


def release(out: Path, repo: str, ref: str, root: Path = ROOT) -> list[Path]:
    """Write the student edition of the course at ``root`` to ``out``; return the files written (relative)."""
    if not re.fullmatch(NAME + "/" + NAME, repo):
        raise SystemExit(f"error: --repo must be OWNER/NAME, not {repo!r}")
    if not re.fullmatch(NAME, ref):
        raise SystemExit(f"error: --ref must be a tag, branch or commit, not {ref!r}")
    out, root = Path(out).resolve(), Path(root).resolve()
    if out == root or root in out.parents:
        raise SystemExit(f"error: {out} is inside the course: write the student edition elsewhere")
    if out.exists() and any(out.iterdir()):
        raise SystemExit(f"error: {out} is not empty")
    files = course_files(root)
    notebooks = sorted(root.glob("notebooks/*/*.ipynb"))
    if not notebooks:
        raise SystemExit(f"error: no notebooks in {root / 'notebooks'}")
    out.mkdir(parents=True, exist_ok=True)
    try:
        for rel in files:
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / rel, out / rel)
        for notebook in sorted(out.glob("notebooks/*/*.ipynb")):
            text, count = point_links(notebook.read_text(encoding="utf-8"), repo, ref)
            if count != 3:
                raise SystemExit(f"error: {notebook.relative_to(out)} has {count} links to the course's repository "
                                 "(expected 3: the Colab badge, the Binder badge, the setup cell's pip install)")
            notebook.write_text(text, encoding="utf-8")
        readme = (root / "README.md").read_text(encoding="utf-8") if (root / "README.md").exists() else ""
        names = [str(p.relative_to(out)) for p in sorted(out.glob("notebooks/*/*.ipynb"))]
        (out / "README.md").write_text(student_readme(readme, repo, ref, names), encoding="utf-8")
        found = leaks(out)
        if found:
            raise SystemExit(f"error: the student edition would contain solutions or hidden tests: {found}")
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.instructor.release", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="where to write the student edition (a new or empty folder)")
    parser.add_argument("--repo", required=True, help="the public repository, OWNER/NAME")
    parser.add_argument("--ref", required=True, help="the tag (vX.Y.Z) students' notebooks install helpers from")
    parser.add_argument("--course", type=Path, default=ROOT, help="the course folder (default: this one)")
    args = parser.parse_args(argv)
    if not re.fullmatch(r"v\d+\.\d+\.\d+|[0-9a-f]{40}", args.ref):
        print(f"warning: {args.ref!r} is not a tag vX.Y.Z or a commit: the setup cell's install will move with it",
              file=sys.stderr)
    files = release(args.out, args.repo, args.ref, args.course)
    print(f"Wrote the student edition ({len(files)} files) to {args.out}: notebooks open "
          f"{args.repo} at {args.ref}. Push it as the public repository and tag it {args.ref}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
