"""Each kernel in its own sandbox, a class in parallel and in shards (issue 20, items 1 and 4).

On the tiny course of ``test_grade_robust.py`` (pure Python: seconds per notebook). One student, the intruder,
answers right and also tries to read the solutions, a gradebook, the notebook holding the hidden tests, the
submissions, the results, a file of yours and a port on this machine, and to spoil its classmates' notebooks
and feedback; each attempt prints ``blocked: WHAT`` or ``LEAKED: WHAT``; then its capabilities (none in the sandbox,
even when grading as root). The class is graded in the sandbox
with 2 jobs, with 1 job, and in 2 shards merged; the control grades the intruder and one classmate without the
sandbox, where every attempt succeeds (so the attempts are real).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
from pathlib import Path

import nbformat
import pytest
from test_grade_robust import FULL, POINTS, TINY, answered, expected_score, make_tiny_course

from helpers.instructor import cli, grader, marks, sandbox, shards

TIMEOUT_S = 30
ATTEMPTS = ["solutions", "gradebook", "notebook with hidden tests", "classmates' submissions", "classmates' feedback",
            "submissions folder", "results folder", "your files", "network"]
INTRUDER = r'''
import glob, os, pathlib, socket
here = pathlib.Path.cwd()
me = here.parts[-2]  # .../autograded/<student id>/tiny
ancestors = list(here.parents)

def attempt(what, action):
    try:
        done = action()
    except Exception:
        done = None
    print(("LEAKED: " if done else "blocked: ") + what)

def secret(path):
    return "SECRET" + "-CODE" in pathlib.Path(path).read_text(errors="ignore")  # a hidden test's marker

def classmates():
    return [p for a in ancestors for p in glob.glob(str(a / "*" / "*" / "submitted" / "*" / "*" / "*.ipynb"))
            if me not in p]

def spoil():
    for path in classmates():
        pathlib.Path(path).write_text(pathlib.Path(path).read_text().replace("return 2 * x", "return 0 * x"))
    return classmates()

def forge():
    for path in classmates():
        target = here.parents[2] / "feedback" / pathlib.Path(path).parts[-3] / "tiny" / "tiny.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("FORGED FEEDBACK")
    return classmates()

attempt("solutions", lambda: secret(SOLUTION))
attempt("gradebook", lambda: [p for a in ancestors for p in glob.glob(str(a / "*.db")) if secret(p)])
attempt("notebook with hidden tests", lambda: [p for p in glob.glob("*.ipynb") if secret(p)])
attempt("classmates' submissions", spoil)
attempt("classmates' feedback", forge)
attempt("submissions folder", lambda: os.listdir(SUBMISSIONS))
attempt("results folder", lambda: os.path.isdir(RESULTS))
attempt("your files", lambda: open(CANARY).read())
attempt("network", lambda: socket.create_connection(("127.0.0.1", PORT), timeout=2))
print("capabilities:", next(l.split()[1] for l in open("/proc/self/status") if l.startswith("CapEff:")))

def double(x):
    return 2 * x
'''
CLASSMATES = {"bob": (True, True), "carla": (True, False), "dan": (False, True)}  # double right?, greet right?


@pytest.fixture(scope="module")
def setting(tmp_path_factory):
    """The tiny course, the class's submissions, a file of yours and a listening port, for every run below."""
    where = tmp_path_factory.mktemp("sandbox")
    course = make_tiny_course(where / "course")
    canary = where / "instructor-secret.txt"
    canary.write_text("the instructor's own file")
    server = socket.create_server(("127.0.0.1", 0))
    yield {"where": where, "course": course, "canary": canary, "port": server.getsockname()[1]}
    server.close()


def intruder(setting, subs: Path, results: Path) -> nbformat.NotebookNode:
    nb = answered(setting["course"])
    code = INTRUDER
    for name, value in {"SOLUTION": setting["course"] / "solutions" / TINY / f"{TINY}.ipynb", "SUBMISSIONS": subs,
                        "RESULTS": results, "CANARY": setting["canary"]}.items():
        code = code.replace(name, repr(str(value)))
    nb.cells[marks.index_of(nb, "double")].source = code.replace("PORT", str(setting["port"]))
    return nb


def write_class(setting, name: str, results: Path, classmates=CLASSMATES, intruders=("aaa-intruder",)) -> Path:
    """The intruders and their classmates, in both layouts (without the sandbox, the one named to be graded first
    spoils the others' notebooks; the one graded last would replace their feedback if --out took all of it)."""
    subs = setting["where"] / name
    subs.mkdir()
    for name in intruders:
        nbformat.write(intruder(setting, subs, results), subs / f"{name} - {TINY}.ipynb")
    for student, (double, greet) in classmates.items():
        (subs / student).mkdir()
        nbformat.write(answered(setting["course"], double, greet), subs / student / f"{TINY}.ipynb")
    return subs


