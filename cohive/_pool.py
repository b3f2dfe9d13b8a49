"""The process-wide pool of idle worker interpreters.

Creating an isolated interpreter costs milliseconds, and CPython 3.12 and
3.13 leak a few MB each time one is destroyed, so a Hive or Executor does
not own its interpreters: it borrows them here and gives them back.  A
worker's code runs in a borrowed interpreter inside the user's cancel scope
(see src/core/cancel.h); afterwards the interpreter forgets that use (its
run namespace, buffered output; one left with threads running is destroyed)
and waits, idle, for the next.  At most ``set_pool_limit()`` interpreters
wait idle; one more given back is destroyed.  Limit 0 turns reuse off.

The pool lives in the main interpreter, where its threads may be daemons
and outlive any worker.  Workers that start workers of their own (a Hive
inside a Hive) send their requests to it through a named Queue, served by
one thread here; so every level draws on the same idle interpreters.

When a use ends, ``(tag, "exited", failure text or None)`` is put into the
caller's reply Queue -- after the interpreter went back to the pool, so a
caller that starts again at once finds it there.

Exit and fork: at exit the idle interpreters are destroyed (each on its own
thread, before CPython finalizes: an interpreter created or destroyed while
the main one finalizes makes CPython print "Exception ignored in m_clear
... No dict watcher set").  CPython's child of a fork crashes if any
subinterpreter exists at the fork, even an idle one: so a fork first
destroys the idle interpreters (the pool refills on the next use), and a
fork while workers run warns, since nothing can save that child.
"""

import atexit
import functools
import os
import sys
import threading
import warnings
from concurrent.futures import Future
from typing import Any

import cohive
from cohive import _ctrl_c
from cohive._interpreters import IN_MAIN_INTERPRETER, Subinterpreter, close_all

_lock = threading.Lock()
_idle: list[Subinterpreter] = []
_running = 0  # interpreters running worker code now
_limit = int(os.environ.get("COHIVE_POOL_LIMIT", max(4, 2 * (os.cpu_count() or 1))))
_server: threading.Thread | None = None


def set_pool_limit(limit: int) -> int:
    """At most `limit` idle worker interpreters are kept for reuse (0: none,
    each is destroyed after its Hive or Executor); returns the previous
    limit.  The default is twice the CPU count (at least 4), or the
    COHIVE_POOL_LIMIT environment variable."""
    global _limit
    if not IN_MAIN_INTERPRETER:
        raise RuntimeError("set_pool_limit() is for the main interpreter: the pool lives there")
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise ValueError(f"the pool limit must be an int >= 0, not {limit!r}")
    with _lock:
        previous, _limit = _limit, limit
        surplus = _idle[limit:]
        del _idle[limit:]
    for interp in surplus:
        interp.retire()
    return previous


def idle_count() -> int:
    """How many worker interpreters wait idle in the pool now."""
    return len(_idle)


def running_count() -> int:
    """How many worker interpreters run worker code now (main interpreter's view)."""
    return _running


def _requests() -> "cohive.Queue[Any]":
    return cohive.Queue(name=f"cohive-pool-requests-{os.getpid()}")


# Made once, here, and kept: the Queue lives as long as the process (made
# again in a forked child, on first use).
_request_queue: "cohive.Queue[Any] | None" = _requests() if IN_MAIN_INTERPRETER else None


def start(jobs: list[tuple[str, int, "cohive.Queue[Any]", Any]]) -> None:
    """Runs each (code, cancel scope, reply Queue, tag) in a pooled interpreter."""
    if IN_MAIN_INTERPRETER:
        _start_here(jobs)
        return
    if not _serving().get():
        raise RuntimeError("a Hive or Executor inside a subinterpreter borrows its workers from the main "
                           "interpreter's pool, which is not running: import cohive.Hive or cohive.Executor "
                           "in the main interpreter first")
    _requests().put(tuple(jobs))


def _serving() -> "cohive.Ref[bool]":
    """True once the thread serving workers' requests runs (and held here, so it lives)."""
    return cohive.Ref(f"cohive-pool-serving-{os.getpid()}", default=False)


_serving_flag: "cohive.Ref[bool] | None" = _serving() if IN_MAIN_INTERPRETER else None


