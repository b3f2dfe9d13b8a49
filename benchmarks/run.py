"""Runs cohive's benchmarks and prints Markdown tables (./dev bench [name] [--quick] [--plot]).

With --data FILE, the figures of the benchmarks that have plots (those with
measure() and report()) are also written to FILE as JSON, for plot.py.
"""

import argparse
import json
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import bench_age  # noqa: E402
import bench_compact  # noqa: E402
import bench_executor  # noqa: E402
import bench_hot_records  # noqa: E402
import bench_json  # noqa: E402
import bench_latency  # noqa: E402
import bench_map  # noqa: E402
import bench_prefork  # noqa: E402
import bench_queue  # noqa: E402
import bench_scaling  # noqa: E402
import bench_sharing  # noqa: E402
import bench_snapshot  # noqa: E402
import bench_startup  # noqa: E402
import bench_values  # noqa: E402
import bench_workers  # noqa: E402

BENCHMARKS = {
    "map": bench_map,
    "sharing": bench_sharing,
    "queue": bench_queue,
    "executor": bench_executor,
    "latency": bench_latency,
    "startup": bench_startup,
    "workers": bench_workers,
    "scaling": bench_scaling,
    "prefork": bench_prefork,
    "hot_records": bench_hot_records,
    "values": bench_values,
    "json": bench_json,
    "compact": bench_compact,
    "age": bench_age,
    "snapshot": bench_snapshot,
}
TAKE_BIG = {"snapshot"}  # those whose run() has a largest size that only --big adds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", choices=[*BENCHMARKS, []], help="benchmarks to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke test")
    parser.add_argument("--big", action="store_true", help="also the largest sizes (snapshot: 10,000,000 records)")
    parser.add_argument("--data", help="also write the plotted figures to this JSON file")
    args = parser.parse_args()
    data: dict[str, object] = {"python": platform.python_version()}
    print(f"## cohive benchmarks: Python {platform.python_version()}, {platform.machine()}, "
          f"{platform.processor() or 'cpu'}")
    for name in args.names or BENCHMARKS:
        module = BENCHMARKS[name]
        print(f"\n## {name}: {module.__doc__.strip().splitlines()[0]}")
        if hasattr(module, "measure"):
            data[name] = figures = module.measure(quick=args.quick)
            print(module.report(figures))
        else:
            print(module.run(quick=args.quick, **({"big": args.big} if name in TAKE_BIG else {})))
    if args.data:
        with open(args.data, "w") as f:
            json.dump(data, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
