"""asyncio waits on native objects, through a Watcher's file descriptor.

The event loop watches one descriptor (an eventfd, or a pipe off Linux) per
waiting task; a publisher in any interpreter or thread makes it readable.
No helper thread, no polling, and cancellation simply stops watching.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # not typing's: importing typing costs every worker ~2 ms at start
if TYPE_CHECKING:
    import asyncio
    from collections.abc import AsyncIterator
    from typing import Any

# asyncio is imported on first use, not with cohive: importing it takes tens
# of milliseconds, which every worker interpreter would pay at start-up.
# Whoever awaits these has an event loop running, so asyncio is loaded then.


def _asyncio() -> Any:
    return sys.modules.get("asyncio") or __import__("asyncio")


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def ref_wait_async(ref: Any, version: int) -> Any:
    """Wait until ref.version > version; return the value then current."""
    if ref.version > version:
        return ref.get()
    with ref._watch() as watcher:  # watching before the check: no publish is missed
        while ref.version <= version:
            await _wait_readable(watcher)
    return ref.get()


_BUSY = object()


async def _wait_readable(watcher: Any) -> None:
    """Until the watcher's fd is readable (a wake-up came), then quiet it."""
    loop = _asyncio().get_running_loop()
    woken = loop.create_future()
    fd = watcher.fileno()
    loop.add_reader(fd, _wake, woken)
    try:
        await woken
    finally:
        loop.remove_reader(fd)
    watcher.drain()


async def _until(watcher: Any, attempt: Any) -> Any:
    """Retry attempt(watcher), a non-blocking try that returns _BUSY (or
    False) while it must wait, each time the watcher is woken."""
    with watcher:
        while (result := attempt(watcher)) is _BUSY or result is False:
            await _wait_readable(watcher)
        return result


# How long get_async may spin (GIL released) for an item before it registers
# with the event loop: less than the syscalls that registering costs.
_SPIN_SECONDS = 20e-6


async def queue_get_async(queue: Any) -> Any:
    """queue.get() for asyncio.  The item is taken only by the synchronous
    _try_get, never across an await, so cancellation cannot lose one."""
    item = queue._try_get(None, _BUSY, _SPIN_SECONDS)
    if item is not _BUSY:
        return item
    return await _until(queue._watch(True), lambda w: queue._try_get(w, _BUSY))


async def queue_put_async(queue: Any, item: Any) -> None:
    """queue.put() for asyncio: the item is enqueued whole by _try_put, or not at all."""
    from cohive._cohive import freeze

    frozen = freeze(item)  # refuse the unshareable now, not after waiting
    if not queue._try_put(frozen, None):
        await _until(queue._watch(False), lambda w: queue._try_put(frozen, w))


async def acquire_async(primitive: Any) -> bool:
    """Lock/Semaphore acquire() for asyncio."""
    return bool(await _until(primitive._watch(), primitive._try))


async def release_async(primitive: Any, *exc_info: Any) -> None:
    """__aexit__ of a Lock or Semaphore."""
    primitive.release()


async def wait_async(primitive: Any) -> Any:
    """Event.wait() (True once set) or Barrier.wait() (the arrival index) for asyncio."""
    from cohive._cohive import Barrier

    if not isinstance(primitive, Barrier):
        return await _until(primitive._watch(), primitive._try)
    index, generation = primitive._arrive()
    if generation is not None:
        try:
            await _until(primitive._watch(), lambda w: primitive._try(w, generation))
        except _asyncio().CancelledError:
            primitive.abort()  # the others would wait forever for this party
            raise
    return index


async def queue_aiter(queue: Any) -> AsyncIterator[Any]:
    """async for: items until the queue is closed and drained."""
    from cohive._cohive import QueueClosed

    while True:
        try:
            item = await queue_get_async(queue)
        except QueueClosed:
            return
        yield item
