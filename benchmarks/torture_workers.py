"""Module-level functions the torture run (benchmarks/torture.py) runs in workers."""

import time
from typing import Any

import cohive


def echo(ctx: Any) -> None:
    for msg in ctx:
        ctx.send(msg)


def square(x: int) -> int:
    return x * x


def blocked_in_cohive(ctx: Any) -> None:
    cohive.Queue(name=f"torture-nobody-puts-{ctx.worker_id}").get()


def sleeping(ctx: Any, seconds: float) -> None:
    ctx.send("ready")
    time.sleep(seconds)


def produce(ctx: Any, name: str) -> None:
    """Puts numbered items until the queue is closed; sends how many went in."""
    queue = cohive.Queue(name=name)
    count = 0
    try:
        while True:
            queue.put((ctx.worker_id, count))
            count += 1
    except cohive.QueueClosed:
        ctx.send(("put", count))


def consume(ctx: Any, name: str) -> None:
    queue = cohive.Queue(name=name)
    count = 0
    for _ in queue:  # until closed and drained
        count += 1
    ctx.send(("got", count))


def nested(ctx: Any) -> None:
    for depth in ctx:
        ctx.send(descend(depth))


def descend(depth: int) -> int:
    if depth == 0:
        return 1
    with cohive.Executor(2) as ex:
        return sum(ex.map(descend, [depth - 1, depth - 1]))
