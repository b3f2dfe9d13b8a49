"""Holding a Ctrl-C back through a short critical step.

A KeyboardInterrupt raised half-way through starting a thread or an
interpreter leaves a thing neither running nor stopped, which no clean-up
can find (``Thread.join`` refuses a thread whose start was interrupted).
So the steps that make such things -- bounded, milliseconds long -- run
with SIGINT's handler swapped for one that only notes it; the
KeyboardInterrupt is raised when the step is over.  Only in the main
thread of the main interpreter (the only place Python runs signal
handlers), and only while SIGINT has Python's default handler: a program
that installed its own keeps it.
"""

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cohive._interpreters import IN_MAIN_INTERPRETER


@contextmanager
def held(*, then_raise: bool = True) -> Iterator[None]:
    """Runs the block with Ctrl-C held back; a KeyboardInterrupt after it
    if one came (and then_raise: at exit, a late Ctrl-C is simply dropped)."""
    if (not IN_MAIN_INTERPRETER or threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield
        return
    caught: list[Any] = []
    signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if caught and then_raise:
        raise KeyboardInterrupt


def finish(step: Any) -> Any:
    """Runs step() to its end even if Ctrl-Cs land meanwhile (a clean-up
    must not stop half-way); then re-raises the KeyboardInterrupt."""
    interrupted: KeyboardInterrupt | None = None
    while True:
        try:
            result = step()
            break
        except KeyboardInterrupt as exc:
            interrupted = exc
    if interrupted is not None:
        raise interrupted
    return result
