"""cohive.Executor: concurrent.futures on worker interpreters, checked against ThreadPoolExecutor."""

import asyncio
import concurrent.futures as cf
import gc
import inspect
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest

import cohive
import executor_tasks as tasks
from conftest import run_script

TIMEOUT = 120


@pytest.fixture(scope="module")
def executor() -> Any:
    with cohive.Executor(2) as ex:
        yield ex


@pytest.mark.parametrize("make", [lambda: cf.ThreadPoolExecutor(2), lambda: cohive.Executor(2)],
                         ids=["threads", "cohive"])
def test_parity_with_thread_pool(make: Any) -> None:
    with make() as ex:
        assert ex.submit(tasks.add, 1, 2, scale=3).result(TIMEOUT) == 9
        assert list(ex.map(tasks.square, range(20), timeout=TIMEOUT)) == [i * i for i in range(20)]
        assert list(ex.map(tasks.add, range(5), range(5, 10))) == [5, 7, 9, 11, 13]
        with pytest.raises(ValueError, match="boom"):
            ex.submit(tasks.fail, "boom").result(TIMEOUT)
        results = ex.map(tasks.fail, ["first", "second"])
        with pytest.raises(ValueError, match="first"):
            list(results)
    with pytest.raises(RuntimeError, match="cannot schedule new futures after shutdown"):
        ex.submit(tasks.square, 2)


def test_map_with_chunks_keeps_order(executor: cohive.Executor) -> None:
    for chunksize in (1, 3, 7, 100):
        assert list(executor.map(tasks.square, range(50), chunksize=chunksize)) == [i * i for i in range(50)]
    with pytest.raises(ValueError, match="chunksize must be >= 1"):
        executor.map(tasks.square, range(3), chunksize=0)


def test_map_buffersize_as_concurrent_futures(executor: cohive.Executor) -> None:
    if sys.version_info >= (3, 14):
        for chunksize in (1, 4):
            results = executor.map(tasks.square, range(30), chunksize=chunksize, buffersize=2)
            assert list(results) == [i * i for i in range(30)]
    else:
        with pytest.raises(TypeError, match="needs Python 3.14"):
            executor.map(tasks.square, range(3), buffersize=2)


def test_remote_traceback_is_the_cause(executor: cohive.Executor) -> None:
    with pytest.raises(ValueError, match="from the worker") as info:
        executor.submit(tasks.fail, "from the worker").result(TIMEOUT)
    cause = info.value.__cause__
    assert isinstance(cause, cohive.RemoteTraceback)
    assert 'executor_tasks.py", line' in cause.text and "in fail" in cause.text
    with pytest.raises(cohive.WorkerError, match="executor_tasks.Unpicklable: cannot travel") as unpicklable:
        executor.submit(tasks.fail_unpicklably).result(TIMEOUT)
    assert unpicklable.value.type_name == "executor_tasks.Unpicklable"


def test_functions_that_cannot_be_sent_are_refused(executor: cohive.Executor) -> None:
    def nested() -> None:
        pass

    with pytest.raises(TypeError, match=r"cannot send the lambda \S*<lambda> to a worker"):
        executor.submit(lambda: 1)
    with pytest.raises(TypeError, match="it is defined inside a function"):
        executor.submit(nested)
    with pytest.raises(TypeError, match=r"cannot send the arguments of square to a worker: args\[0\]: object"):
        executor.submit(tasks.square, object())
    with pytest.raises(TypeError, match="the result of unshareable_result cannot be sent back"):
        executor.submit(tasks.unshareable_result).result(TIMEOUT)


def test_a_big_map_argument_is_passed_by_reference(executor: cohive.Executor) -> None:
    big = cohive.Map({f"k{i}": i for i in range(200_000)})
    before = cohive.native_bytes()
    assert executor.submit(tasks.size, big).result(TIMEOUT) == 200_000
    gc.collect()
    assert cohive.native_bytes() - before < 4096  # the task, not a copy of the Map


