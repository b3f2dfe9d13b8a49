"""cohive.Queue: FIFO between interpreters and threads, sync and asyncio."""

import asyncio
import gc
import queue
import random
import threading
import time
import uuid

import pytest

import cohive
from conftest import assert_ctrl_c_interrupts, needs_asyncio_in_subinterpreters
from interp_helpers import TIMEOUT, interpreters, run_concurrently, run_in_each


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


async def fill_and_close(q: cohive.Queue[int], n: int) -> None:
    for i in range(n):
        await q.put_async(i)  # waits for space when the queue is bounded
    q.close()


def test_queue_api() -> None:
    q = cohive.Queue(maxsize=2)
    assert q.maxsize == 2 and q.name is None and not q.closed and q.empty() and not q.full()
    q.put({"a": [1]})
    q.put_nowait(2)
    assert q.full() and q.qsize() == 2
    with pytest.raises(queue.Full):
        q.put(3, timeout=0.01)
    with pytest.raises(queue.Full):
        q.put_nowait(3)
    with pytest.raises(queue.Full):
        q.put(3, block=False, timeout=-5)  # a non-blocking call ignores the timeout, as queue.Queue does
    first = q.get()
    assert first == {"a": [1]} and isinstance(first, cohive.Map)
    assert q.get_nowait() == 2
    with pytest.raises(queue.Empty):
        q.get(timeout=0)
    with pytest.raises(queue.Empty):
        q.get_nowait()
    with pytest.raises(ValueError, match="timeout must be a non-negative number"):
        q.get(timeout=-1)
    assert "maxsize=2 size=0" in repr(q)
    assert cohive.Queue(maxsize=-3).maxsize == 0  # <= 0 is unbounded, as in queue.Queue


def test_items_are_frozen_before_anything_is_enqueued(native_baseline: int) -> None:
    q = cohive.Queue()
    with pytest.raises(TypeError, match=r"^item\['when'\]: range is not shareable"):
        q.put({"when": range(3)})
    assert q.qsize() == 0
    big = cohive.Map({f"k{i}": i for i in range(100_000)})
    q.put(0)
    q.get()  # the queue's ring buffer now exists
    before = cohive.native_bytes()
    q.put(big)
    back = q.get()
    assert cohive.native_bytes() == before  # travelled by reference, O(1)
    assert back == big
    del q, big, back


def test_close_drains_then_raises_and_iteration_ends() -> None:
    q = cohive.Queue()
    for i in range(3):
        q.put(i)
    q.close()
    assert q.closed
    with pytest.raises(cohive.QueueClosed):
        q.put(4)
    assert q.get() == 0
    assert list(q) == [1, 2]
    with pytest.raises(cohive.QueueClosed):
        q.get()
    with pytest.raises(cohive.QueueClosed):
        q.get_nowait()


def test_close_wakes_every_blocked_caller() -> None:
    empty, full = cohive.Queue(), cohive.Queue(maxsize=1)
    full.put("occupied")
    outcomes: list[str] = []
    lock = threading.Lock()

    def blocked(call: object) -> None:
        try:
            call()  # type: ignore[operator]
        except cohive.QueueClosed:
            with lock:
                outcomes.append("closed")

    threads = [threading.Thread(target=blocked, args=(empty.get,)) for _ in range(3)]
    threads += [threading.Thread(target=blocked, args=(lambda: full.put("more"),)) for _ in range(3)]
    for t in threads:
        t.start()
    while len([t for t in threads if t.is_alive()]) < 6:
        pass  # all started; whether they block yet does not matter: close() covers both
    empty.close()
    full.close()
    for t in threads:
        t.join(TIMEOUT)
        assert not t.is_alive()
    assert outcomes == ["closed"] * 6
    assert full.get() == "occupied"  # what was queued before close is still delivered


def test_blocked_put_resumes_when_a_slot_frees() -> None:
    q = cohive.Queue(maxsize=1)
    q.put("first")
    done = threading.Event()

    def producer() -> None:
        q.put("second", timeout=TIMEOUT)
        done.set()

    t = threading.Thread(target=producer)
    t.start()
    assert q.get(timeout=TIMEOUT) == "first"
    assert q.get(timeout=TIMEOUT) == "second"
    t.join(TIMEOUT)
    assert done.is_set()


