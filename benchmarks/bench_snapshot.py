"""Snapshots (#9): Map.save and cohive.load against pickle and LMDB + msgpack.

N records {"user:N": {"name": str, "age": int, "score": float, "active":
bool, "tags": [str, str]}} (1,000,000; 100,000 with --quick) are written
three ways: `m.save(path)` of the Map, `pickle.dump` of the dict of dicts
(highest protocol) and LMDB with one msgpack-packed record per key (keys as
UTF-8; lmdb and msgpack pinned in requirements/bench.txt, their columns left
out when not installed).  Then, each figure a median of repeated runs:

- save: `m.save(path)` against `pickle.dump` (with and without `os.fsync`)
  and against one LMDB write transaction of all records (LMDB's default
  sync at commit);
- sizes of the three files (LMDB: its data.mdb);
- load, each in a fresh process (the page cache is warm: the files were just
  written): `cohive.load(path)` alone and with a first `m[k]["age"]`, and
  `cohive.load(path, verify=True)` (the whole file checked at once), against
  `pickle.load` plus that lookup and against `lmdb.open` + `begin()` + a first
  get and unpack; with --big also at 10,000,000 records (written by a child
  process, so that this one never holds them), pickle left out;
- `m[k]` and `m[k]["age"]` at random keys on the loaded Map against the same
  Map built in memory (`cohive.Map(d)`), alternating, in one process;
- records `r = m[k]; r["age"]; r["name"]` at random keys on a loaded Map
  against `msgpack.unpackb(txn.get(k.encode()))` in one read transaction,
  in one fresh process and in two in parallel (aggregate over the wall time
  of both, and each process's own rate);
- private memory: while one process holds the loaded file and has read all
  of it, a second fresh process loads it and reads every field of every
  record in random order; what its Private_Dirty and Private_Clean grew by
  around the reads (/proc/self/smaps_rollup) as a share of the file's size.

Lookup keys are fresh str objects equal to the stored ones.  Linux only for
the memory figures.  Temporary files live in one temporary directory,
removed at the end.
"""

import argparse
import json
import os
import pickle
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cohive  # noqa: E402
from harness import fmt_rate, fmt_time, median_time, smaps_kb, table  # noqa: E402

try:
    import lmdb
    import msgpack
except ImportError:
    lmdb = msgpack = None

KINDS = ("cohive", "pickle", "lmdb")
LOAD_KINDS = ("cohive", "verified", "pickle", "lmdb")  # verified: cohive.load(path, verify=True)
LMDB_MAP_SIZE = 1 << 38  # address space only: LMDB's file grows with what is written


def record(i: int) -> dict[str, Any]:
    return {"name": f"user number {i}", "age": 18 + i % 80, "score": i / 7, "active": i % 3 == 0,
            "tags": [f"t{i % 13}", "member"]}


def records(n: int) -> dict[str, dict[str, Any]]:
    return {f"user:{i}": record(i) for i in range(n)}


def random_keys(n: int, count: int, seed: int) -> list[str]:
    """`count` fresh str keys of existing records, as keys arriving in requests are."""
    return [f"user:{i}" for i in random.Random(seed).choices(range(n), k=count)]


def paths(where: str, n: int) -> dict[str, str]:
    return {"cohive": os.path.join(where, f"{n}.cohive"), "pickle": os.path.join(where, f"{n}.pickle"),
            "lmdb": os.path.join(where, f"{n}.lmdb")}


def lmdb_write(path: str, items: Iterator[tuple[str, dict[str, Any]]]) -> None:
    env = lmdb.open(path, map_size=LMDB_MAP_SIZE)
    with env.begin(write=True) as txn:
        for k, v in items:
            txn.put(k.encode(), msgpack.packb(v))
    env.close()


def pickle_write(path: str, d: dict[str, Any], fsync: bool) -> None:
    with open(path, "wb") as f:
        pickle.dump(d, f, protocol=pickle.HIGHEST_PROTOCOL)
        if fsync:
            f.flush()
            os.fsync(f.fileno())


def remove(path: str) -> None:
    if os.path.isdir(path):
        shutil.rmtree(path)
    elif os.path.exists(path):
        os.unlink(path)


