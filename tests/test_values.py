"""Frozen values: what each type becomes, reads back as, and how keys compare."""

import math
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cohive
from cohive import _cohive
from strategies import keys, numeric_twins, values

SCALARS = [
    None, True, False, 0, 1, -1, 2**60 - 1, -(2**60), 2**60, -(2**60) - 1, 2**63, -(2**63), 2**64, 10**100,
    -(10**100), 0.0, -0.0, 1.5, -2.25, math.inf, -math.inf, 1e308, 5e-324, 1 + 2j, -0.0j, "", "a", "é",
    "日本", "\U0001f600", "\ud800", "a\udfffb", "x" * 1000, b"", b"\x00\xff", bytes(range(256)),
]


@pytest.mark.parametrize("value", SCALARS, ids=repr)
def test_scalar_round_trip(value: Any) -> None:
    m = cohive.Map(v=value)
    back = m["v"]
    assert type(back) is type(value)
    assert back == value or (back != back and value != value)
    if isinstance(value, float):
        assert math.copysign(1, back) == math.copysign(1, value)


def test_str_keeps_its_internal_width() -> None:
    # CPython compares strs of different widths as unequal, so a read str
    # must come back in exactly the width it went in.
    for s in ["ascii", "latin1 é", "bmp 日本", "astral \U0001f600", "\ud800"]:
        back = cohive.Map({s: s})[s]
        assert back == s and hash(back) == hash(s)
        assert {back: 1}[s] == 1


def test_nan_value_reads_back_as_nan() -> None:
    assert math.isnan(cohive.Map(v=math.nan)["v"])


def test_containers_become_frozen_forms() -> None:
    m = cohive.freeze({"d": {"a": 1}, "l": [1, [2]], "t": (1, [2]), "s": {1, 2}, "f": frozenset({3})})
    assert isinstance(m, cohive.Map)
    assert isinstance(m["d"], cohive.Map)
    assert isinstance(m["l"], cohive.FrozenList) and isinstance(m["l"][1], cohive.FrozenList)
    assert isinstance(m["t"], tuple) and isinstance(m["t"][1], cohive.FrozenList)
    assert m["s"] == frozenset({1, 2}) and isinstance(m["s"], frozenset)
    assert m["f"] == frozenset({3})
    assert m == {"d": {"a": 1}, "l": [1, [2]], "t": (1, [2]), "s": {1, 2}, "f": frozenset({3})}


def test_reading_a_container_twice_views_the_same_native_data() -> None:
    m = cohive.Map(big={str(i): i for i in range(1000)})
    before = cohive.native_bytes()
    views = [m["big"] for _ in range(100)]
    assert cohive.native_bytes() == before  # no copies were made
    assert all(v == views[0] for v in views)


def test_freeze_of_frozen_is_identity() -> None:
    m = cohive.Map(a=1)
    assert cohive.freeze(m) is m
    fl = cohive.FrozenList([1])
    assert cohive.freeze(fl) is fl
    assert cohive.freeze(5) == 5


def test_thaw_restores_plain_types() -> None:
    plain = {"d": {"a": [1, {2, 3}]}, "t": ([1], 2), "f": frozenset({1}), "s": set(), (1, 2): "tuple key"}
    thawed = cohive.thaw(cohive.freeze(plain))
    assert thawed == plain
    assert type(thawed["d"]) is dict and type(thawed["d"]["a"]) is list
    assert type(thawed["d"]["a"][1]) is set and type(thawed["f"]) is frozenset and type(thawed["s"]) is set
    assert type(thawed["t"][0]) is list
    assert cohive.Map(plain).thaw() == plain
    assert cohive.FrozenList([[1]]).thaw() == [[1]] and type(cohive.FrozenList([[1]]).thaw()[0]) is list


@given(values)
@settings(max_examples=200, deadline=None)
def test_any_value_round_trips(value: Any) -> None:
    frozen = cohive.freeze(value)
    assert frozen == value
    assert cohive.thaw(frozen) == value


@given(keys)
@settings(max_examples=200, deadline=None)
def test_any_key_is_found_again(key: Any) -> None:
    m = cohive.Map({key: "v"})
    assert m[key] == "v"
    assert key in m and list(m) == [key]


@given(numeric_twins, numeric_twins)
def test_keys_compare_as_in_dict(a: Any, b: Any) -> None:
    d = {a: "first"}
    d[b] = "second"
    m = cohive.Map({a: "first"}).set(b, "second")
    assert len(m) == len(d)
    assert dict(m.items()) == d
    if a == b:
        assert _cohive._hash(a) == _cohive._hash(b)
        assert list(m) == [a] and type(list(m)[0]) is type(a)  # the first key is kept, as in dict


@given(keys, keys)
@settings(max_examples=300)
def test_equal_keys_hash_alike(a: Any, b: Any) -> None:
    if a == b:
        assert _cohive._hash(a) == _cohive._hash(b)


def test_nan_keys_are_equal_by_bits() -> None:
    # dict finds a NaN key only through the very same object; cohive has no
    # object identity across interpreters, so NaNs with equal bits are one key.
    nan = float("nan")
    m = cohive.Map({nan: 1})
    assert m[nan] == 1
    assert m[float("nan")] == 1
    assert len(cohive.Map({nan: 1}).set(float("nan"), 2)) == 1


def test_hash_is_stable_across_processes() -> None:
    samples = ["key:1", "é", b"bytes", 1, 2**100, 1.5, (1, "a"), frozenset({1, 2}), None, True]
    here = [_cohive._hash(x) for x in samples]
    code = f"from cohive import _cohive; print([_cohive._hash(x) for x in {samples!r}])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert eval(out.stdout) == here


def test_frozen_sets_ignore_order_and_merge_duplicates() -> None:
    a = cohive.Map({frozenset({1, 2, 3}): "x"})
    assert a[frozenset({3, 2, 1})] == "x"
    assert a[frozenset({1.0, 2, 3})] == "x"
    assert cohive.freeze({1, 1.0, True}) == frozenset({1})


def test_maps_and_frozen_lists_work_as_keys() -> None:
    inner = cohive.Map(a=1)
    fl = cohive.FrozenList([1, 2])
    m = cohive.Map({inner: "map", fl: "list"})
    assert m[cohive.Map(a=1)] == "map"
    assert m[cohive.FrozenList([1, 2])] == "list"
    assert hash(inner) == hash(cohive.Map(a=1))
