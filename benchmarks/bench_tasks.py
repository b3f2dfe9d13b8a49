"""Module-level task functions for bench_executor (workers import them)."""

from typing import Any


def nothing(x: int) -> int:
    return x


def size(m: Any) -> int:
    return len(m)


def burn(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i % 7
    return total
