"""cohive: one Python process, every core.

Subinterpreters with their own GIL share one large immutable state without
pickling.  Here: frozen values and the persistent, off-heap :class:`Map`; named
cells (:class:`Ref`) to publish versions of shared state; and queues and
synchronisation primitives that work across interpreters.
"""

import sys
from typing import TYPE_CHECKING

if sys.version_info < (3, 12):  # noqa: UP036 - this line must run on old Pythons
    raise ImportError(
        "cohive needs CPython 3.12 or newer (per-interpreter GIL, PEP 684); "
        "this is Python %d.%d" % sys.version_info[:2]
    )

from cohive._cohive import (
    MAX_DEPTH,
    Barrier,
    Counter,
    Event,
    FrozenList,
    Lock,
    Map,
    MapMutation,
    Queue,
    QueueClosed,
    Ref,
    Semaphore,
    _register,
    freeze,
    from_json,
    native_bytes,
    thaw,
    to_json,
)
from cohive import _views, _waiting

__version__ = "0.1.0"

__all__ = [
    "MAX_DEPTH",
    "Barrier",
    "Counter",
    "Event",
    "Executor",
    "FrozenList",
    "Hive",
    "Lock",
    "Map",
    "MapMutation",
    "Queue",
    "QueueClosed",
    "Ref",
    "RemoteTraceback",
    "Semaphore",
    "freeze",
    "from_json",
    "native_bytes",
    "thaw",
    "to_json",
    "WorkerError",
]

# The parts of the API written in Python, handed to the extension by name.
_register(
    keys_view=_views.MapKeysView,
    values_view=_views.MapValuesView,
    items_view=_views.MapItemsView,
    ref_wait_async=_waiting.ref_wait_async,
    queue_get_async=_waiting.queue_get_async,
    queue_put_async=_waiting.queue_put_async,
    queue_aiter=_waiting.queue_aiter,
    acquire_async=_waiting.acquire_async,
    release_async=_waiting.release_async,
    wait_async=_waiting.wait_async,
)
del _views, _waiting, _register

# Loaded on first use: worker interpreters import cohive too, so keep that light.
_LAZY = {"Executor": "cohive._executor", "RemoteTraceback": "cohive._executor", "WorkerError": "cohive._executor",
         "Hive": "cohive._hive"}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'cohive' has no attribute {name!r}")


if TYPE_CHECKING:
    from cohive._executor import Executor, RemoteTraceback, WorkerError
    from cohive._hive import Hive
