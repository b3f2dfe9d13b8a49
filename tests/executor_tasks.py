"""Module-level functions the Executor tests send to worker interpreters."""

import threading
from typing import Any

import cohive


def square(x: int) -> int:
    return x * x


def add(a: int, b: int = 0, *, scale: int = 1) -> int:
    return (a + b) * scale


def fail(message: str) -> None:
    raise ValueError(message)


class Unpicklable(Exception):
    def __reduce__(self) -> Any:
        raise TypeError("no pickling")


def fail_unpicklably() -> None:
    raise Unpicklable("cannot travel")


def size(m: Any) -> int:
    return len(m)


def unshareable_result() -> object:
    return threading.Lock()


def count_start(counter_name: str) -> None:
    cohive.Counter(name=counter_name).add(1)


def failing_initializer() -> None:
    raise RuntimeError("initializer failed")


def wait_for(event_name: str) -> str:
    cohive.Event(name=event_name).wait(timeout=60)
    return "released"


def interpreter_id() -> int:
    import sys

    return id(sys.modules["cohive"])  # differs between interpreters, equal within one


def start_then_wait(counter_name: str, event_name: str) -> str:
    cohive.Counter(name=counter_name).add(1)
    return wait_for(event_name)


def negate(x: int) -> int:
    return -x