def timed_writes(write: Callable[[str], None], path: str, repeat: int) -> float:
    """Median time of write(path) into a fresh path each run; the last file stays."""
    times = []
    for _ in range(repeat):
        remove(path)
        times.append(median_time(lambda: write(path), 1))
    return statistics.median(times)


def open_reader(kind: str, path: str) -> Callable[[str], Any]:
    """Opens a file as `kind` and returns the lookup of one record by str key."""
    if kind == "cohive":
        return cohive.load(path).__getitem__
    if kind == "pickle":
        with open(path, "rb") as f:
            return pickle.load(f).__getitem__  # type: ignore[no-any-return]
    txn = lmdb.open(path, readonly=True).begin(buffers=True)
    return lambda k: msgpack.unpackb(txn.get(k.encode()))


# --- Child processes: each role starts fresh, so no Python objects or mappings carry over.

def child_load(kind: str, path: str, key: str) -> dict[str, float]:
    rss = smaps_kb()["Rss"]
    start = time.perf_counter()
    if kind in ("cohive", "verified"):
        m = cohive.load(path, verify=kind == "verified")
        loaded = time.perf_counter()
        m[key]["age"]
    else:
        get = open_reader(kind, path)
        loaded = time.perf_counter()
        get(key)["age"]
    done = time.perf_counter()
    return {"load": loaded - start, "first_get": done - start, "rss_kb": smaps_kb()["Rss"] - rss}


def record_reads(kind: str, path: str) -> Callable[[list[str]], int]:
    """Opens the file as `kind`; returns a loop reading r["age"] and r["name"] of the records at `keys`,
    written out for each kind (a getter called through a function would slow both down)."""
    if kind == "cohive":
        m = cohive.load(path)

        def read(keys: list[str]) -> int:
            total = 0
            for k in keys:
                r = m[k]
                total += r["age"] + len(r["name"])
            return total
    else:
        get, unpackb = lmdb.open(path, readonly=True).begin(buffers=True).get, msgpack.unpackb

        def read(keys: list[str]) -> int:
            total = 0
            for k in keys:
                r = unpackb(get(k.encode()))
                total += r["age"] + len(r["name"])
            return total
    return read


def child_lookups(kind: str, path: str, n: int, count: int, rounds: int) -> dict[str, Any]:
    """Waits for a line on stdin (all readers start together), then reads `rounds` x `count` records."""
    read = record_reads(kind, path)
    keys = random_keys(n, count, os.getpid())
    print("ready", flush=True)
    sys.stdin.readline()
    times, total = [], 0
    start = time.monotonic()
    for _ in range(rounds):
        t = time.perf_counter()
        total += read(keys)
        times.append(time.perf_counter() - t)
    return {"rate": count / statistics.median(times), "start": start, "end": time.monotonic(),
            "count": count * rounds, "check": total}


def read_all(get: Callable[[str], Any], keys: list[str]) -> int:
    """Reads every field of the records at `keys`; returns how many there were."""
    fields = 0
    for k in keys:
        for _ in get(k).values():
            fields += 1
    return fields


def child_hold(kind: str, path: str, n: int) -> None:
    """Loads the file, reads all of it, then keeps it until stdin closes."""
    get = open_reader(kind, path)
    read_all(get, [f"user:{i}" for i in range(n)])
    print("ready", flush=True)
    sys.stdin.read()


def child_private(kind: str, path: str, n: int) -> dict[str, int]:
    get = open_reader(kind, path)
    keys = [f"user:{i}" for i in range(n)]
    random.Random(1).shuffle(keys)  # allocated before the measurement starts
    before = smaps_kb()
    read_all(get, keys)
    after = smaps_kb()
    return {f: after[f] - before[f] for f in ("Private_Dirty", "Private_Clean", "Anonymous")}


def child_build(where: str, n: int) -> None:
    """Writes the snapshot and the LMDB files of n records, from a generator: never all dicts at once."""
    files = paths(where, n)
    cohive.Map((f"user:{i}", record(i)) for i in range(n)).save(files["cohive"])
    if lmdb is not None:
        lmdb_write(files["lmdb"], ((f"user:{i}", record(i)) for i in range(n)))


