"""cohive.Hive: worker interpreters with their own loops around a block, TaskGroup-style."""

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

import cohive
import hive_workers as workers
from conftest import needs_asyncio_in_subinterpreters

TIMEOUT = 120


async def take(hive: cohive.Hive, n: int) -> list[Any]:
    got: list[Any] = []
    async for item in hive.listen():
        got.append(item)
        if len(got) == n:
            break
    return got


@pytest.mark.parametrize("worker", [
    pytest.param(workers.lookup, id="async-workers", marks=needs_asyncio_in_subinterpreters),
    pytest.param(workers.lookup_sync, id="sync-workers"),
])
def test_push_broadcast_listen_and_state(worker: Any) -> None:
    async def main() -> tuple[list[Any], list[Any]]:
        index = cohive.Map({f"key:{i}": i for i in range(1000)}, version=1)
        async with cohive.Hive(worker, workers=3, state=index, args=(1000,)) as hive:
            for i in range(300):
                await hive.push(f"key:{i}")
            answers = await take(hive, 300)
            hive.state.set(index.set("version", 2))  # publish a new version...
            await hive.broadcast("reload")  # ...and tell every worker
            reloads = await take(hive, 3)
        return answers, reloads

    answers, reloads = asyncio.run(asyncio.wait_for(main(), TIMEOUT))
    assert sorted(value for _, value in answers) == [i + 1000 for i in range(300)]  # each message exactly once
    assert {worker for worker, _ in answers} <= {0, 1, 2}
    assert sorted(reloads) == [("reloaded", w, 2) for w in range(3)]  # every worker, the new state


def test_sync_workers() -> None:
    with cohive.Hive(workers.double, workers=2) as hive:
        for i in range(100):
            hive.push(i)
        got = []
        for item in hive.listen():
            got.append(item)
            if len(got) == 100:
                break
    assert sorted(value for _, value in got) == [2 * i for i in range(100)]


def test_functions_that_cannot_be_sent_are_refused() -> None:
    with pytest.raises(TypeError, match="cannot send the lambda"):
        cohive.Hive(lambda ctx: None, workers=1)
    with pytest.raises(TypeError, match="cannot send the args of double to the workers"):
        cohive.Hive(workers.double, workers=1, args=(object(),))
    with pytest.raises(ValueError, match="workers must be greater than 0"):
        cohive.Hive(workers.double, workers=0)


def test_interactively_defined_functions_are_refused() -> None:
    code = "import cohive\ndef worker(ctx): pass\ntry:\n    cohive.Hive(worker)\nexcept TypeError as e:\n    print(e)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT,
                         env=dict(os.environ, PYTHONPATH=str(Path(cohive.__file__).resolve().parent.parent)))
    assert "cannot send worker to a worker: it was defined interactively" in out.stdout, out.stderr


def test_failing_workers_end_the_block_with_an_exception_group() -> None:
    async def main() -> None:
        async with cohive.Hive(workers.fail, workers=2):
            await asyncio.sleep(TIMEOUT)  # cancelled as soon as a worker fails

    with pytest.raises(ExceptionGroup) as info:
        asyncio.run(asyncio.wait_for(main(), TIMEOUT))
    errors = info.value.exceptions
    assert sorted(e.worker_id for e in errors) == [0, 1]  # type: ignore[attr-defined]
    for e in errors:
        assert isinstance(e, cohive.WorkerError) and e.type_name == "builtins.ValueError"
        assert isinstance(e.exception, ValueError) and f"worker {e.worker_id} broke" in str(e.exception)
        assert "hive_workers.py" in e.traceback and "in fail" in e.traceback


def test_one_failure_stops_the_others() -> None:
    async def main() -> None:
        async with cohive.Hive(workers.fail_one, workers=3) as hive:
            async for _ in hive.listen():  # ends: the failure stops every worker
                pass

    with pytest.raises(ExceptionGroup) as info:
        asyncio.run(asyncio.wait_for(main(), TIMEOUT))
    (error,) = info.value.exceptions
    assert isinstance(error, cohive.WorkerError) and error.worker_id == 1
    assert isinstance(error.exception, KeyError)


