"""What runs inside a worker interpreter: the Executor's task loop.

Tasks arrive on a Queue as (task_id, function id, args, kwargs or None), the
id naming a function reference in a Ref'd Map (read once per function), and results
go back as (task_id, True, result) or (task_id, False, error record); the
error record carries the exception pickled when it can be, and always its
type, message and formatted traceback.

pickle and traceback are imported only when a task fails: every worker
interpreter imports this module, and they are most of what it would cost.
For the same reason the worker-side modules (this one, _shipping,
_hive_worker) write typing's names in annotations as strings rather than
importing __future__.
"""

import cohive
from cohive._shipping import FunctionRef, resolve

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def error_record(exc: BaseException) -> "cohive.Map[str, Any]":
    import pickle
    import traceback

    try:
        pickled: bytes | None = pickle.dumps(exc)
    except Exception:  # noqa: BLE001 - an unpicklable exception still gets reported
        pickled = None
    return cohive.Map(
        type=f"{type(exc).__module__}.{type(exc).__qualname__}",
        message=str(exc),
        traceback="".join(traceback.format_exception(exc)),
        pickled=pickled,
    )


def shareable_result(ref: FunctionRef, result: "Any") -> "Any":
    try:
        return cohive.freeze(result)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"the result of {ref[1]} cannot be sent back from the worker: {exc}") from None


def serve_executor(inbox_name: str, outbox_name: str, cancelled_name: str, settings_name: str, functions_name: str,
                   index: int) -> None:
    inbox: cohive.Queue[Any] = cohive.Queue(name=inbox_name)
    outbox: cohive.Queue[Any] = cohive.Queue(name=outbox_name)
    outbox.put((("worker", index), "started", cohive._cohive._announce_interpreter()))
    cancelled: cohive.Ref[Any] = cohive.Ref(cancelled_name)
    settings: cohive.Ref[Any] = cohive.Ref(settings_name)
    initializer, initargs = settings.get()
    if initializer is not None:
        try:
            resolve(tuple(initializer))(*initargs)
        except BaseException as exc:  # noqa: BLE001 - reported; the executor is then broken
            outbox.put((-1, False, error_record(exc)))
            return
    try:
        _serve_tasks(inbox, outbox, cancelled, cohive.Ref(functions_name))
    except cohive.WorkerStopped:
        pass  # the Executor stopped waiting: the tasks left are its to settle


def _serve_tasks(inbox: "cohive.Queue[Any]", outbox: "cohive.Queue[Any]", cancelled: "cohive.Ref[Any]",
                 function_table: "cohive.Ref[Any]") -> None:
    functions: dict[int, tuple[Any, FunctionRef]] = {}  # function id: the function and its reference
    # The cancelled ids are read again only when the Ref changed: reading its
    # Map costs each task a few microseconds, most of them on an idle worker's
    # cold caches, and tasks are rarely cancelled.
    seen_version, cancelled_ids = -1, None
    for task_id, fn_id, args, kwargs in inbox:
        if cancelled.version != seen_version:
            seen_version = cancelled.version
            cancelled_ids = cancelled.get()
        if cancelled_ids and task_id in cancelled_ids:
            outbox.put((task_id, None, None))  # skipped: the Executor stops counting it as out
            continue
        try:
            found = functions.get(fn_id)
            if found is None:
                ref = tuple(function_table.get()[fn_id])
                found = functions[fn_id] = (resolve(ref), ref)
            fn, ref = found
            result = fn(*args, **kwargs) if kwargs is not None else fn(*args)
            outbox.put((task_id, True, shareable_result(ref, result)))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's Future
            outbox.put((task_id, False, error_record(exc)))


def run_chunk(ref: FunctionRef, chunk: "Any") -> "list[Any]":
    """Executor.map with chunksize > 1: one task runs a whole chunk."""
    fn = resolve(tuple(ref))  # type: ignore[arg-type]
    return [fn(*args) for args in chunk]
