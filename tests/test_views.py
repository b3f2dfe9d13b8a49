"""Nested Maps and FrozenLists read out of a Map are views: they borrow the
native data and keep it alive through the handle they were read from
(docs/design.md, "Memory layout").  These tests pin their lifetime rules;
tests/test_zero_write.py proves that reading them writes nothing shared."""

import gc
import sys

import cohive
from interp_helpers import TIMEOUT, interpreters

from test_sharing import unique


def records(n: int) -> cohive.Map:
    return cohive.Map({f"k{i}": {"i": i, "tags": ["t", i], "addr": {"city": f"c{i}"}} for i in range(n)})


def test_a_view_outlives_the_handle_it_was_read_from(native_baseline: int) -> None:
    city = records(100)["k7"]["addr"]  # the Map and the record handle are gone at once
    tags = records(100)["k8"]["tags"]
    walking = iter(records(100)["k9"])
    gc.collect()
    assert city == {"city": "c7"} and tags == ["t", 8] and sorted(walking) == ["addr", "i", "tags"]
    del city, tags, walking


def test_views_of_views_hold_the_owning_handle_itself() -> None:
    m = records(10)
    before = sys.getrefcount(m)
    deep = m["k1"]["addr"]
    record = m["k2"]
    inner = record["tags"]
    assert sys.getrefcount(m) == before + 3  # each view holds m, not the view it came from
    del record
    assert inner == ["t", 2] and deep["city"] == "c1"


def test_a_view_outlives_a_new_version_published_over_it(native_baseline: int) -> None:
    ref = cohive.Ref(unique("views-publish"), default=records(1000))
    record = ref.get()["k5"]
    items = iter(ref.get()["k6"].items())
    ref.set(cohive.Map())  # drops the Ref's reference to the old version
    gc.collect()
    assert record["addr"]["city"] == "c5" and dict(items)["i"] == 6
    del ref, record, items


def test_a_view_outlives_the_interpreter_that_built_the_data(native_baseline: int) -> None:
    queue = cohive.Queue()
    ref = cohive.Ref(unique("views-built-elsewhere"), default=None)
    with interpreters(1) as (interp,):
        interp.run(
            f"import cohive\ncohive.Ref({ref.name!r}).set("
            f"cohive.Map({{f'k{{i}}': {{'i': i, 'tags': ['t', i]}} for i in range(500)}}))",
            TIMEOUT,
        )
        tags = ref.get()["k3"]["tags"]
        queue.put(ref.get()["k4"])
        del ref
    gc.collect()  # the interpreter that built the Map is gone, and so is the Ref
    assert tags == ["t", 3] and queue.get(timeout=TIMEOUT)["i"] == 4
    del tags, queue


def test_storing_a_small_view_stores_a_private_copy(native_baseline: int) -> None:
    m = records(10)
    before = cohive.native_bytes()
    holder = cohive.Map({"r": m["k3"]})
    copied = cohive.native_bytes() - before
    assert copied > 100  # the record and its nested record, not one reference (a holder: about 30 bytes)
    del m
    gc.collect()
    assert holder["r"] == {"i": 3, "tags": ["t", 3], "addr": {"city": "c3"}}
    del holder


def test_storing_a_big_view_shares_it() -> None:
    m = cohive.Map({"big": {i: str(i) for i in range(2000)}})
    before = cohive.native_bytes()
    holder = cohive.Map({"b": m["big"]})
    assert cohive.native_bytes() - before < 1000  # one map node and a reference, not 2000 items
    assert holder["b"] == m["big"]


def test_named_objects_inside_a_copied_view_stay_the_same_objects(native_baseline: int) -> None:
    queue = cohive.Queue()
    m = cohive.Map({"r": {"q": queue}})
    copy = cohive.Map({"again": m["r"]})
    copy["again"]["q"].put("through the copy")
    assert queue.get(timeout=TIMEOUT) == "through the copy"
    del queue, m, copy


def test_a_slice_of_a_view_outlives_everything_it_came_from(native_baseline: int) -> None:
    part = cohive.Map({"l": [[1, 2], "x" * 100, {"d": 1}] * 3})["l"][1:5]
    gc.collect()
    assert part == ["x" * 100, {"d": 1}, [1, 2], "x" * 100]
    del part


def test_a_value_read_from_a_mutation_survives_the_edit_of_its_key(native_baseline: int) -> None:
    mutation = records(10).mutate()
    record = mutation["k1"]
    mutation["k1"] = 0
    del mutation["k2"]
    gc.collect()
    assert record["addr"]["city"] == "c1"
    del mutation, record
