"""The grader's check, run inside a student's kernel, that graded test cells run as released.

The grader (:class:`~helpers.instructor.preprocessors.RecordVerdicts`) sends this module's source to the kernel
before the first cell runs, where :func:`install` records the kernel's hooks as they are before any student code.
Before each graded test cell the guard's ``before()`` takes away every hook added or replaced since (input and AST
transformers, custom exception handlers, cell event callbacks, methods of the shell, kernel, session and execution
result, the built-in functions, trace and profile functions, and the course's write-it-yourself check with the
library functions it and the guard rely on: see ``CHECKERS`` and ``LIBRARY``) and names them; ``after()`` puts
them back once the test has run, so that the student's own cells go on as written. The check
(:mod:`helpers.instructor.own_work`) is imported at install, before any student code, so that a hidden test
always calls it as the course wrote it (its functions, their code and defaults, its ``sys.modules`` entries).
Both return JSON, read by the grader from the execute reply's ``user_expressions``, which IPython evaluates without
input transformers.

What it cannot stop (student code runs in this very process): code that replaces or edits this guard itself,
patches the kernel below Python (ctypes, C extensions) or the libraries the tests call (numpy, keras, helpers
other than the check, library functions other than ``LIBRARY``),
a background thread that puts a hook back between the check and the test, or answers whose objects lie
(an ``__eq__`` that is always true). The grader also fails a test whose check did not answer as expected.
This module imports nothing heavy (the check imports the standard library and ``helpers``' light top level);
in the grader it is only read, as text.
"""

__all__ = ["NAME", "install"]

NAME = "_course_grading_guard"  # the guard's entry in the kernel's sys.modules
EVENTS = ("pre_execute", "pre_run_cell", "post_execute", "post_run_cell")
BENIGN = ("matplotlib", "matplotlib_inline", "ipykernel", "IPython", "ipywidgets")  # event callbacks not named
CHECKED_MODULES = ("IPython", "ipykernel", "jupyter_client")  # classes whose methods are checked
MISSING = object()  # "no such entry", as a pristine value
IPYTHON_BUILTINS = {"get_ipython", "display", "exit", "quit", "copyright", "credits", "license", "help"}
CHECKERS = ("helpers.instructor.own_work",)  # modules the hidden tests call: kept as they were at install
LIBRARY = (("sys", "settrace"), ("sys", "gettrace"), ("sys", "setprofile"), ("sys", "getprofile"),
           ("dis", "get_instructions"), ("importlib", "import_module"))  # what the check and the guard call


