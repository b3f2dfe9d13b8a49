"""Lock, Event, Semaphore, Barrier and Counter across interpreters, sync and asyncio."""

import asyncio
import gc
import threading
import uuid

import pytest

import cohive
from conftest import assert_ctrl_c_interrupts
from interp_helpers import TIMEOUT, run_in_each


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


def test_lock_behaves_like_threading_lock() -> None:
    for lock in (cohive.Lock(), threading.Lock()):
        assert lock.acquire() and lock.locked()
        assert lock.acquire(blocking=False) is False
        assert lock.acquire(timeout=0.01) is False
        lock.release()
        assert not lock.locked()
        with pytest.raises(RuntimeError, match="release unlocked lock"):
            lock.release()
        mine = isinstance(lock, cohive.Lock)  # the stdlib's wording differs between versions
        with pytest.raises(ValueError, match="can't specify a timeout for a non-blocking call" if mine else None):
            lock.acquire(blocking=False, timeout=1)
        with pytest.raises(ValueError, match="timeout value must be a non-negative number" if mine else None):
            lock.acquire(timeout=-5)
        with lock:
            assert lock.locked()
        assert not lock.locked()


def test_semaphore_event_and_counter_basics() -> None:
    s = cohive.Semaphore(2)
    assert s.acquire() and s.acquire(timeout=0) and not s.acquire(blocking=False) and s.value == 0
    s.release(2)
    assert s.value == 2
    with pytest.raises(ValueError, match="n must be one or more"):
        s.release(0)
    with pytest.raises(ValueError, match="initial value must be >= 0"):
        cohive.Semaphore(-1)
    e = cohive.Event()
    assert not e.is_set() and e.wait(timeout=0.01) is False
    e.set()
    assert e.is_set() and e.wait() is True
    e.clear()
    assert not e.is_set()
    c = cohive.Counter(5)
    assert c.add() == 6 and c.add(-10) == -4 and c.get() == -4
    assert c.compare_and_set(-4, 1) and not c.compare_and_set(-4, 2) and c.get() == 1


def test_names_are_shared_and_kinds_are_checked() -> None:
    name = unique("named")
    lock = cohive.Lock(name=name)
    assert cohive.Lock(name=name) == lock and lock.name == name
    with pytest.raises(TypeError, match="belongs to a cohive.Lock, not a cohive.Event"):
        cohive.Event(name=name)
    with pytest.raises(TypeError, match="belongs to a cohive.Lock, not a cohive.Queue"):
        cohive.Queue(name=name)


# Run in each of 4 interpreters: 3000 times, enter the guard and record in
# `worst` the most holders ever seen inside it at once.
GUARDED_WORKER = """
    import cohive
    guard = cohive.{kind}(name={guard!r}) if {kind!r} == "Lock" else cohive.Semaphore(2, name={guard!r})
    inside, worst = cohive.Counter(name={inside!r}), cohive.Counter(name={worst!r})
    for _ in range(3000):
        with guard:
            now = inside.add(1)
            seen = worst.get()
            while now > seen and not worst.compare_and_set(seen, now):
                seen = worst.get()
            inside.add(-1)
"""


def most_holders_at_once(kind: str, guard: object, guard_name: str) -> int:
    inside, worst = unique("inside"), unique("worst")
    worst_counter = cohive.Counter(name=worst)
    run_in_each([GUARDED_WORKER.format(kind=kind, guard=guard_name, inside=inside, worst=worst)] * 4)
    return worst_counter.get()


def test_lock_mutual_exclusion_across_interpreters() -> None:
    name = unique("lock")
    lock = cohive.Lock(name=name)
    assert most_holders_at_once("Lock", lock, name) == 1  # never two holders at once
    assert not lock.locked()


def test_semaphore_limits_concurrency_across_interpreters() -> None:
    name = unique("sem")
    sem = cohive.Semaphore(2, name=name)
    assert 1 <= most_holders_at_once("Semaphore", sem, name) <= 2
    assert sem.value == 2


def test_event_wakes_waiters_in_other_interpreters() -> None:
    go, arrived = unique("go"), unique("arrived")
    event, count = cohive.Event(name=go), cohive.Counter(name=arrived)
    waiter = f"""
        import cohive
        cohive.Counter(name={arrived!r}).add(1)
        assert cohive.Event(name={go!r}).wait(timeout=60)
    """
    setter = f"""
        import cohive, time
        count, give_up = cohive.Counter(name={arrived!r}), time.monotonic() + 60
        while count.get() < 3 and time.monotonic() < give_up:  # asleep or not yet: either way they must pass
            pass
        cohive.Event(name={go!r}).set()
    """
    run_in_each([waiter, waiter, waiter, setter])
    assert event.is_set() and count.get() == 3


