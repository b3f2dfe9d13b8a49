"""cohive.Hive: N worker interpreters, each running main(ctx, *args), around a block.

Shape of a Hive
---------------
Every worker is an isolated interpreter on its own thread (Subinterpreter)
running ``serve_hive`` (cohive/_hive_worker.py), which resolves ``main`` and
runs it, on the worker's own asyncio loop when it is a coroutine function.
Each worker has an inbox Queue: ``push`` puts into the least loaded one,
``broadcast`` into all.  Everything workers ``send`` goes into one outbox,
which ``listen()`` iterates.  ``state`` is a Ref that main and workers share.

A control Queue carries each worker's life: "started", "failed" (with the
error record) and "exited".  One monitor thread in the main interpreter reads
it: start-up waits until every worker started (or one failed: the Hive then
fails fast); a failure later stops every worker and, in ``async with``,
cancels the block, as asyncio.TaskGroup does; once every worker exited the
outbox is closed, so ``listen()`` ends.

Leaving the block stops the workers: the stop Event is set (async workers'
tasks are cancelled; sync workers see ``ctx.stopping``), the inboxes are
closed (``for msg in ctx`` ends) and the Hive's cancel scope is cancelled
(any cohive call a worker is blocked in raises WorkerStopped, which ends
the worker quietly).  Then the Hive waits for every worker to exit, at most
``shutdown_timeout`` seconds; a worker still running after that (blocked
outside cohive, say in time.sleep) is named, with its function, in a
TimeoutError, and left behind: its interpreter is not reused.  The
interpreters come from the process-wide pool (cohive/_pool.py) and go back
to it.  Worker failures are raised as an ExceptionGroup of WorkerError.

A Hive works inside a worker too (workers starting workers): there its
threads cannot be daemons, and its scope sits inside the worker's, so
stopping the outer Hive stops the inner one.

Ctrl-C: a KeyboardInterrupt can land anywhere in the main thread -- while
the workers start, run or stop.  Whichever, the Hive first stops and waits
for its workers, then lets it propagate: an interpreter still being created
or running when CPython finalizes is what prints the "Exception ignored in
m_clear ..." noise.
"""

import inspect
import os
import sys
import threading
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import cohive
from cohive._executor import WorkerError, worker_error
from cohive import _cohive, _ctrl_c, _pool
from cohive._hive_worker import _SENT, _Sent
from cohive._interpreters import IN_MAIN_INTERPRETER, stuck_report
from cohive._shipping import function_ref

if TYPE_CHECKING:
    import asyncio


