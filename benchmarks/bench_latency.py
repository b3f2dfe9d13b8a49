"""Latency against the stdlib: one task's round trip and trivial maps, cohive.Executor beside
ThreadPoolExecutor and (3.14+) InterpreterPoolExecutor, from plain code and from asyncio.

"Idle worker": before each task the caller pauses long enough for every
thread involved to have gone to sleep, so a round trip includes the
wake-ups a real, mostly idle service pays, not only a hot loop's.
"""

import asyncio
import concurrent.futures as cf
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench_tasks as tasks  # noqa: E402
import cohive  # noqa: E402
from harness import fmt_time, table  # noqa: E402

# Longer than any spin before a sleep (tens of microseconds), so each task finds its worker asleep.
IDLE_PAUSE = 0.002


def executors() -> dict[str, Any]:
    found: dict[str, Any] = {
        "cohive.Executor": lambda: cohive.Executor(1),
        "ThreadPoolExecutor": lambda: cf.ThreadPoolExecutor(1),
    }
    if hasattr(cf, "InterpreterPoolExecutor"):  # 3.14+
        found["InterpreterPoolExecutor"] = lambda: cf.InterpreterPoolExecutor(1)
    return found


def idle_round_trips(ex: Any, rounds: int) -> list[float]:
    ex.submit(tasks.nothing, 0).result()  # worker started, function imported
    times = []
    for i in range(rounds):
        time.sleep(IDLE_PAUSE)
        start = time.perf_counter()
        ex.submit(tasks.nothing, i).result()
        times.append(time.perf_counter() - start)
    return times


def idle_round_trips_async(ex: Any, rounds: int) -> list[float]:
    async def main() -> list[float]:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(ex, tasks.nothing, 0)
        times = []
        for i in range(rounds):
            time.sleep(IDLE_PAUSE)  # the loop itself idles too: nothing else is scheduled
            start = time.perf_counter()
            await loop.run_in_executor(ex, tasks.nothing, i)
            times.append(time.perf_counter() - start)
        return times

    return asyncio.run(main())


def map_per_task(ex: Any, n: int) -> float:
    list(ex.map(tasks.nothing, range(10)))
    start = time.perf_counter()
    list(ex.map(tasks.nothing, range(n)))
    return (time.perf_counter() - start) / n


def measure(quick: bool = False) -> dict[str, dict[str, float]]:
    """Median seconds per round trip (sync, asyncio) and per task in a trivial map."""
    rounds = 200 if quick else 2_000
    n_map = 1_000 if quick else 10_000
    results: dict[str, dict[str, float]] = {}
    makers = executors()
    # Interleaved: each executor is measured in turn, three times, so machine noise hits all alike.
    samples: dict[str, dict[str, list[float]]] = {name: {"sync": [], "async": [], "map": []} for name in makers}
    for _ in range(3):
        for name, make in makers.items():
            with make() as ex:
                samples[name]["sync"] += idle_round_trips(ex, rounds)
                samples[name]["async"] += idle_round_trips_async(ex, rounds)
                samples[name]["map"].append(map_per_task(ex, n_map))
    for name, s in samples.items():
        results[name] = {kind: statistics.median(values) for kind, values in s.items()}
    return results


def report(results: dict[str, dict[str, float]]) -> str:
    ours = results["cohive.Executor"]
    rows = []
    for name, r in results.items():
        rows.append([name, fmt_time(r["sync"]), f"{r['sync'] / ours['sync']:.2f}x",
                     fmt_time(r["async"]), f"{r['async'] / ours['async']:.2f}x",
                     fmt_time(r["map"]), f"{r['map'] / ours['map']:.2f}x"])
    note = "" if "InterpreterPoolExecutor" in results else " (InterpreterPoolExecutor needs Python 3.14+)"
    return table(f"One worker: a trivial task's round trip with the worker idle, and map of trivial tasks{note}",
                 ["executor", "submit(f).result()", "vs cohive", "await run_in_executor", "vs cohive",
                  "map, per task", "vs cohive"], rows)


if __name__ == "__main__":
    print(report(measure("--quick" in sys.argv)))
