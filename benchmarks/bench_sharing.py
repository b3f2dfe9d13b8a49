"""Sharing a Map across subinterpreters: hand-off cost, lookups, scaling with cores.

- hand-off: making a Map readable in another interpreter through a Ref
  (publish in main + get in the worker), against pickle.dumps + loads of the
  equivalent dict, at 1e3 to 1e7 keys;
- lookups per second from a worker interpreter on a shared 1e6-key Map,
  against dict lookups in the interpreter that owns the dict;
- throughput of 1 vs 2 interpreters, and of 1 vs 2 threads in one
  interpreter, on the same lookups (plain and nested values);
- Ref.update throughput from 1 vs 2 interpreters contending for one Ref, and how often
  an update retried because the other published first.
"""

import os
import pickle
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cohive  # noqa: E402
from cohive._interpreters import Subinterpreter  # noqa: E402
from harness import fmt_rate, fmt_time, median_time, table  # noqa: E402

LOOKUPS = 400_000


def name(prefix: str) -> str:
    return f"bench-{prefix}-{uuid.uuid4().hex}"


def handoff(sizes: tuple[int, ...]) -> str:
    rows = []
    with Subinterpreter() as worker:
        for n in sizes:
            data = {f"key:{i}": i for i in range(n)}
            m = cohive.Map(data)
            ref_name, out_name = name("handoff"), name("handoff-out")
            ref, out = cohive.Ref(ref_name), cohive.Ref(out_name)
            publish = median_time(lambda: ref.set(m), 1001)  # noqa: B023
            worker.run(f"""
import cohive, time, statistics
ref = cohive.Ref({ref_name!r})
times = []
for _ in range(1001):
    t0 = time.perf_counter()
    m = ref.get()
    len(m)
    times.append(time.perf_counter() - t0)
assert len(m) == {n}
cohive.Ref({out_name!r}).set(statistics.median(times))
""")
            get = out.get()
            repeat = 1 if n >= 10_000_000 else 3
            pickled = median_time(lambda: pickle.loads(pickle.dumps(data, pickle.HIGHEST_PROTOCOL)), repeat)  # noqa: B023
            total = publish + get
            rows.append([f"{n:,}", fmt_time(publish), fmt_time(get), fmt_time(total), fmt_time(pickled),
                         f"{pickled / total:,.0f}x"])
            del data, m, ref, out
    return table("Hand-off: make a Map readable in another interpreter",
                 ["keys", "Ref.set (main)", "Ref.get (worker)", "hand-off", "pickle dumps+loads",
                  "cohive vs pickle"], rows)


LOOKUP_CODE = """
import cohive, random
shared = cohive.Ref({map_name!r}).get()
rng = random.Random({seed})
keys = ["".join(f"key:{{rng.randrange({n})}}") for _ in range({count})]
cohive.Ref({ready_name!r}).update(lambda x: x + 1)
cohive.Ref({go_name!r}).wait(0, timeout=120)
for k in keys:
    shared[k]
"""


def timed_together(workers: list[Subinterpreter], code: Callable[[int, str, str], str]) -> float:
    """Wall time of running code(i, ready, go) in every worker at once.

    Each worker signals on the `ready` Ref when set up and starts its timed
    part when the `go` Ref is set, so set-up is not timed.
    """
    ready, go = name("ready"), name("go")
    ready_ref, go_ref = cohive.Ref(ready, default=0), cohive.Ref(go, default=False)
    futures = [w.submit(code(i, ready, go)) for i, w in enumerate(workers)]
    while ready_ref.get() < len(workers):
        ready_ref.wait(ready_ref.version, timeout=120)
    start = time.perf_counter()
    go_ref.set(True)
    for f in futures:
        f.result(300)
    return time.perf_counter() - start


def parallel_lookups(map_name: str, n: int, workers: list[Subinterpreter]) -> float:
    """Total lookups per second with all workers reading at once."""
    wall = timed_together(workers, lambda i, ready, go: LOOKUP_CODE.format(
        map_name=map_name, seed=i, n=n, count=LOOKUPS, ready_name=ready, go_name=go))
    return LOOKUPS * len(workers) / wall


def thread_lookups(m: object, n: int, threads: int) -> float:
    import random

    key_lists = []
    for seed in range(threads):
        rng = random.Random(seed)
        key_lists.append(["".join(f"key:{rng.randrange(n)}") for _ in range(LOOKUPS)])
    barrier = threading.Barrier(threads + 1, timeout=120)

    def run(keys: list[str]) -> None:
        barrier.wait()
        for k in keys:
            m[k]  # type: ignore[index]

    pool = [threading.Thread(target=run, args=(k,)) for k in key_lists]
    for t in pool:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in pool:
        t.join(300)
    return LOOKUPS * threads / (time.perf_counter() - start)