def child(args: argparse.Namespace) -> None:
    if args.role == "load":
        print(json.dumps(child_load(args.kind, args.path, args.key)))
    elif args.role == "lookups":
        print(json.dumps(child_lookups(args.kind, args.path, args.records, args.count, args.rounds)))
    elif args.role == "hold":
        child_hold(args.kind, args.path, args.records)
    elif args.role == "private":
        print(json.dumps(child_private(args.kind, args.path, args.records)))
    else:
        child_build(args.path, args.records)


def start_child(*options: object) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, __file__, *map(str, options)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)


def run_child(*options: object) -> Any:
    out = subprocess.run([sys.executable, __file__, *map(str, options)], capture_output=True, text=True,
                         timeout=3600, check=True)
    return json.loads(out.stdout)


# --- The parent: one section per target.

def ratio(ours: float, theirs: float) -> str:
    r = ours / theirs
    return f"{r:.2f}x" if r >= 0.1 else f"{r:.2g}x"


def met(ok: bool) -> str:
    return "met" if ok else "**not met**"


class Report:
    def __init__(self) -> None:
        self.sections: list[str] = []
        self.targets: list[list[str]] = []

    def target(self, what: str, figure: str, goal: str, ok: bool) -> None:
        self.targets.append([what, figure, goal, met(ok)])


def write_files(report: Report, where: str, d: dict[str, dict[str, Any]], m: Any, repeat: int) -> dict[str, str]:
    n = len(d)
    files = paths(where, n)
    fsynced = os.path.join(where, "fsynced.pickle")
    save = timed_writes(m.save, files["cohive"], repeat)
    pickled = timed_writes(lambda p: pickle_write(p, d, False), files["pickle"], repeat)
    writes = [("m.save(path)", save), ("pickle.dump", pickled),
              ("pickle.dump + fsync", timed_writes(lambda p: pickle_write(p, d, True), fsynced, repeat))]
    remove(fsynced)
    if lmdb is not None:
        writes.append(("LMDB + msgpack, one transaction",
                       timed_writes(lambda p: lmdb_write(p, iter(d.items())), files["lmdb"], repeat)))
    report.sections.append(table(
        f"Writing {n:,} records, median of {repeat} (speed ratio: above 1 m.save is faster)",
        ["write", "time", "save speed / its"], [[what, fmt_time(t), ratio(t, save)] for what, t in writes]))
    report.target("save vs pickle.dump", ratio(pickled, save), ">= 1.00x", save <= pickled)
    return files


def file_sizes(report: Report, files: dict[str, str], n: int) -> None:
    ours = os.path.getsize(files["cohive"])
    rows = [["snapshot (m.save)", f"{ours / 2**20:,.1f} MiB", f"{ours / n:.0f} B", "1.00x"]]
    others = [("pickle", os.path.getsize(files["pickle"]))]
    if lmdb is not None:
        others.append(("LMDB + msgpack data.mdb", os.path.getsize(os.path.join(files["lmdb"], "data.mdb"))))
    rows += [[what, f"{size / 2**20:,.1f} MiB", f"{size / n:.0f} B", ratio(ours, size)] for what, size in others]
    report.sections.append(table(f"File sizes, {n:,} records (snapshot / other: below 1 the snapshot is smaller)",
                                 ["file", "size", "per record", "snapshot / other"], rows))


