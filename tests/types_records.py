"""Classes the rich-value tests freeze, importable by name in every interpreter and process."""

import collections
import dataclasses
import enum
import typing
from typing import Any

import cohive


class Color(enum.Enum):
    RED = 1
    GREEN = "green"
    BLUE = (0, 0, 255)


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Mode(enum.StrEnum):
    READ = "r"
    WRITE = "w"


class Perm(enum.Flag):
    R = 4
    W = 2
    X = 1


class Bits(enum.IntFlag):
    A = 1
    B = 2


@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    y: int


@dataclasses.dataclass
class Order:
    id: int
    items: list[Any]
    note: str = dataclasses.field(default="", compare=True)


@dataclasses.dataclass(frozen=True, slots=True)
class Slotted:
    a: Any
    b: Any = None


class Pair(typing.NamedTuple):
    left: Any
    right: Any


Row = collections.namedtuple("Row", "id name")


class Money:
    """Registered at import, so every interpreter that imports this module knows it."""

    def __init__(self, cents: int, currency: str) -> None:
        self.cents, self.currency = cents, currency

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Money) and (self.cents, self.currency) == (other.cents, other.currency)

    def __hash__(self) -> int:
        return hash((self.cents, self.currency))


cohive.register(Money, lambda m: (m.cents, m.currency), lambda v: Money(*v))


class Opaque:
    """Registered only by register_opaque(): an interpreter that did not call it cannot rebuild one."""

    def __init__(self, data: Any) -> None:
        self.data = data

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Opaque) and self.data == other.data

    __hash__ = None  # type: ignore[assignment]


def register_opaque() -> None:
    cohive.register(Opaque, lambda o: o.data, Opaque)
