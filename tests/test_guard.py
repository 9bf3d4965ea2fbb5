"""The grader's check in the kernel (helpers/instructor/guard.py), in a real kernel: hooks a student installs to
pass failing tests are found, named and taken away before a test, and put back after it; the write-it-yourself
check (helpers/instructor/own_work.py) is called as it was at install, whatever the student's code did to it."""

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


CHECK_TAMPER = """
import sys
import helpers.instructor.own_work as _o
_o.assert_own_work = lambda function, forbidden, instead, *args, **kwargs: function(*args, **kwargs)
_o.reached.__code__ = (lambda function, forbidden: []).__code__
sys.setprofile = lambda function: None
"""
PROBE = """
import helpers.ledger
from helpers.instructor.own_work import assert_own_work, reached
def cheat():
    return helpers.ledger.visible([1.0, 2.0])
assert reached(cheat, ("helpers.ledger",))
try:
    assert_own_work(cheat, ("helpers.ledger",), "write it")
except AssertionError:
    pass
else:
    raise AssertionError("the check let a call of helpers.ledger through")
"""


@pytest.fixture
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
    # stop_on_error=False, as nbclient runs cells when errors are allowed (the grader): after an error reply the
    # kernel would otherwise abort the next request if it came in at once (no user_expressions in its reply).
    return _reply(client, client.execute(code, store_history=True, stop_on_error=False))["status"]


def ask(client, expression: str) -> dict:
    """Evaluate a guard call as the grader does (a user expression); its JSON answer."""
    content = _reply(client, client.execute("", silent=True, store_history=False, user_expressions={"r": expression}))
    return json.loads(ast.literal_eval(content["user_expressions"]["r"]["data"]["text/plain"]))


def step(name: str) -> str:
    return f"__import__('sys').modules[{guard.NAME!r}].{name}()"


def install(client) -> None:
    """Install the guard in a kernel as the grader does, before any cell."""
    source = Path(guard.__file__).read_text(encoding="utf-8")
    installed = ask(client, f"(lambda ns: (exec(compile({source!r}, 'guard', 'exec'), ns), ns['install']())[1])"
                            f"({{'__name__': {guard.NAME!r}}})")
    assert installed["installed"]


def test_the_guard_names_and_undoes_the_hooks_for_the_test_only(kernel):
    install(kernel)
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


def test_the_write_it_yourself_check_is_put_back_for_the_test_only(kernel):
    install(kernel)
    assert run(kernel, PROBE) == "ok", "the check does not catch a plain call of helpers.ledger"
    ask(kernel, step("before")), ask(kernel, step("after"))
    assert run(kernel, CHECK_TAMPER) == "ok"
    assert run(kernel, PROBE) == "error", "the tampering no longer switches the check off: update CHECK_TAMPER"
    found = ask(kernel, step("before"))["found"]
    for name in ("helpers.instructor.own_work.assert_own_work replaced (the write-it-yourself check)",
                 "helpers.instructor.own_work.reached.__code__ replaced", "sys.setprofile replaced"):
        assert name in found, found
    assert run(kernel, PROBE) == "ok", "a hidden test did not get the check as installed"
    ask(kernel, step("after"))
    assert run(kernel, PROBE) == "error", "the student's changes were not put back after the test"
