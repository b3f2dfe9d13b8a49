"""Values packed into records (src/core/packed.c) against the same values as heap objects.

A record packs its scalars, strs, floats and small lists and tuples into its own bytes; a
HAMT Map (a dict whose keys are not all strs) holds the same values as heap objects.  Every
read, comparison, hash, copy and serialisation must not tell the two apart.
"""

import gc
import json
import math
import pickle
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cohive
from strategies import values

form = cohive._cohive._map_form

EDGE_INTS = [0, 1, 127, 128, -1, -128, -129, 255, 2**15 - 1, -(2**15), 2**15, 2**31 - 1, -(2**31), 2**31,
             2**60 - 1, -(2**60), 2**60, -(2**60) - 1, 2**64, -(2**100)]
EDGE_FLOATS = [0.0, -0.0, 1.5, -2.25, math.inf, -math.inf, 1e308, 5e-324]
EDGE_STRS = ["", "a", "x" * 31, "x" * 32, "café", "日本語", "🐍x", "y" * 5000, "\x00nul"]


def both(value: Any) -> tuple[cohive.Map, cohive.Map]:
    """The value packed in a record, and as a heap object in a HAMT."""
    record, hamt = cohive.Map({"v": value, "n": 1}), cohive.Map().update({"v": value, "n": 1})
    assert form(record) == "record" and form(hamt) == "hamt"
    return record, hamt


@pytest.mark.parametrize("value", EDGE_INTS + EDGE_FLOATS + EDGE_STRS + [None, True, False])
def test_scalars_read_back_exactly(native_baseline: int, value: Any) -> None:
    record, hamt = both(value)
    got = record["v"]
    assert type(got) is type(value) and got == value and repr(got) == repr(value)
    assert record["v"] == hamt["v"] and hash(record) == hash(cohive.Map({"v": value, "n": 1}))
    del record, hamt


def test_nan_reads_back_with_its_bits(native_baseline: int) -> None:
    nan = float("nan")
    record, hamt = both(nan)
    assert math.isnan(record["v"]) and record == hamt and hash(record) == hash(hamt)
    del record, hamt


@pytest.mark.parametrize("value", [[], ["t0", "g7"], [1, [2, [3, ("x", 4.5)]]], ("a", None, True), (),
                                   list(range(64)), list(range(65)), [str(i) * 40 for i in range(60)],
                                   [{"nested": 1}, b"bytes", {1, 2}, 2**70]])
def test_lists_and_tuples_read_like_heap_ones(native_baseline: int, value: Any) -> None:
    record, hamt = both(value)
    got, heap = record["v"], hamt["v"]
    assert got == heap and heap == got and got == value and type(got) is type(heap)
    assert hash(got) == hash(heap) and hash(record) == hash(hamt)
    assert record == hamt and hamt == record
    assert record.thaw() == {"v": value, "n": 1}
    assert pickle.loads(pickle.dumps(record)) == record
    if b"bytes" not in value:  # bytes and sets have no JSON form
        assert json.loads(cohive.to_json(record)) == json.loads(cohive.to_json(hamt))
    assert repr(got) == repr(heap)
    del record, hamt, got, heap


def test_a_packed_list_is_a_full_frozen_list(native_baseline: int) -> None:
    record = cohive.Map({"tags": ["a", "b", 3, "a", [4, 5]], "n": 1})
    tags = record["tags"]
    assert isinstance(tags, cohive.FrozenList) and len(tags) == 5
    assert tags[0] == "a" and tags[-1] == [4, 5] and isinstance(tags[-1], cohive.FrozenList)
    assert tags[1:3] == ["b", 3] and tags[::-2] == [[4, 5], 3, "a"] and tags[:] is tags
    assert list(tags) == ["a", "b", 3, "a", [4, 5]] and "b" in tags and "z" not in tags
    assert tags.index("a", 1) == 3 and tags.count("a") == 2 and tags.count([4, 5]) == 1
    assert tags.thaw() == ["a", "b", 3, "a", [4, 5]] and type(tags.thaw()) is list
    assert tags < ["a", "c"] and tags != ["a"]
    assert pickle.loads(pickle.dumps(tags)) == tags
    with pytest.raises(IndexError):
        tags[5]
    del record
    gc.collect()
    assert tags == ["a", "b", 3, "a", [4, 5]], "the view keeps its record alive"
    del tags


