"""cohive.Executor against ThreadPoolExecutor, ProcessPoolExecutor (spawn) and (3.14+) InterpreterPoolExecutor.

Per-task overhead of a trivial task (submit many, wait for all), the same
task carrying a 100k-entry mapping (a cohive.Map for cohive: O(1); a dict,
pickled, for processes), a CPU-bound map on all cores, and the start-up
time of a worker interpreter.
"""

import concurrent.futures as cf
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench_tasks as tasks  # noqa: E402
import cohive  # noqa: E402
from cohive._interpreters import Subinterpreter  # noqa: E402
from harness import fmt_time, table  # noqa: E402

WORKERS = os.cpu_count() or 2


def pools() -> dict[str, Any]:
    found: dict[str, Any] = {
        "cohive.Executor": lambda: cohive.Executor(WORKERS),
        "ThreadPoolExecutor": lambda: cf.ThreadPoolExecutor(WORKERS),
        "ProcessPoolExecutor": lambda: cf.ProcessPoolExecutor(WORKERS, mp_context=multiprocessing.get_context("spawn")),
    }
    if hasattr(cf, "InterpreterPoolExecutor"):  # 3.14+
        found["InterpreterPoolExecutor"] = lambda: cf.InterpreterPoolExecutor(WORKERS)
    return found


def per_task(ex: Any, fn: Any, arg: Any, n: int) -> float:
    ex.submit(fn, arg).result()  # warm up: workers started, function imported
    start = time.perf_counter()
    futures = [ex.submit(fn, arg) for _ in range(n)]
    for f in futures:
        f.result()
    return (time.perf_counter() - start) / n


def cpu_map(ex: Any, tasks_count: int, size: int) -> float:
    list(ex.map(tasks.burn, [10] * WORKERS))
    start = time.perf_counter()
    list(ex.map(tasks.burn, [size] * tasks_count))
    return time.perf_counter() - start


def run(quick: bool = False) -> str:
    mapping_dict = {f"key:{i}": i for i in range(100_000)}
    mapping_map = cohive.Map(mapping_dict)
    rows = []
    results: dict[str, dict[str, float]] = {}
    for name, make in pools().items():
        with make() as ex:
            trivial = statistics.median(per_task(ex, tasks.nothing, 1, 2_000 if quick else 20_000) for _ in range(3))
            arg = mapping_map if name == "cohive.Executor" else mapping_dict
            n = 20 if name in ("ProcessPoolExecutor", "InterpreterPoolExecutor") else 2_000
            mapping = statistics.median(per_task(ex, tasks.size, arg, n) for _ in range(3))
            cpu = statistics.median(cpu_map(ex, 4 * WORKERS, 100_000 if quick else 1_000_000) for _ in range(3))
        results[name] = {"trivial": trivial, "mapping": mapping, "cpu": cpu}
    ours = results["cohive.Executor"]
    for name, r in results.items():
        row = [name]
        for kind in ("trivial", "mapping", "cpu"):
            row += [fmt_time(r[kind]), f"{r[kind] / ours[kind]:.2f}x"]
        rows.append(row)
    out = [table(f"Executors with {WORKERS} workers (vs cohive: the executor's time over cohive's)",
                 ["executor", "per trivial task", "vs cohive", "per task with a 100k-entry mapping", "vs cohive",
                  f"map of {4 * WORKERS} CPU-bound tasks", "vs cohive"], rows)]

    starts = []
    for _ in range(5):
        t0 = time.perf_counter()
        with Subinterpreter() as interp:
            interp.run("import cohive")
            starts.append(time.perf_counter() - t0)
    out.append(table("Starting a worker interpreter (create + import cohive + destroy)",
                     ["median", "min"], [[fmt_time(statistics.median(starts)), fmt_time(min(starts))]]))
    return "\n".join(out)


if __name__ == "__main__":
    print(run("--quick" in sys.argv))
