"""Latency against the stdlib: one task's round trip and trivial maps, cohive.Executor beside
ThreadPoolExecutor and (3.14+) InterpreterPoolExecutor, from plain code and from asyncio.

"Idle worker": before each task the caller pauses long enough for every
thread involved to have gone to sleep, so a round trip includes the
wake-ups a real, mostly idle service pays.  "Back to back": the next task is
submitted as soon as the last result is in, while the worker may still be
spinning for more.  Each executor is measured in turn, round after round,
so the machine's drift hits all alike; each figure is the median over the
rounds of each round's median, and the ratios are the alternative's time
over cohive's (above 1: cohive is faster).
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


def round_trips(ex: Any, rounds: int, pause: float) -> list[float]:
    ex.submit(tasks.nothing, 0).result()  # worker started, function imported
    times = []
    for i in range(rounds):
        if pause:
            time.sleep(pause)
        start = time.perf_counter()
        ex.submit(tasks.nothing, i).result()
        times.append(time.perf_counter() - start)
    return times


def round_trips_async(ex: Any, rounds: int, pause: float) -> list[float]:
    async def main() -> list[float]:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(ex, tasks.nothing, 0)
        times = []
        for i in range(rounds):
            if pause:
                time.sleep(pause)  # the loop itself idles too: nothing else is scheduled
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


KINDS = {
    "sync": "submit(f).result(), worker idle",
    "back_to_back": "submit(f).result(), back to back",
    "async": "await run_in_executor, worker idle",
    "async_back_to_back": "await run_in_executor, back to back",
    "map": "map of trivial tasks, per task",
}


def measure(quick: bool = False) -> dict[str, dict[str, float]]:
    """Median seconds per round trip (sync and asyncio, idle and back to back) and per task in a trivial map."""
    rounds = 200 if quick else 1_000
    n_map = 1_000 if quick else 10_000
    makers = executors()
    per_round: dict[str, dict[str, list[float]]] = {name: {kind: [] for kind in KINDS} for name in makers}
    for _ in range(3 if quick else 5):
        for name, make in makers.items():
            with make() as ex:
                per_round[name]["sync"].append(statistics.median(round_trips(ex, rounds, IDLE_PAUSE)))
                per_round[name]["back_to_back"].append(statistics.median(round_trips(ex, rounds, 0)))
                per_round[name]["async"].append(statistics.median(round_trips_async(ex, rounds, IDLE_PAUSE)))
                per_round[name]["async_back_to_back"].append(statistics.median(round_trips_async(ex, rounds, 0)))
                per_round[name]["map"].append(map_per_task(ex, n_map))
    return {name: {kind: statistics.median(values) for kind, values in kinds.items()}
            for name, kinds in per_round.items()}


def report(results: dict[str, dict[str, float]]) -> str:
    ours = results["cohive.Executor"]
    rows = []
    for name, r in results.items():
        row = [name]
        for kind in KINDS:
            row += [fmt_time(r[kind]), f"{r[kind] / ours[kind]:.2f}x"]
        rows.append(row)
    note = "" if "InterpreterPoolExecutor" in results else " (InterpreterPoolExecutor needs Python 3.14+)"
    headers = ["executor"]
    for title in KINDS.values():
        headers += [title, "vs cohive"]
    return table(f"One worker: a trivial task's round trip and map of trivial tasks; medians of rounds{note}",
                 headers, rows)


if __name__ == "__main__":
    print(report(measure("--quick" in sys.argv)))
