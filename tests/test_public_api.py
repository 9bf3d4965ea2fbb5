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


def test_maintainer_guide_change_table_names_files_and_names_that_exist():
    readme = (ROOT / "docs" / "maintainer.md").read_text()
    table = readme.split("## Changing the course", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| ---")][1:]
    assert len(rows) == 5, f"the change table should have five rows, found {len(rows)}"
    for row in rows:
        edit = row.split(" | ")[1]
        files = re.findall(r"`([\w/.-]+\.(?:py|ipynb))`", edit)
        assert files, f"row names no file to edit: {row[:80]}"
        sources = []
        for file in files:
            paths = sorted(ROOT.glob(file.replace("NN-name", "*").replace("nbNN", "nb*")))
            assert paths, f"the change table names {file}, which does not exist"
            sources += [p.read_text() for p in paths]
        for name in re.findall(r"`([A-Z_]{3,}|[a-z_]+_[a-z_]+)`", edit):
            assert any(re.search(rf"^\s*(def |class )?{name}\b", s, flags=re.M) for s in sources), (
                f"the change table says {name} is in {files}, but it is not defined there")
        for test in re.findall(r"tests/test_\w+\.py", row.split(" | ")[2]):
            assert (ROOT / test).exists(), f"the change table runs {test}, which does not exist"



def _course_imports() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """``({module: course modules it imports}, {module: names it takes from a package's __init__})`` for every
    module of ``helpers``, imports inside functions included."""
    import ast

    root = Path(helpers.__file__).parent
    paths = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        paths[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    packages = {name for name, path in paths.items() if path.name == "__init__.py"}
    imports, from_faces = {}, {}
    for name, path in paths.items():
        package = name if name in packages else name.rpartition(".")[0]
        found, names = set(), set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    levels = package.split(".")
                    base = ".".join(levels[:len(levels) - node.level + 1])
                    module = f"{base}.{node.module}" if node.module else base
                else:
                    module = node.module or ""
                for alias in node.names:
                    if f"{module}.{alias.name}" in paths:
                        found.add(f"{module}.{alias.name}")
                    elif module in paths:
                        found.add(module)
                        if module in packages:
                            names.add(f"{module}.{alias.name}")
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names if alias.name in paths)
        imports[name] = found - {name}
        from_faces[name] = names
    return imports, from_faces


def test_no_import_cycle_and_nothing_reaches_back_into_the_package_face():
    imports, from_faces = _course_imports()
    assert {"helpers.models", "helpers.fetch", "helpers.instructor.grader"} <= set(imports)  # the walk found them
    assert imports["helpers.data"] >= {"helpers.config"} and "helpers.setup" in imports["helpers"]
    # A module takes what it needs from the module that defines it, not from a package's face (its __init__).
    assert not {name: used for name, used in from_faces.items() if used and name != "helpers"}
    cycles = []
    for start in imports:
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in imports[node]:
                if nxt == start:
                    cycles.append(path)
                elif nxt not in path:
                    stack.append((nxt, path + [nxt]))
    assert not cycles, cycles


PAGES = ["README.md", "docs/instructor.md", "docs/maintainer.md"]


def _anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_front_door_is_short_and_links_the_guides():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme) < 10_000, f"README.md has {len(readme):,} characters: keep it under 10,000"
    for page in PAGES[1:]:
        assert f"]({page})" in readme or f"]({page}#" in readme, f"README.md does not link {page}"
    commands = re.findall(r"```bash\n(.*?)```", readme, re.S)
    assert "pip install -r requirements.txt" in commands[0] and "bash .ci/run" in commands[1]


@pytest.mark.parametrize("page", PAGES)
def test_every_link_of_a_page_leads_somewhere(page):
    path = ROOT / page
    text = path.read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    assert links or page != "README.md"
    for link in links:
        if re.match(r"[a-z]+:", link):  # https:, mailto: ...: not checked offline
            continue
        target, _, anchor = link.partition("#")
        file = (path.parent / target).resolve() if target else path
        assert file.exists(), f"{page} links {link}: no such file"
        if anchor and file.suffix == ".md":
            headings = re.findall(r"(?m)^#{1,6} (.+)$", file.read_text(encoding="utf-8"))
            assert anchor in {_anchor(h) for h in headings}, f"{page} links {link}: no such heading"
