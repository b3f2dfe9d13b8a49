"""Isolated subinterpreters (own GIL), each living on its own OS thread.

The one place that knows the version differences: 3.12 has
``_xxsubinterpreters`` (``create(isolated=True)``, ``run_string``), 3.13 has
``_interpreters`` (``create('isolated')``, ``exec``), and 3.14 and later
have the public ``concurrent.interpreters`` (``create()``, ``exec``, which
raises ExecutionFailed), used wherever it does what we need.

An interpreter is created, runs everything and is destroyed on one thread:
CPython 3.12 hangs destroying an interpreter from a thread other than the one
that imported ``threading`` into it (asyncio does), and a thread per
interpreter is what using several cores needs anyway.  That thread is a
daemon in the main interpreter; inside a subinterpreter (a worker starting
its own workers) daemon threads are refused, so it is an ordinary one there.
"""

import sys
import threading
import time
from concurrent.futures import Future
from queue import SimpleQueue
from typing import Any

from cohive import _cohive


class InterpreterError(RuntimeError):
    """Code run in a subinterpreter raised; the message holds its traceback."""


def _failure(text: str) -> InterpreterError:
    return InterpreterError("in a subinterpreter:\n" + text.strip() + "\n")


if sys.version_info >= (3, 14):
    import concurrent.interpreters as _public

    def _create() -> Any:
        return _public.create()

    def _interpreter_id(interp: Any) -> int:
        return int(interp.id)

    def _exec(interp: Any, source: str) -> None:
        try:
            interp.exec(source)
        except _public.ExecutionFailed as exc:
            raise _failure(exc.excinfo.msg) from None

    def _destroy(interp: Any) -> None:
        interp.close()
elif sys.version_info >= (3, 13):
    import _interpreters as _low

    def _create() -> Any:
        return _low.create("isolated")

    def _interpreter_id(interp: Any) -> int:
        return int(interp)

    def _exec(interp: Any, source: str) -> None:
        failure = _low.exec(interp, source)
        if failure is not None:
            raise _failure(failure.msg)

    def _destroy(interp: Any) -> None:
        _low.destroy(interp)
else:
    import _xxsubinterpreters as _low

    def _create() -> Any:
        return _low.create(isolated=True)  # the returned id object keeps it alive

    def _interpreter_id(interp: Any) -> int:
        return int(interp)

    def _exec(interp: Any, source: str) -> None:
        try:
            _low.run_string(interp, source)
        except _low.RunFailedError as exc:
            raise _failure(str(exc).removeprefix("<class 'RuntimeError'>: ")) from None

    def _destroy(interp: Any) -> None:
        _low.destroy(interp)


IN_MAIN_INTERPRETER: bool = _cohive._in_main_interpreter

# Every live Subinterpreter of this interpreter, so that none outlives it
# (see close_all).
_hosts: "set[Subinterpreter]" = set()


# Runs the code in a namespace that persists between runs of one use (a
# module named __cohive__, so not __main__) and turns any exception into one
# whose text is the full remote traceback (3.12 keeps only "Type: message").
# exec of the source, not of compile()'s result: compile() sets up the ast
# module's hundred-odd classes in the interpreter first (1-2 ms in a new one).
_PRELUDE = """\
import sys as _sys
_sys.path[:] = {path!r}
_namespace = _sys.modules.setdefault("__cohive__", type(_sys)("__cohive__")).__dict__
try:
    exec({code!r}, _namespace)
except BaseException as _exc:
    import traceback as _tb
    raise RuntimeError("".join(_tb.format_exception(_exc))) from None
"""

# What a pooled interpreter forgets between uses: the namespace runs share,
# unflushed output.  Threads the code left running make it unfit for reuse.
_RESET = """\
import sys as _sys
_sys.modules.pop("__cohive__", None)
for _stream in (_sys.stdout, _sys.stderr):
    if _stream is not None:
        _stream.flush()
if "threading" in _sys.modules and _sys.modules["threading"].active_count() > 1:
    raise RuntimeError("threads left running")
del _sys, _stream
"""


def _forget_the_use(interp: Any) -> bool:
    """Runs _RESET there: whether the interpreter is fit for another use."""
    try:
        _exec(interp, _RESET)
    except InterpreterError:
        return False
    return True


def _run(interp: Any, code: str) -> None:
    _exec(interp, _PRELUDE.format(path=list(sys.path), code=code))


