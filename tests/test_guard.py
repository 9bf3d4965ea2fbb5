"""The grader's check in the kernel (helpers/instructor/guard.py), in a real kernel: hooks a student installs to
pass failing tests are found, named and taken away before a test, and put back after it."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from helpers.instructor import guard

pytestmark = pytest.mark.grading  # a kernel with the grader's check in it
TAMPER = """
ip = get_ipython()
def _rewrite(lines):
    return ["pass\\n"] if any("assert" in line for line in lines) else lines
ip.input_transformers_cleanup.append(_rewrite)
class _Quiet:
    def visit(self, node):
        import ast
        return ast.Module(body=[], type_ignores=[])
ip.ast_transformers.append(_Quiet())
ip.set_custom_exc((AssertionError,), lambda shell, etype, value, tb, tb_offset=None: None)
ip.events.register("post_run_cell", lambda result: setattr(result, "error_in_exec", None))
import builtins
builtins.abs = lambda value: 0
_original = type(ip).should_run_async
type(ip).should_run_async = lambda self, *a, **k: _original(self, *a, **k)
"""
NAMED = ["an input transformer (cleanup_transforms): __main__._rewrite", "an AST transformer (ast_transformers)",
         "a custom exception handler (set_custom_exc)", "a post_run_cell callback: __main__.<lambda>",
         "builtins.abs replaced", "ZMQInteractiveShell.should_run_async replaced in its class"]


@pytest.fixture(scope="module")
def kernel():
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3")
    yield client
    client.stop_channels()
    manager.shutdown_kernel(now=True)


def _reply(client, msg_id):
    while True:
        msg = client.get_shell_msg(timeout=60)
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg["content"]


def run(client, code: str) -> str:
    """Run a cell as nbclient does; the reply's status."""
    return _reply(client, client.execute(code, store_history=True))["status"]


def ask(client, expression: str) -> dict:
    """Evaluate a guard call as the grader does (a user expression); its JSON answer."""
    content = _reply(client, client.execute("", silent=True, store_history=False, user_expressions={"r": expression}))
    return json.loads(ast.literal_eval(content["user_expressions"]["r"]["data"]["text/plain"]))


def step(name: str) -> str:
    return f"__import__('sys').modules[{guard.NAME!r}].{name}()"


def test_the_guard_names_and_undoes_the_hooks_for_the_test_only(kernel):
    source = Path(guard.__file__).read_text(encoding="utf-8")
    installed = ask(kernel, f"(lambda ns: (exec(compile({source!r}, 'guard', 'exec'), ns), ns['install']())[1])"
                            f"({{'__name__': {guard.NAME!r}}})")
    assert installed["installed"]
    assert run(kernel, "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nx = 1") == "ok"
    assert ask(kernel, step("before"))["found"] == [], "an honest kernel (matplotlib's hooks) was named"
    ask(kernel, step("after"))
    assert run(kernel, TAMPER) == "ok"
    assert run(kernel, "assert False") == "ok", "the tampering no longer hides a failing test: update TAMPER"
    found = ask(kernel, step("before"))["found"]
    assert all(any(name in f for f in found) for name in NAMED), found
    assert run(kernel, "assert False") == "error" and run(kernel, "assert abs(-1) == 1") == "ok"
    ask(kernel, step("after"))
    assert run(kernel, "assert False") == "ok", "the student's hooks were not put back after the test"
