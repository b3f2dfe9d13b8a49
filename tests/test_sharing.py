"""Sharing frozen state across isolated subinterpreters (own GIL) through Refs."""

import asyncio
import gc
import os
import textwrap
import threading
import uuid

import pytest

import cohive
from conftest import assert_ctrl_c_interrupts, needs_asyncio_in_subinterpreters
from interp_helpers import TIMEOUT, interpreters, run_concurrently, run_in_each


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


def test_cohive_works_in_an_isolated_interpreter() -> None:
    run_in_each(["""
        import cohive
        m = cohive.Map({"a": [1, {"b": 2}]})
        assert m["a"][1]["b"] == 2
        assert cohive.thaw(m) == {"a": [1, {"b": 2}]}
    """])


def test_each_interpreter_has_its_own_types() -> None:
    name = unique("types")
    ref = cohive.Ref(name, default={"a": 1})
    run_in_each([f"""
        import cohive
        m = cohive.Ref({name!r}).get()
        assert type(m) is cohive.Map and m == {{"a": 1}}
        cohive.Ref({name!r}).set(id(type(m)))
    """])
    assert ref.get() != id(cohive.Map)  # another interpreter, another type object


def test_many_interpreters_read_every_value_of_a_shared_map(native_baseline: int) -> None:
    n = 100_000
    name = unique("readers")
    ref = cohive.Ref(name, default=cohive.Map({f"k{i}": (i, str(i), {"sq": i * i}) for i in range(n)}))
    reader = f"""
        import cohive
        m = cohive.Ref({name!r}).get()
        assert len(m) == {n}
        for i in range({n}):
            v = m[f"k{{i}}"]
            assert v[0] == i and v[1] == str(i) and v[2]["sq"] == i * i, (i, v)
        assert sum(1 for _ in m.items()) == {n}
    """
    run_in_each([reader] * 4)
    assert len(ref.get()) == n
    del ref
    gc.collect()


def test_writer_publishes_and_readers_see_consistent_increasing_versions() -> None:
    name, versions = unique("versions"), 200
    ref = cohive.Ref(name, default=cohive.Map(n=0, items=[], total=0))
    writer = f"""
        import cohive
        ref = cohive.Ref({name!r})
        for n in range(1, {versions} + 1):
            items = list(range(n))
            assert ref.set(cohive.Map(n=n, items=items, total=sum(items))) == n
    """
    reader = f"""
        import cohive
        ref = cohive.Ref({name!r})
        seen, last = 0, 0
        while last < {versions}:
            snapshot = ref.wait(seen, timeout=60)
            seen = snapshot["n"]
            assert seen > last, (seen, last)          # strictly increasing
            assert snapshot["total"] == sum(snapshot["items"]) and len(snapshot["items"]) == seen
            last = seen
    """
    run_in_each([reader, reader, writer])
    assert ref.version == versions and ref.get()["n"] == versions


def test_update_from_several_interpreters_loses_nothing() -> None:
    name, each, workers = unique("counter"), 2000, 4
    counter = cohive.Ref(name, default=0)
    incrementer = f"""
        import cohive
        counter = cohive.Ref({name!r})
        for _ in range({each}):
            counter.update(lambda value, step: value + step, 1)
    """
    run_in_each([incrementer] * workers)
    assert counter.get() == each * workers
    assert counter.version == each * workers


def test_update_of_a_map_from_several_interpreters() -> None:
    name = unique("map-update")
    ref = cohive.Ref(name, default=cohive.Map())
    writer = """
        import cohive
        ref = cohive.Ref({name!r})
        for i in range(300):
            ref.update(lambda m, k: m.set(k, m.get(k, 0) + 1), "{key}")
    """
    run_in_each([writer.format(name=name, key=k) for k in ("a", "b", "a")])
    assert ref.get() == {"a": 600, "b": 300}


def test_wait_wakes_on_a_publish_from_another_interpreter() -> None:
    name = unique("wake")
    ref = cohive.Ref(name, default="before")
    result: list[object] = []
    waiter = threading.Thread(target=lambda: result.append(ref.wait(0, timeout=60)))
    waiter.start()
    run_in_each([f"import cohive; cohive.Ref({name!r}).set('after')"])
    waiter.join(60)
    assert not waiter.is_alive() and result == ["after"]


