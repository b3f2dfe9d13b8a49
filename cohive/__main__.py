"""python -m cohive: demo (workers reading one shared Map on every core) and map (what a Map costs)."""

import argparse
import gc
import os
import pickle
import random
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import cohive


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def rate(count: int, seconds: float) -> str:
    per_second = count / seconds
    return f"{per_second / 1e6:.2f} M/s" if per_second >= 1e6 else f"{per_second / 1e3:.0f} k/s"


def demo(keys: int, seed: int) -> None:
    print(f"cohive {cohive.__version__} on Python {sys.version.split()[0]}: a Map of {keys:,} items\n")
    data = {f"user:{i}": i for i in range(keys)}
    rng = random.Random(seed)
    probes = [f"user:{rng.randrange(keys)}" for _ in range(min(keys, 200_000))]

    before = cohive.native_bytes()
    build_s, m = timed(lambda: cohive.Map(data))
    native_mib = (cohive.native_bytes() - before) / 2**20
    pickle_s, _ = timed(lambda: pickle.loads(pickle.dumps(data, pickle.HIGHEST_PROTOCOL)))
    print(f"  build cohive.Map(dict)         {build_s * 1e3:8.1f} ms")
    print(f"  pickle dumps+loads of the dict {pickle_s * 1e3:8.1f} ms   (what multiprocessing pays per worker)")
    print(f"  native memory                  {native_mib:8.1f} MiB  ({native_mib * 2**20 / keys:.0f} bytes per item)")

    def lookups() -> None:
        for k in probes:
            m[k]

    get_s, _ = timed(lookups)
    print(f"  random lookups                 {rate(len(probes), get_s):>11}")

    def sets() -> None:
        version = m
        for i, k in enumerate(probes[:50_000]):
            version = m.set(k, -i)

    set_s, _ = timed(sets)
    print(f"  Map.set (new version each)     {rate(min(len(probes), 50_000), set_s):>11}")
    ref: cohive.Ref[cohive.Map[str, int] | None] = cohive.Ref("cohive-demo", default=None)

    def hand_over() -> None:  # what another interpreter does to see the Map: O(1)
        for _ in range(1000):
            ref.set(m)
            ref.get()

    hand_s, _ = timed(hand_over)
    print(f"  publish + read via a Ref       {hand_s / 1000 * 1e6:8.2f} µs  (any size; another interpreter reads it so)")
    print(f"\n  m['user:7'] = {m['user:7']!r}, len(m) = {len(m):,}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cohive", description="cohive demos")
    commands = parser.add_subparsers(dest="command", required=True)
    workers_demo = commands.add_parser(
        "demo", help="one worker interpreter per core reading one shared Map, live; then the same with "
        "1 worker, threads and multiprocessing")
    workers_demo.add_argument("--keys", type=int, default=1_000_000, help="items in the Map (default: 1,000,000)")
    workers_demo.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                              help="worker interpreters (default: one per core)")
    workers_demo.add_argument("--duration", type=float, default=3.0, help="seconds each run reads (default: 3)")
    map_demo = commands.add_parser("map", help="build a large Map and print what it costs")
    map_demo.add_argument("--keys", type=int, default=1_000_000, help="items in the Map (default: 1,000,000)")
    map_demo.add_argument("--seed", type=int, default=0, help="random seed for the lookup keys")
    args = parser.parse_args(argv)
    if args.keys < 1:
        parser.error(f"--keys must be at least 1, got {args.keys}")
    if args.command == "map":
        demo(args.keys, args.seed)
        return 0
    if args.workers < 1:
        parser.error(f"--workers must be at least 1, got {args.workers}")
    if not args.duration > 0:
        parser.error(f"--duration must be positive, got {args.duration}")
    from cohive._demo import run_demo

    run_demo(args.keys, args.workers, args.duration)
    return 0


if __name__ == "__main__":
    sys.exit(main())
