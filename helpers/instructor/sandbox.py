"""Each student's kernel in its own bubblewrap sandbox (https://github.com/containers/bubblewrap).

nbgrader and the grader stay outside; only the kernel, where student code runs, is wrapped. Each job gets a box,
``box/{home,work,run,share}``, and the kernel spec :data:`KERNEL_NAME` (in ``box/share``, found through the
worker's ``JUPYTER_PATH``), whose command is ``python -I .../helpers/instructor/sandbox.py box/sandbox.json
{connection_file}``: this launcher (stdlib only), run in the folder nbgrader executes the notebook in, replaces itself
(``exec``) with ``bwrap``, which starts ``ipykernel`` with:

- read-only: the system's programs and libraries (``/usr``, a few files of ``/etc``), the Python environment,
  the data and Keras weights (in a private Keras folder: Keras ignores one it cannot write), the course copy's
  ``helpers/`` and release (see :func:`prepare`);
- writable: ``box/work``, mounted on the notebook's folder (a copy of the files nbgrader put there, notebooks
  left out: the one there already holds the hidden tests), and a private ``HOME`` (``box/home``);
- ``box/run``, where the connection file and the kernel's unix sockets live: the kernel has no network
  (``--unshare-net``), so jupyter_client talks to it over its ``ipc`` transport (:func:`kernel_config`), and
  interrupts it by message (a signal would stop at ``bwrap``);
- nothing else: not the solutions, the gradebook, the other students' copies, the submissions, the results or
  your home folder; a new process, network, IPC and user namespace, no capabilities (even when you are root);
  only the environment variables it needs.

:func:`require` checks at start that ``bwrap`` works here; the grader stops with what to install if not.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["ETC", "INSTALL", "KERNEL_NAME", "NO_SANDBOX_NOTE", "bwrap_command", "kernel_config", "launch",
           "prepare", "python_paths", "require"]

KERNEL_NAME = "course-sandbox"
INSTALL = ("install bubblewrap (Debian, Ubuntu: sudo apt-get install bubblewrap; Fedora: sudo dnf install "
           "bubblewrap; Arch: sudo pacman -S bubblewrap)")
NO_SANDBOX_NOTE = ("graded with --no-sandbox: this notebook's code ran with your rights, and could read the "
                   "hidden tests, change its grade and reach other students' work and the network")
# What of /etc a kernel needs (libraries, fonts, certificates, time zone, user names): not /etc as a whole,
# which holds host keys, password hashes and the tokens of package managers.
ETC = ["ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "fonts", "ssl", "ca-certificates",
       "localtime", "timezone", "passwd", "group", "nsswitch.conf", "hosts", "host.conf", "gai.conf", "protocols",
       "services", "mime.types", "locale.alias", "os-release", "matplotlibrc", "magic", "magic.mime", "terminfo"]
# The kernel's environment: these names (and prefixes) of the job's, the rest dropped (tokens, the grader's paths).
PASSED = ("PATH", "LANG", "TZ", "KERAS_HOME", "KERAS_BACKEND", "TF_CPP_MIN_LOG_LEVEL", "TF_NUM_INTRAOP_THREADS",
          "TF_NUM_INTEROP_THREADS", "TF_ENABLE_ONEDNN_OPTS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
          "OPENBLAS_NUM_THREADS")
PASSED_PREFIXES = ("COURSE_", "LC_")


def python_paths() -> list[str]:
    """The folders of this Python environment a kernel reads: prefixes and the user's site-packages, if any."""
    import site

    found = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
    user_site = site.getusersitepackages() if site.ENABLE_USER_SITE else ""
    if user_site and os.path.isdir(user_site):
        found.append(user_site)
    return sorted({os.path.realpath(p) for p in found})


def _inside(path: str, folder: str) -> bool:
    return os.path.commonpath([os.path.realpath(path), os.path.realpath(folder)]) == os.path.realpath(folder)


def _system_args() -> list[str]:
    """``bwrap`` arguments for the system: ``/usr`` read-only, its links (``/bin`` ...), the files of :data:`ETC`."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = f"/{name}"
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for name in ETC:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    return args


def bwrap_command(settings: dict, cwd: str, connection_file: str, command: list[str] | None = None) -> list[str]:
    """The ``bwrap`` command line that starts the kernel of ``settings`` (see :func:`prepare`) in ``cwd``.

    ``command`` replaces the kernel (the start check runs a one-line Python).
    """
    box = Path(settings["box"])
    env = {**settings["env"], **{k: v for k, v in os.environ.items() if k in ("NBGRADER_EXECUTION",)}}
    # --unshare-user and --cap-drop ALL: bwrap run by root would otherwise keep root's capabilities inside
    args = [settings["bwrap"], "--unshare-all", "--unshare-user", "--cap-drop", "ALL", "--die-with-parent",
            "--new-session", "--clearenv",
            "--tmpfs", "/tmp", "--dev", "/dev", "--proc", "/proc", *_system_args()]
    for layer, path in settings.get("layered", []):  # a private folder at path, path's folders read-only in it
        args += ["--bind", layer, path]
        for entry in sorted(os.listdir(path)):  # your folders (links followed: a cache may point elsewhere)
            if os.path.isdir(os.path.join(path, entry)):
                args += ["--ro-bind", os.path.realpath(os.path.join(path, entry)), os.path.join(path, entry)]
    for path in settings["read_only"]:
        args += ["--ro-bind-try", path, path]
    args += ["--bind", str(box / "home"), str(box / "home"), "--bind", str(box / "work"), cwd,
             "--bind", os.path.dirname(connection_file), os.path.dirname(connection_file),
             "--remount-ro", "/", "--chdir", cwd]  # the sandbox's own root: read-only once its folders are made
    for name, value in sorted(env.items()):
        args += ["--setenv", name, value]
    return args + ["--"] + (command or [settings["python"], "-m", "ipykernel_launcher", "-f", connection_file,
                                        "--HistoryManager.hist_file=:memory:"])


def _copy_work(cwd: str, work: Path) -> None:
    """The regular files of ``cwd``, notebooks and links left out, copied to a fresh ``work``."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    for folder, dirs, files in os.walk(cwd):
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(folder, d))]
        for name in files:
            path = os.path.join(folder, name)
            if name.endswith(".ipynb") or os.path.islink(path) or not os.path.isfile(path):
                continue
            target = work / os.path.relpath(path, cwd)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)


