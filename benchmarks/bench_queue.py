"""Messages between interpreters: cohive.Queue against the alternatives.

Throughput from a producer in one interpreter (or process, or thread) to a
consumer in the main one, for small ints, short strs, 1 KB dicts and a
1M-key mapping; and the round-trip latency of an int bounced off an echo
worker, sync and asyncio.  Alternatives: the stdlib's cross-interpreter
queue (_interpqueues, 3.13+; it shares only scalars and bytes, so dicts are
pickled, and its get never blocks, so both sides spin on it: its best case),
multiprocessing (spawn) and queue.Queue between threads of one interpreter.
"""

import asyncio
import contextlib
import multiprocessing
import pickle
import queue
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cohive  # noqa: E402
from cohive._interpreters import Subinterpreter  # noqa: E402
from harness import fmt_rate, fmt_time, table  # noqa: E402

import bench_tasks  # noqa: E402

try:
    import _interpqueues  # 3.13+
except ImportError:
    _interpqueues = None
# Its private signatures changed in 3.14: create(maxsize, fmt, unboundop) and
# put(qid, obj, fmt, unboundop) became create(maxsize, unboundop, fallback)
# and put(qid, obj, unboundop).  Unbound items are replaced (3) either way.
IQ_CREATE, IQ_PUT_ARGS = ((3, -1), (3,)) if sys.version_info >= (3, 14) else ((0, 3), (0, 3))
IQ_PUT = ", ".join(map(str, IQ_PUT_ARGS))
try:
    import concurrent.interpreters as stdlib_interpreters  # 3.14+: the public API
except ImportError:
    stdlib_interpreters = None

KB_DICT = {f"field{i:02d}": f"value-{i:03d}" for i in range(40)}  # about 1 KB pickled
COUNTS = {"small int": 200_000, "short str": 200_000, "1 KB dict": 50_000, "1M-key map": 5}

# Builds the payload list inside whichever worker produces it.
PAYLOADS = """
def payloads(kind, n, big=None):
    if kind == "small int":
        return list(range(n))
    if kind == "short str":
        return [f"msg-{i}" for i in range(n)]
    if kind == "1 KB dict":
        return [dict(KB_DICT, seq=i) for i in range(n)]
    return [big] * n
""".replace("KB_DICT", repr(KB_DICT))
exec(PAYLOADS)


def name(prefix: str) -> str:
    return f"bench-{prefix}-{uuid.uuid4().hex}"


def median_of(fn: Callable[[], float], repeat: int = 3) -> float:
    return statistics.median(fn() for _ in range(repeat))


# --- throughput -------------------------------------------------------------------------------------


def cohive_stream(worker: Subinterpreter, kind: str, n: int, big_ref: str) -> float:
    q_name, go = name("q"), name("go")
    q, go_ref = cohive.Queue(maxsize=10_000, name=q_name), cohive.Ref(go, default=False)
    running = worker.submit(PAYLOADS + f"""
import cohive
q, go = cohive.Queue(name={q_name!r}), cohive.Ref({go!r})
items = payloads({kind!r}, {n}, cohive.Ref({big_ref!r}).get())
go.set("ready")
go.wait(1, timeout=120)
for item in items:
    q.put(item)
""")
    go_ref.wait(0, timeout=120)
    start = time.perf_counter()
    go_ref.set("go")
    for _ in range(n):
        q.get(timeout=120)
    elapsed = time.perf_counter() - start
    running.result(120)
    return n / elapsed


def interpqueue_stream(worker: Subinterpreter, kind: str, n: int) -> float:
    qid = _interpqueues.create(0, *IQ_CREATE)
    go = name("go")
    go_ref = cohive.Ref(go, default=False)
    pickled = kind in ("1 KB dict", "1M-key map")
    running = worker.submit(PAYLOADS + f"""
import _interpqueues, pickle, cohive
big = {{f"key:{{i}}": i for i in range(1_000_000)}} if {kind!r} == "1M-key map" else None
items = payloads({kind!r}, {n}, big)
go = cohive.Ref({go!r})
go.set("ready")
go.wait(1, timeout=120)
for item in items:
    _interpqueues.put({qid}, pickle.dumps(item) if {pickled} else item, {IQ_PUT})
""")
    go_ref.wait(0, timeout=120)
    start = time.perf_counter()
    go_ref.set("go")
    received = 0
    while received < n:
        try:
            item = _interpqueues.get(qid)[0]
        except _interpqueues.QueueError:
            continue  # nothing yet: it cannot block, so spin
        if pickled:
            pickle.loads(item)
        received += 1
    elapsed = time.perf_counter() - start
    running.result(120)
    _interpqueues.destroy(qid)
    return n / elapsed


