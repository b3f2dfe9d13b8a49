"""Preforking servers: state built once, read by forked workers.

A server builds its state (here N user records of the shape
{"user:N": {"name": str, "age": int, "tags": [str, str]}}), then forks
workers (gunicorn --preload, multiprocessing with fork, os.fork).  Memory
pages are shared copy-on-write until someone writes to them; reading a dict
of dicts writes every object's reference count (and the garbage collector
writes its headers), so every page a worker reads becomes its own copy.
cohive reads write nothing shared, so the pages stay shared.

Each worker reads every record once, in random order (record["age"] and
record["name"]), and reports what that cost it: private dirty memory (the
pages it had to copy, from /proc/self/smaps_rollup, measured around the
reads), its PSS afterwards, and lookups per second.  Compared against a
dict of dicts with and without gc.freeze() (the standard advice for
preforking servers), each structure built in a fresh process.  Linux only.
"""

import argparse
import gc
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cohive  # noqa: E402
from harness import fmt_rate, median_time, smaps_kb, table  # noqa: E402

VARIANTS = {"cohive": "cohive.Map", "dict": "dict of dicts", "dict+freeze": "dict of dicts + gc.freeze()"}
WORKERS = 2


def records(n: int) -> dict[str, dict[str, object]]:
    return {f"user:{i}": {"name": f"user number {i}", "age": 18 + i % 80, "tags": [f"t{i % 13}", "member"]}
            for i in range(n)}


def worker(data: object, n: int, out: int) -> None:
    """Runs in a forked child: reads every record, writes its figures to the pipe `out`."""
    order = list(range(n))
    random.Random(os.getpid()).shuffle(order)  # allocated before the measurement starts
    before = smaps_kb()
    start = time.perf_counter()
    total = 0
    for i in order:
        record = data[f"user:{i}"]  # type: ignore[index]
        total += record["age"] + len(record["name"])
    seconds = time.perf_counter() - start
    after = smaps_kb()
    os.write(out, json.dumps({"dirty_kb": after["Private_Dirty"] - before["Private_Dirty"], "pss_kb": after["Pss"],
                              "rate": n / seconds, "check": total}).encode())


def measure_variant(kind: str, n: int) -> dict[str, object]:
    """Builds one structure in this (fresh) process and forks WORKERS readers."""
    gc.collect()
    rss_before, native_before = smaps_kb()["Rss"], cohive.native_bytes()
    plain = records(n)
    data: object = cohive.Map(plain) if kind == "cohive" else plain
    if kind == "cohive":
        del plain
    gc.collect()
    size = (cohive.native_bytes() - native_before if kind == "cohive"
            else (smaps_kb()["Rss"] - rss_before) * 1024)
    if kind == "dict+freeze":
        gc.freeze()
    results, pids = [], []
    for _ in range(WORKERS):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            try:
                worker(data, n, write_end)
            finally:
                os._exit(0)
        os.close(write_end)
        pids.append((pid, read_end))
    for pid, read_end in pids:
        with os.fdopen(read_end, "rb") as f:
            results.append(json.loads(f.read()))
        os.waitpid(pid, 0)
    return {"size": size, "workers": results}


def nested_lookups(n: int) -> str:
    """m[k]["age"] in one process: cohive against a dict of dicts."""
    plain = records(n)
    m = cohive.Map(plain)
    keys = [f"user:{random.randrange(n)}" for _ in range(200_000)]

    def run(data: object) -> None:
        for k in keys:
            data[k]["age"]  # type: ignore[index]

    dict_t = median_time(lambda: run(plain), 5)
    cohive_t = median_time(lambda: run(m), 5)
    return table(f"Nested field lookups in one process, m[k]['age'] ({n:,} records)",
                 ["dict of dicts", "cohive.Map", "cohive vs dict"],
                 [[fmt_rate(len(keys) / dict_t), fmt_rate(len(keys) / cohive_t), f"{dict_t / cohive_t:.2f}x"]])


def run(quick: bool = False, n: int | None = None) -> str:
    if not os.path.exists("/proc/self/smaps_rollup"):
        return "\n(skipped: needs Linux /proc/self/smaps_rollup)"
    n = n or (50_000 if quick else 300_000)
    rows = []
    for kind, label in VARIANTS.items():
        out = subprocess.run([sys.executable, __file__, "--variant", kind, "--records", str(n)], capture_output=True,
                             text=True, timeout=1800, check=True)
        figures = json.loads(out.stdout)
        size = figures["size"]
        for i, w in enumerate(figures["workers"]):
            rows.append([label if i == 0 else "", f"{size / 2**20:,.0f} MiB" if i == 0 else "", f"#{i + 1}",
                         f"{w['dirty_kb'] / 1024:,.1f} MiB", f"{w['dirty_kb'] * 1024 / size:.1%}",
                         f"{w['pss_kb'] / 1024:,.0f} MiB", fmt_rate(w["rate"])])
    return "\n".join([
        table(f"{WORKERS} forked workers each reading all {n:,} records",
              ["structure", "size", "worker", "private dirty", "of size", "PSS after", "lookups"], rows),
        nested_lookups(n),
    ])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=VARIANTS)
    parser.add_argument("--records", type=int)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.variant:
        print(json.dumps(measure_variant(args.variant, args.records)))
    else:
        print(run(args.quick, args.records))