def test_producers_and_consumers_across_interpreters() -> None:
    name, results = unique("mpmc"), unique("mpmc-results")
    items, producers, consumers = 3000, 3, 3
    q = cohive.Queue(maxsize=64, name=name)
    out = cohive.Queue(name=results)
    producer = """
        import cohive
        q = cohive.Queue(name={name!r})
        for seq in range({items}):
            q.put(({pid}, seq, {{"payload": [seq] * 3}}))
    """
    consumer = f"""
        import cohive
        q, out = cohive.Queue(name={name!r}), cohive.Queue(name={results!r})
        seen = [(pid, seq) for pid, seq, payload in q if payload["payload"] == [seq] * 3]
        out.put(seen)
    """
    with interpreters(producers + consumers) as interps:
        codes = [producer.format(name=name, items=items, pid=p) for p in range(producers)] + [consumer] * consumers
        import textwrap

        futures = [i.submit(textwrap.dedent(c)) for i, c in zip(interps, codes)]
        for f in futures[:producers]:
            f.result(TIMEOUT)
        q.close()  # every item is queued: let the consumers drain and stop
        for f in futures[producers:]:
            f.result(TIMEOUT)
    seen = [out.get(timeout=TIMEOUT) for _ in range(consumers)]
    everything = [item for part in seen for item in part]
    assert len(everything) == producers * items  # nothing lost or duplicated
    assert sorted(everything) == [(p, s) for p in range(producers) for s in range(items)]
    for part in seen:  # FIFO per producer, as each consumer saw it
        for p in range(producers):
            mine = [s for pid, s in part if pid == p]
            assert mine == sorted(mine)


def test_back_pressure_bounds_the_queue() -> None:
    name = unique("bounded")
    q = cohive.Queue(maxsize=4, name=name)
    producer = f"""
        import cohive
        q = cohive.Queue(name={name!r})
        for i in range(500):
            q.put(i, timeout={TIMEOUT})
        q.close()
    """
    with interpreters(1) as (interp,):
        import textwrap

        running = interp.submit(textwrap.dedent(producer))
        received = []
        for item in q:
            assert q.qsize() <= 4
            received.append(item)
        running.result(TIMEOUT)
    assert received == list(range(500))


def test_an_idle_consumer_uses_no_cpu() -> None:
    q = cohive.Queue()
    consumers = [threading.Thread(target=lambda: list(q)) for _ in range(4)]
    for t in consumers:
        t.start()
    with interpreters(1) as (interp,):
        waiting = interp.submit("import cohive\nq = cohive.Queue()\n")  # nothing: keeps an interpreter idle too
        waiting.result(TIMEOUT)
        cpu_before, wall_before = time.process_time(), time.monotonic()
        threading.Event().wait(1.0)  # the measurement window, not synchronisation
        cpu = time.process_time() - cpu_before
        wall = time.monotonic() - wall_before
    q.close()
    for t in consumers:
        t.join(TIMEOUT)
    assert wall >= 1.0
    assert cpu < 0.05, f"four blocked consumers used {cpu:.3f} s of CPU in {wall:.2f} s"


def test_async_get_put_and_iteration() -> None:
    async def main() -> list[object]:
        q = cohive.Queue(maxsize=2)
        getter = asyncio.create_task(q.get_async())
        await asyncio.sleep(0)
        await q.put_async("x")
        assert await asyncio.wait_for(getter, TIMEOUT) == "x"

        producer = asyncio.create_task(fill_and_close(q, 50))
        received = [item async for item in q]
        await producer
        return received

    assert asyncio.run(main()) == list(range(50))


def test_async_put_refuses_unshareable_items_at_once() -> None:
    async def main() -> None:
        q = cohive.Queue(maxsize=1)
        q.put("occupied")
        with pytest.raises(TypeError, match="not shareable"):
            await asyncio.wait_for(q.put_async(object()), TIMEOUT)

    asyncio.run(main())


