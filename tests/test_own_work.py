"""The one write-it-yourself check (helpers/instructor/own_work.py): what it catches, and what it lets through.

Each answer below is compiled into a fresh namespace, as a notebook cell defines it (``__main__``-like: its
functions' module is the namespace's ``__name__``).
"""

import textwrap

import numpy as np
import pytest

from helpers.instructor import own_work

FORBIDDEN = ("helpers.ledger",)


def notebook(source: str) -> dict:
    """The namespace of a notebook after running ``source`` in it."""
    namespace = {"__name__": "__main__", "np": np, "d": np.subtract}
    exec(compile(textwrap.dedent(source), "<cell>", "exec"), namespace)
    return namespace


OWN = """
def clearly_above(a, b):
    d = np.asarray(a) - np.asarray(b)
    return bool(d.mean() > 2 * d.std(ddof=1) / len(d) ** 0.5)
"""

CHEATS = {
    "direct": "import helpers.ledger\ndef clearly_above(a, b):\n    return helpers.ledger.visible(d(a, b))\n",
    "alias at the top": ("from helpers.ledger import visible as rule\n"
                         "def clearly_above(a, b):\n    return rule(d(a, b))\n"),
    "attribute chain": "import helpers as h\ndef clearly_above(a, b):\n    return h.ledger.visible(d(a, b))\n",
    "module alias": "import helpers.ledger as L\ndef clearly_above(a, b):\n    return L.visible(d(a, b))\n",
    "import inside": "def clearly_above(a, b):\n    from helpers import ledger\n    return ledger.visible(d(a, b))\n",
    "through a notebook function": (
        "from helpers.ledger import visible\ndef _rule(a, b):\n    return visible(d(a, b))\n"
        "def clearly_above(a, b):\n    return _rule(a, b)\n"),
    "in a dict": "import helpers.ledger\nTOOLS = {'v': helpers.ledger.visible}\n"
                 "def clearly_above(a, b):\n    return TOOLS['v'](a, b)\n",
    "default argument": "import helpers.ledger\ndef clearly_above(a, b, rule=helpers.ledger.visible):\n"
                        "    return rule(d(a, b))\n",
    "in a lambda": "import helpers.ledger\nclearly_above = lambda a, b: helpers.ledger.visible(d(a, b))\n",
    "a class's method": (
        "import helpers.ledger\nclass Rule:\n    def __call__(self, a, b):\n"
        "        return helpers.ledger.visible(d(a, b))\n"
        "def clearly_above(a, b):\n    return Rule()(a, b)\n"),
    "getattr of a built name (only the run shows it)": (
        "import importlib\ndef clearly_above(a, b):\n"
        "    module = importlib.import_module('helpers.' + 'led' + 'ger')\n"
        "    return getattr(module, 'vis' + 'ible')(d(a, b))\n"),
}


def test_own_work_passes_and_returns_its_result():
    answer = notebook(OWN)["clearly_above"]
    assert own_work.reached(answer, FORBIDDEN) == []
    assert own_work.assert_own_work(answer, FORBIDDEN, "write it", [0.9, 0.8, 0.85], [0.5, 0.4, 0.45]) is True


@pytest.mark.parametrize("case", list(CHEATS))
def test_every_way_of_reaching_forbidden_code_is_caught(case):
    answer = notebook(CHEATS[case])["clearly_above"]
    with pytest.raises(AssertionError, match="write it yourself") as caught:
        own_work.assert_own_work(answer, FORBIDDEN, "write it yourself", [0.9, 0.8, 0.85], [0.5, 0.4, 0.45])
    assert "helpers.ledger" in str(caught.value) or "ledger.py" in str(caught.value)


def test_allowed_helpers_and_libraries_are_not_flagged():
    answer = notebook("import helpers.freezing\nimport sklearn.metrics\n"
                      "def f(x):\n    return helpers.freezing.HEAD_RATE, sklearn.metrics.accuracy_score(x, x)\n")["f"]
    assert own_work.reached(answer, FORBIDDEN) == []
    assert any(name.endswith("accuracy_score") for name in own_work.reached(answer, ("sklearn.metrics",)))
    assert own_work.assert_own_work(answer, FORBIDDEN, "write it", [1, 0])[1] == 1.0


def test_a_library_call_made_at_run_time_is_caught():
    answer = notebook("def f(x):\n    import importlib\n"
                      "    return importlib.import_module('sklearn.' + 'metrics').accuracy_score(x, x)\n")["f"]
    with pytest.raises(AssertionError, match="NumPy only"):
        own_work.assert_own_work(answer, ("sklearn.metrics",), "NumPy only", [1, 0])


def test_the_profile_hook_is_put_back():
    import sys

    def hook(*args):
        return None

    sys.setprofile(hook)
    try:
        own_work.assert_own_work(notebook(OWN)["clearly_above"], FORBIDDEN, "write it", [1, 2, 3], [0, 1, 2])
        assert sys.getprofile() is hook
    finally:
        sys.setprofile(None)


def test_a_function_can_be_forbidden_and_the_rest_of_its_module_allowed():
    source = "import helpers.freezing as fz\ndef start(model, k):\n    return fz.HEAD_RATE, fz.{}\n"
    forbidden = ("helpers.freezing.unfreeze_from",)
    assert own_work.reached(notebook(source.format("boundary_near"))["start"], forbidden) == []
    assert own_work.reached(notebook(source.format("unfreeze_from"))["start"], forbidden) == [
        "helpers.freezing.unfreeze_from"]
    hidden = notebook("import importlib\ndef start(base, k):\n"
                      "    module = importlib.import_module('helpers.freezing')\n"
                      "    return getattr(module, 'unfreeze_' + 'from')(base, k)\n")
    import keras

    base = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2), keras.layers.Dense(2)])
    with pytest.raises(AssertionError, match="unfreeze_from"):
        own_work.assert_own_work(hidden["start"], forbidden, "write it", base, 1)
