"""Worker start-up: a fresh interpreter running its first call, cohive against the stdlib; then from the pool.

Side by side, each the median of repeated runs: the standard library's own
way to run a function in a new isolated interpreter (on 3.14+
``concurrent.interpreters.create()`` + ``call()`` + ``close()``; before,
the private module's create + exec + destroy), the same call in cohive's
Subinterpreter without and with importing cohive, a cohive.Executor(1) making
a new interpreter for its first task (pool turned off: create, import
cohive, the call, destroy), and the same Executor drawing a pooled,
already-warm interpreter.  A two-worker Hive cycle, cold and warm, last.
"""

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# As installed, cohive's modules have their bytecode cached (pip writes it, as
# the stdlib's is): under PYTHONDONTWRITEBYTECODE every new interpreter would
# compile cohive from source instead (~4 ms), which no installed copy pays.
sys.dont_write_bytecode = False

import bench_tasks as tasks  # noqa: E402
import cohive  # noqa: E402
from cohive import _interpreters, _pool, _worker  # noqa: E402, F401 - _worker: its bytecode cached too
import torture_workers as tw  # noqa: E402
from harness import fmt_time, table  # noqa: E402


def stdlib_start() -> tuple[str, Callable[[], None]]:
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


def destroyed() -> None:
    """With the pool off, an interpreter is destroyed on its own thread just
    after its use reports back: wait for that, so that a cold start pays for
    its own destroy (as the stdlib row does) and not the next one's."""
    while len(_interpreters._hosts) > _pool.idle_count():
        time.sleep(0.0002)


def bare_start(imports: str) -> Callable[[], None]:
    """cohive's Subinterpreter running the stdlib row's call, after `imports`:
    what the thread and the imports each add."""
    def start() -> None:
        with _interpreters.Subinterpreter() as interp:
            interp.run(f"{imports}import bench_tasks; bench_tasks.nothing(1)")
    return start


def executor_start() -> None:
    with cohive.Executor(1) as ex:
        assert ex.submit(tasks.nothing, 1).result() == 1
    destroyed()


def hive_cycle() -> None:
    with cohive.Hive(tw.echo, workers=2) as hive:
        hive.push(1)
        assert next(iter(hive.listen())) == 1
    destroyed()


def timed(fn: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run(quick: bool = False) -> str:
    repeat = 5 if quick else 30
    name, stdlib = stdlib_start()
    stdlib(), executor_start(), hive_cycle()  # modules imported, caches warm
    bare, with_cohive = bare_start(""), bare_start("import cohive._worker; ")
    times: dict[str, list[float]] = {"stdlib": [], "bare": [], "with cohive": [], "cold": [], "warm": [],
                                     "hive cold": [], "hive warm": []}
    for _ in range(repeat):  # interleaved, so that drift on a noisy machine hits every row alike
        times["stdlib"].append(timed(stdlib))
        times["bare"].append(timed(bare))
        times["with cohive"].append(timed(with_cohive))
        previous = cohive.set_pool_limit(0)
        destroyed()  # the idle interpreters it let go
        times["cold"].append(timed(executor_start))
        times["hive cold"].append(timed(hive_cycle))
        cohive.set_pool_limit(previous)
        executor_start(), hive_cycle()  # refill the pool
        times["warm"].append(timed(executor_start))
        times["hive warm"].append(timed(hive_cycle))
    med = {k: statistics.median(v) for k, v in times.items()}
    labels = {
        "stdlib": name,
        "bare": "the same call in a cohive Subinterpreter (its own thread)",
        "with cohive": "... after import cohive._worker (what every worker imports)",
        "cold": "cohive.Executor(1), first task, pool off (new interpreter)",
        "warm": "cohive.Executor(1), first task, from the pool",
        "hive cold": "cohive.Hive(workers=2) cycle with one message, pool off (two new interpreters)",
        "hive warm": "cohive.Hive(workers=2) cycle with one message, from the pool",
    }
    rows = [[label, fmt_time(med[key]), f"{med[key] / med['stdlib']:.2f}x"] for key, label in labels.items()]
    return table(f"Worker start-up, median of {repeat}", ["what", "time", "vs the stdlib"], rows)


if __name__ == "__main__":
    print(run("--quick" in sys.argv))
