"""Records: a dict of 1..64 str keys is frozen as one object holding its values
and a reference to an interned *shape* (its keys), see docs/design.md (#10).

A record is a Map in every respect; these tests pin down what is special
about it: which dicts become records, what they cost, that shapes are shared
and never leak, and that a record agrees with a HAMT Map of the same items.
"""

import gc
import json
import pickle
from typing import Any

import pytest

import cohive
from cohive import _cohive
from conftest import colliding_hashes
from interp_helpers import run_in_each

RECORD = {"name": "Ada", "email": "ada@example.com", "age": 36, "active": True, "tags": ["x", "y"],
          "addr": {"city": "London", "geo": (51.5, -0.1)}, "none": None, "": "empty key", "é": "é"}


def form(m: cohive.Map[Any, Any]) -> str:
    return _cohive._map_form(m)


def as_hamt(d: dict[str, Any]) -> cohive.Map[Any, Any]:
    """The same items as a HAMT Map: edits always make HAMTs."""
    m = cohive.Map().update(d)
    assert form(m) == "hamt"
    return m


def test_which_dicts_become_records() -> None:
    assert form(cohive.Map({"a": 1})) == "record"
    assert form(cohive.Map({f"k{i}": i for i in range(64)})) == "record"
    assert form(cohive.Map({f"k{i}": i for i in range(65)})) == "hamt"
    long_keys = {f"k{'x' * 100}{i}": str(i) for i in range(64)}  # more key bytes than freezing copies to its stack
    assert form(cohive.Map(long_keys)) == "record" and cohive.Map(long_keys) == long_keys
    assert form(cohive.Map({"a": 1, 2: 3})) == "hamt"
    assert form(cohive.Map({})) == "hamt"
    assert form(cohive.Map(RECORD)["addr"]) == "record"
    assert form(cohive.freeze([{"a": 1}])[0]) == "record"
    assert form(cohive.from_json('{"a": 1, "b": [1]}')) == "record"
    assert form(pickle.loads(pickle.dumps(cohive.Map(RECORD)))) == "record"
    assert form(cohive.Map({"a": 1}).set("b", 2)) == "hamt"


def test_a_record_is_its_values_and_a_shape(native_baseline: int) -> None:
    keys = ["a", "b", "c"]
    first = cohive.Map(dict.fromkeys(keys, 1))  # makes the shape
    before = cohive.native_bytes()
    records = cohive.freeze([{k: i % 128 for k in keys} for i in range(1000)])
    # the list: a header and a word per record; a record: a header, the shape, 4 one-byte
    # offsets (each value's and the end) and 3 ints of one byte each
    assert cohive.native_bytes() - before == 16 + 8 * 1000 + 1000 * (16 + 4 + 3)
    assert records[7] == {"a": 7, "b": 7, "c": 7} and form(records[7]) == "record"
    del records, first


def test_the_same_keys_in_any_order_share_one_shape(native_baseline: int) -> None:
    a = cohive.Map({"x": 1, "y": 2, "z": 3})
    before = cohive.native_bytes()
    b = cohive.Map({"z": 30, "x": 10, "y": 20})
    assert cohive.native_bytes() - before == 16 + 4 + 3
    assert list(a) == list(b) and dict(b) == {"x": 10, "y": 20, "z": 30}
    del a, b


def test_shapes_are_freed_with_their_last_record(native_baseline: int) -> None:
    made = [cohive.Map({f"key {i}": i, f"other {i}": [i]}) for i in range(300)]
    copies = [cohive.Map({"r": m}) for m in made[::3]]
    del made
    assert all(c["r"][f"key {3 * i}"] == 3 * i for i, c in enumerate(copies))
    del copies


def test_shapes_come_back_after_their_last_record_died(native_baseline: int) -> None:
    """A dead shape is kept for reuse (the last 64) and revived by the next record of its keys."""
    for i in range(400):  # 150 key sets, more than are kept: some are revived, some made again
        keys = (f"a{i % 150}", "b", f"c{i % 7}")
        m = cohive.Map(dict(zip(keys, (i, [i], str(i)))))
        assert form(m) == "record" and list(m) == list(as_hamt(dict(m)))
        assert m[keys[0]] == i and m["b"] == [i] and m[keys[2]] == str(i) and keys[0] + "x" not in m
        del m


