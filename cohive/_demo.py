"""The workers demo: N worker interpreters reading one shared Map, live.

``python -m cohive demo`` builds a Map of --keys items, starts one worker
per core in a Hive, prints each worker's lookups per second as they run,
then does the same work with one worker, with threads in one interpreter
(on the dict) and with multiprocessing (each process gets the dict pickled),
and prints a side-by-side summary: time to get the data to the workers,
total lookups per second, and the memory the workers add.
"""

import multiprocessing
import os
import random
import sys
import threading
import time
from typing import Any

import cohive

REPORT_EVERY = 0.25  # seconds between a worker's progress reports
BATCH = 2_000  # lookups between clock checks


def _status_kib(field: str) -> int:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _reset_peak() -> None:
    """Restart this process's peak-resident count (Linux: clear_refs 5)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def _peak_bytes() -> int:
    return _status_kib("VmHWM") * 1024


def _resident_bytes() -> int:
    return _status_kib("VmRSS") * 1024


def _progress(index: Any, keys: int, seconds: float) -> Any:
    """Random lookups in `index` for `seconds`; yields (lookups, elapsed) every REPORT_EVERY."""
    rng = random.Random()
    done, start = 0, time.perf_counter()
    last = start
    while True:
        for _ in range(BATCH):
            index[f"user:{rng.randrange(keys)}"]
        done += BATCH
        now = time.perf_counter()
        if now - last >= REPORT_EVERY or now - start >= seconds:
            yield done, now - start
            last = now
        if now - start >= seconds:
            return


def _lookups(index: Any, keys: int, seconds: float) -> int:
    done = 0
    for done, _ in _progress(index, keys, seconds):
        pass
    return done


async def async_worker(ctx: Any, keys: int, seconds: float) -> None:
    """The headline worker: an async function on its own interpreter's loop."""
    index = ctx.state.get()  # the shared Map, O(1)
    for done, elapsed in _progress(index, keys, seconds):
        await ctx.send((ctx.worker_id, done, elapsed))  # never blocks
    await ctx.send(("done", ctx.worker_id, done))


def sync_worker(ctx: Any, keys: int, seconds: float) -> None:
    """The same work for CPython 3.12, where async workers are refused."""
    index = ctx.state.get()
    for done, elapsed in _progress(index, keys, seconds):
        ctx.send((ctx.worker_id, done, elapsed))
    ctx.send(("done", ctx.worker_id, done))


def _run_hive(data: "cohive.Map[str, int]", workers: int, keys: int, seconds: float, live: bool) -> dict[str, float]:
    worker = async_worker if sys.version_info >= (3, 13) else sync_worker
    before = _resident_bytes()
    _reset_peak()
    start = time.perf_counter()
    on_terminal = live and sys.stdout.isatty()
    with cohive.Hive(worker, workers=workers, state=data, args=(keys, seconds)) as hive:
        ready = time.perf_counter() - start
        rates = [0.0] * workers
        finished: dict[int, int] = {}
        line = ""
        for message in hive.listen():
            if message[0] == "done":
                finished[message[1]] = message[2]
                if len(finished) == workers:
                    break
                continue
            worker_id, done, elapsed = message
            rates[worker_id] = done / elapsed
            line = " ".join(f"w{i} {r / 1e6:5.2f}M" for i, r in enumerate(rates))
            line = f"  {line}   total {sum(rates) / 1e6:6.2f} M lookups/s"
            if on_terminal:
                print("\r" + line, end="", flush=True)
    if live:
        print(("\r" if on_terminal else "") + line)
    return {"ship": ready, "rate": sum(finished.values()) / seconds, "memory": _peak_bytes() - before}


def _thread_lookups(data: dict[str, int], workers: int, keys: int, seconds: float) -> dict[str, float]:
    totals = [0] * workers
    before = _resident_bytes()
    _reset_peak()

    def run(i: int) -> None:
        totals[i] = _lookups(data, keys, seconds)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"ship": 0.0, "rate": sum(totals) / seconds, "memory": _peak_bytes() - before}


def _process_worker(data: dict[str, int], keys: int, seconds: float, ready: Any, go: Any, out: Any) -> None:
    ready.set()  # the dict has arrived (it was pickled into this process)
    go.wait()
    done = _lookups(data, keys, seconds)
    out.put((done, _peak_bytes()))  # the whole process: interpreter and its copy of the dict


def _process_lookups(data: dict[str, int], workers: int, keys: int, seconds: float) -> dict[str, float]:
    ctx = multiprocessing.get_context("spawn")
    out, go = ctx.Queue(), ctx.Event()
    readies = [ctx.Event() for _ in range(workers)]
    start = time.perf_counter()
    procs = [ctx.Process(target=_process_worker, args=(data, keys, seconds, readies[i], go, out))
             for i in range(workers)]
    for p in procs:
        p.start()
    for r in readies:
        r.wait()
    ship = time.perf_counter() - start
    go.set()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    return {"ship": ship, "rate": sum(done for done, _ in results) / seconds,
            "memory": sum(peak for _, peak in results)}


def run_demo(keys: int, workers: int, seconds: float) -> None:
    mode = "async" if sys.version_info >= (3, 13) else "sync (CPython 3.12: async workers need 3.13)"
    print(f"cohive {cohive.__version__}, Python {sys.version.split()[0]}, {os.cpu_count()} cores\n")
    print(f"Building a Map of {keys:,} items ...", end=" ", flush=True)
    plain = {f"user:{i}": i for i in range(keys)}
    start = time.perf_counter()
    data = cohive.Map(plain)
    print(f"{(time.perf_counter() - start) * 1e3:.0f} ms\n")
    print(f"{workers} {mode} workers, each in its own interpreter, reading the same Map for {seconds:g} s:")
    results = {f"cohive.Hive, {workers} workers": _run_hive(data, workers, keys, seconds, live=True)}
    print("\nThe same work, other ways (one moment) ...", flush=True)
    results["cohive.Hive, 1 worker"] = _run_hive(data, 1, keys, seconds, live=False)
    results[f"{workers} threads, one interpreter (dict)"] = _thread_lookups(plain, workers, keys, seconds)
    results[f"multiprocessing, {workers} processes (dict)"] = _process_lookups(plain, workers, keys, seconds)
    best = results[f"cohive.Hive, {workers} workers"]["rate"]
    print(f"\n  {'':42} {'data to workers':>16} {'lookups/s':>11} {'vs hive':>8} {'memory added':>13}")
    for name, r in results.items():
        print(f"  {name:42} {r['ship'] * 1e3:13.0f} ms {r['rate'] / 1e6:9.2f} M {r['rate'] / best:7.2f}x"
              f" {max(r['memory'], 0) / 2**20:10.0f} MiB")
    print("\n  data to workers: from starting the workers until each can read the data (threads share it"
          " already).\n  memory added: peak resident memory the run adds: the workers' interpreters, or"
          " whole worker\n  processes with their copies of the dict.")
