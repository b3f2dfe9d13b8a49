"""The waits under every blocking call: portable primitives, their fallbacks exercised here.

Blocked threads sleep on a condition variable; the main thread sleeps in
poll() on a descriptor, so Ctrl-C still ends its waits; event loops watch a
descriptor: an eventfd on Linux, a pipe elsewhere.  COHIVE_WAITER_PIPES=1
forces the pipe on Linux, so the suite covers the path macOS and the BSDs take.
"""

import os
import queue
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import cohive
from conftest import assert_ctrl_c_interrupts

TIMEOUT = 120
ROOT = Path(__file__).resolve().parent.parent
PIPES = {**os.environ, "COHIVE_WAITER_PIPES": "1"}


def watcher_fd_is_a_pipe(env: dict[str, str]) -> bool:
    code = (
        "import cohive, os, stat\n"
        "with cohive.Queue()._watch(True) as w:\n"
        "    print(stat.S_ISFIFO(os.fstat(w.fileno()).st_mode))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=TIMEOUT)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip() == "True"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="eventfd is Linux's")
def test_event_loop_waiters_use_an_eventfd_on_linux() -> None:
    env = {k: v for k, v in os.environ.items() if k != "COHIVE_WAITER_PIPES"}
    assert not watcher_fd_is_a_pipe(env)


def test_the_pipe_fallback_is_used_when_forced() -> None:
    assert watcher_fd_is_a_pipe(PIPES)


def test_queue_and_primitive_tests_pass_on_the_pipe_fallback() -> None:
    """The whole queue and primitive suites (asyncio waits, Ctrl-C, timeouts) on pipes."""
    tests = [str(ROOT / "tests" / name) for name in ("test_queue.py", "test_primitives.py")]
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests],
                         env=PIPES, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]


def test_ctrl_c_ends_a_timed_wait_in_the_main_thread() -> None:
    assert_ctrl_c_interrupts("q = cohive.Queue()", "q.get(timeout=60)")


def test_a_timed_wait_in_another_thread_times_out() -> None:
    """Off the main thread the sleep is on a condition variable with a deadline."""
    q = cohive.Queue()
    outcome: list[BaseException] = []

    def get() -> None:
        try:
            q.get(timeout=0.05)
        except queue.Empty as exc:
            outcome.append(exc)

    t = threading.Thread(target=get)
    t.start()
    t.join(TIMEOUT)
    assert not t.is_alive() and len(outcome) == 1


def test_a_wake_up_reaches_a_thread_sleeping_on_a_condition_variable() -> None:
    q = cohive.Queue()
    lock = cohive.Lock()
    lock.acquire()
    got: list[object] = []
    t = threading.Thread(target=lambda: got.append((lock.acquire(timeout=TIMEOUT), q.get(timeout=TIMEOUT))))
    t.start()
    lock.release()
    q.put("item")
    t.join(TIMEOUT)
    assert got == [(True, "item")]


def test_items_put_while_a_getter_spins_still_reach_a_sleeping_getter() -> None:
    """A put leaves a spinning getter to take the item and wakes nobody; an
    item the spinner leaves behind must still wake the sleeper.  (The spinner
    may also give up early, on a busy machine: the sleeper is woken then too.)"""
    busy = object()
    for _ in range(50):
        q = cohive.Queue()
        slept: list[object] = []
        spun: list[object] = []
        sleeper = threading.Thread(target=lambda: slept.append(q.get(timeout=TIMEOUT)))  # noqa: B023
        spinner = threading.Thread(target=lambda: spun.append(q._try_get(None, busy, 30.0)))  # noqa: B023
        sleeper.start()
        spinner.start()
        q.put("a")
        q.put("b")
        spinner.join(TIMEOUT)
        sleeper.join(TIMEOUT)
        assert len(slept) == 1, "the sleeper was left asleep with an item queued"
        left = [q.get_nowait() for _ in range(q.qsize())]
        assert sorted([*slept, *(x for x in spun if x is not busy), *left], key=str) == ["a", "b"]
