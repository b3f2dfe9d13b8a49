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


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


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
    if any(not (line.startswith("  ") or line in (lines[0], lines[-1])) for line in lines):
        return f"more than a KeyboardInterrupt on stderr:\n{err}"
    return None


def sigint(runs: int, seed: int = 0, python: str = sys.executable) -> dict[str, Any]:
    rng = random.Random(seed)
    failures = [f for f in (sigint_once(rng.uniform(0, 0.6), python) for _ in range(runs)) if f is not None]
    return {"runs": runs, "clean": runs - len(failures), "first_failure": failures[0] if failures else None}
