"""Isolated subinterpreters (own GIL), each living on its own OS thread.

The one place that knows the version differences: 3.12 has
``_xxsubinterpreters`` (``create(isolated=True)``, ``run_string``), 3.13 and
later have ``_interpreters`` (``create('isolated')``, ``exec``).

An interpreter is created, runs everything and is destroyed on one thread:
CPython 3.12 hangs destroying an interpreter from a thread other than the one
that imported ``threading`` into it (asyncio does), and a thread per
interpreter is what using several cores needs anyway.
"""

import sys
import threading
from concurrent.futures import Future
from queue import SimpleQueue
from typing import Any

if sys.version_info >= (3, 13):
    import _interpreters as _low
else:
    import _xxsubinterpreters as _low


class InterpreterError(RuntimeError):
    """Code run in a subinterpreter raised; the message holds its traceback."""


# Runs the code in a namespace that persists between runs (a module named
# __cohive__, so not __main__) and turns any exception into one whose text
# is the full remote traceback (3.12 keeps only "Type: message" otherwise).
_PRELUDE = """\
import sys as _sys, types as _types
_sys.path[:] = {path!r}
_namespace = _sys.modules.setdefault("__cohive__", _types.ModuleType("__cohive__")).__dict__
try:
    exec(compile({code!r}, "<cohive subinterpreter>", "exec"), _namespace)
except BaseException as _exc:
    import traceback as _tb
    raise RuntimeError("".join(_tb.format_exception(_exc))) from None
"""


def _create() -> Any:
    if sys.version_info >= (3, 13):
        return _low.create("isolated")
    return _low.create(isolated=True)  # 3.12: the returned id object keeps it alive


def _run(interp: Any, code: str) -> None:
    source = _PRELUDE.format(path=list(sys.path), code=code)
    if sys.version_info >= (3, 13):
        failure = _low.exec(interp, source)
        if failure is not None:
            raise InterpreterError("in a subinterpreter:\n" + failure.msg.strip() + "\n")
    else:
        try:
            _low.run_string(interp, source)
        except _low.RunFailedError as exc:
            text = str(exc).removeprefix("<class 'RuntimeError'>: ")
            raise InterpreterError("in a subinterpreter:\n" + text.strip() + "\n") from None


class Subinterpreter:
    """An isolated interpreter and the thread it lives on.

    ``run`` executes code there and waits; ``submit`` returns a Future.
    ``close`` destroys the interpreter, releasing everything it held.
    """

    def __init__(self, name: str = "cohive-interpreter") -> None:
        self._jobs: SimpleQueue[tuple[str, Future[None]] | None] = SimpleQueue()
        created: Future[None] = Future()
        self._thread = threading.Thread(target=self._live, args=(created,), name=name, daemon=True)
        self._thread.start()
        created.result()

    def _live(self, created: "Future[None]") -> None:
        try:
            interp = _create()
        except BaseException as exc:  # noqa: BLE001 - handed to the creator
            created.set_exception(exc)
            return
        created.set_result(None)
        try:
            while (job := self._jobs.get()) is not None:
                code, future = job
                if future.set_running_or_notify_cancel():
                    try:
                        _run(interp, code)
                        future.set_result(None)
                    except BaseException as exc:  # noqa: BLE001 - handed to the caller
                        future.set_exception(exc)
        finally:
            _low.destroy(interp)

    def submit(self, code: str) -> "Future[None]":
        """Run code in the interpreter, on its thread; a Future for the outcome."""
        if not self._thread.is_alive():
            raise RuntimeError("the subinterpreter is closed")
        future: Future[None] = Future()
        self._jobs.put((code, future))
        return future

    def run(self, code: str, timeout: float | None = None) -> None:
        """Run code there and wait; InterpreterError carries the remote traceback."""
        self.submit(code).result(timeout)

    def close(self, timeout: float | None = None) -> None:
        """Destroy the interpreter (after the code queued before) and end its thread."""
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise TimeoutError(f"the subinterpreter is still running code after {timeout} s")

    def __enter__(self) -> "Subinterpreter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
