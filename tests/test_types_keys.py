"""Rich keys have dict semantics: property tests against Python's own ==, hash and dict.

Keys mix every kind cohive freezes (numbers, Decimals, enum members, named
tuples, dataclasses, dates and times, UUIDs, strs, tuples), drawn so that
many are equal across types (1 == 1.0 == Decimal('1') == Level.LOW).
Aware datetimes use fixed offsets: with a ZoneInfo, Python compares two
datetimes of the same zone by wall clock even across a fold, which cohive
(comparing instants) documents as its one difference.
"""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import cohive
from cohive import _cohive
from types_records import Bits, Color, Level, Mode, Pair, Perm, Point, Row, Slotted

offsets = st.builds(lambda half_hours: dt.timezone(dt.timedelta(minutes=30 * half_hours)), st.integers(-6, 6))
zones = st.one_of(st.none(), st.just(dt.timezone.utc), offsets)
# Few distinct instants, shown in various zones, so that equal ones come up often.
datetimes = st.builds(
    lambda half_hours, tz, fold: (
        dt.datetime(2024, 3, 1, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=30 * half_hours)
    ).astimezone(tz).replace(fold=fold) if tz is not None else dt.datetime(2024, 3, 1, half_hours % 24, fold=fold),
    st.integers(0, 6), zones, st.integers(0, 1),
)
times = st.builds(lambda hour, tz: dt.time(hour, tzinfo=tz), st.integers(0, 3), zones)
small_ints = st.integers(-3, 5)


def same_number(i: int) -> st.SearchStrategy[Any]:
    """Values equal to the int i, of every numeric kind."""
    choices: list[Any] = [i, float(i), Decimal(i), Decimal(f"{i}.00"), Decimal(i).scaleb(0), complex(i, 0)]
    if i in (1, 2):
        choices.append(Level(i))
    if 0 <= i <= 3:
        choices.append(Bits(i))
    if i in (0, 1):
        choices.append(bool(i))
    return st.sampled_from(choices)


numbers = st.one_of(
    small_ints.flatmap(same_number),
    st.integers(),
    st.floats(allow_nan=False),
    st.floats(allow_nan=False, allow_infinity=False).map(Decimal),  # exactly equal to a float
    st.builds(lambda digits, exp: Decimal(digits).scaleb(exp), st.integers(-10**30, 10**30), st.integers(-30, 30)),
    st.sampled_from([Decimal("0.1"), Decimal("0.5"), 0.1, 0.5, Decimal("-0"), -0.0, Decimal("Infinity")]),
)
scalars = st.one_of(
    numbers,
    st.sampled_from(["r", "w", "x", "", Mode.READ, Mode.WRITE, Color.RED, Color.GREEN, Perm.R, Perm.R | Perm.W]),
    datetimes,
    st.dates(min_value=dt.date(2024, 2, 28), max_value=dt.date(2024, 3, 2)),
    times,
    st.builds(dt.timedelta, hours=st.integers(-48, 48)),
    st.builds(lambda i: uuid.UUID(int=i), st.integers(0, 3)),
)
keys = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.tuples(inner, inner),
        st.builds(Pair, inner, inner),
        st.builds(Row, inner, inner),
        st.builds(Point, small_ints, small_ints),
        st.builds(Slotted, inner, inner),
    ),
    max_leaves=4,
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(keys, st.integers()), max_size=12), st.lists(keys, max_size=12))
def test_a_map_of_rich_keys_behaves_like_a_dict(items: list[tuple[Any, int]], probes: list[Any]) -> None:
    model: dict[Any, int] = {}
    m = cohive.Map()
    for key, value in items:
        model[key] = value
        m = m.set(key, value)
    assert len(m) == len(model) and m == model
    assert cohive.Map(model) == m
    for key in [k for k, _ in items] + probes:
        assert (key in m) == (key in model), key
        assert m.get(key, "absent") == model.get(key, "absent"), key
    for key in m:  # the first key of each equal group stays, as in dict
        assert any(key is k for k in model) or any(type(key) is type(k) and key == k for k in model)


@settings(max_examples=400, deadline=None)
@given(st.one_of(scalars, keys), st.one_of(scalars, keys))
def test_equality_and_hashing_agree_with_python(a: Any, b: Any) -> None:
    same = a == b
    assert same == (b in cohive.Map({a: None})), (a, b)
    if same:
        assert hash(a) == hash(b)  # Python's own rule, which cohive's hash must follow too
        assert _cohive._hash(a) == _cohive._hash(b), (a, b)


@settings(max_examples=300, deadline=None)
@given(st.one_of(
    st.datetimes(timezones=st.one_of(st.none(), st.timezones(),
                                     st.builds(dt.timezone, st.timedeltas(min_value=-dt.timedelta(hours=23),
                                                                          max_value=dt.timedelta(hours=23))))),
    st.dates(), st.times(timezones=st.one_of(st.none(), st.just(dt.timezone.utc))), st.timedeltas(),
    st.uuids(), st.decimals(), st.builds(lambda d, e: d.scaleb(e), st.decimals(allow_nan=False), st.integers(-40, 40)),
))
def test_the_core_writes_the_text_python_does(value: Any) -> None:
    """What a JSON encoder gives these values: isoformat() for dates and times, str() for the rest."""
    expected = value.isoformat() if isinstance(value, (dt.date, dt.time)) else str(value)
    assert _cohive._text(value) == expected
