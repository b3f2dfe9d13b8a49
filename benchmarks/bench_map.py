"""cohive.Map against dict, immutables.Map and a pickle round trip of the dict.

At 1e3, 1e5 and 1e6 {str: int} items: building from a dict, random get of
existing keys, set of one key (a new version each time), iterating items,
and memory per entry.  Every figure is a median; ratios are cohive against
the named alternative (> 1 means cohive is faster or smaller).

Lookup keys are fresh str objects equal to the stored keys (as keys arriving
from a request would be), so no structure benefits from identity checks.
"""

import gc
import pickle
import random
import tracemalloc
from typing import Any

import immutables

import cohive
from harness import fmt_rate, fmt_time, median_time, table

SIZES = (1_000, 100_000, 1_000_000)


def make_data(n: int) -> dict[str, int]:
    return {f"key:{i}": i for i in range(n)}


def fresh_keys(data: dict[str, int], count: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    keys = list(data)
    return ["".join(k) for k in (keys[rng.randrange(len(keys))] for _ in range(count))]


def bench_build(data: dict[str, int], repeat: int) -> dict[str, float]:
    return {
        "dict": median_time(lambda: dict(data), repeat),
        "immutables": median_time(lambda: immutables.Map(data), repeat),
        "cohive": median_time(lambda: cohive.Map(data), repeat),
        "pickle round trip": median_time(lambda: pickle.loads(pickle.dumps(data, pickle.HIGHEST_PROTOCOL)), repeat),
    }


def bench_get(structures: dict[str, Any], keys: list[str], repeat: int) -> dict[str, float]:
    def reader(m: Any) -> Any:
        def run() -> None:
            for k in keys:
                m[k]

        return run

    return {name: len(keys) / median_time(reader(m), repeat) for name, m in structures.items()}


def bench_set(structures: dict[str, Any], keys: list[str], repeat: int) -> dict[str, float]:
    def setter(m: Any) -> Any:
        def run() -> None:
            for i, k in enumerate(keys):
                m.set(k, i)

        return run

    def dict_setter(d: dict[str, int]) -> Any:
        def run() -> None:
            for i, k in enumerate(keys):
                d[k] = i

        return run

    rates = {"dict (in place)": len(keys) / median_time(dict_setter(dict(structures["dict"])), repeat)}
    for name in ("immutables", "cohive"):
        rates[name] = len(keys) / median_time(setter(structures[name]), repeat)
    return rates


def bench_iterate(structures: dict[str, Any], repeat: int) -> dict[str, float]:
    def walker(m: Any) -> Any:
        def run() -> None:
            for _k, _v in m.items():
                pass

        return run

    return {name: len(m) / median_time(walker(m), repeat) for name, m in structures.items()}


def memory_per_entry(n: int) -> dict[str, float]:
    """Bytes per entry, keys and values included, as each structure owns them."""

    def traced(build: Any) -> float:
        gc.collect()
        tracemalloc.start()
        obj = build()
        size, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del obj
        return size / n

    items = lambda: ((f"key:{i}", i) for i in range(n))  # noqa: E731
    gc.collect()
    before = cohive.native_bytes()
    m = cohive.Map(items())
    native = (cohive.native_bytes() - before) / n
    del m
    return {
        "dict": traced(lambda: dict(items())),
        "immutables": traced(lambda: immutables.Map(items())),
        "cohive": native,
    }


def ratio(ours: float, theirs: float, higher_is_better: bool) -> str:
    r = ours / theirs if higher_is_better else theirs / ours
    return f"{r:.2f}x"


def run(quick: bool = False) -> str:
    sizes = SIZES[:2] if quick else SIZES
    out = []
    for n in sizes:
        repeat = 3 if n >= 1_000_000 else 7
        data = make_data(n)
        structures = {"dict": data, "immutables": immutables.Map(data), "cohive": cohive.Map(data)}
        lookups = fresh_keys(data, min(200_000, max(n, 100_000)))
        build = bench_build(data, repeat)
        get = bench_get(structures, lookups, repeat)
        sets = bench_set(structures, lookups[:20_000], repeat)
        walk = bench_iterate(structures, repeat)
        mem = memory_per_entry(n)
        rows = [
            ["build from dict", fmt_time(build["dict"]), fmt_time(build["immutables"]), fmt_time(build["cohive"]),
             fmt_time(build["pickle round trip"]), ratio(build["cohive"], build["immutables"], False),
             ratio(build["cohive"], build["pickle round trip"], False)],
            ["get (random keys)", fmt_rate(get["dict"]), fmt_rate(get["immutables"]), fmt_rate(get["cohive"]), "",
             ratio(get["cohive"], get["immutables"], True), ""],
            ["set one key", fmt_rate(sets["dict (in place)"]) + " (in place)", fmt_rate(sets["immutables"]),
             fmt_rate(sets["cohive"]), "", ratio(sets["cohive"], sets["immutables"], True), ""],
            ["iterate items", fmt_rate(walk["dict"]), fmt_rate(walk["immutables"]), fmt_rate(walk["cohive"]), "",
             ratio(walk["cohive"], walk["immutables"], True), ""],
            ["bytes per entry", f"{mem['dict']:.0f}", f"{mem['immutables']:.0f}", f"{mem['cohive']:.0f}", "",
             ratio(mem["cohive"], mem["immutables"], False), ""],
        ]
        total_mib = mem["cohive"] * n / 2**20
        out.append(
            table(
                f"{n:,} {{str: int}} items (cohive native memory in all: {total_mib:.1f} MiB)",
                ["", "dict", "immutables.Map", "cohive.Map", "pickle dumps+loads", "cohive vs immutables",
                 "cohive vs pickle"],
                rows,
            )
        )
        del structures, data
    return "\n".join(out)


if __name__ == "__main__":
    print(run())