class Subinterpreter:
    """An isolated interpreter and the thread it lives on.

    ``run`` executes code there and waits; ``submit`` returns a Future and
    may name a cancel scope the code runs in (see cohive/_pool.py).
    ``reset`` readies it for another use; ``close`` destroys it.
    """

    def __init__(self, name: str = "cohive-interpreter", *, wait: bool = True) -> None:
        self._jobs: SimpleQueue[tuple[str, int, bool, Future[None]] | None] = SimpleQueue()
        self.interpreter_id = -1
        self.reusable = True
        self._created: Future[None] = Future()
        self._thread = threading.Thread(target=self._live, name=name, daemon=IN_MAIN_INTERPRETER)
        _hosts.add(self)
        self._thread.start()
        if wait:
            self.wait_created()

    def wait_created(self) -> None:
        """Until the interpreter exists (re-raises what creating it raised)."""
        self._created.result()

    def _live(self) -> None:
        try:
            interp = _create()
        except BaseException as exc:  # noqa: BLE001 - handed to the creator
            self._created.set_exception(exc)
            _hosts.discard(self)
            return
        self.interpreter_id = _interpreter_id(interp)
        self._created.set_result(None)
        try:
            while (job := self._jobs.get()) is not None:
                self._serve(interp, *job)
                job = None  # idle, it holds nothing of the last use (whose Queues would stay alive)
        finally:
            _cohive._forget_interpreter(self.interpreter_id)
            _destroy(interp)
            _hosts.discard(self)

    def _serve(self, interp: Any, code: str, scope: int, reset: bool, future: "Future[None]") -> None:
        if not future.set_running_or_notify_cancel():
            return
        previous = _cohive._enter_scope(scope)
        try:
            _run(interp, code)
            failure: BaseException | None = None
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            failure = exc
        finally:
            _cohive._enter_scope(previous)
        if not (reset and _forget_the_use(interp)):
            self.reusable = False  # nothing vouches for it now
        if failure is None:
            future.set_result(None)
        else:
            future.set_exception(failure)

    def submit(self, code: str, scope: int = 0, *, reset: bool = False) -> "Future[None]":
        """Run code in the interpreter, on its thread, inside cancel scope
        `scope` (0: none); a Future for the outcome.  With `reset`, what
        the code left behind is forgotten before the Future completes, and
        ``reusable`` then says whether the interpreter can serve again."""
        if not self._thread.is_alive():
            raise RuntimeError("the subinterpreter is closed")
        future: Future[None] = Future()
        self._jobs.put((code, scope, reset, future))
        return future

    def run(self, code: str, timeout: float | None = None) -> None:
        """Run code there and wait; InterpreterError carries the remote traceback."""
        self.submit(code).result(timeout)

    def retire(self) -> None:
        """Destroy the interpreter once the code queued before has run; no waiting."""
        self._jobs.put(None)

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


def close_all(timeout: float) -> list["Subinterpreter"]:
    """Destroy every Subinterpreter once its current code ends, waiting up
    to `timeout` seconds in all; those still running code then."""
    hosts = list(_hosts)
    for host in hosts:
        host.retire()
    deadline = time.monotonic() + timeout
    for host in hosts:
        host._thread.join(max(0.0, deadline - time.monotonic()))
    return [host for host in hosts if host._thread.is_alive()]


def stuck_report(headline: str, workers: dict[str, int | None]) -> str:
    """The headline, then for each stuck worker (label: the interpreter it
    runs in, None if unknown) its Python stack, read from outside it.  Read
    on a helper thread: an interpreter whose code never lets go of its GIL
    (a C loop) gives nothing within a second and is reported without."""
    found: dict[int, str] = {}

    def read() -> None:
        for interpreter_id in workers.values():
            text = _cohive._interpreter_stack(interpreter_id) if interpreter_id is not None else None
            if text and interpreter_id is not None:
                found[interpreter_id] = text

    reader = threading.Thread(target=read, name="cohive-stack-reader", daemon=IN_MAIN_INTERPRETER)
    reader.start()
    reader.join(1.0)
    lines = [headline]
    for label, interpreter_id in workers.items():
        stack = found.get(interpreter_id, "  (its stack could not be read)") if interpreter_id is not None else ""
        lines.append(f"{label}:\n{stack.rstrip()}")
    return "\n".join(lines)
