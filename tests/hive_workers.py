"""Module-level worker functions the Hive tests run in worker interpreters."""

import asyncio
from typing import Any


async def lookup(ctx: Any, offset: int) -> None:
    index = ctx.state.get()
    async for msg in ctx:
        if msg == "reload":
            index = ctx.state.get()
            await ctx.send(("reloaded", ctx.worker_id, index["version"]))
        else:
            await ctx.send((ctx.worker_id, index[msg] + offset))


def lookup_sync(ctx: Any, offset: int) -> None:
    index = ctx.state.get()
    for msg in ctx:
        if msg == "reload":
            index = ctx.state.get()
            ctx.send(("reloaded", ctx.worker_id, index["version"]))
        else:
            ctx.send((ctx.worker_id, index[msg] + offset))


def double(ctx: Any) -> None:
    for msg in ctx:
        ctx.send((ctx.worker_id, msg * 2))


def fail(ctx: Any) -> None:
    raise ValueError(f"worker {ctx.worker_id} broke")


def fail_one(ctx: Any) -> None:
    if ctx.worker_id == 1:
        raise KeyError("only worker 1")
    for _ in ctx:
        pass


async def hang(ctx: Any) -> None:
    await ctx.send(("ready", ctx.worker_id))
    await asyncio.Event().wait()  # never set: only cancellation ends this


def wait_for_stop(ctx: Any) -> None:
    ctx.send(("ready", ctx.worker_id))
    for _ in ctx:  # ends when the Hive's block ends
        pass
    ctx.send(("stopping", ctx.stopping))


def import_single_phase(ctx: Any) -> None:
    import _testsinglephase  # noqa: F401