def test_a_worker_failing_at_start_up_fails_fast() -> None:
    pytest.importorskip("_testsinglephase")
    import single_phase_user

    threads_before = threading.active_count()
    with pytest.raises(ExceptionGroup) as info:
        with cohive.Hive(single_phase_user.run, workers=2):
            pytest.fail("the block must not run")
    assert threading.active_count() == threads_before  # no thread (or interpreter) left behind
    for error in info.value.exceptions:
        assert isinstance(error, cohive.WorkerError) and error.type_name == "builtins.ImportError"
        assert "_testsinglephase (imported by single_phase_user) cannot be imported in a cohive worker" in error.message
        assert "single-phase init" in error.message


def test_an_extension_refused_inside_worker_code_names_itself() -> None:
    pytest.importorskip("_testsinglephase")

    async def main() -> None:
        async with cohive.Hive(workers.import_single_phase, workers=1):
            await asyncio.sleep(TIMEOUT)

    with pytest.raises(ExceptionGroup) as info:
        asyncio.run(asyncio.wait_for(main(), TIMEOUT))
    (error,) = info.value.exceptions
    assert "_testsinglephase" in error.message and "subinterpreters" in error.message  # type: ignore[attr-defined]


@needs_asyncio_in_subinterpreters
def test_leaving_the_block_cancels_async_workers() -> None:
    async def main() -> list[Any]:
        async with cohive.Hive(workers.hang, workers=2) as hive:
            return await take(hive, 2)  # both running; leaving must cancel their endless waits

    assert sorted(asyncio.run(asyncio.wait_for(main(), TIMEOUT))) == [("ready", 0), ("ready", 1)]


@pytest.mark.skipif(sys.version_info >= (3, 13), reason="3.12 only")
def test_async_workers_are_refused_on_3_12() -> None:
    with pytest.raises(RuntimeError, match="async Hive workers need CPython 3.13 or newer"):
        cohive.Hive(workers.hang, workers=1)


def test_leaving_the_block_stops_sync_workers() -> None:
    with cohive.Hive(workers.wait_for_stop, workers=2) as hive:
        started = [next(iter(hive.listen())) for _ in range(2)]
    assert sorted(started) == [("ready", 0), ("ready", 1)]
    assert list(hive.listen()) == [("stopping", True), ("stopping", True)]


def test_workers_from_a_main_script(tmp_path: Path) -> None:
    script = tmp_path / "app.py"
    script.write_text(textwrap.dedent("""
        import asyncio, cohive

        def worker(ctx):
            for msg in ctx:
                ctx.send(msg.upper())

        async def main():
            async with cohive.Hive(worker, workers=2) as hive:
                for word in ["a", "b", "c"]:
                    await hive.push(word)
                got = []
                async for item in hive.listen():
                    got.append(item)
                    if len(got) == 3:
                        break
            print("results", sorted(got))

        if __name__ == "__main__":
            asyncio.run(main())
    """))
    env = dict(os.environ, PYTHONPATH=str(Path(cohive.__file__).resolve().parent.parent))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=TIMEOUT, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "results ['A', 'B', 'C']"


def test_ctrl_c_shuts_the_hive_down_cleanly(tmp_path: Path) -> None:
    script = tmp_path / "interrupted.py"
    script.write_text(textwrap.dedent("""
        import cohive, threading

        def worker(ctx):
            ctx.send("ready")
            for _ in ctx:
                pass

        if __name__ == "__main__":
            try:
                with cohive.Hive(worker, workers=2) as hive:
                    results = iter(hive.listen())
                    next(results), next(results)
                    print("running", flush=True)
                    for _ in results:  # blocks: Ctrl-C lands here
                        pass
            except KeyboardInterrupt:
                from cohive import _pool
                others = [t.name for t in threading.enumerate()
                          if t.name not in ("MainThread", "cohive-worker", "cohive-pool")]
                print("interrupted; running:", _pool.running_count(), "other threads:", others, flush=True)
    """))
    env = dict(os.environ, PYTHONPATH=str(Path(cohive.__file__).resolve().parent.parent))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "running"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 0, err
    assert out.strip() == "interrupted; running: 0 other threads: []"  # idle pooled interpreters stay
    assert err == ""
