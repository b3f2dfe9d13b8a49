"""What a worker interpreter pays at start: importing cohive there pulls in
no stdlib module it does not need (typing, queue, threading, re, ...), and
the stdlib exceptions cohive raises are still the stdlib's own classes."""

from interp_helpers import run_in_each

# Imported by none of cohive's worker-side modules; each would add to every worker's start.
NOT_FOR_A_WORKER = ["typing", "queue", "threading", "re", "pickle", "traceback", "asyncio", "concurrent.futures"]


def test_a_worker_importing_cohive_pulls_in_no_stdlib_module_it_does_not_need() -> None:
    run_in_each([f"""
        import sys
        already = set(sys.modules)
        import cohive._worker
        pulled = sorted(name for name in {NOT_FOR_A_WORKER!r} if name in sys.modules and name not in already)
        assert pulled == [], f"importing cohive._worker imported {{pulled}}"
    """])


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