def test_cancelled_async_gets_never_lose_items() -> None:
    total = 2000
    rng = random.Random(7)

    async def main() -> list[int]:
        q = cohive.Queue()
        received: list[int] = []

        async def consume() -> None:
            while True:
                received.append(await q.get_async())

        async def produce() -> None:
            for i in range(total):
                await q.put_async(i)
                if i % 50 == 0:
                    await asyncio.sleep(0)

        producer = asyncio.create_task(produce())
        while len(received) < total:
            consumers = [asyncio.create_task(consume()) for _ in range(4)]
            for _ in range(rng.randrange(1, 5)):
                await asyncio.sleep(0)
            for c in consumers:
                c.cancel()
            await asyncio.gather(*consumers, return_exceptions=True)
            if producer.done() and q.empty():
                break
        await producer
        while not q.empty():  # whatever the cancelled consumers did not take is still queued
            received.append(q.get_nowait())
        return received

    received = asyncio.run(asyncio.wait_for(main(), TIMEOUT))
    assert sorted(received) == list(range(total))
    assert received == list(range(total))  # one queue, FIFO: order kept through cancellations


def test_cancelled_async_puts_enqueue_whole_items_or_nothing() -> None:
    async def main() -> None:
        q = cohive.Queue(maxsize=1)
        q.put("occupied")
        puts = [asyncio.create_task(q.put_async({"n": i})) for i in range(10)]
        await asyncio.sleep(0)
        for p in puts[::2]:
            p.cancel()
        drained = []
        while len(drained) < 6:
            drained.append(await asyncio.wait_for(q.get_async(), TIMEOUT))
        results = await asyncio.gather(*puts, return_exceptions=True)
        cancelled = {i for i, r in enumerate(results) if isinstance(r, asyncio.CancelledError)}
        assert cancelled == {0, 2, 4, 6, 8}
        assert drained[0] == "occupied"
        assert sorted(d["n"] for d in drained[1:]) == [1, 3, 5, 7, 9]
        assert q.empty()

    asyncio.run(main())


def test_async_close_wakes_waiting_getters() -> None:
    async def main() -> None:
        q = cohive.Queue()
        getters = [asyncio.create_task(q.get_async()) for _ in range(3)]
        await asyncio.sleep(0)
        q.close()
        results = await asyncio.wait_for(asyncio.gather(*getters, return_exceptions=True), TIMEOUT)
        assert all(isinstance(r, cohive.QueueClosed) for r in results)

    asyncio.run(main())


def test_works_with_uvloop() -> None:
    uvloop = pytest.importorskip("uvloop")

    async def main() -> list[int]:
        q = cohive.Queue(maxsize=3)

        producer = asyncio.ensure_future(fill_and_close(q, 100))
        received = [i async for i in q]
        await producer
        return received

    assert uvloop.run(main()) == list(range(100))


@needs_asyncio_in_subinterpreters
def test_async_consumer_in_a_subinterpreter_loop() -> None:
    name, results = unique("async-sub"), unique("async-sub-out")
    q, out = cohive.Queue(name=name), cohive.Ref(results, default=None)
    run_in_each([f"""
        import asyncio, cohive
        async def main():
            q = cohive.Queue(name={name!r})
            asyncio.get_running_loop().call_soon(lambda: None)
            return [item async for item in q]
        import threading
        cohive.Ref({results!r}).set("started")
        got = asyncio.run(main())
        cohive.Ref({results!r}).set(got)
    """, f"""
        import cohive
        q = cohive.Queue(name={name!r})
        cohive.Ref({results!r}).wait(0, timeout=60)
        for i in range(100):
            q.put(i)
        q.close()
    """])
    assert out.get() == list(range(100))


def test_queues_travel_inside_frozen_values_and_free_with_their_last_handle(native_baseline: int) -> None:
    q = cohive.Queue()
    carrier = cohive.Map(jobs=q)
    assert carrier["jobs"] == q
    carrier["jobs"].put("via the map")
    assert q.get() == "via the map"
    name = unique("lifetime")
    named = cohive.Queue(name=name)
    named.put([1, 2, 3])  # still queued when the last handle goes
    del named, q, carrier
    gc.collect()
    assert cohive.Queue(name=name).empty()  # a fresh queue under the old name


def test_ctrl_c_interrupts_a_blocking_get() -> None:
    assert_ctrl_c_interrupts('q = cohive.Queue()', 'q.get()')