def test_storing_a_packed_value_elsewhere_copies_it(native_baseline: int) -> None:
    record = cohive.Map({"tags": ["x", ("y", 2.5)], "s": "text", "f": 1.25})
    tags = record["tags"]
    holder = cohive.Map({"t": tags, 1: tags[1]})  # a HAMT: heap copies
    ref = cohive.Ref("packed-copies", default=None)
    ref.set(tags)
    q = cohive.Queue()
    q.put(tags)
    got = q.get(timeout=10)
    joined = cohive.Map({"x": 0}).update(record)
    edited = record.set("more", 1)
    del record, tags
    gc.collect()
    assert holder["t"] == ["x", ("y", 2.5)] and holder[1] == ("y", 2.5)
    assert ref.get() == ["x", ("y", 2.5)] and got == ["x", ("y", 2.5)]
    assert joined["tags"] == ["x", ("y", 2.5)] and joined["s"] == "text" and joined["f"] == 1.25
    assert edited["tags"] == ["x", ("y", 2.5)] and form(edited) == "hamt"
    assert {cohive.Map({"k": ["x"], "n": 1})["k"]: 1}[cohive.FrozenList(["x"])] == 1
    del holder, ref, q, got, joined, edited


def test_a_record_with_more_externs_than_it_holds_is_a_hamt(native_baseline: int) -> None:
    many = {f"k{i}": {"nested": i} for i in range(64)}  # 64 nested dicts: one extern each
    m = cohive.Map(many)
    assert form(m) == "hamt" and m == many
    few = {f"k{i}": {"nested": i} for i in range(63)}
    assert form(cohive.Map(few)) == "record" and cohive.Map(few) == few
    del m


def test_a_record_too_big_to_pack_keeps_big_values_apart(native_baseline: int) -> None:
    big = {f"k{i}": "z" * 3000 for i in range(30)}  # 90 KB of strs: beyond a record's 64 KiB
    m = cohive.Map(big)
    assert m == big and dict(m) == big
    nested = {"a": [list(range(60)) for _ in range(60)], "b": "x" * 60000}
    assert cohive.Map(nested) == nested
    del m


def test_refused_values_inside_packed_lists_name_their_path(native_baseline: int) -> None:
    with pytest.raises(TypeError, match=r"\['tags'\]\[1\]\[0\]"):
        cohive.Map({"tags": ["ok", [object()]], "n": 1})
    deep: Any = 1
    for _ in range(300):
        deep = [deep]
    with pytest.raises(ValueError, match="nesting deeper"):
        cohive.Map({"deep": deep, "n": 1})


class Shrinker:
    """Its registered encode empties the list being packed."""


shrinking: list[Any] = []
cohive.register(Shrinker, lambda s: shrinking.clear() or 0, lambda v: Shrinker())


def test_a_list_changed_while_packing_is_refused() -> None:
    cohive.freeze(Shrinker())  # from here on the class's frozen name is cached (not a leak)
    gc.collect()
    before = cohive.native_bytes()
    shrinking.extend([Shrinker(), 1, 2])
    with pytest.raises(RuntimeError, match="the list changed size while being frozen"):
        cohive.Map({"l": shrinking, "n": 1})
    gc.collect()
    assert cohive.native_bytes() == before


@settings(max_examples=300, deadline=None)
@given(st.one_of(values, st.lists(values, max_size=70), st.text(), st.lists(st.text(max_size=40), max_size=5)))
def test_any_value_packed_equals_it_unpacked(value: Any) -> None:
    record, hamt = both(value)
    assert record == hamt and hash(record) == hash(hamt)
    assert record["v"] == hamt["v"] and hash(record["v"]) == hash(hamt["v"])
    assert record.thaw() == hamt.thaw()
    assert pickle.loads(pickle.dumps(record)) == record
    assert cohive.Map({"again": record["v"]})["again"] == hamt["v"]


class Counted:
    """Counts how often its registered encode runs."""


encodes: list[int] = []
cohive.register(Counted, lambda c: encodes.append(1) or 0, lambda v: Counted())


def test_a_dict_that_cannot_be_a_record_is_frozen_once() -> None:
    cohive.freeze(Counted())  # from here on the class's frozen name is cached (not a leak)
    gc.collect()
    before = cohive.native_bytes()
    encodes.clear()
    m = cohive.Map({f"k{i}": Counted() for i in range(64)})  # 64 externs: more than a record holds
    assert form(m) == "hamt" and len(encodes) == 64
    nested: dict[str, Any] = {"leaf": Counted()}
    for _ in range(6):  # each level: 63 dicts and the next level, so a record at no level
        nested = {f"d{i}": {"x": i} for i in range(63)} | {"next": nested}
    encodes.clear()
    assert form(cohive.Map(nested)) == "hamt" and len(encodes) == 1
    del m
    gc.collect()
    assert cohive.native_bytes() == before


