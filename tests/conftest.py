import contextlib
import gc
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import cohive
from cohive import _cohive

# CPython 3.12 corrupts its heap when an isolated subinterpreter has run an
# asyncio event loop (free(): invalid pointer at exit; reproducible with the
# stdlib alone: _xxsubinterpreters + asyncio.run).  cohive refuses async Hive
# workers there, and tests that run a loop inside a subinterpreter need 3.13.
needs_asyncio_in_subinterpreters = pytest.mark.skipif(
    sys.version_info < (3, 13), reason="asyncio inside a subinterpreter crashes CPython 3.12 at exit"
)


SCRIPT_TIMEOUT = 120


def run_script(code: str, *args: str) -> "subprocess.CompletedProcess[str]":
    """Runs `code` (dedented) in a fresh interpreter that imports the cohive
    under test and these tests' helper modules."""
    paths = [str(Path(cohive.__file__).resolve().parent.parent), str(Path(__file__).parent)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(paths))
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], capture_output=True, text=True,
                          timeout=SCRIPT_TIMEOUT, env=env)


@contextlib.contextmanager
def colliding_hashes(mask: int) -> Iterator[None]:
    """Weaken cohive's key hash to `mask` bits, so that keys collide.

    Maps built inside the block must not be used after it (their keys were
    placed by the weakened hash).
    """
    old = _cohive._set_hash_mask(mask)
    try:
        yield
    finally:
        gc.collect()
        _cohive._set_hash_mask(old)


@pytest.fixture
def native_baseline() -> Iterator[int]:
    """The native byte count before the test; the test must return to it."""
    gc.collect()
    before = cohive.native_bytes()
    yield before
    gc.collect()
    assert cohive.native_bytes() == before, "native memory leaked"


def assert_ctrl_c_interrupts(setup: str, blocking_call: str) -> None:
    """Runs `blocking_call` in the main thread of a fresh process and sends it
    SIGINT once it is about to block: it must raise KeyboardInterrupt."""
    code = (
        "import cohive, os, signal, threading\n"
        + setup
        + "\nstarted = cohive.Ref('ctrl-c-started', default=False)\n"
        "def interrupt():\n"
        "    started.wait(0, timeout=60)\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "threading.Thread(target=interrupt).start()\n"
        "try:\n"
        "    started.set(True)\n"
        f"    {blocking_call}\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "interrupted", out.stderr
