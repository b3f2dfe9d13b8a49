"""cohive.Executor: concurrent.futures on worker interpreters.

Each worker is an isolated interpreter with its own GIL, on its own thread,
created once and reused.  Tasks go to the workers through one cohive.Queue
(whichever worker is free takes the next), results come back through
another, read by one thread that completes the Futures.  Arguments and
results are frozen values, so a 1M-key Map argument costs O(1).
"""

import atexit
import itertools
import os
import pickle
import queue
import sys
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import BrokenExecutor, Future, InvalidStateError
from concurrent.futures import Executor as _BaseExecutor
from typing import Any, TypeVar

import cohive
from cohive import _worker
from cohive._interpreters import Subinterpreter
from cohive._shipping import FunctionRef, function_ref

_T = TypeVar("_T")

# How long a thread about to wait for a result reads it off the outbox
# itself (see Executor._collect_briefly): long enough for a trivial task's
# round trip, short enough that waiting on a slow task wastes little CPU.
_COLLECT_SECONDS = 100e-6
_NOTHING = object()


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


class _TaskFuture(Future[Any]):
    def __init__(self, executor: "Executor", task_id: int) -> None:
        super().__init__()
        self._executor, self._task_id = executor, task_id

    def result(self, timeout: float | None = None) -> Any:
        self._executor._collect_briefly(self, timeout)
        return super().result(timeout)

    def exception(self, timeout: float | None = None) -> BaseException | None:
        self._executor._collect_briefly(self, timeout)
        return super().exception(timeout)

    def cancel(self) -> bool:
        if not super().cancel():
            return False
        # The worker skips a task it finds here (one it already began still runs).
        self._executor._cancelled.update(lambda ids, i: ids.set(i, True), self._task_id)
        return True


_live_executors: "weakref.WeakSet[Executor]" = weakref.WeakSet()


@atexit.register
def _shut_down_all() -> None:
    for executor in list(_live_executors):
        executor.shutdown(wait=True)


class Executor(_BaseExecutor):
    """A concurrent.futures.Executor whose workers are subinterpreters.

    Functions must be importable (module-level functions of a module or of
    the ``__main__`` script, as with ProcessPoolExecutor under spawn);
    arguments and results must be shareable (they are frozen).  An exception
    raised by a task re-raises from ``Future.result()``, with the remote
    traceback as its ``__cause__``.
    """

    def __init__(
        self,
        max_workers: int | None = None,
        *,
        initializer: Callable[..., object] | None = None,
        initargs: tuple[Any, ...] = (),
    ) -> None:
        if max_workers is None:
            max_workers = os.cpu_count() or 1
        if max_workers <= 0:
            raise ValueError(f"max_workers must be greater than 0, not {max_workers}")
        prefix = f"cohive-executor-{uuid.uuid4().hex}"
        settings = (function_ref(initializer) if initializer is not None else None, tuple(initargs))
        self._settings = cohive.Ref(f"{prefix}-settings", default=settings)
        self._inbox: cohive.Queue[Any] = cohive.Queue(name=f"{prefix}-in")
        self._outbox: cohive.Queue[Any] = cohive.Queue(name=f"{prefix}-out")
        self._cancelled: cohive.Ref[Any] = cohive.Ref(f"{prefix}-cancelled", default=cohive.Map())
        self._futures: dict[int, _TaskFuture] = {}
        self._function_refs: dict[Callable[..., Any], FunctionRef] = {}
        self._ids = itertools.count()
        self._lock = threading.Lock()
        self._shutdown = False
        self._broken: BaseException | None = None
        self._joined = threading.Event()
        self._workers = [Subinterpreter(name=f"cohive-executor-worker-{i}") for i in range(max_workers)]
        code = (
            "from cohive._worker import serve_executor\n"
            f"serve_executor({prefix + '-in'!r}, {prefix + '-out'!r}, {prefix + '-cancelled'!r}, "
            f"{prefix + '-settings'!r})\n"
        )
        self._serving = [w.submit(code) for w in self._workers]
        self._reader = threading.Thread(target=self._read_results, name="cohive-executor-results", daemon=True)
        self._reader.start()
        _live_executors.add(self)

    def submit(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> "Future[_T]":
        ref = self._function_ref(fn)
        with self._lock:
            if self._broken is not None:
                raise BrokenExecutor(f"the executor is broken: {self._broken}") from self._broken
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            task_id = next(self._ids)
            future = _TaskFuture(self, task_id)
            self._futures[task_id] = future
            try:
                # No kwargs travel as None: an empty Map costs a task a microsecond or two.
                self._inbox.put((task_id, ref, args, kwargs or None))
            except (TypeError, ValueError) as exc:
                del self._futures[task_id]
                message = str(exc).replace("item[2]", "args", 1).replace("item[3]", "kwargs", 1)
                raise type(exc)(f"cannot send the arguments of {ref[1]} to a worker: {message}") from None
        return future

    def _function_ref(self, fn: Callable[..., Any]) -> FunctionRef:
        # Looked up once per function: it costs microseconds a task otherwise.
        try:
            return self._function_refs[fn]
        except KeyError:
            ref = self._function_refs[fn] = function_ref(fn)
            return ref
        except TypeError:  # unhashable: function_ref explains what can be sent
            return function_ref(fn)

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
        ref = self._function_ref(fn)
        pairs = zip(*iterables)
        chunks = iter(lambda: list(itertools.islice(pairs, chunksize)), [])
        results = super().map(_worker.run_chunk, itertools.repeat(ref), chunks, timeout=timeout, **limit)
        return itertools.chain.from_iterable(results)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._shutdown = True
            if cancel_futures:
                for future in self._take_back_queued():
                    Future.cancel(future)
        self._inbox.close()  # workers finish what is queued, then their loops end
        if wait:
            self._join()
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
        for serving in self._serving:
            serving.exception()  # the serve loops end once the inbox is closed and drained
        for worker in self._workers:
            worker.close()
        self._outbox.close()
        self._reader.join()
        self._joined.set()
        _live_executors.discard(self)

    def _read_results(self) -> None:
        for result in self._outbox:
            self._deliver(result)

    def _collect_briefly(self, future: _TaskFuture, timeout: float | None) -> None:
        """A thread about to wait for `future` reads the outbox itself for a
        few microseconds (GIL released) first: a quick task's result then
        reaches it without waking the reader thread and then this one, two
        thread wake-ups of tens of microseconds each."""
        deadline = time.perf_counter() + min(_COLLECT_SECONDS, _COLLECT_SECONDS if timeout is None else timeout)
        while not future.done():
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

    def _deliver(self, result: Any) -> None:
        task_id, ok, payload = result
        if task_id == -1:
            self._break(rebuild_exception(payload))
            return
        with self._lock:
            future = self._futures.pop(task_id, None)
        if future is None:
            return
        try:
            if ok:
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