def install(shell=None):
    """Record the kernel's hooks now and register the guard as ``sys.modules[NAME]``; return ``'installed'``."""
    import builtins
    import importlib
    import json
    import sys
    import types

    from IPython import get_ipython
    from IPython.core.interactiveshell import ExecutionResult

    shell = shell or get_ipython()
    kernel = getattr(shell, "kernel", None)
    session = getattr(kernel, "session", None)

    def lists():
        """``{label: (owner, attribute)}`` of the hook lists."""
        found = {"an input transformer (input_transformers_post)": (shell, "input_transformers_post"),
                 "an AST transformer (ast_transformers)": (shell, "ast_transformers")}
        manager = shell.input_transformer_manager
        for attribute in ("cleanup_transforms", "line_transforms", "token_transformers"):
            found[f"an input transformer ({attribute})"] = (manager, attribute)
        for event in EVENTS:
            found[f"a {event} callback"] = (shell.events.callbacks, event)
        return found

    def objects():
        """The objects whose methods decide a cell's outcome: ``{label: object}``."""
        return {name: value for name, value in (("shell", shell), ("kernel", kernel), ("session", session),
                                                 ("shell.compile", shell.compile), ("shell.events", shell.events),
                                                 ("input_transformer_manager", shell.input_transformer_manager))
                if value is not None}

    def scalars():
        """``{label: (namespace, key)}`` of single hooks: a dict or object's ``__dict__``, and the key in it."""
        found = dict(checked)  # first: before() puts back sys.settrace and sys.setprofile, then uses them
        found |= {"a custom exception handler (set_custom_exc)": (shell, "custom_exceptions"),
                 "a custom traceback handler (CustomTB)": (shell, "CustomTB"),
                 "a replaced input transformer manager": (shell, "input_transformer_manager"),
                 "a replaced event manager": (shell, "events"), "a replaced compiler": (shell, "compile")}
        for label, value in watched.items():
            for name in dir(type(value)):
                if not name.startswith("__") and callable(getattr(type(value), name, None)):
                    found[f"{label}.{name} replaced"] = (vars(value), name)
        seen = {ExecutionResult}
        for value in watched.values():
            seen.update(c for c in type(value).__mro__ if c.__module__.split(".")[0] in CHECKED_MODULES)
        for cls in seen:
            for name, value in list(vars(cls).items()):
                if callable(value) or isinstance(value, (property, staticmethod, classmethod)):
                    found[f"{cls.__name__}.{name} replaced in its class"] = (cls, name)
        for key in getattr(kernel, "shell_handlers", {}):
            found[f"the kernel's {key} handler replaced"] = (kernel.shell_handlers, key)
        for name in dir(builtins):
            if name not in IPYTHON_BUILTINS and (not name.startswith("_") or name in ("__import__", "__build_class__")):
                found[f"builtins.{name} replaced"] = (vars(builtins), name)
        return found

    def checker_hooks():
        """``{label: (namespace, key)}`` of the write-it-yourself check: its module's entries (and its functions'
        code and defaults), its and its packages' ``sys.modules`` entries, and the library functions it calls."""
        found = {}
        for module_name, attribute in LIBRARY:
            found[f"{module_name}.{attribute} replaced"] = (vars(importlib.import_module(module_name)), attribute)
        for module_name in CHECKERS:
            try:
                module = importlib.import_module(module_name)  # at install: before any student code
            except Exception:  # noqa: BLE001 - a kernel without the course's helpers: no check to keep
                continue
            parts = module_name.split(".")
            for i in range(1, len(parts) + 1):
                name = ".".join(parts[:i])
                found[f"sys.modules[{name!r}] replaced"] = (sys.modules, name)
                if i > 1:
                    package = sys.modules[".".join(parts[:i - 1])]
                    found[f"{name} replaced in its package"] = (vars(package), parts[i - 1])
            for name, value in vars(module).items():
                found[f"{module_name}.{name} replaced (the write-it-yourself check)"] = (vars(module), name)
                if isinstance(value, types.FunctionType) and value.__module__ == module_name:
                    for attribute in ("__code__", "__defaults__", "__kwdefaults__"):
                        found[f"{module_name}.{name}.{attribute} replaced"] = (value, attribute)
        return found

    def get(namespace, key):
        if isinstance(namespace, dict):
            return namespace.get(key, MISSING)
        return vars(namespace).get(key, MISSING) if isinstance(namespace, type) else getattr(namespace, key, MISSING)

    def put(namespace, key, value):
        if isinstance(namespace, dict):
            if value is MISSING:
                namespace.pop(key, None)
            else:
                namespace[key] = value
        elif value is MISSING:
            if key in vars(namespace):
                delattr(namespace, key)
        else:
            setattr(namespace, key, value)

    def hook_list(owner, attribute):
        return list(owner[attribute] if isinstance(owner, dict) else getattr(owner, attribute))

    def set_list(owner, attribute, value):
        if isinstance(owner, dict):
            owner[attribute] = value
        else:
            setattr(owner, attribute, value)

    watched = objects()  # as they are now: a replacement is found by its slot in the shell
    checked = checker_hooks()  # the check and the functions it calls, as they are now
    pristine_lists = {label: hook_list(*where) for label, where in lists().items()}
    pristine_scalars = {label: get(*where) for label, where in scalars().items()}
    pristine_trace = (sys.gettrace(), sys.getprofile())
    stash = []  # functions that put back what before() took away

    def describe(value):
        module = getattr(value, "__module__", None) or type(value).__module__
        return f"{module}.{getattr(value, '__qualname__', type(value).__qualname__)}"

    def before():
        """Take away every hook added or replaced since install; the names of those found, as JSON."""
        found = []
        stash.clear()
        for label, (namespace, key) in scalars().items():
            now, then = get(namespace, key), pristine_scalars.get(label, MISSING)
            if now is not then and not (isinstance(now, tuple) and now == then):
                found.append(label)
                put(namespace, key, then)
                stash.append(lambda n=namespace, k=key, v=now: put(n, k, v))
        for label, (owner, attribute) in lists().items():
            now, then = hook_list(owner, attribute), pristine_lists.get(label, [])
            extra = [hook for hook in now if not any(hook is kept for kept in then)]
            gone = [hook for hook in then if not any(hook is kept for kept in now)]
            if extra or gone:
                found += [f"{label}: {describe(hook)}" for hook in extra
                          if not (label.endswith("callback") and describe(hook).split(".")[0] in BENIGN)]
                found += [f"{label} removed: {describe(hook)}" for hook in gone]
                set_list(owner, attribute, list(then))
                stash.append(lambda o=owner, a=attribute, v=now, p=then: set_list(  # with what the test added
                    o, a, v + [h for h in hook_list(o, a) if not any(h is x for x in v + p)]))
        if (sys.gettrace(), sys.getprofile()) != pristine_trace:
            found.append("a trace or profile function (sys.settrace, sys.setprofile)")
            trace, profile = sys.gettrace(), sys.getprofile()
            sys.settrace(pristine_trace[0])
            sys.setprofile(pristine_trace[1])
            stash.append(lambda: (sys.settrace(trace), sys.setprofile(profile)))
        return json.dumps({"guard": NAME, "found": found})

    def after():
        """Put back what before() took away (the student's cells go on as written); ``'restored'``."""
        for restore in reversed(stash):
            restore()
        stash.clear()
        return json.dumps({"guard": NAME, "restored": True})

    guard = types.ModuleType(NAME)
    guard.before, guard.after = before, after
    sys.modules[NAME] = guard
    return json.dumps({"guard": NAME, "installed": True})
