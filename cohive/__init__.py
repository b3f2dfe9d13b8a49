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

from cohive import _cohive
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
    SnapshotError,
    _register,
    freeze,
    from_json,
    load,
    native_bytes,
    thaw,
    to_json,
)
# Not collections.abc, which imports all of collections: the same classes, and
# os has loaded _collections_abc already.  A Map is a Mapping, a FrozenList a Sequence.
from _collections_abc import Mapping, Sequence

Mapping.register(Map)
Sequence.register(FrozenList)
del Mapping, Sequence

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
    "SnapshotError",
    "WorkerError",
    "WorkerStopped",
    "allow",
    "freeze",
    "from_json",
    "load",
    "native_bytes",
    "register",
    "set_pool_limit",
    "thaw",
    "to_json",
]

# The parts of the API written in Python, handed to the extension as (module,
# name) and imported on first call: worker interpreters import cohive too, and
# every module loaded here adds to each one's start.
_register(
    keys_view=("cohive._views", "MapKeysView"),
    values_view=("cohive._views", "MapValuesView"),
    items_view=("cohive._views", "MapItemsView"),
    **{name: ("cohive._waiting", name) for name in ("ref_wait_async", "queue_get_async", "queue_put_async",
                                                     "queue_aiter", "acquire_async", "release_async", "wait_async")},
    **{name: ("cohive._types", name) for name in ("classify", "tz_state", "rich_readers")},
)
del _register

# The main interpreter loads them now all the same: it is the one that forks
# (preforking servers), and a forked child loading one on first use would
# write the module into pages it shares with its parent (0.6-0.9 MB each).
if _cohive._in_main_interpreter:
    from cohive import _types, _views, _waiting  # noqa: F401

# Loaded on first use, for the same reason.
_LAZY = {"Executor": "cohive._executor", "RemoteTraceback": "cohive._executor", "WorkerError": "cohive._executor",
         "Hive": "cohive._hive", "set_pool_limit": "cohive._pool", "allow": "cohive._types",
         "register": "cohive._types"}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        __import__(_LAZY[name])
        value = globals()[name] = getattr(sys.modules[_LAZY[name]], name)
        return value
    raise AttributeError(f"module 'cohive' has no attribute {name!r}")


if TYPE_CHECKING:
    from cohive._executor import Executor, RemoteTraceback, WorkerError
    from cohive._hive import Hive
    from cohive._pool import set_pool_limit
    from cohive._types import allow, register
