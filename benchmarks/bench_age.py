"""Nested reads (#10): `m[k]["age"]` on a Map of 1,000,000 records against the same read on a dict of dicts.

The records are bench_compact's (`{"name", "email", "age", "active",
"tags"}` under keys "user:N"), read at a million random keys.  The reads
take turns, run after run, and the ratio is of their medians, so that a
noisy machine slows all of them alike.  `--against DIR` also times the
extension built in DIR (say, the main branch's `setup.py build_ext
--inplace`), loaded beside this one under another name: a before/after
comparison of two builds in one process, on the same records and keys.
"""

import gc
import glob
import importlib.machinery
import importlib.util
import random
import statistics
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cohive  # noqa: E402
from bench_compact import records  # noqa: E402
from harness import fmt_rate, table  # noqa: E402


def other_build(directory: str) -> ModuleType:
    """The _cohive extension built in `directory`, as a module of its own."""
    tag = f"{sys.version_info[0]}{sys.version_info[1]}"
    path = glob.glob(f"{directory}/cohive/_cohive.cpython-{tag}-*.so")[0]
    name = "against._cohive"  # its init function is still PyInit__cohive
    loader = importlib.machinery.ExtensionFileLoader(name, path)
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def alternating_medians(fns: dict[str, Callable[[], Any]], repeat: int) -> dict[str, float]:
    """Median wall time of each fn, the fns run in turn `repeat` times."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    gc.collect()
    gc.disable()  # nothing here makes garbage cycles; a collection would land on one fn only
    try:
        for _ in range(repeat):
            for name, fn in fns.items():
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
    finally:
        gc.enable()
    return {name: statistics.median(t) for name, t in times.items()}


def run(quick: bool = False, against: str | None = None) -> str:
    n = 100_000 if quick else 1_000_000
    d = records(n)
    keys = random.Random(1).choices(list(d), k=n)
    maps = {"cohive.Map": cohive.Map(d)}
    if against is not None:
        maps[f"cohive.Map built in {against}"] = other_build(against).Map(d)

    def reader(m: Any) -> Callable[[], int]:
        return lambda: sum(m[k]["age"] for k in keys)

    fns = {"dict of dicts": lambda: sum(d[k]["age"] for k in keys)} | {name: reader(m) for name, m in maps.items()}
    assert len({fn() for fn in fns.values()}) == 1
    spent = alternating_medians(fns, 5 if quick else 9)
    rows = [[name, fmt_rate(n / t), f"{spent['dict of dicts'] / t:.2f}x"] for name, t in spent.items()]
    return table(f'm[k]["age"] on {n:,} records at random keys (target: cohive >= 0.8x the dict)',
                 ["reader", "reads", "speed / dict of dicts"], rows)


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv, against=sys.argv[sys.argv.index("--against") + 1]
              if "--against" in sys.argv else None))
