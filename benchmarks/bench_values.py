"""Freezing and reading rich records (datetimes, Decimals, UUIDs, enums, dataclasses) against pickle.

The claim (#11): freezing and reading rich values costs no more than
pickling them.  Records are dicts or frozen dataclasses holding an aware
datetime, a Decimal, a UUID, a StrEnum member, a str and an int.  "freeze"
is cohive.Map(records) against pickle.dumps(records); "read all" reads
every record's every field from the Map against pickle.loads of the dump
(which is how a pickled copy is read); "round trip" is both.  Medians;
ratios are pickle's time over cohive's (> 1: cohive is faster).
"""

import dataclasses
import datetime
import decimal
import enum
import pickle
import uuid
from typing import Any

import cohive
from harness import fmt_time, median_time, table


class Status(enum.StrEnum):
    OPEN = "open"
    PAID = "paid"


@dataclasses.dataclass(frozen=True)
class Order:
    id: uuid.UUID
    total: decimal.Decimal
    placed: datetime.datetime
    status: Status
    customer: str
    items: int


def make_orders(n: int) -> list[Order]:
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    return [
        Order(uuid.UUID(int=i * 7919), decimal.Decimal(f"{i % 1000}.{i % 100:02d}"),
              start + datetime.timedelta(seconds=i), Status.OPEN if i % 3 else Status.PAID, f"customer-{i}", i % 9)
        for i in range(n)
    ]


def read_dicts(m: Any, n: int) -> None:
    for i in range(n):
        r = m[i]
        r["id"], r["total"], r["placed"], r["status"], r["customer"], r["items"]


def read_orders(m: Any, n: int) -> None:
    for i in range(n):
        r = m[i]
        r.id, r.total, r.placed, r.status, r.customer, r.items


def compare(title: str, data: dict[int, Any], read: Any, repeat: int) -> str:
    n = len(data)
    frozen = cohive.Map(data)
    dumped = pickle.dumps(data, pickle.HIGHEST_PROTOCOL)
    freeze = median_time(lambda: cohive.Map(data), repeat)
    dump = median_time(lambda: pickle.dumps(data, pickle.HIGHEST_PROTOCOL), repeat)
    read_frozen = median_time(lambda: read(frozen, n), repeat)
    read_pickled = median_time(lambda: read(pickle.loads(dumped), n), repeat)
    rows = [
        ["freeze / dumps", fmt_time(freeze), fmt_time(dump), f"{dump / freeze:.2f}x"],
        ["read all fields / loads + read", fmt_time(read_frozen), fmt_time(read_pickled),
         f"{read_pickled / read_frozen:.2f}x"],
        ["round trip", fmt_time(freeze + read_frozen), fmt_time(dump + read_pickled),
         f"{(dump + read_pickled) / (freeze + read_frozen):.2f}x"],
    ]
    return table(title, ["operation", "cohive", "pickle", "pickle / cohive"], rows)


def run(quick: bool = False) -> str:
    n = 2_000 if quick else 100_000
    repeat = 3 if quick else 7
    orders = make_orders(n)
    as_dicts = {i: dataclasses.asdict(o) for i, o in enumerate(orders)}
    as_records = dict(enumerate(orders))
    return "\n".join([
        compare(f"{n:,} dict records (aware datetime, Decimal, UUID, StrEnum, str, int)", as_dicts, read_dicts,
                repeat),
        compare(f"{n:,} frozen dataclass records of the same fields", as_records, read_orders, repeat),
    ])


if __name__ == "__main__":
    print(run())