def test_shapes_with_colliding_hashes(native_baseline: int) -> None:
    with colliding_hashes(0):
        m = cohive.Map({"a": 1, "b": 2, "c": 3, "ab": 4})
        assert form(m) == "record"
        assert m["ab"] == 4 and m.get("ba") is None and "c" in m and "d" not in m
        assert m == {"a": 1, "b": 2, "c": 3, "ab": 4} and m.delete("a") == {"b": 2, "c": 3, "ab": 4}
        del m


def test_a_record_agrees_with_a_hamt_map() -> None:
    rec, hamt = cohive.Map(RECORD), as_hamt(RECORD)
    assert form(rec) == "record"
    assert rec == hamt and hash(rec) == hash(hamt) and rec == RECORD and not (rec != hamt)
    assert list(rec) == list(hamt) and list(rec.values()) == list(hamt.values())
    assert list(rec.items()) == list(hamt.items()) and repr(rec) == repr(hamt)
    assert len(rec) == len(RECORD) and rec.thaw() == RECORD and cohive.thaw(rec) == RECORD
    assert pickle.loads(pickle.dumps(rec)) == rec == pickle.loads(pickle.dumps(hamt))
    assert cohive.to_json(rec) == cohive.to_json(hamt)
    assert json.loads(cohive.to_json(rec, sort_keys=True)) == json.loads(json.dumps(RECORD))
    assert rec.keys() & {"age", "nope"} == {"age"} and rec.keys() - set(RECORD) == set()
    assert ("age", 36) in rec.items() and rec.items() == hamt.items() and 36 in rec.values()
    for key, value in RECORD.items():
        assert key in rec and rec[key] == value and rec.get(key) == value
    for absent in ("nope", "Name", 1, 1.5, ("name",), b"name", None):
        assert absent not in rec and rec.get(absent, "d") == "d"
        with pytest.raises(KeyError):
            rec[absent]
    with pytest.raises(TypeError, match="unhashable"):
        rec[["name"]]


def test_records_with_different_values_differ() -> None:
    a = cohive.Map({"x": 1, "y": 2})
    assert a != cohive.Map({"x": 1, "y": 3}) and a != cohive.Map({"x": 1, "z": 2}) and a != cohive.Map({"x": 1})
    assert a == cohive.Map({"y": 2.0, "x": True}) and hash(a) == hash(cohive.Map({"y": 2.0, "x": True}))


def test_edits_of_a_record_make_maps_and_leave_it_alone(native_baseline: int) -> None:
    outer = cohive.Map({"r": RECORD})
    rec = outer["r"]
    assert rec.set("age", 37)["age"] == 37 and rec["age"] == 36
    assert rec.delete("tags") == {k: v for k, v in RECORD.items() if k != "tags"}
    assert rec.update(age=1, new=2) == {**RECORD, "age": 1, "new": 2}
    assert (rec | {"age": 0})["age"] == 0 and ({"age": 0} | rec)["age"] == 36
    with rec.mutate() as mm:
        mm["age"] = 99
        del mm["name"]
        assert mm["age"] == 99 and "name" not in mm and len(mm) == len(RECORD) - 1
        edited = mm.finish()
    assert edited == {**{k: v for k, v in RECORD.items() if k != "name"}, "age": 99}
    assert outer == {"r": RECORD}
    del outer, rec, edited, mm


def test_views_of_records_are_copied_where_they_are_stored(native_baseline: int) -> None:
    outer = cohive.Map({"r": RECORD})
    ref = cohive.Ref("records-copied", None)
    ref.set(outer["r"])
    q = cohive.Queue()
    q.put(outer["r"]["addr"])
    del outer
    assert ref.get() == RECORD and q.get(timeout=5) == RECORD["addr"]
    del ref, q


