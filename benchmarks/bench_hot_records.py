"""Hot records read by many cores: N Hive workers reading the same few nested records.

Every worker reads `m[k]["age"]` over the same 1,000 records of a shared
Map for a fixed time.  A read that wrote anything shared (a reference count
on the record, as cohive did before reads became zero-write) turns those
records' cache lines into contended ones, and adding cores stops adding
reads; a read that writes nothing scales with the cores.  Speed-up is over
one worker.
"""

import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.append(str(Path(__file__).resolve().parent.parent))  # PYTHONPATH may pick another build

import cohive  # noqa: E402
from harness import fmt_rate, table  # noqa: E402

HOT = 1_000


def read_hot(ctx: Any, seconds: float) -> None:
    """A worker: nested reads of the hot records until the time is up."""
    m = ctx.state.get()
    keys = [f"user:{i}" for i in range(HOT)]
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for k in keys:
            m[k]["age"]
        done += HOT
    ctx.send(done)


def _rate(data: Any, workers: int, seconds: float) -> float:
    with cohive.Hive(read_hot, workers=workers, state=data, args=(seconds,)) as hive:
        total = 0
        for n, message in enumerate(hive.listen(), 1):
            total += message if isinstance(message, int) else message[1]
            if n == workers:
                break
    return total / seconds


def run(quick: bool = False) -> str:
    seconds = 0.5 if quick else 2.0
    data = cohive.Map({f"user:{i}": {"name": f"user {i}", "age": i % 90, "tags": ["a", "b"]} for i in range(HOT)})
    cores = os.cpu_count() or 2
    counts = [n for n in (1, 2, 4, 8, 16, 32, 64) if n < cores] + [cores]
    rows, one = [], 0.0
    for n in counts:
        rate = _rate(data, n, seconds)
        one = one or rate
        rows.append([str(n), fmt_rate(rate), f"{rate / one:.2f}x"])
    return table(f"{HOT:,} hot records, m[k]['age'] for {seconds:g} s per run, {cores} cores",
                 ["workers", "nested reads/s", "vs 1 worker"], rows)


if __name__ == "__main__":
    print(run("--quick" in sys.argv))
