"""Scaling with cores: 1, 2, 4 ... N workers reading one shared Map and running CPU-bound tasks.

Two workloads, each run with every worker count up to the machine's cores:

- lookups: random lookups in a 1e6-key Map for a fixed time, by a Hive of N
  worker interpreters (one shared Map), by N threads in one interpreter (one
  dict) and by N spawned processes (each gets the dict pickled); total
  lookups per second and the speed-up over one worker of the same kind.
- tasks: a pure-Python CPU-bound function mapped over a fixed batch by
  cohive.Executor, ThreadPoolExecutor, ProcessPoolExecutor and, on 3.14+,
  the stdlib's InterpreterPoolExecutor; tasks per second and speed-up.

A 2-core machine cannot show scaling; this is the benchmark to run on a
many-core one (``./dev bench scaling``).
"""

import concurrent.futures as cf
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cohive  # noqa: E402
from bench_tasks import burn  # noqa: E402
from cohive._demo import _process_lookups, _run_hive, _thread_lookups  # noqa: E402
from harness import fmt_rate, table  # noqa: E402


def _worker_counts() -> list[int]:
    cores = os.cpu_count() or 2
    counts = [n for n in (1, 2, 4, 8, 16, 32, 64) if n < cores]
    return counts + [cores]


def _lookup_rows(keys: int, seconds: float) -> list[list[str]]:
    plain = {f"user:{i}": i for i in range(keys)}
    data = cohive.Map(plain)
    kinds: dict[str, Callable[[int], dict[str, float]]] = {
        "cohive.Hive (one shared Map)": lambda n: _run_hive(data, n, keys, seconds, live=False),
        "threads, one interpreter (dict)": lambda n: _thread_lookups(plain, n, keys, seconds),
        "multiprocessing spawn (dict each)": lambda n: _process_lookups(plain, n, keys, seconds),
    }
    rows = []
    for kind, run_with in kinds.items():
        one = 0.0
        for n in _worker_counts():
            rate = run_with(n)["rate"]
            one = one or rate
            rows.append([kind, str(n), fmt_rate(rate), f"{rate / one:.2f}x"])
    return rows


def _executors() -> dict[str, Callable[[int], cf.Executor]]:
    makers: dict[str, Callable[[int], cf.Executor]] = {
        "cohive.Executor": lambda n: cohive.Executor(n),
        "ThreadPoolExecutor": lambda n: cf.ThreadPoolExecutor(n),
        "ProcessPoolExecutor": lambda n: cf.ProcessPoolExecutor(n),
    }
    if sys.version_info >= (3, 14):
        makers["InterpreterPoolExecutor (stdlib)"] = lambda n: cf.InterpreterPoolExecutor(n)  # type: ignore[attr-defined]
    return makers


def _task_rows(tasks: int, work: int) -> list[list[str]]:
    rows = []
    for kind, make in _executors().items():
        one = 0.0
        for n in _worker_counts():
            with make(n) as executor:
                list(executor.map(burn, [1] * n))  # every worker started and warm
                start = time.perf_counter()
                results: Any = list(executor.map(burn, [work] * tasks))
                elapsed = time.perf_counter() - start
            assert len(results) == tasks
            rate = tasks / elapsed
            one = one or rate
            rows.append([kind, str(n), f"{rate:,.0f}/s", f"{rate / one:.2f}x"])
    return rows


def run(quick: bool = False) -> str:
    keys = 100_000 if quick else 1_000_000
    seconds = 0.5 if quick else 2.0
    tasks, work = (64, 20_000) if quick else (256, 200_000)
    cores = os.cpu_count()
    lookups = table(f"{keys:,} keys, {seconds:g} s of random lookups per run, {cores} cores",
                    ["workers", "N", "lookups/s", "vs 1 of the same"], _lookup_rows(keys, seconds))
    cpu = table(f"{tasks} CPU-bound tasks of {work:,} loop steps each, {cores} cores",
                ["executor", "N", "tasks/s", "vs 1 of the same"], _task_rows(tasks, work))
    return lookups + "\n\n" + cpu


if __name__ == "__main__":
    print(run("--quick" in sys.argv))
