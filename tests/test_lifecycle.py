"""Lifecycles: pooled interpreters, bounded shutdown, Ctrl-C, nesting, fork.

Small versions of each part of the torture run (benchmarks/torture.py).
"""

import gc
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import cohive
import lifecycle_workers as lw
from conftest import run_script
from cohive import _pool

TIMEOUT = 120
ROOT = Path(cohive.__file__).resolve().parent.parent


def first(hive: cohive.Hive, n: int) -> list[Any]:
    listen = iter(hive.listen())
    return [next(listen) for _ in range(n)]


@pytest.fixture
def pool_limit() -> Iterator[None]:
    previous = cohive.set_pool_limit(4)
    yield
    cohive.set_pool_limit(previous)


# --- the pool ---------------------------------------------------------------------------


def whoami_cycle() -> frozenset[int]:
    with cohive.Hive(lw.whoami, workers=2) as hive:
        return frozenset(first(hive, 2))


def test_hives_reuse_the_pooled_interpreters(pool_limit: None) -> None:
    warm = whoami_cycle()
    gc.collect()
    before = cohive.native_bytes()
    cycles = [whoami_cycle() for _ in range(20)]
    gc.collect()
    assert cohive.native_bytes() == before  # nothing piles up from one use to the next
    assert len(warm) == 2  # two interpreters at once
    assert set(cycles) == {warm}  # and the same two every time
    assert _pool.idle_count() >= 2


def test_an_executor_borrows_from_the_same_pool(pool_limit: None) -> None:
    with cohive.Hive(lw.whoami, workers=2) as hive:
        used = set(first(hive, 2))
    with cohive.Executor(2) as ex:
        ids = {f.result(TIMEOUT) for f in [ex.submit(lw._cohive._interpreter_id) for _ in range(20)]}
    assert ids <= used


def test_limit_zero_turns_reuse_off(pool_limit: None) -> None:
    cohive.set_pool_limit(0)
    seen = []
    for _ in range(3):
        with cohive.Hive(lw.whoami, workers=1) as hive:
            seen.extend(first(hive, 1))
    assert len(set(seen)) == 3
    assert _pool.idle_count() == 0


def test_an_interpreter_left_with_threads_is_not_reused(pool_limit: None) -> None:
    gate = cohive.Event(name=f"gate-{uuid.uuid4().hex}")
    with cohive.Hive(lw.leave_a_thread, workers=1, state=gate.name) as hive:
        (tainted,) = first(hive, 1)
    gate.set()
    with cohive.Hive(lw.whoami, workers=1) as hive:
        assert first(hive, 1) != [tainted]


def test_set_pool_limit_refuses_bad_limits() -> None:
    for bad in (-1, 1.5, "2", True):
        with pytest.raises(ValueError, match="the pool limit must be an int >= 0"):
            cohive.set_pool_limit(bad)  # type: ignore[arg-type]


# --- bounded shutdown -------------------------------------------------------------------

BLOCKING_CALLS = ["queue-get", "queue-put", "ref-wait", "lock", "event", "semaphore", "barrier"]


@pytest.mark.parametrize("kind", BLOCKING_CALLS)
def test_leaving_the_block_wakes_workers_blocked_in_cohive_calls(kind: str, native_baseline: int) -> None:
    name = f"{kind}-{uuid.uuid4().hex}"
    holder = cohive.Lock(name=name) if kind == "lock" else None
    if holder is not None:
        holder.acquire()
    with cohive.Hive(lw.block_in, workers=2, args=(kind, name), shutdown_timeout=TIMEOUT) as hive:
        assert sorted(first(hive, 2)) == [("ready", 0), ("ready", 1)]
    # No exception: the workers ended with WorkerStopped, a normal end.
    if holder is not None:
        holder.release()
    del holder