def test_wait_returns_at_once_when_already_newer_and_times_out_otherwise() -> None:
    ref = cohive.Ref(unique("timeout"), default=1)
    ref.set(2)
    assert ref.wait(0, timeout=0) == 2
    with pytest.raises(TimeoutError, match="still at version 1"):
        ref.wait(1, timeout=0.05)
    with pytest.raises(ValueError, match="timeout must be a non-negative number"):
        ref.wait(1, timeout=-1)


def test_wait_async_in_main_woken_by_a_subinterpreter() -> None:
    name = unique("async-main")
    ref = cohive.Ref(name, default=0)

    async def main() -> object:
        waiting = asyncio.create_task(ref.wait_async(0))
        await asyncio.sleep(0)  # let it start watching
        publisher = asyncio.to_thread(run_in_each, [f"import cohive; cohive.Ref({name!r}).set('hello')"])
        await asyncio.wait_for(publisher, 60)
        return await asyncio.wait_for(waiting, 60)

    assert asyncio.run(main()) == "hello"


@needs_asyncio_in_subinterpreters
def test_wait_async_in_a_subinterpreter_loop_woken_by_main() -> None:
    name, ready = unique("async-sub"), unique("async-ready")
    ref = cohive.Ref(name, default=0)
    ready_ref = cohive.Ref(ready, default=False)
    sub = f"""
        import asyncio, cohive
        async def main():
            ref = cohive.Ref({name!r})
            waiting = asyncio.create_task(ref.wait_async(0))
            await asyncio.sleep(0)
            cohive.Ref({ready!r}).set(True)      # now watching
            assert await asyncio.wait_for(waiting, 60) == "from main"
        asyncio.run(main())
    """
    with interpreters(1) as (interp,):
        running = interp.submit(textwrap.dedent(sub))
        ready_ref.wait(0, timeout=60)
        ref.set("from main")
        running.result(TIMEOUT)


def test_cancelled_wait_async_stops_watching() -> None:
    ref = cohive.Ref(unique("cancel"), default=0)
    fds_before = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None

    async def main() -> None:
        tasks = [asyncio.create_task(ref.wait_async(0)) for _ in range(20)]
        await asyncio.sleep(0)
        for t in tasks:
            t.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(r, asyncio.CancelledError) for r in results)
        ref.set(1)  # nobody is left to wake; nothing breaks
        assert await ref.wait_async(0) == 1

    asyncio.run(main())
    if fds_before is not None:
        assert len(os.listdir("/proc/self/fd")) == fds_before


def test_an_interpreter_destroyed_while_holding_views(native_baseline: int) -> None:
    name = unique("destroyed")
    ref = cohive.Ref(name, default=cohive.Map({f"k{i}": [i, {"i": i}] for i in range(5000)}))
    with interpreters(1) as (interp,):
        interp.run(f"""
import cohive
held = cohive.Ref({name!r}).get()
views = [held[f"k{{i}}"] for i in range(0, 5000, 7)]
nested = [v[1] for v in views]
walking = iter(held.items())
next(walking)
""", TIMEOUT)
    # destroyed with all those views still referenced there
    m = ref.get()
    assert all(m[f"k{i}"] == [i, {"i": i}] for i in range(5000))
    del ref, m
    gc.collect()


def test_main_may_drop_its_handles_first(native_baseline: int) -> None:
    name = unique("orphan")
    ref = cohive.Ref(name, default=cohive.Map({f"k{i}": (i, "x" * 20) for i in range(2000)}))
    with interpreters(1) as interps:
        run_concurrently(interps, [f"import cohive\nheld = cohive.Ref({name!r}).get()"])
        del ref
        gc.collect()  # main holds nothing now; only the subinterpreter does
        run_concurrently(interps, ["assert all(held[f'k{i}'] == (i, 'x' * 20) for i in range(2000))\ndel held"])
    gc.collect()


def test_a_ref_is_freed_with_its_last_handle_and_its_name_reused(native_baseline: int) -> None:
    name = unique("lifetime")
    first = cohive.Ref(name, default="one")
    first.set("two")
    assert cohive.Ref(name, default="ignored").get() == "two"
    del first
    gc.collect()
    again = cohive.Ref(name, default="fresh")
    assert again.get() == "fresh" and again.version == 0
    del again


