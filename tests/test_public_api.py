"""The helpers' public face: each module says what it offers (``__all__``), and the notebooks use only that."""

import importlib
import json
import pkgutil
import re
from pathlib import Path

import pytest

import helpers

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted(m.name for m in pkgutil.iter_modules(helpers.__path__) if not m.name.startswith("_")
                 and not m.ispkg)


@pytest.mark.parametrize("name", MODULES)
def test_module_lists_its_public_names_and_they_exist(name):
    module = importlib.import_module(f"helpers.{name}")
    assert hasattr(module, "__all__"), f"helpers/{name}.py has no __all__"
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert not missing, f"helpers.{name}.__all__ names what it does not define: {missing}"


def _uses(notebook: Path) -> set[tuple[str, str]]:
    """``(module, name)`` for every ``module.name`` a notebook's code reads from a helpers module it imports."""
    cells = json.loads(notebook.read_text())["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    imported = set()
    for line in re.findall(r"^from helpers import (.+)$", code, flags=re.M):
        imported |= {part.strip() for part in line.split(",")}
    imported |= set(re.findall(r"\bhelpers\.(\w+)\.", code))
    return {(m, n) for m in imported & set(MODULES) for n in re.findall(rf"(?<![\w.]){m}\.(\w+)", code)}


@pytest.mark.parametrize("notebook", sorted(ROOT.glob("solutions/*/*.ipynb")), ids=lambda p: p.parent.name[:2])
def test_notebooks_use_only_listed_names(notebook):
    uses = _uses(notebook)
    assert uses, f"{notebook.name}: found no use of a helpers module; is it still 'from helpers import'?"
    unlisted = sorted(f"{m}.{n}" for m, n in uses if n not in importlib.import_module(f"helpers.{m}").__all__)
    assert not unlisted, f"{notebook.name} uses helpers names outside their module's __all__: {unlisted}"
