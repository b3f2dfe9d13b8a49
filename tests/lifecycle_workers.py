"""Module-level functions the lifecycle tests run in worker interpreters."""

import os
import threading
from typing import Any

import cohive
from cohive import _cohive


def whoami(ctx: Any) -> None:
    ctx.send(_cohive._interpreter_id())


def leave_a_thread(ctx: Any) -> None:
    gate = cohive.Event(name=ctx.state.get())
    threading.Thread(target=gate.wait, args=(60,)).start()  # still waiting when the worker returns
    ctx.send(_cohive._interpreter_id())


def block_in(ctx: Any, kind: str, name: str) -> None:
    """Blocks forever in one of cohive's calls (nobody else touches `name`)."""
    ctx.send(("ready", ctx.worker_id))
    if kind == "queue-get":
        cohive.Queue(name=name).get()
    elif kind == "queue-put":
        full = cohive.Queue(1, name=name)
        full.put(1)
        full.put(2)
    elif kind == "ref-wait":
        ref = cohive.Ref(name, default=0)
        ref.wait(ref.version)
    elif kind == "lock":
        cohive.Lock(name=name).acquire()
    elif kind == "event":
        cohive.Event(name=name).wait()
    elif kind == "semaphore":
        cohive.Semaphore(0, name=name).acquire()
    elif kind == "barrier":
        # One barrier each: a party leaving a shared one breaks it for the others.
        cohive.Barrier(2, name=f"{name}-{ctx.worker_id}").wait()
    raise AssertionError(f"{kind}: the blocking call returned")


def block_outside_cohive(ctx: Any, fd: int) -> None:
    """Blocks in a plain read of a pipe the test holds (the test's way to
    stand for a C call cohive cannot wake) until the test writes to it."""
    ctx.send(("ready", ctx.worker_id))
    os.read(fd, 1)


def task_blocked_outside_cohive(fd: int) -> None:
    os.read(fd, 1)


def task_started_then_blocked_outside_cohive(fd: int, started: str) -> None:
    cohive.Event(name=started).set()
    os.read(fd, 1)


def task_in_queue_get(name: str) -> None:
    cohive.Queue(name=name).get()


def leaf(x: int) -> int:
    if x < 0:
        raise ValueError(f"leaf {x} refused")
    return x * 10


def middle(x: int) -> int:
    with cohive.Executor(2) as ex:
        return sum(ex.map(leaf, [x, x + 1]))


def top(ctx: Any) -> None:
    """Executors in Executors in a Hive: three levels of workers."""
    for msg in ctx:
        with cohive.Executor(2) as ex:
            ctx.send(list(ex.map(middle, [msg, msg + 1])))


def hive_in_hive(ctx: Any) -> None:
    with cohive.Hive(echo, workers=2) as inner:
        inner.broadcast(ctx.worker_id)
        listen = iter(inner.listen())
        got = sorted([next(listen), next(listen)])
    ctx.send(got)


def echo(ctx: Any) -> None:
    for msg in ctx:
        ctx.send((msg, ctx.worker_id))


def failing_grandchild(ctx: Any) -> None:
    with cohive.Hive(fail, workers=1):
        pass


def fail(ctx: Any) -> None:
    raise KeyError("grandchild")


def inner_blocked(ctx: Any) -> None:
    """A Hive whose own workers block in cohive calls; it sits in its block."""
    with cohive.Hive(block_in, workers=2, args=("queue-get", ctx.state.get())) as inner:
        listen = iter(inner.listen())
        next(listen), next(listen)
        ctx.send("inner ready")
        cohive.Queue(name=ctx.state.get() + "-outer").get()  # until the outer Hive stops
