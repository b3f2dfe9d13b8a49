"""cohive.Executor: concurrent.futures on worker interpreters.

Each worker is an isolated interpreter with its own GIL, on its own thread,
borrowed from the process-wide pool (cohive/_pool.py) for the Executor's
life.  Tasks go to the workers through one cohive.Queue (whichever worker
is free takes the next), results come back through another, read by one
thread that completes the Futures; when a worker's loop ends, the pool
says so on that same Queue, and the reader ends once every worker has.
Arguments and results are frozen values, so a 1M-key Map argument costs O(1).

Shutdown waits for the running tasks, as concurrent.futures does.  With
``shutdown_timeout``, tasks still running after
it are woken the same way, and those still running after it once more are
named in a TimeoutError and left behind.  Created inside a worker, an
Executor's threads are ordinary (not daemon) threads and its cancel scope
sits inside the worker's.
"""

import atexit
import itertools
import os
import pickle
import queue
import sys
import threading
import time
import warnings
import weakref
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import BrokenExecutor, Future, InvalidStateError
from concurrent.futures import Executor as _BaseExecutor
from concurrent.futures import _base as _futures_base
from typing import Any, Literal, TypeVar

import cohive
from cohive import _cohive, _ctrl_c, _pool, _worker
from cohive._interpreters import IN_MAIN_INTERPRETER, stuck_report
from cohive._shipping import function_ref

_T = TypeVar("_T")

# How long a thread about to wait for a result reads it off the outbox
# itself (see Executor._collect_briefly): long enough for a trivial task's
# round trip, short enough that waiting on a slow task wastes little CPU.
_COLLECT_SECONDS = 100e-6
# How long a coroutine's submit waits for the result before it returns (see
# Executor._submitted_by_coroutine), and how many results it may collect so
# in a row before the event loop gets a turn.
_INLINE_SECONDS = 30e-6
_INLINE_STREAK = 8
_NOTHING = object()


def _running_loop() -> Any:
    """The asyncio loop running in this thread, if any (asyncio is not imported for this)."""
    asyncio = sys.modules.get("asyncio")
    return asyncio._get_running_loop() if asyncio is not None else None