def test_barrier_rounds_across_interpreters() -> None:
    name, indices = unique("barrier"), unique("indices")
    barrier = cohive.Barrier(3, name=name)
    out = cohive.Queue(name=indices)
    party = f"""
        import cohive
        barrier, out = cohive.Barrier(3, name={name!r}), cohive.Queue(name={indices!r})
        for round in range(20):
            out.put((round, barrier.wait(timeout=60)))
    """
    run_in_each([party] * 3)
    results = [out.get_nowait() for _ in range(60)]
    for r in range(20):
        assert sorted(i for rnd, i in results if rnd == r) == [0, 1, 2]
    assert barrier.n_waiting == 0 and not barrier.broken and barrier.parties == 3


def test_barrier_timeout_abort_and_reset() -> None:
    b = cohive.Barrier(2)
    with pytest.raises(threading.BrokenBarrierError):
        b.wait(timeout=0.01)  # nobody came: the timeout breaks it
    assert b.broken
    with pytest.raises(threading.BrokenBarrierError):
        b.wait()  # broken until reset
    b.reset()
    assert not b.broken
    with_default = cohive.Barrier(2, timeout=0.01)
    with pytest.raises(threading.BrokenBarrierError):
        with_default.wait()

    waiting = cohive.Barrier(2)
    failures: list[BaseException] = []

    def wait() -> None:
        try:
            waiting.wait(timeout=TIMEOUT)
        except threading.BrokenBarrierError as exc:
            failures.append(exc)

    for breaker in (waiting.abort, waiting.reset):
        t = threading.Thread(target=wait)
        t.start()
        while waiting.n_waiting == 0 and t.is_alive():
            pass
        breaker()
        t.join(TIMEOUT)
        assert not t.is_alive()
        waiting.reset()
    assert len(failures) == 2
    with pytest.raises(ValueError, match="parties must be a positive number"):
        cohive.Barrier(0)


def test_counter_from_many_interpreters() -> None:
    name = unique("counter")
    counter = cohive.Counter(name=name)
    run_in_each([f"import cohive\nc = cohive.Counter(name={name!r})\nfor _ in range(10000): c.add(1)"] * 4)
    assert counter.get() == 40000


def test_async_forms() -> None:
    async def main() -> None:
        lock = cohive.Lock()
        async with lock:
            assert lock.locked()
            contender = asyncio.create_task(lock.acquire_async())
            await asyncio.sleep(0)
            assert not contender.done()
        assert await asyncio.wait_for(contender, TIMEOUT) is True
        lock.release()

        sem = cohive.Semaphore(1)
        async with sem:
            assert sem.value == 0
        assert sem.value == 1

        event = cohive.Event()
        waiting = asyncio.create_task(event.wait_async())
        await asyncio.sleep(0)
        event.set()
        assert await asyncio.wait_for(waiting, TIMEOUT) is True

        barrier = cohive.Barrier(3)
        indices = await asyncio.wait_for(asyncio.gather(*(barrier.wait_async() for _ in range(3))), TIMEOUT)
        assert sorted(indices) == [0, 1, 2]

    asyncio.run(main())


def test_cancelled_acquire_async_loses_no_wake_up() -> None:
    async def main() -> None:
        lock = cohive.Lock()
        lock.acquire()
        waiters = [asyncio.create_task(lock.acquire_async()) for _ in range(10)]
        await asyncio.sleep(0)
        for w in waiters[:-1]:
            w.cancel()
        lock.release()  # its one wake-up may go to a cancelled waiter: it must be passed on
        assert await asyncio.wait_for(waiters[-1], TIMEOUT) is True
        assert lock.locked()
        lock.release()

    asyncio.run(main())


def test_cancelled_barrier_wait_breaks_it_for_the_others() -> None:
    async def main() -> None:
        barrier = cohive.Barrier(3)
        first = asyncio.create_task(barrier.wait_async())
        second = asyncio.create_task(barrier.wait_async())
        await asyncio.sleep(0)
        first.cancel()
        with pytest.raises(threading.BrokenBarrierError):
            await asyncio.wait_for(second, TIMEOUT)
        assert barrier.broken

    asyncio.run(main())


def test_primitives_travel_in_frozen_values_and_are_freed(native_baseline: int) -> None:
    lock, counter = cohive.Lock(), cohive.Counter(3)
    bundle = cohive.Map(lock=lock, counter=counter, event=cohive.Event(), sem=cohive.Semaphore(1),
                        barrier=cohive.Barrier(2))
    assert bundle["lock"] == lock and bundle["counter"].add(1) == 4
    name = unique("gone")
    cohive.Counter(7, name=name)  # dropped at once
    assert cohive.Counter(name=name).get() == 0  # so this is a fresh one
    del lock, counter, bundle
    gc.collect()


def test_ctrl_c_interrupts_a_blocking_acquire() -> None:
    assert_ctrl_c_interrupts("lock = cohive.Lock()\nlock.acquire()", "lock.acquire()")
