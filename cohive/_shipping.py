"""Shipping functions to worker interpreters, as ProcessPoolExecutor does under spawn.

A function travels as a reference: its module, its qualified name and, for
the user's ``__main__`` script, the script's path.  The worker imports the
module and looks the name up; a ``__main__`` script is imported there under
the name ``__cohive_main__``, so its ``if __name__ == "__main__":`` block does
not run again.  Lambdas, closures and functions defined interactively or
by exec() have no such reference and are refused up front, with a hint to
move them into a module.
"""

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAIN_ALIAS = "__cohive_main__"

FunctionRef = tuple[str, str, str | None]  # (module, qualname, path of a __main__ script)


def function_ref(fn: "Any") -> FunctionRef:
    """The reference a worker resolves back to `fn`; TypeError if there is none."""
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", None)
    if not callable(fn) or not isinstance(module, str) or not isinstance(qualname, str):
        raise TypeError(f"cannot send {fn!r} to a worker: only module-level functions and classes can be sent")
    if "<lambda>" in qualname:
        raise TypeError(f"cannot send the lambda {qualname} to a worker: define it with def at module level")
    if "<locals>" in qualname:
        raise TypeError(
            f"cannot send {module}.{qualname} to a worker: it is defined inside a function; "
            "define it at module level"
        )
    main_path = None
    if module == "__main__":
        main_path = getattr(sys.modules["__main__"], "__file__", None)
        if main_path is None:
            raise TypeError(
                f"cannot send {qualname} to a worker: it was defined interactively, where a worker cannot "
                f"import it; {_MOVE_IT}"
            )
    found = _lookup(sys.modules.get(module), qualname)
    if found is not fn:
        source = getattr(getattr(fn, "__code__", None), "co_filename", "")
        if source.startswith("<"):  # "<string>", "<stdin>", "<ipython-input-...>": no file to import
            raise TypeError(
                f"cannot send {module}.{qualname} to a worker: it was defined by exec() or interactively "
                f"(in {source}), where a worker cannot import it; {_MOVE_IT}"
            )
        raise TypeError(f"cannot send {fn!r} to a worker: {module}.{qualname} does not name it")
    return (module, qualname, main_path)


_MOVE_IT = "move it into a module (a .py file) and import it from there"


def _lookup(module: "Any", qualname: str) -> "Any":
    obj = module
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    return obj


def resolve(ref: FunctionRef) -> "Any":
    """In a worker: the function a reference names (imports what it needs)."""
    module_name, qualname, main_path = ref
    if module_name == "__main__":
        module = sys.modules.get(MAIN_ALIAS) or _import_main(main_path)
    else:
        module = import_module(module_name)
    fn = _lookup(module, qualname)
    if fn is None:
        raise AttributeError(f"module {module_name!r} has no attribute {qualname!r}")
    return fn


def _import_main(path: str | None) -> "Any":
    import importlib.util  # here, not with the module: every worker imports this one

    spec = importlib.util.spec_from_file_location(MAIN_ALIAS, path) if path else None
    if path is None or spec is None or spec.loader is None:
        raise ImportError(f"cannot import the main script {path!r} in a worker")
    module = importlib.util.module_from_spec(spec)
    sys.modules[MAIN_ALIAS] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[MAIN_ALIAS]
        raise _main_script_failed(path, exc) from exc
    except BaseException:
        del sys.modules[MAIN_ALIAS]
        raise
    return module


# Patterns compiled on first use (re's cache), in the error paths only: every
# worker imports this module, and compiling them would add to its start.
_GUARD = r"""^if\s+__name__\s*==\s*['"]__main__['"]\s*:"""


def _main_script_failed(path: str, exc: Exception) -> Exception:
    """What a worker reports when re-running the main script to find a function raised."""
    import re

    what = f"{type(exc).__name__}: {exc}"
    try:
        with open(path, encoding="utf-8") as f:
            guarded = re.search(_GUARD, f.read(), re.M) is not None
    except (OSError, UnicodeDecodeError):
        guarded = True  # cannot tell: say nothing about the guard
    if guarded:
        return ImportError(f"a worker could not import the main script {path} to find a function in it: {what}")
    return RuntimeError(
        f"a worker imports the main script {path} to find the function it runs, and the script has no "
        f'`if __name__ == "__main__":` guard, so importing it ran the whole program again in the worker, '
        f"which failed with {what}.  Put the code that starts the work (creating the Executor or Hive "
        f'and using it) under `if __name__ == "__main__":`, as with multiprocessing'
    )


_REFUSED_EXTENSION = r"module (\S+) does not support loading in subinterpreters"


def import_module(name: str) -> "Any":
    """importlib.import_module (without importing importlib into every
    worker), with the reason spelled out when an extension module cannot be
    loaded in a subinterpreter."""
    try:
        __import__(name)
        return sys.modules[name]
    except ImportError as exc:
        import re

        refused = re.search(_REFUSED_EXTENSION, str(exc))
        if refused is None:
            raise
        extension = refused.group(1)
        via = f" (imported by {name})" if extension != name else ""
        raise ImportError(
            f"{extension}{via} cannot be imported in a cohive worker: it is a C extension built with "
            "single-phase init, which CPython refuses to load in an isolated subinterpreter; "
            "known ones include numpy, orjson, msgspec and pydantic-core (cohive's docs/extensions.md "
            "shows ways around it)",
            name=extension,
        ) from exc