def run(setting, subs: Path, out: Path, **options) -> dict:
    rows = grader.grade(subs, out, TINY, timeout=TIMEOUT_S, root=setting["course"], log=lambda *a: None, **options)
    return {row["student"]: row for row in rows}


def printed(out: Path, row: dict) -> str:
    nb = nbformat.read(out / "autograded" / row["student_id"] / TINY / f"{TINY}.ipynb", as_version=4)
    cell = nb.cells[marks.index_of(nb, "double")]
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


@pytest.fixture(scope="module")
def sandboxed(setting):
    """The class graded in the sandbox, 2 jobs at a time."""
    out = setting["where"] / "results"
    subs = write_class(setting, "submissions", out)
    return subs, out, run(setting, subs, out, jobs=2)


@pytest.fixture(scope="module")
def unsandboxed(setting):
    """The control: two intruders (graded first and last) and one classmate, graded with --no-sandbox."""
    out = setting["where"] / "results-no-sandbox"
    subs = write_class(setting, "submissions-no-sandbox", out, {"bob": (True, True)}, ("aaa-intruder", "zzz-intruder"))
    return out, run(setting, subs, out, sandboxed=False)


@pytest.mark.grading
def test_the_sandbox_blocks_every_attempt_and_grades_the_intruder_normally(sandboxed):
    _, out, rows = sandboxed
    text = printed(out, rows["aaa-intruder"])
    assert [f"blocked: {what}" for what in ATTEMPTS] + ["capabilities: 0000000000000000"] == text.splitlines(), text
    assert rows["aaa-intruder"]["status"] == "graded" and rows["aaa-intruder"]["score"] == FULL, rows["aaa-intruder"]


@pytest.mark.grading
@pytest.mark.parametrize("student", list(CLASSMATES))
def test_classmates_grades_and_feedback_are_untouched(sandboxed, student):
    _, out, rows = sandboxed
    row = rows[student]
    assert row["status"] == "graded" and row["score"] == expected_score(*CLASSMATES[student]), row
    feedback = (out / "feedback" / row["student_id"] / TINY / f"{TINY}.html").read_text()
    assert "FORGED" not in feedback


@pytest.mark.grading
def test_no_feedback_shows_a_hidden_test(sandboxed):
    _, out, _ = sandboxed
    pages = list((out / "feedback").rglob("*.html"))
    assert len(pages) == 1 + len(CLASSMATES)
    assert not [p for p in pages if "SECRET-CODE" in p.read_text() or "BEGIN HIDDEN" in p.read_text()]


@pytest.mark.grading
def test_without_the_sandbox_every_attempt_succeeds(unsandboxed):
    """The control: the attempts are real, and --no-sandbox says in each row what it gives up."""
    out, rows = unsandboxed
    for name in ("aaa-intruder", "zzz-intruder"):
        assert [f"LEAKED: {what}" for what in ATTEMPTS] == printed(out, rows[name]).splitlines()[:-1], name
    assert rows["bob"]["score"] == POINTS["greet-tests"], "the intruder could not spoil bob's notebook?"
    assert all(sandbox.NO_SANDBOX_NOTE in row["message"] for row in rows.values()), rows


@pytest.mark.grading
def test_without_the_sandbox_a_classmates_feedback_still_is_their_own(unsandboxed):
    """Only each student's own feedback is copied to --out, not the one an intruder forged in its copy."""
    out, rows = unsandboxed
    feedback = (out / "feedback" / rows["bob"]["student_id"] / TINY / f"{TINY}.html").read_text()
    assert "FORGED" not in feedback and "double" in feedback


# --- a class in parallel and in shards ------------------------------------------------------------------------


def results(out: Path) -> dict:
    """What must be equal between runs: grades.csv, scores.json and every feedback page, as text."""
    return {"grades.csv": (out / "grades.csv").read_text(), "scores.json": (out / "scores.json").read_text(),
            **{str(p.relative_to(out)): p.read_text() for p in sorted((out / "feedback").rglob("*.html"))}}


@pytest.fixture(scope="module")
def sharded(setting, sandboxed):
    """The class graded as shards 1/2 and 2/2, one job each, then merged with the command line."""
    subs, _, _ = sandboxed
    parts = [setting["where"] / f"shard-{i}" for i in (1, 2)]
    for i, part in enumerate(parts, start=1):
        run(setting, subs, part, shard=(i, 2), jobs=1)
    merged = setting["where"] / "merged"
    assert cli.main(["merge", *map(str, parts), "--out", str(merged)]) == 0
    return parts, merged


