"""Running code in isolated subinterpreters (own GIL), one thread each, never hanging."""

import textwrap
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from cohive._interpreters import Subinterpreter

TIMEOUT = 120.0


@contextmanager
def interpreters(count: int) -> Iterator[list[Subinterpreter]]:
    """`count` isolated interpreters, each on its own thread, destroyed afterwards."""
    with ExitStack() as stack:
        yield [stack.enter_context(Subinterpreter()) for _ in range(count)]


def run_concurrently(interps: list[Subinterpreter], codes: list[str], timeout: float = TIMEOUT) -> None:
    """Runs codes[i] in interps[i], all at once; re-raises the first failure
    (with its remote traceback); fails rather than hang after `timeout`."""
    futures = [interp.submit(textwrap.dedent(code)) for interp, code in zip(interps, codes)]
    for future in futures:
        future.result(timeout)


def run_in_each(codes: list[str], timeout: float = TIMEOUT) -> None:
    """Fresh interpreters, one per code, run concurrently, then destroyed."""
    with interpreters(len(codes)) as interps:
        run_concurrently(interps, codes, timeout)