def test_records_built_and_dropped_in_many_interpreters_at_once(native_baseline: int) -> None:
    """Interpreters race making, finding and freeing the same few shapes."""
    code = """
        import cohive
        for i in range(3000):
            shape = i % 7
            m = cohive.Map({f"k{shape}": i, f"j{shape}": [i], "common": shape})
            assert m[f"k{shape}"] == i and m["common"] == shape and len(m) == 3
            assert cohive.Map({"held": m})["held"][f"j{shape}"][0] == i
    """
    run_in_each([code] * 4)


class Swapper:
    """Its encode swaps one key of the record being frozen for another: same size, other keys."""


victim: dict[str, Any] = {}


def swap(value: Swapper) -> int:
    victim.pop("b", None)
    victim["c"] = 3
    return 0


cohive.register(Swapper, swap, lambda v: Swapper())


def test_an_encode_that_changes_the_record_being_frozen_is_caught() -> None:
    cohive.freeze(Swapper())  # from here on the class's frozen name is cached (not a leak)
    gc.collect()
    before = cohive.native_bytes()
    victim.clear()
    victim.update(a=Swapper(), b=2)
    with pytest.raises(RuntimeError, match="the dict changed size while being frozen"):
        cohive.freeze(victim)
    victim.clear()
    victim.update(a=Swapper(), z=1)  # grows it
    with pytest.raises(RuntimeError, match="the dict changed size while being frozen"):
        cohive.freeze(victim)
    victim.clear()
    gc.collect()
    assert cohive.native_bytes() == before, "the half-built records were freed, and their shapes"


def test_values_are_packed_into_the_record(native_baseline: int) -> None:
    keep = cohive.Map({"s": "", "n": 0, "t": []})  # keeps the shape alive
    before = cohive.native_bytes()
    m = cohive.Map({"s": "abc", "n": 1, "t": ["x", "yz"]})
    # a header, the shape, 4 offsets; "abc" in 1 + 3 bytes, 1 in one byte, and the list:
    # a tag, a count, 3 offsets (two bytes each), then "x" in 2 bytes and "yz" in 3
    assert cohive.native_bytes() - before == 16 + 4 + 4 + 1 + (1 + 2 + 3 * 2 + 2 + 3)
    assert m["s"] == "abc" and m == {"s": "abc", "n": 1, "t": ["x", "yz"]}
    del m, keep


def test_strs_inside_a_record_outlive_it_in_what_was_made_from_it(native_baseline: int) -> None:
    values = {"ascii": "text", "latin": "café", "ucs2": "日本語", "ucs4": "🐍x", "empty": "", "long": "y" * 5000}
    outer = cohive.Map({"r": values})
    rec = outer["r"]
    edited = rec.set("more", 1)  # a HAMT of the record's entries
    updated = cohive.Map({"x": 0}).update(rec)
    mm = cohive.Map().mutate()
    mm.update(rec)
    mutated = mm.finish()
    joined = {"x": 0} | rec
    thawed = rec.thaw()
    del outer, rec, mm
    gc.collect()
    for made in (edited, updated, mutated, joined):
        for key, value in values.items():
            assert made[key] == value
    assert thawed == values
    del edited, updated, mutated, joined


def test_a_remembered_shape_that_was_freed_is_not_used(native_baseline: int) -> None:
    """Each interpreter remembers recent shapes by the dict's key objects, without a reference."""
    keys = ("remembered", "shape")
    first = cohive.Map(dict.fromkeys(keys, 1))
    del first  # its shape is dormant now; the 100 below push it out of the ring and free it
    for i in range(100):
        cohive.Map({f"evict {i}": i})
    again = cohive.Map(dict(zip(keys, (2, 3))))  # the same key objects: the memory must not be trusted
    assert form(again) == "record" and again == {"remembered": 2, "shape": 3}
    assert list(again) == list(as_hamt(dict(again)))
    with colliding_hashes(0):  # the same keys under another hash: another shape
        masked = cohive.Map(dict(zip(keys, (4, 5))))
        assert masked["shape"] == 5 and masked.get("remembered") == 4
        del masked
    assert cohive.Map(dict(zip(keys, (6, 7))))["shape"] == 7
    del again