def test_a_worker_blocked_elsewhere_is_named_with_its_stack() -> None:
    read_end, write_end = os.pipe()
    try:
        with pytest.raises(TimeoutError) as caught:
            with cohive.Hive(lw.block_outside_cohive, workers=2, args=(read_end,), shutdown_timeout=0.2) as hive:
                first(hive, 2)
        report = str(caught.value)
        assert report.startswith("2 of 2 hive workers (lifecycle_workers.block_outside_cohive) still running")
        assert "worker 0, running" in report and "worker 1, running" in report
        assert report.count("in block_outside_cohive") == 2  # each worker's stack ends where it blocks
    finally:
        os.write(write_end, b"xx")  # let the two stuck workers go
        os.close(write_end)


def test_a_stuck_worker_warns_instead_when_the_block_raised() -> None:
    read_end, write_end = os.pipe()
    try:
        with pytest.warns(RuntimeWarning, match="1 of 1 hive workers"), pytest.raises(ZeroDivisionError):
            with cohive.Hive(lw.block_outside_cohive, workers=1, args=(read_end,), shutdown_timeout=0.1) as hive:
                first(hive, 1)
                1 / 0
    finally:
        os.write(write_end, b"x")
        os.close(write_end)


def test_executor_shutdown_timeout_wakes_then_names_stuck_tasks() -> None:
    read_end, write_end = os.pipe()
    name = f"never-{uuid.uuid4().hex}"
    try:
        ex = cohive.Executor(2, shutdown_timeout=0.2)
        blocked = ex.submit(lw.task_in_queue_get, name)
        stuck = ex.submit(lw.task_blocked_outside_cohive, read_end)
        with pytest.raises(TimeoutError, match=r"1 of 2 executor workers .* task_blocked_outside_cohive"):
            ex.shutdown()
        assert isinstance(blocked.exception(TIMEOUT), cohive.WorkerStopped)
        assert isinstance(stuck.exception(TIMEOUT), cohive.WorkerStopped)
    finally:
        os.write(write_end, b"x")
        os.close(write_end)


def test_a_cancelled_task_that_still_runs_is_named_when_stuck() -> None:
    """Cancelling a task a worker has begun does not stop it: shutdown still
    waits for it, and names it when it gives up."""
    read_end, write_end = os.pipe()
    started = f"started-{uuid.uuid4().hex}"
    began = cohive.Event(name=started)  # held, so the worker opens this very Event
    try:
        ex = cohive.Executor(1, shutdown_timeout=0.2)
        stuck = ex.submit(lw.task_started_then_blocked_outside_cohive, read_end, started)
        assert began.wait(TIMEOUT)
        assert stuck.cancel()
        with pytest.raises(TimeoutError, match=r"1 of 1 executor workers .* task_started_then_blocked_outside_cohive"):
            ex.shutdown()
    finally:
        os.write(write_end, b"x")
        os.close(write_end)


def test_a_process_with_a_stuck_worker_still_exits() -> None:
    out = run_script("""
        import os, cohive, lifecycle_workers as lw
        read_end, _ = os.pipe()
        try:
            with cohive.Hive(lw.block_outside_cohive, workers=1, args=(read_end,), shutdown_timeout=0.1) as hive:
                next(iter(hive.listen()))
        except TimeoutError:
            print("gave up on it", flush=True)
        cohive._pool.EXIT_TIMEOUT = 0.1
    """)
    assert out.stdout.strip() == "gave up on it"
    if sys.version_info < (3, 13):  # CPython 3.12 would abort: cohive ends the process itself
        assert out.returncode == 1 and "still running at exit" in out.stderr
    else:
        assert out.returncode == 0


# --- Ctrl-C -----------------------------------------------------------------------------


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.1, 0.2, 0.35])
def test_ctrl_c_at_any_moment_is_a_plain_keyboard_interrupt(delay: float) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import torture
    finally:
        sys.path.pop(0)
    assert torture.sigint_once(delay) is None