def interleaved(first: Callable[[], float], second: Callable[[], float], rounds: int = 7) -> tuple[float, float]:
    """Medians of two measurements taken in alternation."""
    a, b = [], []
    for _ in range(rounds):
        a.append(first())
        b.append(second())
    return statistics.median(a), statistics.median(b)


def owner_lookups(data: dict[str, object], n: int) -> float:
    """Lookups per second on the dict, in the interpreter and thread that own it."""
    import random

    rng = random.Random(0)
    keys = ["".join(f"key:{rng.randrange(n)}") for _ in range(LOOKUPS)]

    def run() -> None:
        for k in keys:
            data[k]

    return LOOKUPS / median_time(run, 5)


def lookups_and_scaling(n: int) -> str:
    plain = {f"key:{i}": i for i in range(n)}
    nested = {f"key:{i}": {"i": i} for i in range(n)}
    out = []
    rows = []
    for label, data in (("int values", plain), ("nested Map values", nested)):
        m = cohive.Map(data)
        map_name = name("shared")
        ref = cohive.Ref(map_name, default=m)
        # 1 and 2 workers alternate, so that drifts in machine speed hit both alike.
        with Subinterpreter() as w1, Subinterpreter() as w2:
            one, two = interleaved(lambda: parallel_lookups(map_name, n, [w1]),  # noqa: B023
                                   lambda: parallel_lookups(map_name, n, [w1, w2]))  # noqa: B023
        owner = owner_lookups(data, n)
        dict_one, dict_two = interleaved(lambda: thread_lookups(data, n, 1), lambda: thread_lookups(data, n, 2))  # noqa: B023
        map_one, map_two = interleaved(lambda: thread_lookups(m, n, 1), lambda: thread_lookups(m, n, 2))  # noqa: B023
        rows.append([label, fmt_rate(owner), fmt_rate(one), f"{one / owner:.2f}x", fmt_rate(two),
                     f"{two / one:.2f}x", f"{dict_two / dict_one:.2f}x", f"{map_two / map_one:.2f}x"])
        del ref, m
    out.append(table(
        f"Random lookups on a shared {n:,}-key Map ({os.cpu_count()} cores)",
        ["values", "dict, owning interpreter", "Map, 1 worker interpreter", "worker vs dict",
         "Map, 2 worker interpreters", "2 vs 1 interpreters", "2 vs 1 threads (dict)", "2 vs 1 threads (Map)"],
        rows))
    return "\n".join(out)


UPDATE_CODE = """
import cohive
counter = cohive.Ref({counter!r})
calls = [0]
def add_one(x):
    calls[0] += 1
    return x + 1
cohive.Ref({ready!r}).update(lambda x: x + 1)
cohive.Ref({go!r}).wait(0, timeout=120)
for _ in range({count}):
    counter.update(add_one)
cohive.Ref({retries!r}).update(lambda x: x + calls[0] - {count})
"""


def update_contention(count: int = 100_000, rounds: int = 7) -> str:
    """1 and 2 interpreters updating one Ref, in alternation (a single run
    lasts ~50 ms, so one pair of runs says little on a shared machine):
    median rates, and how often an update's function ran again because the
    other interpreter published first."""
    rates: dict[int, list[float]] = {1: [], 2: []}
    retries, lost = {1: 0, 2: 0}, {1: 0, 2: 0}
    with Subinterpreter() as w1, Subinterpreter() as w2:
        for _ in range(rounds):
            for workers in ([w1], [w1, w2]):
                counter, retried = name("counter"), name("retries")
                counter_ref, retries_ref = cohive.Ref(counter, default=0), cohive.Ref(retried, default=0)
                wall = timed_together(workers, lambda i, ready, go: UPDATE_CODE.format(  # noqa: B023
                    counter=counter, retries=retried, ready=ready, go=go, count=count))  # noqa: B023
                expected = count * len(workers)
                rates[len(workers)].append(expected / wall)
                retries[len(workers)] += retries_ref.get()
                lost[len(workers)] += expected - counter_ref.get()
    median = {n: statistics.median(r) for n, r in rates.items()}
    rows = [[str(n), fmt_rate(median[n]), f"{median[n] / median[1]:.2f}x",
             f"{retries[n] / (count * n * rounds):.3f}", str(lost[n])] for n in (1, 2)]
    return table(f"Ref.update(lambda x: x + 1) on one Ref, median of {rounds} alternating runs",
                 ["interpreters", "updates/s (all)", "vs 1", "retries per update", "lost updates"], rows)


def run(quick: bool = False) -> str:
    sizes = (1_000, 100_000) if quick else (1_000, 100_000, 1_000_000, 10_000_000)
    parts = [handoff(sizes), lookups_and_scaling(100_000 if quick else 1_000_000), update_contention()]
    return "\n".join(parts)


if __name__ == "__main__":
    print(run("--quick" in sys.argv))
