"""Worker start-up: a fresh interpreter running its first call, cohive against the stdlib; then from the pool.

Side by side, each the median of interleaved runs: the standard library's
own way to run a function in a new isolated interpreter (on 3.14+
``concurrent.interpreters.create()`` + ``call()`` + ``close()``; before,
the private module's create + exec + destroy), the same call in cohive's
Subinterpreter without and with importing cohive, a cohive.Executor(1)
making a new interpreter for its first task (pool turned off: create, import
cohive, the call, destroy), and the same Executor drawing a pooled,
already-warm interpreter.  Then a two-worker Hive cycle, cold and warm,
against the stdlib doing its one call in two new interpreters at once, one
thread each (what a two-worker Hive starts).  The stdlib's row runs on the
main thread, as a user calls it; it is also shown on a new thread, which on
3.14 is faster: there every thread state made on the main thread reads
/proc/self/maps (glibc's pthread_getattr_np finding the main thread's
stack), and creating and running an interpreter makes a dozen of them.

The figures are taken in a plain virtual environment made for the run, with
cohive and these benchmarks on PYTHONPATH, as a user's installed cohive runs:
every new interpreter runs ``site``, and an editable install's import hook
(in ./dev's environments: pathlib, re and more, ~11 ms in every new
interpreter) would both swell the stdlib's figure and import, before cohive
does, much of what cohive's own import costs.
"""

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import venv
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
# As installed, cohive's modules have their bytecode cached (pip writes it, as
# the stdlib's is): under PYTHONDONTWRITEBYTECODE every new interpreter would
# compile cohive from source instead (~4 ms), which no installed copy pays.
sys.dont_write_bytecode = False

import bench_tasks as tasks  # noqa: E402
from harness import fmt_time, table  # noqa: E402

PLAIN = "--in-plain-venv"


def stdlib_call() -> tuple[str, Callable[[], None]]:
    """The standard library's shortest way to run tasks.nothing(1) in a new interpreter."""
    if sys.version_info >= (3, 14):
        import concurrent.interpreters as interpreters

        def start() -> None:
            interp = interpreters.create()
            try:
                assert interp.call(tasks.nothing, 1) == 1
            finally:
                interp.close()

        return "concurrent.interpreters: create + call + close", start
    code = f"import sys; sys.path[:] = {sys.path!r}; import bench_tasks; bench_tasks.nothing(1)"
    if sys.version_info >= (3, 13):
        import _interpreters as low

        def start() -> None:
            interp = low.create("isolated")
            try:
                assert low.exec(interp, code) is None
            finally:
                low.destroy(interp)

        return "_interpreters: create + exec + destroy", start
    import _xxsubinterpreters as low312

    def start() -> None:
        interp = low312.create(isolated=True)
        try:
            low312.run_string(interp, code)
        finally:
            low312.destroy(interp)

    return "_xxsubinterpreters: create + run_string + destroy", start


def side_by_side(start: Callable[[], None], count: int) -> Callable[[], None]:
    """`start` on `count` new threads at once, waiting for all."""
    def run() -> None:
        threads = [threading.Thread(target=start) for _ in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return run


def destroyed() -> None:
    """With the pool off, an interpreter is destroyed on its own thread just
    after its use reports back: wait for that, so that a cold start pays for
    its own destroy (as the stdlib row does) and not the next one's."""
    from cohive import _interpreters, _pool

    while len(_interpreters._hosts) > _pool.idle_count():
        time.sleep(0.0002)


def bare_start(imports: str) -> Callable[[], None]:
    """cohive's Subinterpreter running the stdlib row's call, after `imports`:
    what the thread and the imports each add."""
    from cohive import _interpreters

    def start() -> None:
        with _interpreters.Subinterpreter() as interp:
            interp.run(f"{imports}import bench_tasks; bench_tasks.nothing(1)")
    return start


def executor_start() -> None:
    import cohive

    with cohive.Executor(1) as ex:
        assert ex.submit(tasks.nothing, 1).result() == 1
    destroyed()


def hive_cycle() -> None:
    import cohive

    with cohive.Hive(tasks.hive_echo, workers=2) as hive:
        hive.push(1)
        assert next(iter(hive.listen())) == 1
    destroyed()


def timed(fn: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure_here(quick: bool) -> str:
    import cohive

    repeat = 5 if quick else 30
    name, stdlib = stdlib_call()
    stdlib_thread, stdlib_two = side_by_side(stdlib, 1), side_by_side(stdlib, 2)
    stdlib(), stdlib_two(), executor_start(), hive_cycle()  # modules imported, bytecode written, caches warm
    bare, with_cohive = bare_start(""), bare_start("import cohive._worker; ")
    times: dict[str, list[float]] = {"stdlib": [], "stdlib thread": [], "bare": [], "with cohive": [], "cold": [],
                                     "warm": [], "stdlib two": [], "hive cold": [], "hive warm": []}
    for _ in range(repeat):  # interleaved, so that drift on a noisy machine hits every row alike
        times["stdlib"].append(timed(stdlib))
        times["stdlib thread"].append(timed(stdlib_thread))
        times["bare"].append(timed(bare))
        times["with cohive"].append(timed(with_cohive))
        times["stdlib two"].append(timed(stdlib_two))
        previous = cohive.set_pool_limit(0)
        destroyed()  # the idle interpreters it let go
        times["cold"].append(timed(executor_start))
        times["hive cold"].append(timed(hive_cycle))
        cohive.set_pool_limit(previous)
        executor_start(), hive_cycle()  # refill the pool
        times["warm"].append(timed(executor_start))
        times["hive warm"].append(timed(hive_cycle))
    med = {k: statistics.median(v) for k, v in times.items()}
    rows = [  # label, figure, the stdlib figure it is compared with
        (name, "stdlib", "stdlib"),
        ("the same on a new thread (as cohive runs each interpreter)", "stdlib thread", "stdlib"),
        ("the same call in a cohive Subinterpreter (its own thread)", "bare", "stdlib"),
        ("... after import cohive._worker (what every worker imports)", "with cohive", "stdlib"),
        ("cohive.Executor(1), first task, pool off (new interpreter)", "cold", "stdlib"),
        ("cohive.Executor(1), first task, from the pool", "warm", "stdlib"),
        ("the stdlib's row in two new interpreters at once (two threads)", "stdlib two", "stdlib two"),
        ("cohive.Hive(workers=2) cycle with one message, pool off (two new interpreters)", "hive cold", "stdlib two"),
        ("cohive.Hive(workers=2) cycle with one message, from the pool", "hive warm", "stdlib two"),
    ]
    return table(f"Worker start-up, median of {repeat} (a plain venv; ratios against the stdlib row above a line's "
                 "own: one interpreter, or two at once for the Hive)", ["what", "time", "vs the stdlib"],
                 [[label, fmt_time(med[key]), f"{med[key] / med[ref]:.2f}x"] for label, key, ref in rows])


def run(quick: bool = False) -> str:
    """Measures in a plain virtual environment made for the run (see above)."""
    with tempfile.TemporaryDirectory(prefix="cohive-bench-startup-") as env_dir:
        venv.EnvBuilder(symlinks=os.name != "nt", with_pip=False).create(env_dir)
        python = Path(env_dir) / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONHOME")}
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "benchmarks")])
        args = [str(python), __file__, PLAIN, *(["--quick"] if quick else [])]
        return subprocess.run(args, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    print(measure_here(quick) if PLAIN in sys.argv else run(quick))