@pytest.mark.grading
def test_shards_of_one_job_merge_to_the_two_job_run(sandboxed, sharded):
    """The shards (one job each) cut the class in two; merged, they are the whole class graded 2 jobs at a time:
    the same grades, scores and feedback, so neither --jobs nor --shard changes a result."""
    _, out, rows = sandboxed
    parts, merged = sharded
    students = [set(json.loads((p / shards.MARKER).read_text())["students"]) for p in parts]
    assert students[0] and students[1] and not students[0] & students[1]
    assert students[0] | students[1] == {row["student_id"] for row in rows.values()}
    assert results(merged)["grades.csv"] == results(out)["grades.csv"]
    assert results(merged) == results(out)


@pytest.mark.grading
def test_merge_refuses_a_missing_or_repeated_shard(sharded, tmp_path):
    parts, _ = sharded
    with pytest.raises(SystemExit, match="missing shard\\(s\\) 2"):
        shards.merge(parts[:1], tmp_path / "one")
    with pytest.raises(SystemExit, match="given twice"):
        shards.merge([parts[0], parts[0], parts[1]], tmp_path / "twice")


# --- the start check, fast ------------------------------------------------------------------------------------


def test_the_grader_stops_with_what_to_install_when_bwrap_is_missing(setting, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap on PATH
    subs = tmp_path / "subs"
    subs.mkdir()
    with pytest.raises(SystemExit) as stop:
        grader.grade(subs, tmp_path / "out", TINY, root=setting["course"])
    assert "apt-get install bubblewrap" in str(stop.value) and "--no-sandbox" in str(stop.value)
    assert not (tmp_path / "out").exists(), "it graded (or wrote results) before checking the sandbox"


def test_the_grader_stops_when_bwrap_does_not_work(setting, monkeypatch, tmp_path):
    fake = tmp_path / "bin" / "bwrap"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(SystemExit, match="does not work here.*uid map: Permission denied.*--no-sandbox"):
        grader.grade(tmp_path, tmp_path / "out", TINY, root=setting["course"])


@pytest.mark.parametrize("text", ["0/2", "3/2", "1", "a/b", "1/0"])
def test_shard_must_be_i_of_n(text):
    with pytest.raises(SystemExit, match="i/n"):
        shards.parse(text)


def test_shards_are_fixed_parts_that_cover_the_class():
    from helpers.instructor.intake import Submission, student_ids

    ids = student_ids([f"student {n}" for n in range(7)])
    subs = [Submission(name, Path(name), id=i) for name, i in ids.items()]
    parts = [{s.id for s in shards.select(subs, i, 3)} for i in (1, 2, 3)]
    assert sorted(len(p) for p in parts) == [2, 2, 3] and set.union(*parts) == set(ids.values())
    assert parts == [{s.id for s in shards.select(list(reversed(subs)), i, 3)} for i in (1, 2, 3)]


def test_the_grader_refuses_a_python_environment_that_holds_the_course(monkeypatch, tmp_path):
    """Kernels read the whole Python environment: one around the course would show them the solutions."""
    monkeypatch.setattr(sandbox, "python_paths", lambda: [str(tmp_path)])
    with pytest.raises(SystemExit, match="contains .*course"):
        sandbox.require(shutil.which("bwrap") or "bwrap", [tmp_path / "course"])


def test_a_grading_copy_holds_only_its_assignment(tmp_path):
    """No other assignment's solutions and hidden tests where a notebook's code (without the sandbox) could look."""
    from helpers.instructor import course as courses

    root = Path(__file__).resolve().parents[1]
    known = courses.assignments(root)
    assert len(known) > 1
    first = next(iter(known))
    copy = courses.make_course(tmp_path, root, only=[first], name=first)
    assert [p.name for p in (copy / "solutions").iterdir()] == [first]


def test_the_command_line_options_reach_the_grader(monkeypatch, tmp_path):
    seen = {}
    monkeypatch.setattr(grader, "grade", lambda *args, **kwargs: seen.update(args=args, **kwargs) or [])
    assert cli.main([str(tmp_path), "--jobs", "3", "--shard", "2/5", "--no-sandbox"]) == 0
    assert (seen["jobs"], seen["shard"], seen["sandboxed"]) == (3, (2, 5), False), seen
    assert cli.main([str(tmp_path)]) == 0
    assert (seen["shard"], seen["sandboxed"]) == (None, True) and 1 <= seen["jobs"] <= grader.cores(), seen
    with pytest.raises(SystemExit, match="--jobs"):
        cli.main([str(tmp_path), "--jobs", "0"])
