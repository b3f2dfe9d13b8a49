"""cohive across os.fork(): Maps are read in the child without copying their
pages; named objects (Ref, Queue, Lock, ...) belong to the process that made
them, and every use of one in a forked child raises ForeignProcessError.

Each test runs in a fresh process (fork in the pytest process would copy its
threads' state), and every wait has a timeout."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="os.fork is POSIX only")

TIMEOUT = 120

PRELUDE = textwrap.dedent(
    """
    import os, sys, threading, warnings
    import cohive
    warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads running is what we test

    def in_child(body):
        '''Runs body() in a forked child; its exit code (1 if it raised).'''
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                body()
            except BaseException as e:
                print("child failed:", type(e).__name__, e, flush=True)
                code = 1
            os._exit(code)
        return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    """
)


def run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", PRELUDE + textwrap.dedent(code)], capture_output=True, text=True,
                         timeout=TIMEOUT)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


USES = {
    "Ref": ("cohive.Ref('fork-ref', default=1)", [
        "o.get()", "o.set(2)", "o.version", "o.compare_and_set(1, 2)", "o.update(lambda v: v)",
        "o.wait(0, timeout=1)", "o.wait_async(0)", "repr(o)"]),
    "Queue": ("cohive.Queue(name='fork-queue')", [
        "o.put(1)", "o.get(timeout=1)", "o.put_nowait(1)", "o.get_nowait()", "o.qsize()", "o.empty()",
        "o.full()", "o.close()", "o.closed", "o.maxsize", "next(o)", "o.get_async()", "o.put_async(1)",
        "o.__aiter__()", "repr(o)"]),
    "Lock": ("cohive.Lock()", ["o.acquire(timeout=1)", "o.release()", "o.locked()", "o.__enter__()",
                               "o.__exit__(None, None, None)", "o.acquire_async()", "repr(o)"]),
    "Event": ("cohive.Event()", ["o.set()", "o.clear()", "o.is_set()", "o.wait(timeout=1)", "o.wait_async()"]),
    "Semaphore": ("cohive.Semaphore(2)", ["o.acquire(timeout=1)", "o.release()", "o.value", "o.__enter__()"]),
    "Barrier": ("cohive.Barrier(2)", ["o.wait(timeout=1)", "o.abort()", "o.reset()", "o.parties", "o.n_waiting",
                                      "o.broken"]),
    "Counter": ("cohive.Counter(5)", ["o.add(1)", "o.get()", "o.compare_and_set(5, 6)", "repr(o)"]),
}


@pytest.mark.parametrize("kind", USES)
def test_every_use_of_an_inherited_named_object_raises_in_the_child(kind: str) -> None:
    make, uses = USES[kind]
    out = run(f"""
        o = {make}
        parent = os.getpid()
        def child():
            for use in {uses!r}:
                try:
                    eval(use)
                except cohive.ForeignProcessError as e:
                    assert "cohive.{kind}" in str(e) and f"process {{parent}}" in str(e), e
                else:
                    raise AssertionError(use + " worked in the child")
            o.name  # the name is only read, and stays readable
        assert in_child(child) == 0
        print("ok")
    """)
    assert out.strip().endswith("ok")


def test_the_owner_sees_nothing_of_what_the_child_tried() -> None:
    run("""
        q = cohive.Queue(name="jobs")
        ref = cohive.Ref("config", default={"v": 1})
        counter = cohive.Counter(10)
        q.put("first")
        def child():
            for attempt in (lambda: q.put("from child"), lambda: q.get(timeout=1), lambda: ref.set({"v": 2}),
                            lambda: counter.add(5), lambda: q.close()):
                try:
                    attempt()
                except cohive.ForeignProcessError:
                    pass
        assert in_child(child) == 0
        assert q.qsize() == 1 and q.get(timeout=5) == "first" and not q.closed
        assert ref.get() == {"v": 1} and ref.version == 0 and counter.get() == 10
    """)


def test_opening_a_name_the_parent_made_raises_in_the_child() -> None:
    run("""
        q = cohive.Queue(name="by-name")
        def child():
            for open_it in (lambda: cohive.Queue(name="by-name"), lambda: cohive.Ref("by-name", default=0)):
                try:
                    open_it()
                except cohive.ForeignProcessError as e:
                    assert "'by-name'" in str(e) and str(os.getppid()) in str(e), e
                else:
                    raise AssertionError("opened the parent's object")
        assert in_child(child) == 0
    """)


def test_named_objects_made_in_the_child_work_there() -> None:
    run("""
        def child():
            q = cohive.Queue(name="child-own")
            q.put({"a": [1]})
            assert q.get(timeout=5) == {"a": [1]}
            lock = cohive.Lock()
            with lock:
                assert lock.locked()
            assert cohive.Ref("child-ref", default=3).get() == 3
        assert in_child(child) == 0
    """)


def test_a_child_forked_while_a_thread_blocks_in_get_exits_cleanly() -> None:
    # glibc used to abort such children ("The futex facility returned an
    # unexpected error code"), at their first use of the queue or at exit.
    run("""
        q = cohive.Queue(name="blocked")
        inherited = cohive.Map({"q": q, "records": {"a": 1}})
        got, getting = [], threading.Event()
        def consumer():
            getting.set()
            got.append(q.get(timeout=60))
        blocked = threading.Thread(target=consumer)
        blocked.start()
        getting.wait(60)  # the first fork may still race the get; the later ones find it asleep
        for _ in range(5):
            def child():
                assert inherited["records"]["a"] == 1
                try:
                    inherited["q"].put(1)
                except cohive.ForeignProcessError:
                    pass
                global q
                del q  # released here, not destroyed
            assert in_child(child) == 0
            pid = os.fork()
            if pid == 0:
                sys.exit(0)  # a normal exit: the interpreter releases every inherited handle
            assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
        q.put("done")
        blocked.join(60)
        assert got == ["done"]
    """)


def test_a_child_dropping_the_last_handle_on_a_map_holding_named_objects() -> None:
    run("""
        holder = cohive.Map({"q": cohive.Queue(), "lock": cohive.Lock(), "r": cohive.Ref("held", default=1)})
        def child():
            global holder
            holder["lock"]  # a handle made in the child, on an object it does not own
            del holder      # the child's last handle: the Map goes, its named objects stay untouched
            import gc; gc.collect()
        assert in_child(child) == 0
        with holder["lock"]:
            holder["q"].put(1)
        assert holder["q"].get(timeout=5) == 1 and holder["r"].get() == 1
    """)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/smaps_rollup")
@pytest.mark.skipif("ASAN_OPTIONS" in os.environ, reason="AddressSanitizer's shadow memory and quarantine dirty "
                    "pages of their own in the child")
def test_a_forked_reader_copies_almost_none_of_the_map() -> None:
    # The preforking-server target: a child reading every record (at every
    # depth) dirties at most 5% of the Map's native size.  Reads that wrote
    # reference counts dirtied about 150%.
    out = run("""
        import json
        def dirty_kb():
            with open("/proc/self/smaps_rollup") as f:
                return next(int(line.split()[1]) for line in f if line.startswith("Private_Dirty:"))
        before = cohive.native_bytes()
        m = cohive.Map({f"user:{i}": {"name": f"n{i}", "age": i, "tags": ["a", f"t{i}"], "addr": {"city": "c"}}
                        for i in range(50_000)})
        size = cohive.native_bytes() - before
        read, write = os.pipe()
        def child():
            keys = [f"user:{i}" for i in range(50_000)]
            start = dirty_kb()
            for k in keys:
                record = m[k]
                record["age"]; record["name"]; record["tags"][1]; record["addr"]["city"]
            for record in m.values():
                for field in record.values():
                    pass
            os.write(write, str(dirty_kb() - start).encode())
        assert in_child(child) == 0
        print(json.dumps({"dirty": int(os.read(read, 100)) * 1024, "size": size}))
    """)
    figures = json.loads(out.strip().splitlines()[-1])
    assert figures["dirty"] <= 0.05 * figures["size"], figures
