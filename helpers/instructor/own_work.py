"""The course's one write-it-yourself check, for the hidden tests of graded exercises.

An exercise that asks students to write something the course's ``helpers`` (or a library) already does must not
be passed by calling that code. :func:`assert_own_work` decides it in two ways, both needed:

- **what the code can reach** (:func:`reached`): every global name of the function and of the functions,
  lambdas and comprehensions inside it, every attribute chain read on them (``h.ledger.compare``), its closure
  and default values, the values of a dict, list or tuple it reads, and the notebook's own functions and classes
  it uses, followed recursively. A name bound to forbidden code under another name
  (``from helpers.ledger import compare as rule``) is caught: objects are judged by where they are defined,
  never by their names;
- **what runs** (:func:`calls_into`): while the answer runs, a profile hook notes every call into forbidden code
  made from outside the course's ``helpers`` (``getattr(module, "comp" + "are")``, ``importlib`` and the like).

Forbidden code is named by module (``"helpers.ledger"``, ``"helpers"``: all of the course's helpers, a library's
``"sklearn.metrics"``) or by function (``"helpers.freezing.unfreeze_from"``: the rest of its module stays allowed).
The check's messages say what was reached and what to do instead.
"""

from __future__ import annotations

import contextlib
import dis
import importlib
import sys
import types
from pathlib import Path

__all__ = ["reached", "calls_into", "assert_own_work"]

_COURSE = Path(__file__).resolve().parents[1]  # helpers/


def _in(module_name: str | None, forbidden: tuple[str, ...]) -> bool:
    return bool(module_name) and any(module_name == f or module_name.startswith(f + ".") for f in forbidden)


def _named(value, origin: str | None, forbidden: tuple[str, ...]) -> str | None:
    """``module.name`` of a value if it is forbidden (its module, or itself by name), else None."""
    if isinstance(value, types.ModuleType):
        return origin if _in(origin, forbidden) else None
    name = f"{origin}.{getattr(value, '__qualname__', getattr(value, '__name__', '?'))}"
    return name if _in(origin, forbidden) or name in forbidden else None


def _origin(value) -> str | None:
    """The module a value is defined in (a module: its own name), or None."""
    if isinstance(value, types.ModuleType):
        return value.__name__
    value = getattr(value, "__func__", value)  # a bound method
    value = getattr(value, "func", value) if type(value).__name__ == "partial" else value
    return getattr(value, "__module__", None) if callable(value) else None


def _codes(code: types.CodeType):
    """A code object and every code object nested in it (functions, lambdas, comprehensions, classes)."""
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _codes(const)


def _values(function) -> list:
    """The objects a function's code reads: globals with their attribute chains, imports, closure, defaults."""
    found = list(function.__defaults__ or ()) + list((function.__kwdefaults__ or {}).values())
    found += [cell.cell_contents for cell in function.__closure__ or () if _filled(cell)]
    scope, builtins = function.__globals__, vars(__builtins__) if isinstance(__builtins__, types.ModuleType) else {}
    for code in _codes(function.__code__):
        current = None
        for instruction in dis.get_instructions(code):
            name = instruction.argval
            if instruction.opname in ("LOAD_GLOBAL", "LOAD_NAME") and isinstance(name, str):
                current = scope.get(name, builtins.get(name))
                found.append(current)
            elif instruction.opname == "IMPORT_NAME" and isinstance(name, str):
                current = sys.modules.get(name)
                found += [current, *(sys.modules.get(name.rsplit(".", i)[0]) for i in range(name.count(".") + 1))]
            elif instruction.opname in ("LOAD_ATTR", "LOAD_METHOD", "IMPORT_FROM") and current is not None:
                current = getattr(current, name, None) if isinstance(name, str) else None
                found.append(current)
            elif instruction.opname not in ("CACHE", "PRECALL", "EXTENDED_ARG"):
                current = None
    return [v for v in found if v is not None]


def _filled(cell) -> bool:
    try:
        cell.cell_contents  # noqa: B018  (an empty cell raises)
    except ValueError:
        return False
    return True


def reached(function, forbidden: tuple[str, ...]) -> list[str]:
    """What of the ``forbidden`` modules ``function`` can reach, as ``module.name`` strings (sorted)."""
    found, seen, todo = set(), set(), [function]
    home = getattr(function, "__module__", None)
    while todo:
        value = todo.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        origin = _origin(value)
        name = _named(value, origin, forbidden) if origin else None
        if name:
            found.add(name)
            continue
        if isinstance(value, (dict, list, tuple, set, frozenset)):
            todo += list(value.values() if isinstance(value, dict) else value)
        elif isinstance(value, type) and value.__module__ == home:  # a class of the notebook: its methods
            todo += [v for v in vars(value).values() if isinstance(v, (types.FunctionType, classmethod, staticmethod,
                                                                         property))]
        elif isinstance(value, (classmethod, staticmethod)):
            todo.append(value.__func__)
        elif isinstance(value, property):
            todo += [f for f in (value.fget, value.fset) if f]
        elif isinstance(value, types.MethodType):
            todo.append(value.__func__)
        elif isinstance(value, types.FunctionType) and (value is function or value.__module__ == home):
            todo += _values(value)  # the answer itself, and the notebook's own functions it uses
    return sorted(found)


def _targets(forbidden: tuple[str, ...]) -> tuple[tuple[str, ...], set]:
    """The source files (a package: its folder) of the forbidden modules, and the code of the forbidden
    functions, for the profile hook."""
    files, codes = [], set()
    for name in forbidden:
        try:
            module = importlib.import_module(name)
        except ImportError:
            module_name, _, attribute = name.rpartition(".")
            try:
                function = getattr(importlib.import_module(module_name), attribute)
            except (ImportError, AttributeError, ValueError):
                continue
            code = getattr(getattr(function, "__func__", function), "__code__", None)
            codes.update([code] if code else [])
            continue
        file = Path(getattr(module, "__file__", "") or "")
        if file.name:
            files.append(str(file.parent) + "/" if file.name == "__init__.py" else str(file))
    return tuple(files), codes


@contextlib.contextmanager
def calls_into(forbidden: tuple[str, ...]):
    """Note every call into the forbidden modules' code made from outside the course's ``helpers`` while the
    block runs; yields the list of ``module file:function`` found."""
    (files, codes), course = _targets(forbidden), str(_COURSE) + "/"
    calls: list[str] = []
    previous = sys.getprofile()

    def hook(frame, event, arg):
        if event == "call" and (frame.f_code in codes or files and frame.f_code.co_filename.startswith(files)):
            caller = frame.f_back.f_code.co_filename if frame.f_back else ""
            if not caller.startswith(course) and not (files and caller.startswith(files)):
                calls.append(f"{Path(frame.f_code.co_filename).name}:{frame.f_code.co_name}")

    sys.setprofile(hook)
    try:
        yield calls
    finally:
        sys.setprofile(previous)


def assert_own_work(function, forbidden: tuple[str, ...], instead: str, *args, **kwargs):
    """Run ``function(*args, **kwargs)`` and return its result, unless it reaches or calls forbidden code.

    ``instead`` says what to do (``"write the rule with NumPy"``); the AssertionError names what was reached.
    """
    found = reached(function, forbidden)
    assert not found, f"{getattr(function, '__name__', function)} uses {', '.join(found)}: {instead}"
    with calls_into(forbidden) as calls:
        result = function(*args, **kwargs)
    assert not calls, f"{getattr(function, '__name__', function)} calls {', '.join(sorted(set(calls)))}: {instead}"
    return result
