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
tasks are cancelled; sync workers see ``ctx.stopping``) and the inboxes are
closed (``for msg in ctx`` ends); then the interpreters are joined and
destroyed.  Worker failures are raised as an ExceptionGroup of WorkerError.
"""

import asyncio
import functools
import inspect
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Literal

import cohive
from cohive._executor import WorkerError, worker_error
from cohive._hive_worker import _SENT, _Sent
from cohive._interpreters import Subinterpreter
from cohive._shipping import function_ref


class Hive:
    """Workers on every core, each running ``main(ctx, *args)`` in its own
    interpreter, sharing ``state`` (a Ref, ``hive.state``) and exchanging
    frozen values.  Use it as ``async with`` (or ``with`` for sync workers).
    """

    def __init__(self, main: Callable[..., Any], *, workers: int | None = None, state: Any = None,
                 args: tuple[Any, ...] = ()) -> None:
        count = workers if workers is not None else (os.cpu_count() or 1)
        if count <= 0:
            raise ValueError(f"workers must be greater than 0, not {count}")
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
        self.state: cohive.Ref[Any] = cohive.Ref(f"cohive-hive-{id(self)}-{os.getpid()}-state", default=state)
        self._count = count
        self._inboxes: list[cohive.Queue[Any]] = [cohive.Queue() for _ in range(count)]
        self._outbox: cohive.Queue[Any] = cohive.Queue()
        self._control: cohive.Queue[Any] = cohive.Queue()
        self._stop = cohive.Event()
        self._config: cohive.Map[str, Any] = cohive.Map(
            main=ref, is_async=inspect.iscoroutinefunction(main), state=self.state, inboxes=self._inboxes,
            outbox=self._outbox, control=self._control, stop=self._stop, args=frozen_args,
        )
        self._interps: list[Subinterpreter] = []
        self._errors: list[WorkerError] = []
        self._started = threading.Event()  # every worker started, or one failed
        self._monitor: threading.Thread | None = None
        self._parent: asyncio.Task[Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._cancelled_parent = False

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
        name = f"cohive-hive-{id(self)}-{os.getpid()}-config"
        self._config_ref = cohive.Ref(name, default=self._config)
        self._monitor = threading.Thread(target=self._watch_workers, name="cohive-hive-monitor", daemon=True)
        self._monitor.start()
        try:
            for worker_id in range(self._count):
                interp = Subinterpreter(name=f"cohive-hive-worker-{worker_id}")
                self._interps.append(interp)
                running = interp.submit(f"from cohive._hive_worker import serve_hive\n"
                                        f"serve_hive({name!r}, {worker_id})\n")
                running.add_done_callback(functools.partial(self._worker_exited, worker_id))
        except BaseException:
            for _ in range(self._count - len(self._interps)):  # workers that never started count as exited
                self._control.put((-1, "exited", None))
            raise

    def _worker_exited(self, worker_id: int, running: "Future[None]") -> None:
        failure = running.exception()
        self._control.put((worker_id, "exited", str(failure) if failure is not None else None))

    def _watch_workers(self) -> None:
        started = exited = 0
        while exited < self._count:
            worker_id, kind, payload = self._control.get()
            if kind == "started":
                started += 1
                if started == self._count:
                    self._started.set()
            elif kind == "failed":
                self._fail(worker_error(worker_id, payload))
            else:  # exited
                exited += 1
                if payload is not None:  # the interpreter itself failed (say, cohive would not import)
                    self._fail(WorkerError("cohive._interpreters.InterpreterError", payload, payload,
                                           worker_id=worker_id))
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

    def _join(self) -> None:
        self._stop_workers()
        if self._monitor is not None:
            self._monitor.join()
        for interp in self._interps:
            interp.close()

    def _outcome(self, exc: BaseException | None) -> None:
        """Raise what the block should end with: the workers' failures (and
        the block's own exception) as an ExceptionGroup."""
        if not self._errors:
            return
        failures: list[Exception] = list(self._errors)
        if isinstance(exc, Exception):
            failures.append(exc)
        raise ExceptionGroup(f"{len(self._errors)} of {self._count} hive workers failed", failures)

    def __enter__(self) -> "Hive":
        self._begin()
        self._started.wait()
        if self._errors:
            self._join()
            self._outcome(None)
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> Literal[False]:
        self._join()
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            return False
        self._outcome(exc)
        return False

    async def __aenter__(self) -> "Hive":
        self._loop = asyncio.get_running_loop()
        self._begin()
        await asyncio.to_thread(self._started.wait)
        if self._errors:
            await asyncio.to_thread(self._join)
            self._outcome(None)
        self._parent = asyncio.current_task()
        return self

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> Literal[False]:
        joining = asyncio.ensure_future(asyncio.to_thread(self._join))
        try:
            await asyncio.shield(joining)
        except asyncio.CancelledError:
            await joining  # finish cleaning up even when cancelled again
            raise
        if self._cancelled_parent and isinstance(exc, asyncio.CancelledError) and self._parent is not None:
            self._parent.uncancel()  # we cancelled the block because a worker failed
            self._outcome(None)
        if isinstance(exc, (KeyboardInterrupt, SystemExit, asyncio.CancelledError)):
            return False
        self._outcome(exc)
        return False
