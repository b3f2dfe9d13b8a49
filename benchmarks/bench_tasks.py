"""Module-level functions that benchmark workers import (executor tasks, Hive workers, stdlib queue peers).

Light on purpose: a worker imports this module, so whatever it imports adds
to the start-up that bench_startup measures (typing alone would add ~2 ms).
"""

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def nothing(x: int) -> int:
    return x


def size(m: "Any") -> int:
    return len(m)


def burn(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def echo(q_in: "Any", q_out: "Any") -> None:
    """For concurrent.interpreters (3.14+): bounce items back until None."""
    while (item := q_in.get()) is not None:
        q_out.put(item)


def produce(q: "Any", n: int) -> None:
    """For concurrent.interpreters (3.14+): n small ints."""
    for i in range(n):
        q.put(i)


def hive_echo(ctx: "Any") -> None:
    """A Hive worker: sends back every message it is given."""
    for msg in ctx:
        ctx.send(msg)
