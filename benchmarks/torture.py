"""Torture: thousands of lifecycles, random Ctrl-Cs, stuck workers, close under load, nesting, fork.

Run with ./dev torture [--quick] [--python X.Y]; prints what each part
measured and exits non-zero if any part failed its bar.  Not part of the
test suite (it takes minutes); tests/test_lifecycle.py runs a small
version of each part.

Parts (each a function below, also used by the tests):
  lifecycles   RSS growth and time per cycle over N two-worker Hive cycles
               and M Executor cycles (bars: <= 30 MB growth, warm Hive
               cycle <= 5 ms)
  sigint       K fresh processes cycling Hives and Executors, each sent
               SIGINT at a random moment: every one must end with a
               KeyboardInterrupt traceback and nothing else on stderr
  stuck        workers blocked in a cohive call (woken at once) and in
               time.sleep (named after the shutdown timeout)
  load         Queues closed while producers and consumers hammer them;
               Executors shut down with thousands of tasks queued
  nesting      Executors inside Executors inside a Hive, a failing grandchild
  fork         fork with idle pooled interpreters (child fine) and with
               running workers (a warning in the parent)
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

import cohive  # noqa: E402
import torture_workers as tw  # noqa: E402
from harness import rss_bytes  # noqa: E402


def rss_mb() -> float:
    return (rss_bytes() or 0) / 2**20  # torture runs on Linux, where it is never None


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(HERE)]))


# --- lifecycles ---------------------------------------------------------------------


def lifecycles(hive_cycles: int, executor_cycles: int) -> dict[str, float]:
    """RSS growth (MB) and median ms per cycle, after one warm-up cycle of each."""
    with cohive.Hive(tw.echo, workers=2) as hive:
        hive.push(1)
        next(iter(hive.listen()))
    before, times = rss_mb(), []
    for i in range(hive_cycles):
        start = time.perf_counter()
        with cohive.Hive(tw.echo, workers=2) as hive:
            hive.push(i)
            assert next(iter(hive.listen())) == i
        times.append(time.perf_counter() - start)
    hive_growth, hive_ms = rss_mb() - before, statistics.median(times) * 1e3
    with cohive.Executor(2) as ex:
        ex.submit(tw.square, 3).result()
    before, times = rss_mb(), []
    for i in range(executor_cycles):
        start = time.perf_counter()
        with cohive.Executor(2) as ex:
            assert ex.submit(tw.square, i).result() == i * i
        times.append(time.perf_counter() - start)
    return {"hive_rss_growth_mb": hive_growth, "hive_cycle_ms": hive_ms,
            "executor_rss_growth_mb": rss_mb() - before, "executor_cycle_ms": statistics.median(times) * 1e3}


# --- Ctrl-C -------------------------------------------------------------------------

_SIGINT_SCRIPT = textwrap.dedent("""
    import sys
    print("go", flush=True)
    import cohive, torture_workers as tw
    while True:
        with cohive.Hive(tw.echo, workers=2) as hive:
            hive.push(1)
            next(iter(hive.listen()))
        with cohive.Executor(2) as ex:
            list(ex.map(tw.square, range(4)))
        with cohive.Hive(tw.blocked_in_cohive, workers=2) as hive:
            pass