def test_a_big_list_in_a_record_is_shared_not_copied(native_baseline: int) -> None:
    tags = cohive.Map({"tags": ["x" * 900] * 64, "n": 1})["tags"]  # 58 KB: stays a heap list
    before = cohive.native_bytes()
    holders = [cohive.Map({"t": tags}) for _ in range(10)]
    assert cohive.native_bytes() - before < 10 * 200  # a holder and a reference each
    small = cohive.Map({"tags": ["x"] * 64, "n": 1})["tags"]  # packed: copied when stored (a few hundred bytes)
    assert cohive.Map({"t": small})["t"] == small
    del holders, tags, small


def test_records_nest_inside_records(native_baseline: int) -> None:
    import datetime as dt

    value = {"addr": {"city": "Oslo", "geo": [59.9, 10.7], "when": dt.date(2026, 1, 2), "deeper": {"x": {"y": 1}}},
             "n": 1}
    m = cohive.Map({"u": value})
    rec, addr = m["u"], m["u"]["addr"]
    assert form(rec) == form(addr) == form(addr["deeper"]["x"]) == "record"
    assert addr == value["addr"] and addr == cohive.Map().update(value["addr"]) and rec.thaw() == value
    assert hash(addr) == hash(cohive.Map().update(value["addr"])) and repr(addr).startswith("cohive.Map(")
    assert pickle.loads(pickle.dumps(addr)) == addr and json.loads(cohive.to_json(addr["deeper"])) == {"x": {"y": 1}}
    stored = cohive.Map({"a": addr, "x": addr["deeper"]["x"]})  # copies: records on their own
    edited, joined = addr.set("zip", "0150"), {"more": 1} | addr
    q = cohive.Queue()
    q.put(addr)
    del m, rec
    gc.collect()
    assert addr["geo"][1] == 10.7 and addr["when"] == dt.date(2026, 1, 2), "the view keeps the outer record alive"
    assert stored["a"] == value["addr"] and form(stored["a"]) == "record" and stored["x"] == {"y": 1}
    assert edited["zip"] == "0150" and edited["city"] == "Oslo" and joined["deeper"] == {"x": {"y": 1}}
    assert q.get(timeout=10) == value["addr"]
    del addr, stored, edited, joined, q


def test_records_nest_only_so_deep(native_baseline: int) -> None:
    deep: Any = {"leaf": "x"}
    for i in range(20):
        deep = {"next": deep, "i": i}
    m = cohive.Map(deep)
    walk = m
    for i in reversed(range(20)):
        assert walk["i"] == i and form(walk) == "record"
        walk = walk["next"]
    assert walk == {"leaf": "x"} and m.thaw() == deep and m == cohive.Map(deep)
    del m, walk


@pytest.mark.parametrize("value", [b"", b"abc", b"\x00\xff" * 10, b"x" * 600, set(), frozenset(), {1, 2, "a"},
                                   frozenset({(1, 2), "x", 2**70, frozenset({3})}), set(range(70)), {1.5, -0.0}])
def test_bytes_and_sets_pack_too(native_baseline: int, value: Any) -> None:
    record, hamt = both(value)
    got = record["v"]
    assert got == value and got == hamt["v"] and type(got) is type(hamt["v"])
    assert hash(record) == hash(hamt) and record == hamt and hamt == record
    assert record.thaw() == {"v": value, "n": 1} and type(record.thaw()["v"]) is type(value)
    assert pickle.loads(pickle.dumps(record)) == record and type(pickle.loads(pickle.dumps(record)).thaw()["v"]) is type(value)
    if isinstance(value, (set, frozenset)) and len(value) < 64:
        assert 1.5 in value or cohive.Map({"in": got, "n": 0})["in"] == value
        kept = cohive.Map().set("k", cohive.FrozenList([record["v"]])[0])
        assert kept["k"] == value
    with pytest.raises(TypeError, match="not JSON serializable"):
        cohive.to_json(record)
    del record, hamt, got


def test_a_record_near_its_size_limit_reads_back_exactly(native_baseline: int) -> None:
    big = "a" * 512
    d: dict[str, Any] = {f"l{i}": [big] * 7 + [2**70 + j for j in range(4)] + ["b" * 423] for i in range(15)}
    d["last"] = [big] * 5 + [2**70, 2**71, 2**72] + ["c" * 1000]
    d |= {f"f{i}": i + 0.5 for i in range(48)}
    m = cohive.Map(d)
    assert all(m[k] == v for k, v in d.items()) and m.thaw() == d
    as_json = {k: v for k, v in d.items() if k != "last"}
    j = cohive.from_json(json.dumps(as_json))
    assert all(j[k] == v for k, v in as_json.items()) and j.thaw() == as_json
    del m, j


def test_nested_lists_too_big_to_pack_are_frozen_once() -> None:
    cohive.freeze(Counted())
    value: Any = Counted()
    for _ in range(16):
        value = [{"l": value}] + ["s" * 512] * 8  # each level packs to more than 4 KiB
    encodes.clear()
    assert cohive.Map({"top": value, "n": 1})["n"] == 1 and len(encodes) == 1