def test_tasks_run_in_several_interpreters(executor: cohive.Executor) -> None:
    name = f"release-{uuid.uuid4().hex}"
    event = cohive.Event(name=name)
    blocked = [executor.submit(tasks.wait_for, name) for _ in range(2)]  # occupies both workers
    probe = executor.submit(tasks.square, 3)
    assert not probe.done()
    event.set()
    assert [f.result(TIMEOUT) for f in blocked] == ["released", "released"] and probe.result(TIMEOUT) == 9
    ids = {f.result(TIMEOUT) for f in [executor.submit(tasks.interpreter_id) for _ in range(40)]}
    assert 1 <= len(ids) <= 2 and id(sys.modules["cohive"]) not in ids


def test_shutdown_cancels_pending_futures() -> None:
    name = f"gate-{uuid.uuid4().hex}"
    gate, started = cohive.Event(name=name), cohive.Counter(name=f"started-{name}")
    ex = cohive.Executor(1)
    running = ex.submit(tasks.start_then_wait, f"started-{name}", name)  # keeps the only worker busy
    queued = [ex.submit(tasks.square, i) for i in range(5)]
    while started.get() == 0 and not running.done():
        pass  # until the worker has taken the first task
    ex.shutdown(wait=False, cancel_futures=True)
    gate.set()
    assert running.result(TIMEOUT) == "released"
    assert all(f.cancelled() for f in queued)


def test_cancelled_future_is_skipped() -> None:
    name = f"gate-{uuid.uuid4().hex}"
    gate, started = cohive.Event(name=name), cohive.Counter(name=f"started-{name}")
    first = cohive.Counter(name=f"first-{name}")  # held here, so the worker adds to this one
    with cohive.Executor(1) as ex:
        ex.submit(tasks.start_then_wait, f"first-{name}", name)
        while first.get() == 0:
            pass  # until the worker is busy with the first task
        victim = ex.submit(tasks.count_start, f"started-{name}")
        assert victim.cancel() and victim.cancelled()
        gate.set()
        assert ex.submit(tasks.square, 2).result(TIMEOUT) == 4  # the worker moved past the victim
    assert started.get() == 0


def test_initializer_runs_in_every_worker_and_failures_break_the_executor() -> None:
    name = f"init-{uuid.uuid4().hex}"
    started = cohive.Counter(name=name)
    with cohive.Executor(2, initializer=tasks.count_start, initargs=(name,)) as ex:
        assert ex.submit(tasks.square, 2).result(TIMEOUT) == 4
    assert started.get() == 2
    ex = cohive.Executor(1, initializer=tasks.failing_initializer)
    future = ex.submit(tasks.square, 2)
    with pytest.raises(cf.BrokenExecutor, match="initializer raised"):
        future.result(TIMEOUT)
    with pytest.raises(cf.BrokenExecutor):
        ex.submit(tasks.square, 3)
    ex.shutdown()


def test_run_in_executor(executor: cohive.Executor) -> None:
    async def main() -> list[int]:
        loop = asyncio.get_running_loop()
        return list(await asyncio.gather(*(loop.run_in_executor(executor, tasks.square, i) for i in range(10))))

    assert asyncio.run(main()) == [i * i for i in range(10)]


def test_functions_from_a_main_script(tmp_path: Any) -> None:
    script = tmp_path / "job.py"
    script.write_text(textwrap.dedent("""
        import cohive

        def triple(x):
            return 3 * x

        print("imported as", __name__)

        if __name__ == "__main__":
            with cohive.Executor(2) as ex:
                print("results", list(ex.map(triple, range(5))))
    """))
    package_root = str(Path(cohive.__file__).resolve().parent.parent)  # the cohive under test
    env = dict(os.environ, PYTHONPATH=package_root)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=TIMEOUT, env=env)
    assert out.returncode == 0, out.stderr
    assert "results [0, 3, 6, 9, 12]" in out.stdout
    assert out.stdout.count("imported as __main__") == 1  # the guard kept the workers from running it again


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="max_workers must be greater than 0"):
        cohive.Executor(0)


