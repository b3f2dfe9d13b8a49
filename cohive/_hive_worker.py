"""What runs inside a Hive worker interpreter: the Context and the start-up."""

import sys

import cohive
from cohive._shipping import resolve
from cohive._worker import error_record

TYPE_CHECKING = False  # not typing's: importing typing costs every worker ~2 ms at start
if TYPE_CHECKING:
    from typing import Any


class _Sent:
    """What ctx.send returns: awaiting it is allowed (and immediate)."""

    __slots__ = ()

    def __await__(self) -> "Any":
        return
        yield  # pragma: no cover - makes this a generator


_SENT = _Sent()


class Context:
    """A worker's view of its Hive: its id, the shared state, its messages."""

    def __init__(self, worker_id: int, state: "cohive.Ref[Any]", inbox: "cohive.Queue[Any]",
                 outbox: "cohive.Queue[Any]", stop: cohive.Event) -> None:
        self.worker_id = worker_id
        self.state = state
        self._inbox, self._outbox, self._stop = inbox, outbox, stop

    @property
    def stopping(self) -> bool:
        """True once the Hive's block is ending: a sync worker should return."""
        return self._stop.is_set()

    def send(self, value: "Any") -> _Sent:
        """Send value (frozen) to the main interpreter's hive.listen().
        Never blocks; `await ctx.send(v)` works too."""
        self._outbox.put(value)
        return _SENT

    def __iter__(self) -> "Any":
        """Pushed and broadcast messages, until the Hive stops."""
        return iter(self._inbox)

    def __aiter__(self) -> "Any":
        return self._inbox.__aiter__()

    def __repr__(self) -> str:
        return f"<cohive.Hive worker {self.worker_id}>"


def serve_hive(config_name: str, worker_id: int) -> None:
    config: Any = cohive.Ref(config_name).get()
    control: cohive.Queue[Any] = config["control"]
    try:
        fn = resolve(tuple(config["main"]))
        ctx = Context(worker_id, config["state"], config["inboxes"][worker_id], config["outbox"], config["stop"])
        args = tuple(config["args"])
    except BaseException as exc:  # noqa: BLE001 - start-up failed: reported, the Hive fails fast
        control.put((worker_id, "failed", error_record(exc)))
        return
    control.put((worker_id, "started", cohive._cohive._announce_interpreter()))
    try:
        if config["is_async"]:
            _run_async(fn, ctx, args, config["stop"])
        else:
            fn(ctx, *args)
    except cohive.WorkerStopped:
        pass  # the Hive stopped while the worker waited in a cohive call: a normal end
    except BaseException as exc:  # noqa: BLE001 - handed to the main interpreter
        control.put((worker_id, "failed", error_record(exc)))


def _run_async(fn: "Any", ctx: Context, args: "tuple[Any, ...]", stop: cohive.Event) -> None:
    import asyncio

    async def runner() -> None:
        main = asyncio.ensure_future(fn(ctx, *args))
        stopping = asyncio.ensure_future(stop.wait_async())
        await asyncio.wait({main, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not main.done():  # the Hive's block ended: cancel the worker, as TaskGroup would
            main.cancel()
            try:
                await main
            except asyncio.CancelledError:
                return
        main.result()

    asyncio.run(runner())
    sys.stdout.flush()
