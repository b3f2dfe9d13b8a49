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

`--against DIR` instead compares two cohive trees, this one and the one in
DIR (built, say a `git worktree` of the main branch with `setup.py
build_ext --inplace`): back-to-back round trips, sync and from asyncio, in
fresh processes that alternate between the trees, six of each.
"""

import asyncio
import concurrent.futures as cf
import statistics
import subprocess
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


# Run in a fresh process by against(): the tree's cohive is imported first,
# and its folder put back at the head of sys.path (which the workers copy)
# after this module put this tree's there.
_ONE_TREE = """
import sys
tree, here, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
sys.path[:0] = [tree, here]
import cohive
import statistics, bench_latency as b
sys.path.insert(0, tree)
assert cohive.__file__.startswith(tree), cohive.__file__
with cohive.Executor(1) as ex:
    sync = statistics.median(b.round_trips(ex, rounds, 0))
    from_asyncio = statistics.median(b.round_trips_async(ex, rounds, 0))
print(sync, from_asyncio)
"""


def against(other: str, quick: bool = False) -> str:
    """Back-to-back round trips of the cohive in this tree and in `other`, alternating fresh processes."""
    trees = {"this tree": str(Path(__file__).resolve().parent.parent), other: str(Path(other).resolve())}
    here = str(Path(__file__).resolve().parent)
    runs: dict[str, list[list[float]]] = {name: [] for name in trees}
    for _ in range(3 if quick else 6):
        for name, tree in trees.items():
            out = subprocess.run([sys.executable, "-c", _ONE_TREE, tree, here, "500" if quick else "3000"],
                                 capture_output=True, text=True, timeout=300, check=True).stdout
            runs[name].append([float(x) for x in out.split()])
    ours = [statistics.median(r[kind] for r in runs["this tree"]) for kind in (0, 1)]
    rows = []
    for name, results in runs.items():
        row = [name]
        for kind in (0, 1):
            times = sorted(r[kind] for r in results)
            median = statistics.median(times)
            row += [f"{fmt_time(median)} ({fmt_time(times[0])}-{fmt_time(times[-1])})", f"{median / ours[kind]:.2f}x"]
        rows.append(row)
    return table("cohive.Executor(1), back to back: median of the runs' medians (range); each tree over this one",
                 ["tree", "submit(f).result()", "vs this tree", "await run_in_executor", "vs this tree"], rows)


if __name__ == "__main__":
    if "--against" in sys.argv:
        print(against(sys.argv[sys.argv.index("--against") + 1], "--quick" in sys.argv))
    else:
        print(report(measure("--quick" in sys.argv)))