def load_times(report: Report, files: dict[str, str], n: int, processes: int, with_pickle: bool) -> None:
    kinds = [k for k in LOAD_KINDS if (k != "pickle" or with_pickle) and (k != "lmdb" or lmdb is not None)]
    figures: dict[str, list[dict[str, float]]] = {k: [] for k in kinds}
    for _ in range(processes):  # interleaved, so that drift touches every kind alike
        for kind in kinds:
            path = files["cohive" if kind == "verified" else kind]
            figures[kind].append(run_child("--role", "load", "--kind", kind, "--path", path, "--key", f"user:{n // 2}"))
    med = {k: {f: statistics.median(r[f] for r in rs) for f in ("load", "first_get", "rss_kb")}
           for k, rs in figures.items()}
    ours = med["cohive"]
    rows = [["cohive.load(path)", fmt_time(ours["load"]), "", f"{ours['rss_kb'] / 1024:,.1f} MiB"],
            ['cohive.load(path) + m[k]["age"]', fmt_time(ours["first_get"]), "1.00x", ""]]
    labels = {"verified": 'cohive.load(path, verify=True) + m[k]["age"]', "pickle": 'pickle.load(f) + d[k]["age"]',
              "lmdb": "lmdb.open + begin() + get + unpackb"}
    rows += [[labels[k], fmt_time(med[k]["first_get"]), ratio(med[k]["first_get"], ours["first_get"]),
              f"{med[k]['rss_kb'] / 1024:,.1f} MiB"] for k in kinds if k != "cohive"]
    report.sections.append(table(
        f"Load in a fresh process, {n:,} records (median of {processes} processes; page cache warm"
        f"{'' if with_pickle else '; no pickle at this size'})",
        ["operation", "time", "cohive's speed (load + get) / its", "RSS added"], rows))
    report.target(f"load, {n:,} records", fmt_time(ours["load"]), "<= 0.3 ms", ours["load"] <= 0.3e-3)


def map_lookups(report: Report, m: Any, loaded: Any, n: int, count: int, rounds: int) -> None:
    keys = random_keys(n, count, 2)

    def get(m: Any) -> Callable[[], None]:
        def run() -> None:
            for k in keys:
                m[k]
        return run

    def get_age(m: Any) -> Callable[[], int]:
        return lambda: sum(m[k]["age"] for k in keys)

    rows = []
    for what, fn in (("m[k]", get), ('m[k]["age"]', get_age)):
        times: dict[str, list[float]] = {"memory": [], "loaded": []}
        for _ in range(rounds):
            times["memory"].append(median_time(fn(m), 1))
            times["loaded"].append(median_time(fn(loaded), 1))
        mem, ours = statistics.median(times["memory"]), statistics.median(times["loaded"])
        rows.append([what, fmt_rate(count / ours), fmt_rate(count / mem), ratio(mem, ours)])
        if what == "m[k]":
            report.target("loaded m[k] vs in memory", ratio(mem, ours), ">= 0.95x", mem / ours >= 0.95)
    report.sections.append(table(
        f"Random lookups, {n:,} records, loaded Map against cohive.Map(d) (median of {rounds}, alternating)",
        ["lookup", "loaded", "in memory", "loaded / in memory"], rows))


def parallel_reads(kind: str, path: str, n: int, procs: int, count: int, rounds: int) -> tuple[float, float]:
    """procs fresh readers start together; returns (aggregate rate, median per-process rate)."""
    children = [start_child("--role", "lookups", "--kind", kind, "--path", path, "--records", n,
                            "--count", count, "--rounds", rounds) for _ in range(procs)]
    for c in children:
        assert c.stdout is not None and c.stdout.readline().strip() == "ready"
    for c in children:
        assert c.stdin is not None
        c.stdin.write("go\n")
        c.stdin.flush()
    results = [json.loads(c.communicate(timeout=3600)[0]) for c in children]
    wall = max(r["end"] for r in results) - min(r["start"] for r in results)
    return sum(r["count"] for r in results) / wall, statistics.median(r["rate"] for r in results)