""")


def sigint_once(delay: float, python: str = sys.executable) -> str | None:
    """One process cycling workers, sent SIGINT `delay` s after it started:
    None if it ended as a plain Ctrl-C should, else what went wrong."""
    proc = subprocess.Popen([python, "-c", _SIGINT_SCRIPT], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=_env())
    assert proc.stdout is not None
    proc.stdout.readline()
    time.sleep(delay)
    proc.send_signal(2)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return "hung after SIGINT"
    lines = err.strip().splitlines()
    if proc.returncode == 0 and not lines:
        return None  # it was between statements (the loop never ends otherwise): fine
    if not lines or lines[0] != "Traceback (most recent call last):" or lines[-1] != "KeyboardInterrupt":
        return f"exit {proc.returncode}, stderr:\n{err}"
    if any(not (line.startswith("  ") or line in _TRACEBACK_LINES) for line in lines):
        return f"more than a KeyboardInterrupt on stderr:\n{err}"
    return None


# What a KeyboardInterrupt's traceback may consist of, besides indented
# frames.  (The run cycles sync Hives only: asyncio.run's own teardown is not
# safe against a Ctrl-C -- 3.14 and 3.15 print "Exception ignored" from the
# loop's __del__ with no cohive frame involved.)
_TRACEBACK_LINES = {"Traceback (most recent call last):", "KeyboardInterrupt", ""}


def sigint(runs: int, seed: int = 0, python: str = sys.executable) -> dict[str, Any]:
    rng = random.Random(seed)
    failures = [f for f in (sigint_once(rng.uniform(0, 0.6), python) for _ in range(runs)) if f is not None]
    return {"runs": runs, "clean": runs - len(failures), "first_failure": failures[0] if failures else None}


# --- stuck workers -------------------------------------------------------------------


def stuck(cycles: int) -> dict[str, Any]:
    """Hives whose workers block in a cohive call (woken when the block ends)
    and one whose workers block in time.sleep (named after the timeout)."""
    times = []
    for i in range(cycles):
        start = time.perf_counter()
        with cohive.Hive(tw.blocked_in_cohive, workers=2, shutdown_timeout=60):
            pass
        times.append(time.perf_counter() - start)
    start = time.perf_counter()
    try:
        with cohive.Hive(tw.sleeping, workers=2, args=(2.0,), shutdown_timeout=0.2) as hive:
            listen = iter(hive.listen())
            next(listen), next(listen)
        named = False
    except TimeoutError as exc:
        named = str(exc).count("in sleeping") == 2
    return {"blocked_in_cohive_exit_ms": statistics.median(times) * 1e3,
            "sleeping_reported_after_s": time.perf_counter() - start, "stacks_named": named}


# --- close under load ----------------------------------------------------------------


def load(rounds: int, tasks: int) -> dict[str, Any]:
    """Queues closed while two workers put and two get as fast as they can:
    every item put is got or still queued.  Executors shut down with
    `tasks` queued: every Future ends, with its result or cancelled."""
    lost = 0
    for r in range(rounds):
        name = f"torture-load-{os.getpid()}-{r}"
        queue: cohive.Queue[Any] = cohive.Queue(1000, name=name)
        with cohive.Hive(tw.produce, workers=2, args=(name,)) as producers, \
                cohive.Hive(tw.consume, workers=2, args=(name,)) as consumers:
            while queue.qsize() < 500:
                time.sleep(0.001)
            queue.close()
            put = sum(n for _, n in (next(iter(producers.listen())) for _ in range(2)))
            got = sum(n for _, n in (next(iter(consumers.listen())) for _ in range(2)))
        lost += put - got
    unsettled = 0
    for _ in range(rounds):
        ex = cohive.Executor(2)
        futures = [ex.submit(tw.square, i) for i in range(tasks)]
        ex.shutdown(wait=True, cancel_futures=True)
        unsettled += sum(1 for i, f in enumerate(futures)
                         if not (f.cancelled() or (f.done() and f.result() == i * i)))
    return {"rounds": rounds, "items_lost": lost, "futures_unsettled": unsettled}


# --- nesting -------------------------------------------------------------------------


def nesting(depth: int) -> dict[str, Any]:
    """A Hive worker runs Executors `depth` levels deep (2**depth leaves)."""
    start = time.perf_counter()
    with cohive.Hive(tw.nested, workers=1) as hive:
        hive.push(depth)
        leaves = next(iter(hive.listen()))
    return {"depth": depth, "leaves": leaves, "ok": leaves == 2 ** depth, "seconds": time.perf_counter() - start}


# --- fork ----------------------------------------------------------------------------

_FORK_SCRIPT = textwrap.dedent("""
    import os, sys, warnings, cohive, torture_workers as tw
    warnings.simplefilter("ignore", DeprecationWarning)
    with cohive.Hive(tw.echo, workers=2):
        pass
    pid = os.fork()  # idle pooled interpreters: destroyed first, the child works
    if pid == 0:
        with cohive.Hive(tw.echo, workers=1) as hive:
            hive.push(1)
            os._exit(0 if next(iter(hive.listen())) == 1 else 1)
    print("idle", os.waitpid(pid, 0)[1], flush=True)
    with cohive.Hive(tw.echo, workers=2):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RuntimeWarning)
            pid = os.fork()  # running workers: the parent is warned
            if pid == 0:
                os._exit(0)
        os.kill(pid, 9)  # the child may crash or hang
        os.waitpid(pid, 0)
    print("warned", len(caught), flush=True)
""")


def fork(python: str = sys.executable) -> dict[str, Any]:
    out = subprocess.run([python, "-c", _FORK_SCRIPT], capture_output=True, text=True, timeout=120, env=_env())
    return {"child_after_idle_pool_ok": "idle 0" in out.stdout, "warned_while_running": "warned 1" in out.stdout}


# --- the run -------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a few of each, for a smoke run")
    args = parser.parse_args()
    q = args.quick
    print(f"## cohive torture: Python {sys.version.split()[0]}")
    results = {
        "lifecycles": lifecycles(100 if q else 1000, 30 if q else 300),
        "sigint": sigint(5 if q else 50),
        "stuck": stuck(5 if q else 100),
        "load": load(2 if q else 20, 200 if q else 5000),
        "nesting": nesting(2 if q else 3),
        "fork": fork(),
    }
    bars = {
        "lifecycles": results["lifecycles"]["hive_rss_growth_mb"] <= 30
        and results["lifecycles"]["executor_rss_growth_mb"] <= 30 and results["lifecycles"]["hive_cycle_ms"] <= 5,
        "sigint": results["sigint"]["clean"] == results["sigint"]["runs"],
        "stuck": results["stuck"]["stacks_named"],
        "load": results["load"]["items_lost"] == 0 and results["load"]["futures_unsettled"] == 0,
        "nesting": results["nesting"]["ok"],
        "fork": results["fork"]["child_after_idle_pool_ok"] and results["fork"]["warned_while_running"],
    }
    for part, figures in results.items():
        shown = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items())
        print(f"{'ok  ' if bars[part] else 'FAIL'} {part}: {shown}")
    return 0 if all(bars.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