def launch(settings_file: str, connection_file: str) -> None:
    """The kernel spec's command: become ``bwrap`` running the kernel, in the current folder (never returns)."""
    settings = json.loads(Path(settings_file).read_text(encoding="utf-8"))
    cwd = os.getcwd()
    _copy_work(cwd, Path(settings["box"]) / "work")
    command = bwrap_command(settings, cwd, connection_file)
    os.execv(command[0], command)


def prepare(box: Path, bwrap: str, read_only: list[Path], env: dict[str, str], python_path: str = "",
            layered: list[Path] = ()) -> dict[str, str]:
    """Make ``box`` for one job; return what the worker's environment needs (``JUPYTER_PATH``).

    ``read_only`` lists what the kernel reads besides the system and :func:`python_paths` (the data, the course
    copy's ``helpers/``); each of ``layered`` (the Keras cache) becomes a private folder in the sandbox, with a
    copy of its files and its folders read-only (Keras ignores a cache it cannot write to); ``env`` is the job's
    environment, of which the kernel gets :data:`PASSED` and variables starting with :data:`PASSED_PREFIXES`, with
    its own ``HOME`` and ``TMPDIR``, and ``python_path`` as ``PYTHONPATH``.
    """
    for name in ("home/tmp", "work", "run"):
        (box / name).mkdir(parents=True, exist_ok=True)
    layers = []
    for number, folder in enumerate(p for p in layered if p.is_dir()):
        layer = box / "layers" / str(number)
        layer.mkdir(parents=True)
        for entry in folder.iterdir():
            if entry.is_file() and not entry.is_symlink():
                shutil.copy(entry, layer / entry.name)
        layers.append([str(layer), str(folder)])
    kernel_env = {k: v for k, v in env.items() if k in PASSED or k.startswith(PASSED_PREFIXES)}
    kernel_env.update(HOME=str(box / "home"), TMPDIR=str(box / "home" / "tmp"), PYTHONPATH=python_path)
    settings = {"box": str(box), "bwrap": bwrap, "python": sys.executable, "env": kernel_env, "layered": layers,
                "read_only": python_paths() + [str(p) for p in read_only]}
    (box / "sandbox.json").write_text(json.dumps(settings, indent=1), encoding="utf-8")
    spec = box / "share" / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        # This file, by path, isolated (-I): the grader's own launcher, whatever the course copy's helpers hold.
        "argv": [sys.executable, "-I", str(Path(__file__).resolve()), str(box / "sandbox.json"), "{connection_file}"],
        "display_name": "Python 3 (grading sandbox)", "language": "python", "interrupt_mode": "message",
    }, indent=1), encoding="utf-8")
    return {"JUPYTER_PATH": str(box / "share")}


def kernel_config(config, box: str) -> None:
    """Set ``config`` (nbgrader's, traitlets) to run the notebook in ``box``'s sandbox kernel over unix sockets."""
    run = Path(box) / "run"
    config.NotebookClient.kernel_name = KERNEL_NAME
    config.KernelManager.transport = "ipc"
    config.KernelManager.connection_file = str(run / "k.json")
    config.KernelManager.ip = str(run / "k")  # the sockets: run/k-1 ... (a unix socket's path has 107 bytes at most)


def require(bwrap: str | None, forbidden: list[Path]) -> str:
    """``bwrap``'s path, once a Python has run in a sandbox like the kernels'; else stop with what to install.

    ``forbidden`` (the course, the submissions, the results) must not be inside the Python environment, which
    kernels read.
    """
    fallback = "or grade with --no-sandbox (student code then runs with your rights)"
    if not bwrap:
        raise SystemExit(f"error: the grading sandbox needs bubblewrap (bwrap), which is not installed or not on "
                         f"PATH: {INSTALL}; {fallback}")
    for path in python_paths():
        for folder in forbidden:
            if _inside(str(folder), path):
                raise SystemExit(f"error: the Python environment {path} contains {folder}, which the sandbox must "
                                 "hide from student code: use an environment outside it (python -m venv elsewhere)")
    with tempfile.TemporaryDirectory(prefix="sandbox-check-") as box:
        prepare(Path(box), bwrap, [], {})
        settings = json.loads((Path(box) / "sandbox.json").read_text(encoding="utf-8"))
        command = bwrap_command(settings, str(Path(box) / "work"), str(Path(box) / "run" / "k.json"),
                                [sys.executable, "-c", "import ipykernel"])
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise SystemExit(f"error: cannot run {bwrap} ({error}): {INSTALL}; {fallback}") from None
    if result.returncode != 0:
        raise SystemExit(f"error: the grading sandbox does not work here: {bwrap} said: "
                         f"{result.stderr.strip()[-500:] or 'nothing'} (exit code {result.returncode}). bubblewrap "
                         "needs user namespaces: on Ubuntu 24.04 allow them for bwrap with an AppArmor profile; in a "
                         f"container, the container can be the sandbox instead; {fallback}")
    return bwrap


if __name__ == "__main__":
    launch(sys.argv[1], sys.argv[2])
