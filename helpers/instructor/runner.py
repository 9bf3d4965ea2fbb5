"""The course's one notebook runner: a notebook executed in a fresh kernel of this Python, with one cell timeout.

The benchmarks (``benchmarks/common.py``, ``benchmarks/full_cost.py``) and the tests that execute notebooks
(``tests/inkernel.py``, whose one run of each solution serves every check of it, and ``tests/test_full_mode.py``)
all run them here:

- :func:`python_first_path`: ``PATH`` with this Python's folder first, so that the kernel and the programs it
  starts are this environment's (the grader's :mod:`.course` and the root ``conftest.py`` use it too);
- :func:`kernel_env`: the kernel's environment: this process's, this Python first on PATH, the course's mode
  and ``KERAS_HOME`` when given, other variables set or (``None``) removed;
- :func:`client` and :func:`execute`: an nbclient client with the course's cell timeout
  (:data:`~.limits.CELL_TIMEOUT_S`; a run that needs longer cells passes one of the named timeouts of
  :mod:`.limits`), and a whole notebook executed with it.

Only nbformat, nbclient and jupyter_client are used, imported when a notebook runs (importing this module loads
nothing heavy); nbgrader's own runs go through its ``Execute`` preprocessor (see :mod:`.preprocessors`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .limits import CELL_TIMEOUT_S

__all__ = ["KERNEL", "client", "execute", "kernel_env", "python_first_path"]

KERNEL = "python3"  # jupyter_client starts the "python3" kernel with this very Python


def python_first_path(path: str | None = None) -> str:
    """``path`` (default: this process's ``PATH``) with this Python's folder first."""
    path = os.environ.get("PATH", "") if path is None else path
    return str(Path(sys.executable).parent) + os.pathsep + path


def kernel_env(mode: str | None = None, keras_home: Path | str | None = None, base: dict | None = None,
               **variables: str | None) -> dict[str, str]:
    """The environment of a kernel: ``base`` (default: this process's), this Python first on ``PATH``,
    ``COURSE_MODE=mode`` and ``KERAS_HOME=keras_home`` when given; each of ``variables`` set, or removed if None."""
    env = dict(os.environ if base is None else base)
    env["PATH"] = python_first_path(env.get("PATH", ""))
    if mode is not None:
        env["COURSE_MODE"] = mode
    if keras_home is not None:
        env["KERAS_HOME"] = str(keras_home)
    for name, value in variables.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = str(value)
    return env


def client(nb, workdir: Path | str, timeout: int | None = CELL_TIMEOUT_S, allow_errors: bool = False, **kwargs):
    """An nbclient ``NotebookClient`` for ``nb``, its kernel started in ``workdir``, cells stopped at ``timeout``.

    Further keyword arguments go to ``NotebookClient`` (``on_cell_executed=...``). Start its kernel with
    ``client.setup_kernel(env=kernel_env(...))`` or run it all with :func:`execute`.
    """
    from nbclient import NotebookClient

    return NotebookClient(nb, timeout=timeout, kernel_name=KERNEL, allow_errors=allow_errors,
                          resources={"metadata": {"path": str(workdir)}}, **kwargs)


def execute(nb, workdir: Path | str, env: dict[str, str] | None = None, timeout: int | None = CELL_TIMEOUT_S,
            allow_errors: bool = False, **kwargs):
    """Execute ``nb`` (a notebook node, changed in place, or a path) top to bottom in a fresh kernel; return it.

    The kernel runs in ``workdir`` with ``env`` (default :func:`kernel_env`); a cell that raises stops the run
    with nbclient's ``CellExecutionError`` unless ``allow_errors``.
    """
    if isinstance(nb, (str, Path)):
        import nbformat

        nb = nbformat.read(nb, as_version=4)
    client(nb, workdir, timeout=timeout, allow_errors=allow_errors, **kwargs).execute(
        env=kernel_env() if env is None else env)
    return nb
