import contextlib
import gc
from collections.abc import Iterator

import pytest

import cohive
from cohive import _cohive


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