def test_refs_travel_inside_frozen_values() -> None:
    name = unique("inside")
    ref = cohive.Ref(name, default=1)
    carrier = cohive.Ref(unique("carrier"), default=cohive.Map(ref=ref))
    inner = carrier.get()["ref"]
    assert inner == ref and inner.get() == 1
    inner.set(2)
    assert ref.get() == 2


def _probe(reader_ref: cohive.Ref, other: cohive.Ref, shared: cohive.Map, keys: list[str]) -> bool:
    """Whether `other` published while this thread held its GIL without a break.

    The read of `other`, the lookups and the second read run as one chain of
    C calls with no bytecode in between, so a GIL shared with the publisher
    is never released during it.
    """
    import collections
    import functools
    import operator

    lookups = functools.partial(collections.deque, map(shared.__getitem__, keys), 0)
    before, _, after = map(operator.call, [other.get, lookups, other.get])
    return bool(after != before)


PROBE_SETUP = """
import cohive, collections, functools, operator
shared = cohive.Ref({shared!r}).get()
keys = [f"k{{i}}" for i in range(0, 100_000, 1)]
progress, done = cohive.Ref({progress!r}), cohive.Ref({done!r})
"""

PUBLISHER = PROBE_SETUP + """
step = 0
while not done.get() and step < 50_000_000:
    step += 1
    progress.set(step)
"""

PROBER = PROBE_SETUP + """
progress.wait(0, timeout=60)                      # the publisher is running
hits = 0
for attempt in range({attempts}):
    lookups = functools.partial(collections.deque, map(shared.__getitem__, keys), 0)
    before, _, after = map(operator.call, [progress.get, lookups, progress.get])
    hits += after != before
cohive.Ref({result!r}).set(hits)
done.set(True)
"""


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="parallelism needs two cores")
def test_reads_run_in_parallel_across_interpreters() -> None:
    names = {k: unique(k) for k in ("shared", "progress", "done", "result")}
    shared = cohive.Ref(names["shared"], default=cohive.Map({f"k{i}": i for i in range(100_000)}))
    progress, done = cohive.Ref(names["progress"], default=0), cohive.Ref(names["done"], default=False)
    result = cohive.Ref(names["result"], default=-1)

    # Control: in one interpreter the GIL is shared, so nobody can publish
    # while the prober holds it; the probe must see no progress at all.
    def publish() -> None:
        progress.wait(0, timeout=60)
        while not done.get():
            progress.set(progress.version + 1)

    publisher = threading.Thread(target=publish)
    publisher.start()
    progress.set(1)
    keys = [f"k{i}" for i in range(100_000)]
    control_hits = sum(_probe(result, progress, shared.get(), keys) for _ in range(5))
    done.set(True)
    publisher.join(60)
    assert control_hits == 0, "the probe saw progress under a shared GIL: it proves nothing"

    # Interpreters with their own GIL: the publisher runs during the lookups.
    done.set(False)
    run_in_each([PUBLISHER.format(**names), PROBER.format(attempts=20, **names)])
    assert result.get() > 0, "no publish ever happened during another interpreter's lookups"


def test_ctrl_c_interrupts_a_blocking_wait() -> None:
    assert_ctrl_c_interrupts("ref = cohive.Ref('ctrl-c', default=0)", 'ref.wait(0)')


def test_bad_input_leaves_a_ref_as_it_was(native_baseline: int) -> None:
    ref = cohive.Ref(unique("bad-input"), default={"a": 1})
    before = ref.get()
    with pytest.raises(TypeError, match=r"^value\['when'\]: object is not shareable"):
        ref.set({"when": object()})
    with pytest.raises(ZeroDivisionError):
        ref.update(lambda m: 1 / 0)
    with pytest.raises(TypeError, match="not shareable"):
        ref.update(lambda m: m.set("x", object()))
    with pytest.raises(TypeError, match="not shareable"):
        ref.compare_and_set(before, [object()])
    assert ref.version == 0 and ref.get() is not before and ref.get() == {"a": 1}
    assert ref.compare_and_set(before, "still the same object underneath")
    with pytest.raises(TypeError, match="Ref name must be a str, not int"):
        cohive.Ref(5)  # type: ignore[arg-type]
    del ref, before