def _mp_producer(q: Any, kind: str, n: int, ready: Any, go: Any) -> None:
    big = {f"key:{i}": i for i in range(1_000_000)} if kind == "1M-key map" else None
    items = payloads(kind, n, big)  # type: ignore[name-defined]  # noqa: F821
    ready.set()
    go.wait()
    for item in items:
        q.put(item)


def mp_stream(kind: str, n: int) -> float:
    ctx = multiprocessing.get_context("spawn")
    q, ready, go = ctx.Queue(), ctx.Event(), ctx.Event()
    p = ctx.Process(target=_mp_producer, args=(q, kind, n, ready, go))
    p.start()
    ready.wait(120)
    start = time.perf_counter()
    go.set()
    for _ in range(n):
        q.get(timeout=120)
    elapsed = time.perf_counter() - start
    p.join(120)
    return n / elapsed


def thread_stream(kind: str, n: int) -> float:
    q: queue.Queue[Any] = queue.Queue(maxsize=10_000)
    big = {f"key:{i}": i for i in range(1_000_000)} if kind == "1M-key map" else None
    items = payloads(kind, n, big)  # type: ignore[name-defined]  # noqa: F821
    go = threading.Event()

    def produce() -> None:
        go.wait()
        for item in items:
            q.put(item)

    t = threading.Thread(target=produce)
    t.start()
    start = time.perf_counter()
    go.set()
    for _ in range(n):
        q.get(timeout=120)
    elapsed = time.perf_counter() - start
    t.join(120)
    return n / elapsed


