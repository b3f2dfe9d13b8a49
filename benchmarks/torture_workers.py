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
