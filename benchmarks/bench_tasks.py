"""Module-level functions that benchmark workers import (executor tasks, stdlib queue peers)."""

from typing import Any


def nothing(x: int) -> int:
    return x


def size(m: Any) -> int:
    return len(m)


def burn(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def echo(q_in: Any, q_out: Any) -> None:
    """For concurrent.interpreters (3.14+): bounce items back until None."""
    while (item := q_in.get()) is not None:
        q_out.put(item)


def produce(q: Any, n: int) -> None:
    """For concurrent.interpreters (3.14+): n small ints."""
    for i in range(n):
        q.put(i)