def test_a_nested_record_holding_many_externs_is_kept_as_it_is(native_baseline: int) -> None:
    externs = cohive.Map({f"i{j}": 2**70 + j for j in range(61)})
    m = cohive.Map({"a": 2**72, "x": {"e": externs, "b": 2**70, "c": 2**71}})
    kept = [cohive.Map({"y": m["x"]})["y"], m.set("k", 1)["x"], cohive.Map().update(m)["x"], m["x"].set("k", 1)]
    with m.mutate() as edit:
        edit["z"] = 0
    q = cohive.Queue()
    q.put(m["x"])
    kept.append(q.get(timeout=10))
    for x in kept:
        assert x["e"] == externs and x["c"] == 2**71
    deep: Any = {"leaf": 1}
    for _ in range(70):  # nested records each holding an extern: inlined until the record is full
        deep = {"n": deep, "s": "x" * 40, "l": [1, 2**70]}
    assert cohive.Map(deep) == cohive.from_json(json.dumps(deep)) and cohive.Map(deep).thaw() == deep
    del m, kept, q, externs, x


class Emptier:
    """Its registered encode empties the dicts in `emptied`."""


emptied: list[dict[str, Any]] = []
cohive.register(Emptier, lambda e: [d.clear() for d in emptied] and 0, lambda v: Emptier())


def test_a_dict_emptied_while_packing_is_refused() -> None:
    cohive.freeze(Emptier())  # from here on the class's frozen name is cached (not a leak)
    gc.collect()
    before = cohive.native_bytes()
    victim = {"a": 1, "e": Emptier(), "z": "zzz"}
    emptied.append(victim)
    with pytest.raises(RuntimeError, match="the dict changed size while being frozen"):
        cohive.Map(victim)
    emptied.clear()
    gc.collect()
    assert cohive.native_bytes() == before


def test_a_record_of_many_big_values_freezes_each_once() -> None:
    cohive.freeze(Counted())
    d: dict[str, Any] = {f"l{i}": ["a" * 512] * 7 + [Counted() for _ in range(4)] + ["b" * 423] for i in range(15)}
    d |= {f"s{i}": "a" * 512 for i in range(5)} | {f"t{i}": "t" * 100 for i in range(10)}
    encodes.clear()
    assert cohive.Map(d)["t3"] == "t" * 100 and len(encodes) == 60


@pytest.mark.parametrize("value", [["a", "b"], ("x", 1, 2.5, None), [{"k": "v"}, [1, "two"], {3, 4}, b"raw"],
                                   frozenset({"a", ("b", 1)}), {1, 2, 3}, [2**70, "y" * 600], list(range(70))])
def test_lists_tuples_and_sets_frozen_on_their_own_pack_too(native_baseline: int, value: Any) -> None:
    frozen = cohive.freeze(value)
    heap = cohive.from_json(json.dumps(value)) if value in (["a", "b"], list(range(70))) else None  # heap lists
    assert frozen == value and cohive.thaw(frozen) == value
    assert isinstance(value, set) or type(cohive.thaw(frozen)) is type(value)  # (a frozen set reads back as a frozenset)
    assert hash(cohive.Map({"v": frozen})) == hash(cohive.Map({"v": value}))
    if heap is not None:
        assert frozen == heap and hash(frozen) == hash(heap)
    q = cohive.Queue()
    q.put((frozen, value))
    a, b = q.get(timeout=10)
    assert a == b == value and pickle.loads(pickle.dumps(a)) == value
    if isinstance(frozen, cohive.FrozenList):
        assert frozen[1:] == value[1:] and frozen[::-1] == value[::-1] and list(frozen) == value
        kept = cohive.Map({"part": frozen[1:], "each": list(frozen)})
        del frozen, a, b
        gc.collect()
        assert kept["part"] == value[1:] and kept["each"] == value
        del kept
    m = cohive.Map({("key", 1): 1})
    assert m[("key", 1)] == 1 and cohive.Map({cohive.freeze(("key", 1)): 2})[("key", 1)] == 2
    del m, q


def test_a_list_that_does_not_fit_after_all_is_frozen_whole(native_baseline: int) -> None:
    def nest(x: Any, n: int) -> Any:
        for _ in range(n):
            x = [x]
        return x

    d = {"x": ["x" * 300] * 8}  # a record 8 levels down packs its list, which measure() cannot see
    top = [nest(d, 6), nest(d, 6)]
    heap = cohive.from_json(json.dumps(top))
    for frozen in (cohive.freeze(top), cohive.freeze(tuple(top))):
        assert len(frozen) == 2 and list(frozen) == list(heap) and frozen[1] == top[1]
        assert list(cohive.thaw(frozen)) == top
    del frozen, heap