def record_lookups(report: Report, files: dict[str, str], n: int, count: int, runs: int) -> None:
    if lmdb is None:
        report.sections.append("\n(lmdb or msgpack not installed: no record lookups against LMDB)")
        return
    rows = []
    for procs in (1, 2):
        figures: dict[str, list[tuple[float, float]]] = {"cohive": [], "lmdb": []}
        for _ in range(runs):
            for kind in figures:
                figures[kind].append(parallel_reads(kind, files[kind], n, procs, count, 5))
        ours, theirs = ([statistics.median(f[i] for f in figures[k]) for i in (0, 1)] for k in ("cohive", "lmdb"))
        readers = "1 process" if procs == 1 else f"{procs} processes in parallel"
        rows.append([readers, fmt_rate(ours[0]), fmt_rate(theirs[0]),
                     ratio(ours[0], theirs[0]), fmt_rate(ours[1]), fmt_rate(theirs[1]), ratio(ours[1], theirs[1])])
        report.target(f'r["age"], r["name"] vs LMDB + msgpack, {readers}', ratio(ours[0], theirs[0]),
                      ">= 1.5x", ours[0] / theirs[0] >= 1.5)
    report.sections.append(table(
        f'Random records r = m[k]; r["age"]; r["name"], {n:,} records, fresh processes '
        f"(median of {runs} runs of 5 x {count:,} lookups per process)",
        ["readers", "cohive aggregate", "LMDB aggregate", "cohive / LMDB", "cohive per process",
         "LMDB per process", "cohive / LMDB"], rows))


def private_memory(report: Report, files: dict[str, str], n: int) -> None:
    if not os.path.exists("/proc/self/smaps_rollup"):
        report.sections.append("\n(private memory: needs Linux /proc/self/smaps_rollup)")
        return
    rows = []
    for kind in ("cohive", "lmdb") if lmdb is not None else ("cohive",):
        data = files[kind] if kind == "cohive" else os.path.join(files[kind], "data.mdb")
        size = os.path.getsize(data)
        holder = start_child("--role", "hold", "--kind", kind, "--path", files[kind], "--records", n)
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
            grew = run_child("--role", "private", "--kind", kind, "--path", files[kind], "--records", n)
        finally:
            holder.communicate(timeout=600)
        private = (grew["Private_Dirty"] + grew["Private_Clean"]) * 1024
        rows.append([kind if kind == "cohive" else "LMDB + msgpack", f"{size / 2**20:,.1f} MiB",
                     f"{grew['Private_Dirty'] / 1024:,.1f} MiB", f"{grew['Private_Clean'] / 1024:,.1f} MiB",
                     f"{grew['Anonymous'] / 1024:,.1f} MiB", f"{private / size:.1%}"])
        if kind == "cohive":
            report.target("private memory of a second reader", f"{private / size:.1%} of the file", "<= 10%",
                          private <= 0.1 * size)
    report.sections.append(table(
        f"A second fresh process reading every field of all {n:,} records while a first holds the file "
        "(growth around the reads)",
        ["file", "file size", "Private_Dirty", "Private_Clean", "Anonymous", "private / file size"], rows))


def big_loads(report: Report, where: str, n: int, processes: int) -> None:
    big = os.path.join(where, "big")
    os.mkdir(big)
    subprocess.run([sys.executable, __file__, "--role", "build", "--path", big, "--records", str(n)], timeout=7200,
                   check=True)
    load_times(report, paths(big, n), n, processes, with_pickle=False)


def run(quick: bool = False, big: bool = False) -> str:
    n = 100_000 if quick else 1_000_000
    repeat, processes, rounds, runs, count = (3, 3, 5, 2, 50_000) if quick else (3, 7, 7, 3, 200_000)
    report = Report()
    with tempfile.TemporaryDirectory(prefix="cohive-bench-snapshot-") as where:
        d = records(n)
        m = cohive.Map(d)
        files = write_files(report, where, d, m, repeat)
        del d
        file_sizes(report, files, n)
        load_times(report, files, n, processes, with_pickle=True)
        loaded = cohive.load(files["cohive"])
        map_lookups(report, m, loaded, n, count, rounds)
        del m, loaded
        record_lookups(report, files, n, count, runs)
        private_memory(report, files, n)
        if big:
            big_loads(report, where, 10 * n, processes)
    report.sections.append(table("Targets of #9", ["target", "cohive", "goal", ""], report.targets))
    return "\n".join(report.sections)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 records instead of 1,000,000")
    parser.add_argument("--big", action="store_true", help="also load times at 10x the records")
    parser.add_argument("--role", choices=["load", "lookups", "hold", "private", "build"], help=argparse.SUPPRESS)
    parser.add_argument("--kind", choices=LOAD_KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--key", help=argparse.SUPPRESS)
    parser.add_argument("--records", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role:
        child(args)
    else:
        print(run(args.quick, args.big))