def throughput(quick: bool) -> str:
    big_ref = name("big")
    ref = cohive.Ref(big_ref, default=cohive.Map({f"key:{i}": i for i in range(1_000_000)}))
    rows = []
    with Subinterpreter() as worker:
        for kind, n in COUNTS.items():
            n = max(1, n // 10) if quick else n
            ours = median_of(lambda: cohive_stream(worker, kind, n, big_ref))  # noqa: B023
            stdlib = median_of(lambda: interpqueue_stream(worker, kind, n)) if _interpqueues else None  # noqa: B023
            procs = median_of(lambda: mp_stream(kind, n), 1 if kind == "1M-key map" else 3)  # noqa: B023
            threads = median_of(lambda: thread_stream(kind, n))  # noqa: B023
            rows.append([kind, fmt_rate(ours), fmt_rate(stdlib) if stdlib else "n/a", fmt_rate(procs),
                         fmt_rate(threads), f"{ours / stdlib:.1f}x" if stdlib else "", f"{ours / procs:.1f}x",
                         f"{ours / threads:.1f}x"])
    del ref
    return table("Messages per second, one producer to one consumer",
                 ["payload", "cohive.Queue (interpreters)", "_interpqueues (interpreters)",
                  "multiprocessing.Queue (processes)", "queue.Queue (threads)", "vs _interpqueues",
                  "vs multiprocessing", "vs threads"], rows)


# --- round trips --------------------------------------------------------------------------------------

ROUNDS = 5_000


def hot_round_trip(put: Callable[[int], None], get: Callable[[], Any], rounds: int = ROUNDS) -> float:
    put(-1)
    get()  # warm up
    start = time.perf_counter()
    for i in range(rounds):
        put(i)
        get()
    return (time.perf_counter() - start) / rounds


def cohive_round_trip(worker: Subinterpreter, use_async: bool) -> float:
    with cohive_echo(worker) as (q_in, q_out):
        if not use_async:
            return hot_round_trip(q_in.put, lambda: q_out.get(timeout=120))

        async def bounce() -> float:
            await q_in.put_async(-1)
            await q_out.get_async()  # warm up
            start = time.perf_counter()
            for i in range(ROUNDS):
                await q_in.put_async(i)
                await q_out.get_async()
            return (time.perf_counter() - start) / ROUNDS

        return asyncio.run(bounce())


# Before each trip of an idle round trip the caller pauses this long, past any
# spin, so the echo side is asleep and the trip includes its wake-up.
IDLE_PAUSE, IDLE_ROUNDS = 0.002, 500


def idle_round_trip(put: Callable[[int], None], get: Callable[[], Any]) -> float:
    put(-1)
    get()
    times = []
    for i in range(IDLE_ROUNDS):
        time.sleep(IDLE_PAUSE)
        start = time.perf_counter()
        put(i)
        get()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cohive_idle_round_trip(worker: Subinterpreter) -> float:
    with cohive_echo(worker) as (q_in, q_out):
        return idle_round_trip(q_in.put, lambda: q_out.get(timeout=120))


def thread_idle_round_trip() -> float:
    with thread_echo() as (q_in, q_out):
        return idle_round_trip(q_in.put, lambda: q_out.get(timeout=120))


@contextlib.contextmanager
def cohive_echo(worker: Subinterpreter) -> Iterator[tuple[cohive.Queue[Any], cohive.Queue[Any]]]:
    """Two queues, and the worker echoing what goes into the first onto the second."""
    ping, pong = name("ping"), name("pong")
    q_in, q_out = cohive.Queue(name=ping), cohive.Queue(name=pong)
    running = worker.submit(f"""
import cohive
q_in, q_out = cohive.Queue(name={ping!r}), cohive.Queue(name={pong!r})
for item in q_in:
    q_out.put(item)
""")
    try:
        yield q_in, q_out
    finally:
        q_in.close()
        running.result(120)


@contextlib.contextmanager
def thread_echo() -> Iterator[tuple[queue.Queue[Any], queue.Queue[Any]]]:
    """The same between two threads of one interpreter."""
    q_in: queue.Queue[Any] = queue.Queue()
    q_out: queue.Queue[Any] = queue.Queue()

    def echo() -> None:
        while (item := q_in.get()) is not None:
            q_out.put(item)

    t = threading.Thread(target=echo)
    t.start()
    try:
        yield q_in, q_out
    finally:
        q_in.put(None)
        t.join(120)


def interpqueue_round_trip(worker: Subinterpreter) -> float:
    q_in, q_out = _interpqueues.create(0, *IQ_CREATE), _interpqueues.create(0, *IQ_CREATE)
    running = worker.submit(f"""
import _interpqueues
while True:
    try:
        item = _interpqueues.get({q_in})[0]
    except _interpqueues.QueueError:
        continue
    _interpqueues.put({q_out}, item, {IQ_PUT})
    if item == -2:
        break
""")

    def call(i: int) -> None:
        _interpqueues.put(q_in, i, *IQ_PUT_ARGS)
        while True:
            try:
                _interpqueues.get(q_out)
                return
            except _interpqueues.QueueError:
                continue

    call(-1)
    start = time.perf_counter()
    for i in range(ROUNDS):
        call(i)
    per_trip = (time.perf_counter() - start) / ROUNDS
    call(-2)
    running.result(120)
    _interpqueues.destroy(q_in)
    _interpqueues.destroy(q_out)
    return per_trip


def _mp_echo(conn: Any) -> None:
    while (item := conn.recv()) is not None:
        conn.send(item)


def mp_round_trip() -> float:
    ctx = multiprocessing.get_context("spawn")
    here, there = ctx.Pipe()
    p = ctx.Process(target=_mp_echo, args=(there,))
    p.start()
    here.send(-1)
    here.recv()
    start = time.perf_counter()
    for i in range(ROUNDS):
        here.send(i)
        here.recv()
    per_trip = (time.perf_counter() - start) / ROUNDS
    here.send(None)
    p.join(120)
    return per_trip


def thread_round_trip() -> float:
    with thread_echo() as (q_in, q_out):
        return hot_round_trip(q_in.put, lambda: q_out.get(timeout=120))


# The public queue's blocking get sleeps 10 ms between polls: few rounds suffice.
STDLIB_ROUNDS = 100


def stdlib_round_trip() -> float:
    """concurrent.interpreters.Queue as documented: blocking put and get."""
    interp = stdlib_interpreters.create()
    q_in, q_out = stdlib_interpreters.create_queue(), stdlib_interpreters.create_queue()
    echo = interp.call_in_thread(bench_tasks.echo, q_in, q_out)
    per_trip = hot_round_trip(q_in.put, lambda: q_out.get(timeout=120), STDLIB_ROUNDS)
    q_in.put(None)
    echo.join(120)
    interp.close()
    return per_trip


def stdlib_stream(n: int) -> float:
    """Small ints through concurrent.interpreters.Queue, blocking get."""
    interp = stdlib_interpreters.create()
    q = stdlib_interpreters.create_queue()
    start = time.perf_counter()
    producer = interp.call_in_thread(bench_tasks.produce, q, n)
    for _ in range(n):
        q.get(timeout=120)
    elapsed = time.perf_counter() - start
    producer.join(120)
    interp.close()
    return n / elapsed


ROUND_TRIP_CHANNELS = {
    "cohive sync": "cohive.Queue, sync (interpreters)",
    "cohive async": "cohive.Queue, asyncio get_async/put_async",
    "stdlib public": "concurrent.interpreters.Queue, blocking get (3.14+)",
    "stdlib spinning": "_interpqueues, both sides spinning",
    "processes": "multiprocessing Pipe (processes)",
    "threads": "queue.Queue (threads)",
    "cohive idle": "cohive.Queue, echo worker idle (asleep) before each trip",
    "threads idle": "queue.Queue (threads), echo thread idle before each trip",
}


def round_trip_times() -> dict[str, float | None]:
    """Median seconds per round trip, by channel (None where this Python lacks it)."""
    with Subinterpreter() as worker:
        sync = median_of(lambda: cohive_round_trip(worker, False), 5)
        async_ = median_of(lambda: cohive_round_trip(worker, True), 5)
        spinning = median_of(lambda: interpqueue_round_trip(worker), 5) if _interpqueues else None
        idle = median_of(lambda: cohive_idle_round_trip(worker), 3)
    return {
        "cohive sync": sync,
        "cohive async": async_,
        "stdlib public": median_of(stdlib_round_trip, 3) if stdlib_interpreters else None,
        "stdlib spinning": spinning,
        "processes": median_of(mp_round_trip, 3),
        "threads": median_of(thread_round_trip, 5),
        "cohive idle": idle,
        "threads idle": median_of(thread_idle_round_trip, 3),
    }


def round_trips(times: dict[str, float | None]) -> str:
    sync = times["cohive sync"]
    assert sync is not None
    rows = [[label, fmt_time(t) if t else "n/a", f"{t / sync:.2f}x" if t else ""]
            for key, label in ROUND_TRIP_CHANNELS.items() for t in [times[key]]]
    return table("Round trip of an int to an echo worker and back", ["channel", "round trip", "vs cohive sync"], rows)


def public_throughput(quick: bool) -> dict[str, float]:
    """Small ints per second, cohive.Queue and the stdlib's public queue, blocking calls."""
    n = 20_000 if quick else 200_000
    no_big = name("none")
    keep = cohive.Ref(no_big, default=None)
    with Subinterpreter() as worker:
        ours = median_of(lambda: cohive_stream(worker, "small int", n, no_big))
    del keep
    return {"cohive": ours, "stdlib public": median_of(lambda: stdlib_stream(n))}


def measure(quick: bool = False) -> dict[str, Any]:
    """What the tables and the plots show: round trips, and streams against the public stdlib queue."""
    return {
        "round_trip": round_trip_times(),
        "public_stream": public_throughput(quick) if stdlib_interpreters is not None else None,
        "streams": throughput(quick),
    }


def report(data: dict[str, Any]) -> str:
    parts = [data["streams"], round_trips(data["round_trip"])]
    if data["public_stream"] is not None:
        rates = data["public_stream"]
        parts.append(table(
            "Small ints per second through the stdlib's public queue (3.14+), blocking calls on both sides",
            ["cohive.Queue", "concurrent.interpreters.Queue", "cohive vs stdlib"],
            [[fmt_rate(rates["cohive"]), fmt_rate(rates["stdlib public"]),
              f"{rates['cohive'] / rates['stdlib public']:.1f}x"]]))
    return "\n".join(parts)


if __name__ == "__main__":
    print(report(measure("--quick" in sys.argv)))
