"""What a worker interpreter pays at start: importing cohive there pulls in
no stdlib module it does not need (typing, collections, functools, ...), the
parts loaded on first use work when they are used, and the stdlib exceptions
cohive raises are still the stdlib's own classes."""

import subprocess
import sys
import textwrap
from pathlib import Path

import cohive
from interp_helpers import TIMEOUT, run_in_each

# What `site` loads into every interpreter (os needs them): a worker may find them imported already.
LOADED_BY_SITE = {"_abc", "abc", "_collections_abc"}
# Loaded when first used, not with cohive: views, asyncio waits, rich values.
ON_FIRST_USE = ["cohive._views", "cohive._waiting", "cohive._types"]


def in_a_worker_of_a_process_without_site(code: str) -> None:
    """Runs code in a subinterpreter of a fresh `python -S`.  Without site:
    an editable install's import hook (./dev's environments have one) imports
    re, pathlib, collections and more into every interpreter, which would hide
    what importing cohive itself pulls in."""
    root = str(Path(cohive.__file__).resolve().parent.parent)
    parent = textwrap.dedent(f"""
        import sys
        sys.path[:0] = [{root!r}, {str(Path(__file__).parent)!r}]
        from interp_helpers import run_in_each
        run_in_each([{textwrap.dedent(code)!r}])
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-S", "-c", parent], capture_output=True, text=True, timeout=TIMEOUT)
    assert out.stdout.strip() == "ok", out.stderr


def test_a_worker_importing_cohive_pulls_in_only_cohive_itself() -> None:
    in_a_worker_of_a_process_without_site(f"""
        import sys
        already = set(sys.modules)
        import cohive._worker, cohive._hive_worker
        pulled = sorted(set(sys.modules) - already - {LOADED_BY_SITE!r})
        assert all(name == "cohive" or name.startswith("cohive.") for name in pulled), pulled
        assert not [name for name in {ON_FIRST_USE!r} if name in sys.modules], pulled
    """)


def test_what_loads_on_first_use_works_in_a_fresh_worker() -> None:
    in_a_worker_of_a_process_without_site("""
        import collections.abc, datetime, sys
        import cohive
        m = cohive.Map(a=1, when=datetime.datetime(2024, 1, 2, tzinfo=datetime.timezone.utc))
        assert isinstance(m, collections.abc.Mapping) and isinstance(cohive.FrozenList([1]), collections.abc.Sequence)
        assert "cohive._types" in sys.modules  # freezing a datetime asked it how
        assert list(m.keys() & {"a"}) == ["a"] and "cohive._views" in sys.modules
        assert m["when"].tzinfo is datetime.timezone.utc
        assert cohive.register is sys.modules["cohive._types"].register
    """)


def test_stdlib_exceptions_looked_up_on_first_raise_are_the_stdlib_classes() -> None:
    run_in_each(["""
        import cohive
        q = cohive.Queue(maxsize=1)
        try:
            q.get_nowait()
        except Exception as exc:
            empty = exc
        q.put_nowait(1)
        try:
            q.put_nowait(2)
        except Exception as exc:
            full = exc
        barrier = cohive.Barrier(2)
        barrier.abort()
        try:
            barrier.wait(timeout=5)
        except Exception as exc:
            broken = exc
        import queue, threading
        assert type(empty) is queue.Empty, repr(empty)
        assert type(full) is queue.Full, repr(full)
        assert type(broken) is threading.BrokenBarrierError, repr(broken)
    """])