class Hive:
    """Workers on every core, each running ``main(ctx, *args)`` in its own
    interpreter, sharing ``state`` (a Ref, ``hive.state``) and exchanging
    frozen values.  Use it as ``async with`` (or ``with`` for sync workers).

    ``shutdown_timeout``: how long leaving the block waits for the workers
    to return before it gives up on them and raises TimeoutError.
    """

    def __init__(self, main: Callable[..., Any], *, workers: int | None = None, state: Any = None,
                 args: tuple[Any, ...] = (), shutdown_timeout: float = 10.0) -> None:
        count = workers if workers is not None else (os.cpu_count() or 1)
        if count <= 0:
            raise ValueError(f"workers must be greater than 0, not {count}")
        if not shutdown_timeout >= 0:
            raise ValueError(f"shutdown_timeout must be a number >= 0, not {shutdown_timeout!r}")
        ref = function_ref(main)
        if inspect.iscoroutinefunction(main) and sys.version_info < (3, 13):
            raise RuntimeError(
                f"{ref[1]} is a coroutine function: async Hive workers need CPython 3.13 or newer "
                "(an asyncio event loop inside a subinterpreter corrupts CPython 3.12's heap at exit); "
                "on 3.12 use a plain function (the main interpreter may still use async with)"
            )
        try:
            frozen_args = cohive.freeze(tuple(args))
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"cannot send the args of {ref[1]} to the workers: {exc}") from None
        self._prefix = f"cohive-hive-{os.urandom(8).hex()}"  # unique across interpreters too
        self.state: cohive.Ref[Any] = cohive.Ref(f"{self._prefix}-state", default=state)
        self._count = count
        self._name = f"{ref[0]}.{ref[1]}"
        self._shutdown_timeout = float(shutdown_timeout)
        self._inboxes: list[cohive.Queue[Any]] = [cohive.Queue() for _ in range(count)]
        self._outbox: cohive.Queue[Any] = cohive.Queue()
        self._control: cohive.Queue[Any] = cohive.Queue()
        self._stop = cohive.Event()
        self._config: cohive.Map[str, Any] = cohive.Map(
            main=ref, is_async=inspect.iscoroutinefunction(main), state=self.state, inboxes=self._inboxes,
            outbox=self._outbox, control=self._control, stop=self._stop, args=frozen_args,
        )
        self._scope = 0
        self._errors: list[WorkerError] = []
        self._exited: set[int] = set()
        self._interpreter_ids: dict[int, int] = {}  # worker id: the interpreter it runs in
        self._started = threading.Event()  # every worker started, or one failed
        self._monitor: threading.Thread | None = None
        self._parent: asyncio.Task[Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._cancelled_parent = False
        self._joined = False

    # --- messages -------------------------------------------------------------------

    def push(self, message: Any) -> _Sent:
        """Give message (frozen) to one worker, the least loaded.  Never
        blocks; ``await hive.push(m)`` works too."""
        min(self._inboxes, key=lambda q: q.qsize()).put(message)
        return _SENT

    def broadcast(self, message: Any) -> _Sent:
        """Give message (frozen once, shared by reference) to every worker."""
        frozen = cohive.freeze(message)
        for inbox in self._inboxes:
            inbox.put(frozen)
        return _SENT

    def listen(self) -> "cohive.Queue[Any]":
        """What the workers send, in arrival order: iterate it with ``async
        for`` (or ``for``); it ends once every worker has exited."""
        return self._outbox

    # --- life -------------------------------------------------------------------------

    def _begin(self) -> None:
        with _ctrl_c.held():
            self._start_workers()

    def _start_workers(self) -> None:
        self._scope = _cohive._new_scope()
        self._monitor = threading.Thread(target=self._watch_workers, name="cohive-hive-monitor",
                                         daemon=IN_MAIN_INTERPRETER)
        self._monitor.start()
        self._config_ref = cohive.Ref(f"{self._prefix}-config", default=self._config)
        code = "from cohive._hive_worker import serve_hive\nserve_hive({!r}, {})\n"
        try:
            _pool.start([(code.format(self._config_ref.name, worker_id), self._scope, self._control, worker_id)
                         for worker_id in range(self._count)])
        except BaseException:
            # Workers that never started count as exited (the pool starts all or none).
            for worker_id in range(self._count):
                self._control.put((worker_id, "exited", None))
            raise

    def _watch_workers(self) -> None:
        try:
            while len(self._exited) < self._count:
                worker_id, kind, payload = self._control.get()
                if kind == "started":
                    self._interpreter_ids[worker_id] = payload
                    if len(self._interpreter_ids) == self._count:
                        self._started.set()
                elif kind == "failed":
                    self._fail(worker_error(worker_id, payload))
                else:  # exited
                    self._exited.add(worker_id)
                    if payload is not None:  # the interpreter itself failed (say, cohive would not import)
                        self._fail(WorkerError("cohive._interpreters.InterpreterError", payload, payload,
                                               worker_id=worker_id))
        except cohive.QueueClosed:
            pass  # given up on stuck workers
        self._started.set()
        self._outbox.close()

    def _fail(self, error: WorkerError) -> None:
        self._errors.append(error)
        self._started.set()
        self._stop_workers()
        if self._parent is not None and self._loop is not None and not self._cancelled_parent:
            self._cancelled_parent = True
            self._loop.call_soon_threadsafe(self._parent.cancel)

    def _stop_workers(self) -> None:
        self._stop.set()
        for inbox in self._inboxes:
            inbox.close()
        if self._scope:
            _cohive._cancel_scope(self._scope)

    def _join(self) -> str | None:
        """Stops the workers and waits for them; a report on those still
        running after shutdown_timeout (given up on), else None."""
        if self._joined:
            return None
        self._stop_workers()
        stuck = None
        if self._monitor is not None:
            self._monitor.join(self._shutdown_timeout)
            if self._monitor.is_alive():
                stuck = self._stuck_report()
                self._control.close()
                self._monitor.join()
        if self._scope:
            _cohive._free_scope(self._scope)
        self._joined = True
        return stuck

    def _stuck_report(self) -> str:
        stuck = [i for i in range(self._count) if i not in self._exited]
        return stuck_report(
            f"{len(stuck)} of {self._count} hive workers ({self._name}) still running {self._shutdown_timeout:g} s "
            "after the Hive stopped, blocked outside cohive (cohive's own calls are woken); left running (each "
            "interpreter goes back to the pool if it ever returns):",
            {f"worker {i}, running {self._name}": self._interpreter_ids.get(i) for i in stuck})

    def _join_safely(self) -> str | None:
        return _ctrl_c.finish(self._join)  # type: ignore[no-any-return]

    def _outcome(self, exc: BaseException | None, stuck: str | None = None) -> None:
        """Raise what the block should end with: the workers' failures (and
        the block's own exception) as an ExceptionGroup; stuck workers as a
        TimeoutError (a warning if the block raised anyway)."""
        if stuck is not None and not self._errors and exc is None:
            raise TimeoutError(stuck)
        if stuck is not None:
            warnings.warn(stuck, RuntimeWarning, stacklevel=3)
        if not self._errors:
            return
        failures: list[Exception] = list(self._errors)
        if isinstance(exc, Exception):
            failures.append(exc)
        raise ExceptionGroup(f"{len(self._errors)} of {self._count} hive workers failed", failures)

    def __enter__(self) -> "Hive":
        try:
            self._begin()
            self._started.wait()
        except BaseException:
            self._join_safely()
            raise
        if self._errors:
            self._outcome(None, self._join_safely())
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> Literal[False]:
        stuck = self._join_safely()
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            if stuck is not None:
                warnings.warn(stuck, RuntimeWarning, stacklevel=2)
            return False
        self._outcome(exc, stuck)
        return False

    async def __aenter__(self) -> "Hive":
        import asyncio  # loaded only for async use: it takes tens of milliseconds to import

        self._loop = asyncio.get_running_loop()
        try:
            self._begin()
            await asyncio.to_thread(self._started.wait)
        except BaseException:
            await self._join_async()
            raise
        if self._errors:
            self._outcome(None, await self._join_async())
        self._parent = asyncio.current_task()
        return self

    async def _join_async(self) -> str | None:
        import asyncio

        joining = asyncio.ensure_future(asyncio.to_thread(self._join))
        try:
            return await asyncio.shield(joining)
        except asyncio.CancelledError:
            await joining  # finish cleaning up even when cancelled again
            raise

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> Literal[False]:
        import asyncio

        stuck = await self._join_async()
        if self._cancelled_parent and isinstance(exc, asyncio.CancelledError) and self._parent is not None:
            self._parent.uncancel()  # we cancelled the block because a worker failed
            self._outcome(None, stuck)
        if isinstance(exc, (KeyboardInterrupt, SystemExit, asyncio.CancelledError)):
            if stuck is not None:
                warnings.warn(stuck, RuntimeWarning, stacklevel=2)
            return False
        self._outcome(exc, stuck)
        return False