def test_threads_waiting_at_once_each_get_their_own_results(executor: Any) -> None:
    """A waiting caller reads results off the outbox itself, the others' too:
    each must still reach its own Future, whoever picked it up."""
    import threading

    outcomes: dict[int, list[int]] = {}

    def caller(k: int) -> None:
        outcomes[k] = [executor.submit(tasks.square, k * 1000 + i).result(TIMEOUT) for i in range(200)]

    threads = [threading.Thread(target=caller, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert outcomes == {k: [(k * 1000 + i) ** 2 for i in range(200)] for k in range(4)}


def test_a_result_waited_for_with_no_time_left_still_arrives(executor: Any) -> None:
    future = executor.submit(tasks.square, 7)
    try:
        future.result(timeout=0)
    except cf.TimeoutError:
        pass
    assert future.result(TIMEOUT) == 49


def test_futures_have_every_attribute_of_the_stdlib_future(executor: Any) -> None:
    """A task's Future makes its condition only when asked for (see
    cohive/_executor.py); every other attribute Future.__init__ sets is there."""
    event = f"test-{uuid.uuid4().hex}"
    release = cohive.Event(name=event)  # held, so the worker opens this very Event
    pending = executor.submit(tasks.wait_for, event)
    assert set(vars(cf.Future())) - set(vars(pending)) == {"_condition"}
    assert dict(inspect.getmembers(type(pending)))["_condition"] is not None  # help() on the class works
    release.set()
    assert pending.result(TIMEOUT) == "released"
    assert pending._condition is pending._condition  # made once, on demand, settled or not
    assert set(vars(cf.Future())) <= set(vars(pending))


def test_futures_settled_without_a_condition_behave_as_futures(executor: Any) -> None:
    settled = [executor.submit(tasks.square, i) for i in range(20)]
    assert [f.result(TIMEOUT) for f in settled] == [i * i for i in range(20)]
    done, not_done = cf.wait(settled, timeout=TIMEOUT)
    assert len(done) == 20 and not not_done
    assert sorted(f.result() for f in cf.as_completed(settled, timeout=TIMEOUT)) == sorted(i * i for i in range(20))
    called: list[int] = []
    settled[3].add_done_callback(lambda f: called.append(f.result()))
    assert called == [9]
    assert settled[3].done() and not settled[3].cancel() and not settled[3].running()
    assert "finished returned int" in repr(settled[3])


def test_futures_waited_for_by_other_means_are_woken(executor: Any) -> None:
    """Waiting through cf.wait, a callback or another thread's result() gives
    the Future its own condition before it settles: each must still be woken."""
    import threading

    event = f"test-{uuid.uuid4().hex}"
    release = cohive.Event(name=event)  # held, so the worker opens this very Event
    by_wait, by_callback, by_thread = (executor.submit(tasks.wait_for, event) for _ in range(3))
    called = threading.Event()
    calls: list[str] = []
    by_callback.add_done_callback(lambda f: (calls.append(f.result()), called.set()))
    results: list[str] = []
    waiter = threading.Thread(target=lambda: results.append(by_thread.result(TIMEOUT)))
    waiter.start()
    release.set()
    done, _ = cf.wait([by_wait], timeout=TIMEOUT)
    assert done == {by_wait}
    assert called.wait(TIMEOUT)
    waiter.join(TIMEOUT)
    assert results == ["released"]
    assert calls == ["released"]  # once, by whoever settled it (a pending Future's callback makes no condition)


def test_a_callback_on_a_finished_future_runs_at_once_without_a_condition(executor: Any) -> None:
    """asyncio.wrap_future of a result collected in submit adds a callback to a finished Future."""
    from cohive._executor import _TaskFuture

    finished = _TaskFuture(executor, -1, "quick")
    assert finished._settle_quietly(4)
    called: list[int] = []
    finished.add_done_callback(lambda f: called.append(f.result()))
    assert called == [4] and "_condition" not in vars(finished)


def test_holding_a_settled_futures_condition_holds_up_no_other_future(executor: Any) -> None:
    """concurrent.futures.wait holds its Futures' conditions while it looks: a
    Future settled without one must get its own, not a lock that settling
    any other Future takes (two waits on overlapping sets deadlocked so)."""
    import threading

    from cohive._executor import _TaskFuture

    settled = _TaskFuture(executor, -1, "quick")
    assert settled._settle_quietly(9)
    results: list[int] = []
    with settled._condition:
        other = threading.Thread(target=lambda: results.append(executor.submit(tasks.square, 4).result(TIMEOUT)))
        other.start()
        other.join(TIMEOUT)
        assert not other.is_alive()
    assert results == [16]


def test_cancelled_ids_are_forgotten_once_answered() -> None:
    """Workers skip the ids in a Ref'd Map; each leaves it once its worker has
    answered, even when the answer is delivered while cancel() runs (here,
    from inside the cancel's own callback), so the Map does not grow."""
    with cohive.Executor(1) as ex:
        event = f"test-{uuid.uuid4().hex}"
        release = cohive.Event(name=event)  # held, so the worker opens this very Event
        running = ex.submit(tasks.wait_for, event)
        queued = ex.submit(tasks.square, 3)
        answered_meanwhile = ex.submit(tasks.square, 4)
        answered_meanwhile.add_done_callback(lambda f: ex._deliver((f._task_id, True, 16)))
        assert queued.cancel() and answered_meanwhile.cancel() and running.cancel()
        assert dict(ex._cancelled.get()) == {running._task_id: True, queued._task_id: True}
        release.set()
        ex.shutdown(wait=True)  # the worker has answered for each (ended or skipped) before its loop ends
        assert dict(ex._cancelled.get()) == {}


def test_a_finalizer_touching_a_future_while_a_condition_is_made_does_not_hang() -> None:
    """Making a Future's condition runs Python code, where the garbage
    collector may run a finalizer that touches another Future."""
    out = run_script("""
        import gc
        from cohive._executor import _TaskFuture
        a, b = _TaskFuture(None, 0, "a"), _TaskFuture(None, 1, "b")
        class Finalized:
            def __del__(self):
                b.add_done_callback(lambda f: None)
                print("finalized")
        x = Finalized(); x.self = x; del x
        gc.set_threshold(1)
        a._condition
        gc.collect()
        print("done")
    """)
    assert out.returncode == 0 and out.stdout.split() == ["finalized", "done"], out.stderr


def test_a_callback_that_shuts_the_executor_down_does_not_hang() -> None:
    """The callback runs where the result is delivered: often in the caller,
    in the middle of collecting it, which shutdown must not wait for."""
    out = run_script("""
        import threading
        import cohive, executor_tasks as tasks
        ex = cohive.Executor(1)
        ex.submit(tasks.square, 1).result()
        quick = ex.submit(tasks.square, 3)
        # In the reader thread (the other place a result is delivered) shutdown cannot wait for itself.
        quick.add_done_callback(lambda f: ex.shutdown(wait=threading.current_thread() is threading.main_thread()))
        print(quick.result())
        ex.shutdown()
    """)
    assert out.returncode == 0 and out.stdout.split() == ["9"], out.stderr


def test_a_cancelled_task_counts_as_done(executor: Any) -> None:
    """As with a thread pool, concurrent.futures.wait and as_completed count a
    cancelled Future done."""
    event = f"test-{uuid.uuid4().hex}"
    release = cohive.Event(name=event)  # held, so the workers open this very Event
    blockers = [executor.submit(tasks.wait_for, event) for _ in range(2)]
    queued = executor.submit(tasks.square, 7)
    assert queued.cancel() and queued.cancelled()
    assert queued.cancel()  # again, as concurrent.futures allows
    done, not_done = cf.wait([queued], timeout=TIMEOUT)
    assert done == {queued} and not not_done
    assert list(cf.as_completed([queued], timeout=TIMEOUT)) == [queued]
    release.set()
    assert [b.result(TIMEOUT) for b in blockers] == ["released", "released"]


def test_tasks_name_their_functions_by_number_from_many_threads(executor: Any) -> None:
    import threading

    outcomes: dict[int, list[int]] = {}

    def caller(k: int) -> None:
        fn = tasks.square if k % 2 else tasks.negate
        outcomes[k] = [executor.submit(fn, i).result(TIMEOUT) for i in range(50)]

    threads = [threading.Thread(target=caller, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert outcomes == {k: [i * i if k % 2 else -i for i in range(50)] for k in range(4)}


def test_coroutines_submitting_directly_get_their_results(executor: Any) -> None:
    """submit() from a coroutine lets the loop collect the result (asyncio.wrap_future, run_in_executor)."""
    async def main() -> list[int]:
        loop = asyncio.get_running_loop()
        one = await asyncio.wrap_future(executor.submit(tasks.square, 5))
        slow = loop.run_in_executor(executor, tasks.wait_for, event)
        await asyncio.sleep(0)  # the loop's brief collection finds nothing, then the reader thread delivers
        release.set()
        assert await asyncio.wait_for(slow, TIMEOUT) == "released"
        return [one, *await asyncio.gather(*(loop.run_in_executor(executor, tasks.negate, i) for i in range(5)))]

    event = f"test-{uuid.uuid4().hex}"
    release = cohive.Event(name=event)  # held, so the worker opens this very Event
    assert asyncio.run(main()) == [25, 0, -1, -2, -3, -4]


def test_a_coroutine_awaiting_quick_tasks_back_to_back_lets_the_loop_run(executor: Any) -> None:
    """A coroutine's submit may collect a quick result itself, and awaiting a
    finished Future does not yield; still the loop gets a turn at least once
    every _INLINE_STREAK + 1 awaits, so other tasks are not starved.  Twice:
    a new loop in the same thread counts afresh."""
    from cohive import _executor

    async def longest_run_without_a_turn() -> int:
        loop = asyncio.get_running_loop()
        turns, stop = 0, False

        async def other() -> None:
            nonlocal turns
            while not stop:
                turns += 1
                await asyncio.sleep(0)

        ticker = asyncio.create_task(other())
        longest = run = 0
        for i in range(20 * _executor._INLINE_STREAK):
            before = turns
            assert await loop.run_in_executor(executor, tasks.square, i) == i * i
            run = run + 1 if turns == before else 0
            longest = max(longest, run)
        stop = True
        await ticker
        return longest

    for _ in range(2):
        assert asyncio.run(asyncio.wait_for(longest_run_without_a_turn(), TIMEOUT)) <= _executor._INLINE_STREAK


def test_an_idle_executor_and_its_waiting_caller_use_no_cpu() -> None:
    """Spins before sleeping are bounded (tens of microseconds): a second of
    waiting for a task that does not end costs next to no CPU.  (A loaded
    machine can only give this process less CPU, never more.)"""
    import time

    event = f"test-{uuid.uuid4().hex}"
    release = cohive.Event(name=event)  # held, so the worker opens this very Event
    with cohive.Executor(2) as ex:
        assert ex.submit(tasks.square, 3).result(TIMEOUT) == 9
        blocked = ex.submit(tasks.wait_for, event)
        cpu_before, wall_before = time.process_time(), time.monotonic()
        with pytest.raises(cf.TimeoutError):
            blocked.result(timeout=1.0)  # one worker blocked, one idle, the reader and this caller waiting
        cpu = time.process_time() - cpu_before
        wall = time.monotonic() - wall_before
        release.set()
        assert blocked.result(TIMEOUT) == "released"
    assert wall >= 1.0
    assert cpu < 0.1, f"an idle executor used {cpu:.3f} s of CPU in {wall:.2f} s"
