"""asyncio waits on native objects, through a Watcher's file descriptor.

The event loop watches one eventfd per waiting task; a publisher in any
interpreter or thread makes it readable.  No helper thread, no polling, and
cancellation simply stops watching.
"""

import asyncio
from typing import Any


def _wake(future: "asyncio.Future[None]") -> None:
    if not future.done():
        future.set_result(None)


async def ref_wait_async(ref: Any, version: int) -> Any:
    """Wait until ref.version > version; return the value then current."""
    if ref.version > version:
        return ref.get()
    loop = asyncio.get_running_loop()
    with ref._watch() as watcher:  # watching before the check: no publish is missed
        fd = watcher.fileno()
        while ref.version <= version:
            woken = loop.create_future()
            loop.add_reader(fd, _wake, woken)
            try:
                await woken
            finally:
                loop.remove_reader(fd)
            watcher.drain()
    return ref.get()
