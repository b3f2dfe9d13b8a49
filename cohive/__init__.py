"""cohive: one Python process, every core.

Subinterpreters with their own GIL share one large immutable state without
pickling.  This package holds the data level: frozen values and the
persistent, off-heap :class:`Map`.
"""

import sys

if sys.version_info < (3, 12):  # noqa: UP036 - this line must run on old Pythons
    raise ImportError(
        "cohive needs CPython 3.12 or newer (per-interpreter GIL, PEP 684); "
        "this is Python %d.%d" % sys.version_info[:2]
    )

from cohive._cohive import (
    MAX_DEPTH,
    FrozenList,
    Map,
    MapMutation,
    Queue,
    QueueClosed,
    Ref,
    freeze,
    native_blocks,
    native_bytes,
    thaw,
)
from cohive import _views

__version__ = "0.1.0"

__all__ = [
    "MAX_DEPTH",
    "FrozenList",
    "Map",
    "MapMutation",
    "Queue",
    "QueueClosed",
    "Ref",
    "freeze",
    "native_blocks",
    "native_bytes",
    "thaw",
]

del _views
