"""cohive: one Python process, every core.

Subinterpreters with their own GIL share one large immutable state without
pickling.  Here: frozen values and the persistent, off-heap :class:`Map`; named
cells (:class:`Ref`) to publish versions of shared state; and queues and
synchronisation primitives that work across interpreters.
"""

import sys

TYPE_CHECKING = False  # not typing's: importing typing costs every worker ~2 ms at start

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
    ForeignProcessError,
    FrozenBytes,
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
from cohive import _types, _views, _waiting
from cohive._types import allow, register

__version__ = "0.1.0"


class WorkerStopped(BaseException):
    """Raised in a worker by a cohive call (Queue.get, Ref.wait, Lock.acquire,
    Event.wait, ...) blocked when its Hive or Executor stops, so that the
    worker returns.  A BaseException, as asyncio.CancelledError is, so that
    ``except Exception`` does not swallow it; a Hive worker ending with it
    ends normally.
    """


__all__ = [
    "Barrier",
    "Counter",
    "Event",
    "Executor",
    "ForeignProcessError",
    "FrozenBytes",
    "FrozenList",
    "Hive",
    "Lock",
    "Map",
    "MapMutation",
    "MAX_DEPTH",
    "Queue",
    "QueueClosed",
    "Ref",
    "RemoteTraceback",
    "Semaphore",
    "WorkerError",
    "WorkerStopped",
    "allow",
    "freeze",
    "from_json",
    "native_bytes",
    "register",
    "set_pool_limit",
    "thaw",
    "to_json",
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
    classify=_types.classify,
    tz_state=_types.tz_state,
    rich_readers=_types.rich_readers,
)
del _types, _views, _waiting, _register

# Loaded on first use: worker interpreters import cohive too, so keep that light.
_LAZY = {"Executor": "cohive._executor", "RemoteTraceback": "cohive._executor", "WorkerError": "cohive._executor",
         "Hive": "cohive._hive", "set_pool_limit": "cohive._pool"}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'cohive' has no attribute {name!r}")


if TYPE_CHECKING:
    from cohive._executor import Executor, RemoteTraceback, WorkerError
    from cohive._hive import Hive
    from cohive._pool import set_pool_limit
