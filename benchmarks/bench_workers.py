"""Workers reading one shared 1e6-key Map: a Hive against threads and multiprocessing.

The same random lookups for a fixed time, run by 1 and N worker
interpreters, by N threads in one interpreter (on the dict), and by N spawned
processes (each gets the dict pickled): time until the workers can read the
data, total lookups per second, and memory.  Memory is the peak resident
memory the run adds to this process, plus the data it reads: cohive's one
shared Map, the threads' dict, and for processes each worker process's whole
peak (which holds its copy of the dict).
"""

import os
import sys
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cohive  # noqa: E402
from cohive._demo import _process_lookups, _run_hive, _thread_lookups  # noqa: E402
from harness import fmt_rate, table  # noqa: E402


def run(quick: bool = False) -> str:
    keys = 100_000 if quick else 1_000_000
    workers = os.cpu_count() or 2
    seconds = 1.0 if quick else 3.0
    tracemalloc.start()
    plain = {f"user:{i}": i for i in range(keys)}
    dict_bytes = tracemalloc.get_traced_memory()[0]  # the dict with its keys and values
    tracemalloc.stop()
    before = cohive.native_bytes()
    data = cohive.Map(plain)
    shared = cohive.native_bytes() - before
    runs = {
        f"cohive.Hive, {workers} workers": _run_hive(data, workers, keys, seconds, live=False),
        "cohive.Hive, 1 worker": _run_hive(data, 1, keys, seconds, live=False),
        f"{workers} threads, one interpreter": _thread_lookups(plain, workers, keys, seconds),
        f"multiprocessing, {workers} processes": _process_lookups(plain, workers, keys, seconds),
    }
    hive = runs[f"cohive.Hive, {workers} workers"]
    hive_memory = shared + hive["memory"]
    rows = []
    for name, r in runs.items():
        data_bytes = shared if name.startswith("cohive") else dict_bytes if "threads" in name else 0
        memory = r["memory"] + data_bytes  # processes: each worker's peak already holds its copy
        rows.append([name, f"{r['ship'] * 1e3:.0f} ms", fmt_rate(r["rate"]), f"{r['rate'] / hive['rate']:.2f}x",
                     f"{memory / 2**20:.0f} MiB", f"{memory / hive_memory:.2f}x"])
    return table(f"{keys:,} keys, {workers} cores, {seconds:g} s of random lookups per run",
                 ["workers", "data to workers", "lookups/s", "vs the hive", "memory (data + workers)",
                  "memory vs the hive"], rows)


if __name__ == "__main__":
    print(run("--quick" in sys.argv))