def test_ctrl_c_in_an_executor_block_wakes_its_tasks() -> None:
    out = run_script("""
        import os, signal, cohive, lifecycle_workers as lw
        try:
            with cohive.Executor(2) as ex:
                blocked = [ex.submit(lw.task_in_queue_get, f"never-{i}") for i in range(2)]
                queued = ex.submit(lw.leaf, 1)
                os.kill(os.getpid(), signal.SIGINT)
                blocked[0].result()  # the Ctrl-C lands while we wait
        except KeyboardInterrupt:
            # Each task was woken (or never started); none is left pending.
            woken = [f.cancelled() or type(f.exception()).__name__ == "WorkerStopped" for f in blocked]
            print(woken + [queued.cancelled() or queued.result() == 10], flush=True)
    """)
    assert out.stdout.strip() == "[True, True, True]", out.stderr
    assert out.returncode == 0 and out.stderr == ""


# --- workers start workers --------------------------------------------------------------


def test_executors_inside_executors_inside_a_hive() -> None:
    with cohive.Hive(lw.top, workers=1) as hive:
        hive.push(3)
        assert first(hive, 1) == [[30 + 40, 40 + 50]]


def test_a_hive_inside_a_hive() -> None:
    with cohive.Hive(lw.hive_in_hive, workers=2) as hive:
        got = sorted(first(hive, 2))
    assert got == [[(0, 0), (0, 1)], [(1, 0), (1, 1)]]


def test_a_failing_grandchild_surfaces_in_the_child_then_in_main() -> None:
    with pytest.raises(ExceptionGroup) as caught:
        with cohive.Hive(lw.failing_grandchild, workers=1):
            pass
    child = caught.value.exceptions[0]
    assert isinstance(child, cohive.WorkerError) and child.worker_id == 0
    assert isinstance(child.exception, ExceptionGroup)
    grandchild = child.exception.exceptions[0]
    assert isinstance(grandchild, cohive.WorkerError)
    assert repr(grandchild.exception) == "KeyError('grandchild')"


def test_a_failing_task_two_levels_down_reaches_main() -> None:
    with cohive.Executor(1) as ex:
        with pytest.raises(ValueError, match="leaf -1 refused"):
            ex.submit(lw.middle, -1).result(TIMEOUT)


def test_stopping_the_outer_hive_stops_the_inner_one() -> None:
    name = f"inner-{uuid.uuid4().hex}"
    with cohive.Hive(lw.inner_blocked, workers=1, state=name, shutdown_timeout=TIMEOUT) as hive:
        assert first(hive, 1) == ["inner ready"]
    # The outer worker woke from its get, left its inner Hive, which woke its own workers.


# --- fork -------------------------------------------------------------------------------


def test_fork_after_workers_ended_gives_a_working_child() -> None:
    out = run_script("""
        import os, warnings, cohive, lifecycle_workers as lw
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", DeprecationWarning)  # "multi-threaded fork"
        with cohive.Hive(lw.echo, workers=2) as hive:
            pass
        pid = os.fork()
        if pid == 0:
            with cohive.Hive(lw.echo, workers=1) as hive:
                hive.push("hi")
                print("child", next(iter(hive.listen())), flush=True)
            os._exit(0)
        print("child exit", os.waitpid(pid, 0)[1], flush=True)
    """)
    assert out.stdout.split("\n")[:2] == ["child ('hi', 0)", "child exit 0"], out.stderr


def test_fork_while_workers_run_warns_in_the_parent() -> None:
    out = run_script("""
        import os, warnings, cohive, lifecycle_workers as lw
        warnings.simplefilter("ignore", DeprecationWarning)
        with cohive.Hive(lw.echo, workers=2) as hive:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", RuntimeWarning)
                pid = os.fork()
                if pid == 0:
                    os._exit(0)
            os.kill(pid, 9)  # the child may crash or hang: its fate is not what this checks
            os.waitpid(pid, 0)
            print([str(w.message) for w in caught], flush=True)
    """)
    assert "fork() while 2 cohive worker interpreter(s) run" in out.stdout, out.stderr