class RemoteTraceback(Exception):
    """The traceback of an exception raised in a worker (its __cause__)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return f'\n"""\n{self.text}"""'


class WorkerError(RuntimeError):
    """An exception raised in a worker interpreter.

    ``type_name`` and ``message`` describe the original exception,
    ``traceback`` is its remote traceback text, ``exception`` the original
    exception rebuilt here (None when it does not pickle), and ``worker_id``
    the Hive worker it came from (None for an Executor task).
    """

    def __init__(self, type_name: str, message: str, traceback_text: str, *, worker_id: int | None = None,
                 exception: BaseException | None = None) -> None:
        where = f"worker {worker_id}: " if worker_id is not None else ""
        super().__init__(f"{where}{type_name}: {message}")
        self.type_name, self.message, self.traceback = type_name, message, traceback_text
        self.worker_id, self.exception = worker_id, exception

    def __reduce__(self) -> Any:
        # Pickles (with its cause) so that a grandchild worker's failure
        # reaches the main interpreter whole through its parent worker.
        return (_rebuild_worker_error, (self.type_name, self.message, self.traceback, self.worker_id,
                                        self.exception))


def _rebuild_worker_error(type_name: str, message: str, traceback_text: str, worker_id: int | None,
                          exception: BaseException | None) -> WorkerError:
    error = WorkerError(type_name, message, traceback_text, worker_id=worker_id, exception=exception)
    error.__cause__ = exception
    return error


def _unpickle(record: Any) -> BaseException | None:
    if record["pickled"] is None:
        return None
    try:
        exc = pickle.loads(record["pickled"])
    except Exception:  # noqa: BLE001 - the caller falls back to WorkerError
        return None
    return exc if isinstance(exc, BaseException) else None


def rebuild_exception(record: Any) -> BaseException:
    """The original exception if it can be rebuilt, else a WorkerError; either
    way with the remote traceback as its __cause__."""
    exc = _unpickle(record) or WorkerError(record["type"], record["message"], record["traceback"])
    exc.__cause__ = RemoteTraceback(record["traceback"])
    return exc


def worker_error(worker_id: int, record: Any) -> WorkerError:
    """What a failed Hive worker becomes in the main interpreter."""
    original = _unpickle(record)
    if original is not None:
        original.__cause__ = RemoteTraceback(record["traceback"])
    error = WorkerError(record["type"], record["message"], record["traceback"], worker_id=worker_id,
                        exception=original)
    error.__cause__ = original or RemoteTraceback(record["traceback"])
    return error


class _LazyCondition:
    """A Future's ``_condition``, made when first asked for.  A task that a
    waiting caller collects itself never needs one (see _TaskFuture), and
    making a threading.Condition is the largest cost of a submit after an
    idle spell (2-20 us on cold caches, against ~1 us hot).  setdefault
    makes the first one made the only one."""

    def __get__(self, future: "_TaskFuture | None", owner: Any = None) -> Any:
        if future is None:  # looked up on the class (help(), inspect)
            return self
        condition = threading.Condition()  # Python code, so made before taking _CLAIM (see there)
        with _CLAIM:
            return future.__dict__.setdefault("_condition", condition)


# Held only to look at whether a Future has a condition and change what
# that decides: store one, settle the Future without one, add a callback.
# It is never held while taking another lock (a Condition's included), so
# it cannot take part in a deadlock such as two threads in
# concurrent.futures.wait() taking their Futures' conditions in turn; it
# is re-entrant because a signal handler or a finalizer run by the garbage
# collector may still run under it, and touch a Future.
_CLAIM = threading.RLock()
_CANCELLED = frozenset({_futures_base.CANCELLED, _futures_base.CANCELLED_AND_NOTIFIED})
_DONE = _CANCELLED | {_futures_base.FINISHED}


class _TaskFuture(Future[Any]):
    _condition = _LazyCondition()

    def __init__(self, executor: "Executor", task_id: int, function_name: str) -> None:
        # Future.__init__'s attributes, all but the condition (tests/test_executor.py checks the list).
        self._state, self._result, self._exception = _futures_base.PENDING, None, None
        self._waiters: list[Any] = []
        self._done_callbacks: list[Any] = []
        self._executor, self._task_id, self.function_name = executor, task_id, function_name

    def _settle_quietly(self, result: Any) -> bool:
        """set_result without a condition, if nobody has asked for this
        Future's yet: then nobody can be waiting on it (a waiter takes the
        condition first, and then finds it settled), only callbacks may
        have been added (see add_done_callback), which it calls.  False
        (nothing done) otherwise."""
        with _CLAIM:
            if "_condition" in self.__dict__:
                return False
            self._result, self._state = result, _futures_base.FINISHED
        if self._done_callbacks:  # added before; later ones see FINISHED and run at once
            self._invoke_callbacks()  # type: ignore[attr-defined]  # Future's own, not in its stubs
        return True

    def add_done_callback(self, fn: Callable[["Future[Any]"], object]) -> None:
        # Neither a pending Future without a condition nor a finished one
        # needs a condition for a callback (asyncio.wrap_future adds one):
        # whoever settles the first calls it, and the second calls it now.
        with _CLAIM:
            if "_condition" not in self.__dict__ and self._state == _futures_base.PENDING:
                self._done_callbacks.append(fn)
                return
        if self._state != _futures_base.FINISHED:  # cancelled, or has a condition: as Future does
            super().add_done_callback(fn)
            return
        try:
            fn(self)
        except Exception:
            _futures_base.LOGGER.exception("exception calling callback for %r", self)

    # A state is read in one step, so looking needs no condition (the
    # stdlib's takes one, which asyncio.wrap_future's callback would make).
    def done(self) -> bool:
        return self._state in _DONE

    def cancelled(self) -> bool:
        return self._state in _CANCELLED

    def running(self) -> bool:
        return self._state == _futures_base.RUNNING

    def result(self, timeout: float | None = None) -> Any:
        if self._state != _futures_base.FINISHED:  # final once set: no lock needed to read it
            self._executor._collect_briefly(self, timeout)
        if self._state == _futures_base.FINISHED and self._exception is None:
            return self._result
        return super().result(timeout)

    def exception(self, timeout: float | None = None) -> BaseException | None:
        if self._state == _futures_base.FINISHED:
            return self._exception
        self._executor._collect_briefly(self, timeout)
        return super().exception(timeout)

    def cancel(self) -> bool:
        if not super().cancel():
            return False
        self._notify_cancelled()
        self._executor._skip(self._task_id)
        return True

    def _notify_cancelled(self) -> None:
        """What a thread pool's worker does when it meets a cancelled task:
        concurrent.futures.wait() and as_completed() then count it done."""
        with self._condition:  # once, should two threads cancel it
            if self._state == _futures_base.CANCELLED:
                self.set_running_or_notify_cancel()


class _InlineStreak(threading.local):
    """How many results coroutines in this thread collected in submit since
    the thread's event loop last had a turn (Executor._submitted_by_coroutine);
    one count for every Executor, and for the loop ``loop`` refers to."""

    loop: "weakref.ref[Any] | None" = None
    count = 0

    def end(self) -> None:  # the loop's turn
        self.count = 0


_inline_streak = _InlineStreak()


_live_executors: "weakref.WeakSet[Executor]" = weakref.WeakSet()

# How long leaving an Executor's block on Ctrl-C waits for running tasks
# (twice: before and after waking them) when it has no shutdown_timeout.
INTERRUPTED_SHUTDOWN_TIMEOUT = 5.0


@atexit.register
def _shut_down_all() -> None:
    for executor in list(_live_executors):
        if executor._shutdown_timeout is None:
            executor._shutdown_timeout = _pool.EXIT_TIMEOUT / 2
        executor.shutdown(wait=True)


class Executor(_BaseExecutor):
    """A concurrent.futures.Executor whose workers are subinterpreters.

    Functions must be importable (module-level functions of a module or of
    the ``__main__`` script, as with ProcessPoolExecutor under spawn);
    arguments and results must be shareable (they are frozen).  An exception
    raised by a task re-raises from ``Future.result()``, with the remote
    traceback as its ``__cause__``.

    ``shutdown_timeout`` (None: wait as long as the tasks take) bounds how
    long ``shutdown(wait=True)`` waits for running tasks: after it their
    blocking cohive calls raise WorkerStopped, and tasks still running
    after it once more are named in a TimeoutError and left behind.
    """

    def __init__(
        self,
        max_workers: int | None = None,
        *,
        initializer: Callable[..., object] | None = None,
        initargs: tuple[Any, ...] = (),
        shutdown_timeout: float | None = None,
    ) -> None:
        if max_workers is None:
            max_workers = os.cpu_count() or 1
        if max_workers <= 0:
            raise ValueError(f"max_workers must be greater than 0, not {max_workers}")
        if shutdown_timeout is not None and not shutdown_timeout >= 0:
            raise ValueError(f"shutdown_timeout must be a number >= 0 or None, not {shutdown_timeout!r}")
        prefix = f"cohive-executor-{os.urandom(16).hex()}"
        settings = (function_ref(initializer) if initializer is not None else None, tuple(initargs))
        self._settings = cohive.Ref(f"{prefix}-settings", default=settings)
        self._inbox: cohive.Queue[Any] = cohive.Queue(name=f"{prefix}-in")
        self._outbox: cohive.Queue[Any] = cohive.Queue(name=f"{prefix}-out")
        self._cancelled: cohive.Ref[Any] = cohive.Ref(f"{prefix}-cancelled", default=cohive.Map())
        self._futures: dict[int, _TaskFuture] = {}
        # A task names its function by a small int, which the workers look up in
        # this Ref's Map once per function: a (module, name, path) reference costs
        # every task three strings frozen, read and hashed again.
        self._functions: cohive.Ref[Any] = cohive.Ref(f"{prefix}-functions", default=cohive.Map())
        self._function_ids: dict[Callable[..., Any], tuple[int, str]] = {}
        self._ids = itertools.count()
        self._lock = threading.Lock()
        # Held by a caller collecting results itself, from taking a result off the
        # outbox until it is delivered, so that shutdown never settles that task as
        # abandoned in between; re-entrant, for a done-callback run by that delivery
        # that shuts the Executor down.
        self._collecting = threading.RLock()
        self._shutdown = False
        self._broken: BaseException | None = None
        self._joined = threading.Event()
        self._count = max_workers
        self._exited: set[int] = set()
        self._interpreter_ids: dict[int, int] = {}  # worker index: the interpreter it runs in
        self._shutdown_timeout = shutdown_timeout
        self._scope = _cohive._new_scope()
        code = (
            "from cohive._worker import serve_executor\n"
            f"serve_executor({prefix + '-in'!r}, {prefix + '-out'!r}, {prefix + '-cancelled'!r}, "
            f"{prefix + '-settings'!r}, {prefix + '-functions'!r}, {{}})\n"
        )
        self._reader = threading.Thread(target=self._read_results, name="cohive-executor-results",
                                        daemon=IN_MAIN_INTERPRETER)
        with _ctrl_c.held():
            self._reader.start()
            _live_executors.add(self)
            try:
                _pool.start([(code.format(i), self._scope, self._outbox, ("worker", i)) for i in range(max_workers)])
            except BaseException:
                self._inbox.close()
                for i in range(max_workers):
                    self._outbox.put((("worker", i), "exited", None))
                self._join()
                raise

    def submit(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> "Future[_T]":
        fn_id, name = self._function_id(fn)
        with self._lock:
            if self._broken is not None:
                raise BrokenExecutor(f"the executor is broken: {self._broken}") from self._broken
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            task_id = next(self._ids)
            future = _TaskFuture(self, task_id, name)
            self._futures[task_id] = future
            try:
                # No kwargs travel as None: an empty Map costs a task a microsecond or two.
                self._inbox.put((task_id, fn_id, args, kwargs or None))
            except (TypeError, ValueError) as exc:
                del self._futures[task_id]
                message = str(exc).replace("item[2]", "args", 1).replace("item[3]", "kwargs", 1)
                raise type(exc)(f"cannot send the arguments of {name} to a worker: {message}") from None
        loop = _running_loop()
        if loop is not None:  # submitted by a coroutine, which will await it next (run_in_executor, wrap_future)
            self._submitted_by_coroutine(future, loop)
        return future

    def _submitted_by_coroutine(self, future: _TaskFuture, loop: Any) -> None:
        """Lets a quick result reach a coroutine without a turn of its loop.

        With no other task out, the coroutine waits for the result right
        here, up to _INLINE_SECONDS: the Future it then awaits is finished
        (on 3.14+ so is asyncio.wrap_future's; before, that one is set on the
        loop's next turn), and awaiting a finished Future does not yield.
        So at most _INLINE_STREAK results come this way in a thread before
        its loop has had a turn: a coroutine that awaits quick tasks back to
        back still lets the loop's other tasks run, and a burst of submits
        in one step (asyncio.gather) waits for no more than that many of its
        tasks one after another.  Otherwise, or when the result is slower,
        the loop collects it on its next turn."""
        streak = _inline_streak
        if streak.loop is None or streak.loop() is not loop:  # a new loop (the last may have closed before its turn)
            streak.loop, streak.count = weakref.ref(loop), 0
        if len(self._futures) == 1 and streak.count < _INLINE_STREAK:
            self._collect_briefly(future, _INLINE_SECONDS)
            if future._state in _DONE:
                if streak.count == 0:
                    loop.call_soon(streak.end)
                streak.count += 1
                return
        loop.call_soon(self._collect_for_loop, future, loop)

    def _skip(self, task_id: int) -> None:
        """A cancelled task: its worker skips it (one it already began still
        runs) and says so, and _deliver then takes its id off the list."""
        self._cancelled.update(lambda ids, i: ids.set(i, True), task_id)
        with self._lock:
            answered = task_id not in self._futures
        if answered:  # delivered since the cancel, when _deliver found no id to take off
            self._unskip(task_id)

    def _unskip(self, task_id: int) -> None:
        self._cancelled.update(lambda ids, i: ids.delete(i) if i in ids else ids, task_id)

    def _function_id(self, fn: Callable[..., Any]) -> tuple[int, str]:
        """The number tasks name `fn` by, and its name for messages."""
        try:
            return self._function_ids[fn]
        except (KeyError, TypeError):  # TypeError: unhashable, numbered afresh each time
            pass
        ref = function_ref(fn)
        with self._lock:
            fn_id = len(self._functions.get())
            self._functions.update(lambda table, i, r: table.set(i, r), fn_id, ref)
        try:
            self._function_ids[fn] = (fn_id, ref[1])
        except TypeError:
            pass
        return fn_id, ref[1]

    def map(
        self,
        fn: Callable[..., _T],
        *iterables: Iterable[Any],
        timeout: float | None = None,
        chunksize: int = 1,
        buffersize: int | None = None,
    ) -> Iterator[_T]:
        if chunksize < 1:
            raise ValueError(f"chunksize must be >= 1, not {chunksize}")
        # buffersize (at most that many chunks in flight) is concurrent.futures' own, from 3.14 on.
        limit: dict[str, Any] = {}
        if buffersize is not None:
            if sys.version_info < (3, 14):
                raise TypeError("map(buffersize=...) needs Python 3.14 or newer, as concurrent.futures does")
            limit["buffersize"] = buffersize
        if chunksize == 1:
            return super().map(fn, *iterables, timeout=timeout, **limit)
        ref = function_ref(fn)
        pairs = zip(*iterables)
        chunks = iter(lambda: list(itertools.islice(pairs, chunksize)), [])
        results = super().map(_worker.run_chunk, itertools.repeat(ref), chunks, timeout=timeout, **limit)
        return itertools.chain.from_iterable(results)

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> Literal[False]:
        if not isinstance(exc, (KeyboardInterrupt, SystemExit)):
            self.shutdown(wait=True)
            return False
        # Interrupted: drop the queued tasks, wake the running ones out of
        # cohive calls now, and give the rest a bounded time.
        if self._shutdown_timeout is None:
            self._shutdown_timeout = INTERRUPTED_SHUTDOWN_TIMEOUT
        _cohive._cancel_scope(self._scope)
        try:
            self.shutdown(wait=True, cancel_futures=True)
        except TimeoutError as stuck:
            warnings.warn(str(stuck), RuntimeWarning, stacklevel=2)
        return False

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._shutdown = True
            taken_back = self._take_back_queued() if cancel_futures else []
        for future in taken_back:  # outside the lock: cancelling runs the Futures' callbacks
            if Future.cancel(future):
                future._notify_cancelled()
        self._inbox.close()  # workers finish what is queued, then their loops end
        if wait:
            _ctrl_c.finish(self._join)
        else:
            threading.Thread(target=self._join, name="cohive-executor-shutdown", daemon=True).start()

    def _take_back_queued(self) -> list[_TaskFuture]:
        """Under the lock: remove every task no worker has started; their Futures."""
        taken: list[_TaskFuture] = []
        while True:
            try:
                task_id = self._inbox.get_nowait()[0]
            except (queue.Empty, cohive.QueueClosed):
                return taken
            future = self._futures.pop(task_id, None)
            if future is not None:
                taken.append(future)

    def _join(self) -> None:
        if self._joined.is_set():
            return
        timeout = self._shutdown_timeout
        self._reader.join(timeout)
        if self._reader.is_alive():
            _cohive._cancel_scope(self._scope)  # wake the tasks blocked in cohive calls
            self._reader.join(timeout)
        stuck = self._stuck_report() if self._reader.is_alive() else None
        if stuck is not None:
            self._outbox.close()
            self._reader.join()
        _cohive._free_scope(self._scope)
        self._settle_abandoned()
        self._joined.set()
        _live_executors.discard(self)
        if stuck is not None:
            raise TimeoutError(stuck)

    def _settle_abandoned(self) -> None:
        """Futures no worker will complete (their worker stopped or was left
        behind) fail with WorkerStopped."""
        with self._collecting, self._lock:
            left, self._futures = list(self._futures.values()), {}
        for future in left:
            try:
                future.set_exception(cohive.WorkerStopped("the Executor stopped before this task ended"))
            except InvalidStateError:
                pass  # cancelled meanwhile

    def _stuck_report(self) -> str:
        stuck = [i for i in range(self._count) if i not in self._exited]
        with self._lock:
            running = ", ".join(sorted({f.function_name for f in self._futures.values()})) or "?"
        return stuck_report(
            f"{len(stuck)} of {self._count} executor workers still running {2 * (self._shutdown_timeout or 0):g} s "
            f"after shutdown (tasks of {running}), blocked outside cohive (cohive's own calls were woken); "
            "left running:",
            {f"worker {i}": self._interpreter_ids.get(i) for i in stuck})

    def _read_results(self) -> None:
        try:
            while len(self._exited) < self._count:
                self._deliver(self._outbox.get())
        except cohive.QueueClosed:
            pass  # every worker exited (a caller read the last word) or stuck ones were given up on

    def _collect_briefly(self, future: _TaskFuture, timeout: float | None) -> None:
        """A thread about to wait for `future` reads the outbox itself for a
        few microseconds (GIL released) first: a quick task's result then
        reaches it without waking the reader thread and then this one, two
        thread wake-ups of tens of microseconds each."""
        if not self._collecting.acquire(blocking=False):
            return  # another caller is collecting: wait for the reader as usual
        try:
            deadline = time.perf_counter() + (_COLLECT_SECONDS if timeout is None else min(_COLLECT_SECONDS, timeout))
            while future._state not in _DONE:
                left = deadline - time.perf_counter()
                if left <= 0:
                    return
                try:
                    result = self._outbox._try_get(None, _NOTHING, left)
                except cohive.QueueClosed:
                    return
                if result is _NOTHING:
                    return
                self._deliver(result)
        finally:
            self._collecting.release()

    def _collect_for_loop(self, future: _TaskFuture, loop: Any) -> None:
        """Once the submitting coroutine has yielded, its event loop collects
        briefly too, unless other callbacks are ready to run: a quick result
        then wakes neither the reader thread nor the loop (which a result
        delivered by the reader wakes through call_soon_threadsafe)."""
        if not getattr(loop, "_ready", None):
            self._collect_briefly(future, None)

    def _deliver(self, result: Any) -> None:
        """One message from the workers, read by the reader thread or by a caller collecting briefly."""
        task_id, ok, payload = result
        if isinstance(task_id, tuple):  # ("worker", index): it started, or its loop ended
            if ok == "started":
                self._interpreter_ids[task_id[1]] = payload
                return
            self._exited.add(task_id[1])
            if payload is not None:
                self._break(RuntimeError(payload))
            if len(self._exited) == self._count:
                self._outbox.close()  # ends the reader, even if a caller read this last word
            return
        if task_id == -1:
            self._break(rebuild_exception(payload))
            return
        with self._lock:
            future = self._futures.pop(task_id, None)
        if future is None:
            return
        if ok is None or future.cancelled():  # its worker skipped it (None) or had begun it
            self._unskip(task_id)
            return
        try:
            if ok:
                if not future._settle_quietly(payload):
                    future.set_result(payload)
            else:
                future.set_exception(rebuild_exception(payload))
        except InvalidStateError:
            pass  # cancelled meanwhile

    def _break(self, cause: BaseException) -> None:
        with self._lock:
            if self._broken is not None:
                return
            self._broken = cause
            pending = self._take_back_queued() + list(self._futures.values())
            self._futures = {}
        self._inbox.close()
        for future in pending:
            error = BrokenExecutor(f"a worker's initializer raised {cause!r}")
            error.__cause__ = cause
            try:
                future.set_exception(error)
            except InvalidStateError:
                pass
