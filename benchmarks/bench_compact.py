"""Compact records (#10): size, build, nested reads and messages against dicts, pickle and LMDB + msgpack.

The record is `{"name": str, "email": str, "age": int, "active": bool,
"tags": [str, str]}` under keys "user:N".  Sizes: cohive's native bytes per
record in a Map (cohive.native_bytes() before and after; and, on Linux, how
much the process's resident memory grew, malloc's overhead included), a dict of dicts
(tracemalloc), pickle.dumps of each record, and LMDB + msgpack (the pages
LMDB uses for the same records, msgpack-packed, keys as UTF-8; pinned in
requirements/bench.txt, skipped when not installed).  Times: building the Map
against pickle.dumps of the dict; `m[k]["age"]` at random keys against the
same access on the dict of dicts; and 40-field ~1 KB dicts sent from one
interpreter to another through cohive.Queue against the stdlib's
cross-interpreter queue carrying pickle.dumps of the same dict.
"""

import gc
import pickle
import random
import sys
import tempfile
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench_queue  # noqa: E402
import cohive  # noqa: E402
from cohive._interpreters import Subinterpreter  # noqa: E402
from harness import fmt_rate, fmt_time, median_time, rss_bytes, table  # noqa: E402

try:
    import lmdb
    import msgpack
except ImportError:
    lmdb = msgpack = None


def records(n: int) -> dict[str, dict[str, Any]]:
    return {f"user:{i}": {"name": f"user {i}", "email": f"user{i}@example.com", "age": 20 + i % 60,
                          "active": i % 3 == 0, "tags": [f"t{i % 7}", f"g{i % 11}"]} for i in range(n)}


def cohive_bytes(d: dict[str, Any]) -> tuple[int, int | None]:
    """Native bytes the Map holds, and how much the process's resident memory grew building it
    (malloc's own overhead included, which the native count leaves out)."""
    gc.collect()
    before, rss_before = cohive.native_bytes(), rss_bytes()
    m = cohive.Map(d)
    used, rss_after = cohive.native_bytes() - before, rss_bytes()
    del m
    return used, (rss_after - rss_before if rss_before is not None and rss_after is not None else None)


def dict_bytes(n: int) -> int:
    gc.collect()
    tracemalloc.start()
    d = records(n)
    used = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del d
    return used


def lmdb_bytes(d: dict[str, dict[str, Any]]) -> int | None:
    if lmdb is None:
        return None
    with tempfile.TemporaryDirectory() as where:
        env = lmdb.open(where, map_size=1 << 34, sync=False, metasync=False)
        with env.begin(write=True) as txn:
            for k, v in d.items():
                txn.put(k.encode(), msgpack.packb(v))
        stat = env.stat()
        env.close()
    return int(stat["psize"] * (stat["branch_pages"] + stat["leaf_pages"] + stat["overflow_pages"]))


def sizes(d: dict[str, dict[str, Any]]) -> str:
    n = len(d)
    native, grown = cohive_bytes(d)
    ours = native / n
    rows = [["cohive.Map", f"{ours:.0f} B", "1.00x"]]
    if grown is not None:
        rows.append(["cohive.Map, resident memory growth", f"{grown / n:.0f} B", f"{ours / (grown / n):.2f}x"])
    alternatives = [("dict of dicts (tracemalloc)", dict_bytes(n) / n),
                    ("pickle.dumps of each record", sum(len(pickle.dumps(v)) for v in d.values()) / n)]
    on_disk = lmdb_bytes(d)
    if on_disk is not None:
        alternatives.append(("LMDB + msgpack (pages used)", on_disk / n))
    rows += [[what, f"{size:.0f} B", f"{ours / size:.2f}x"] for what, size in alternatives]
    return table(f"Bytes per 5-field record, {n:,} records (lower is better; cohive / other)",
                 ["storage", "bytes per record", "cohive / other"], rows)


def build_and_read(d: dict[str, dict[str, Any]], quick: bool) -> str:
    build = median_time(lambda: cohive.Map(d), 3)
    dumps = median_time(lambda: pickle.dumps(d), 3)
    m = cohive.Map(d)
    keys = random.Random(1).choices(list(d), k=100_000 if quick else 1_000_000)

    def read_map() -> int:
        return sum(m[k]["age"] for k in keys)

    def read_dict() -> int:
        return sum(d[k]["age"] for k in keys)

    ours, theirs = median_time(read_map, 5), median_time(read_dict, 5)
    rows = [["Map(dict) vs pickle.dumps(dict)", fmt_time(build), fmt_time(dumps), f"{dumps / build:.2f}x"],
            ['m[k]["age"] vs dict of dicts', fmt_rate(len(keys) / ours), fmt_rate(len(keys) / theirs),
             f"{theirs / ours:.2f}x"]]
    return table(f"Building and reading {len(d):,} records (speed ratio: above 1 cohive is faster)",
                 ["operation", "cohive", "alternative", "cohive speed / alternative"], rows)


def messages(quick: bool) -> str:
    kind, n = "1 KB dict", bench_queue.COUNTS["1 KB dict"] // (10 if quick else 1)
    if bench_queue._interpqueues is None:
        return "\n(_interpqueues needs Python 3.13+: no message comparison)"
    big_ref = bench_queue.name("none")
    ref = cohive.Ref(big_ref, default=None)
    with Subinterpreter() as worker:
        ours = bench_queue.median_of(lambda: bench_queue.cohive_stream(worker, kind, n, big_ref))
        stdlib = bench_queue.median_of(lambda: bench_queue.interpqueue_stream(worker, kind, n))
    del ref
    return table("40-field ~1 KB dicts between interpreters (target: cohive >= 3x)",
                 ["cohive.Queue", "_interpqueues + pickle", "cohive / stdlib"],
                 [[fmt_rate(ours), fmt_rate(stdlib), f"{ours / stdlib:.2f}x"]])


def run(quick: bool = False) -> str:
    d = records(100_000 if quick else 1_000_000)
    out = sizes(d) + "\n" + build_and_read(d, quick)
    del d
    gc.collect()
    return out + "\n" + messages(quick)


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