def _start_here(jobs: list[tuple[str, int, "cohive.Queue[Any]", Any]] | tuple[Any, ...]) -> None:
    global _running
    _serve_requests()
    with _lock:
        drawn = [_idle.pop() for _ in range(min(len(jobs), len(_idle)))]
    # New ones are created side by side: each creation takes milliseconds.
    created = [Subinterpreter(name="cohive-worker", wait=False) for _ in range(len(jobs) - len(drawn))]
    try:
        for interp in created:
            interp.wait_created()
    except BaseException:
        # All or none: the drawn ones go back, the new ones are destroyed.
        with _lock:
            _idle.extend(drawn)
        for interp in created:
            interp.retire()
        raise
    for interp, (code, scope, reply, tag) in zip(drawn + created, jobs):
        with _lock:
            _running += 1
        future = interp.submit(code, scope, reset=_limit > 0)  # with no pooling it is destroyed anyway
        future.add_done_callback(functools.partial(_finished, interp, reply, tag))


def _finished(interp: Subinterpreter, reply: "cohive.Queue[Any]", tag: Any, future: "Future[None]") -> None:
    global _running
    failure = future.exception()
    keep = interp.reusable
    with _lock:
        _running -= 1
        keep = keep and len(_idle) < _limit
        if keep:
            _idle.append(interp)
    if not keep:
        interp.retire()
    try:
        reply.put((tag, "exited", str(failure) if failure is not None else None))
    except cohive.QueueClosed:
        pass  # the caller gave up on this worker (it was stuck)


def _serve_requests() -> None:
    """Starts (once) the thread that starts workers for workers."""
    global _server, _request_queue, _serving_flag
    with _lock:
        if _server is not None:
            return
        if _request_queue is None or _serving_flag is None:  # first use after a fork
            _request_queue, _serving_flag = _requests(), _serving()
        _server = threading.Thread(target=_serve, args=(_request_queue,), name="cohive-pool", daemon=True)
        _server.start()
        _serving_flag.set(True)


def _serve(requests: "cohive.Queue[Any]") -> None:
    for jobs in requests:
        try:
            _start_here(jobs)
        except Exception as exc:  # noqa: BLE001 - reported to each requester as its worker's failure
            for _code, _scope, reply, tag in jobs:
                reply.put((tag, "exited", f"cohive could not start a worker interpreter: {exc!r}"))


# How long exit waits for workers still running (a Hive left without
# stopping them, or stuck ones).
EXIT_TIMEOUT = 5.0


def _close_at_exit() -> None:
    with _ctrl_c.held(then_raise=False):  # a Ctrl-C now would only stop the clean-up half-way
        with _lock:
            _idle.clear()
        stuck = close_all(EXIT_TIMEOUT)
    if stuck and sys.version_info < (3, 13):
        # CPython 3.12 aborts at exit while a subinterpreter remains: end the
        # process ourselves, having said why.
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        sys.stderr.write(f"cohive: {len(stuck)} worker interpreter(s) still running at exit; "
                         "ending the process without finalizing\n")
        sys.stderr.flush()
        os._exit(1)


def _before_fork() -> None:
    # CPython's child crashes if any subinterpreter exists at the fork, idle
    # or not: the idle ones are destroyed first (the next Hive makes new ones).
    with _lock:
        idle = _idle[:]
        _idle.clear()
    for interp in idle:
        interp.close()
    if _running:
        warnings.warn(
            f"fork() while {_running} cohive worker interpreter(s) run: CPython cannot copy running "
            "subinterpreters and the child is likely to crash. Fork before starting workers, or use "
            "the 'spawn' or 'forkserver' start method.",
            RuntimeWarning,
            stacklevel=2,
        )


def _forget_in_child() -> None:
    """After a fork, in the child: the interpreters and their threads stayed
    in the parent."""
    global _lock, _running, _server, _request_queue, _serving_flag
    _lock = threading.Lock()
    _request_queue = _serving_flag = None  # not now: a native lock may have been held at the fork
    _idle.clear()
    _running = 0
    _server = None
    from cohive import _interpreters

    _interpreters._hosts.clear()


if IN_MAIN_INTERPRETER:
    _serve_requests()  # so that workers can start workers from now on
    atexit.register(_close_at_exit)
    os.register_at_fork(before=_before_fork, after_in_child=_forget_in_child)
