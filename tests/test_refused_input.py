"""Unshareable input is refused with an error naming what and where, and changes nothing."""

import datetime
import gc
import io
import re
import threading
from typing import Any

import pytest

import cohive


class Custom:
    pass


class MyInt(int):
    pass


@pytest.mark.parametrize(
    "value, type_name",
    [
        (object(), "object"),
        (lambda: 1, "function"),
        (io.StringIO(), "_io.StringIO"),
        (Custom(), "test_refused_input.Custom"),
        (MyInt(3), "test_refused_input.MyInt"),
        (threading.Lock(), "_thread.lock"),
        (iter([]), "list_iterator"),
        (datetime.tzinfo(), "datetime.tzinfo"),
        (range(3), "range"),
    ],
)
def test_unshareable_types_are_named(value: Any, type_name: str) -> None:
    with pytest.raises(TypeError, match=rf"^value: {re.escape(type_name)} is not shareable"):
        cohive.freeze(value)


def test_error_names_the_path_inside_the_value() -> None:
    data = {"users": [{"n": 0}, {"n": 1}, {"n": 2}, {"n": 3, "created": Custom()}]}
    with pytest.raises(TypeError) as info:
        cohive.Map(data)
    assert str(info.value).startswith("value['users'][3]['created']: test_refused_input.Custom is not shareable")


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: cohive.Map(a=(1, [2, {"x": {1, object()}}])), r"^value\['a'\]\[1\]\[1\]\['x'\] element <object"),
        (lambda: cohive.Map({(1, object()): 2}), r"^value key \(1, <object object at .*>\)\[1\]: object is not"),
        (lambda: cohive.Map().set("k", [object()]), r"^value\['k'\]\[0\]: object is not shareable"),
        (lambda: cohive.Map().set(object(), 1), r"^key: object is not shareable"),
        (lambda: cohive.FrozenList([1, Custom()]), r"^value\[1\]: test_refused_input.Custom is not shareable"),
    ],
)
def test_paths_for_each_kind_of_step(build: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        build()


@pytest.mark.parametrize("key", [[1], {"a": 1}, {1}, (1, [2])])
def test_unhashable_keys_are_refused(key: Any) -> None:
    with pytest.raises(TypeError, match=r"^key.*: unhashable type: '(list|dict|set)'"):
        cohive.Map().set(key, 1)
    with pytest.raises(TypeError, match="unhashable"):
        cohive.Map()[key]
    with pytest.raises(TypeError, match="unhashable"):
        cohive.Map({"a": 1}).mutate().update([(key, 1)])


def test_a_structure_that_contains_itself() -> None:
    loop: list[Any] = [1]
    loop.append([2, loop])
    with pytest.raises(ValueError, match=r"^value\[1\]\[1\]: the list contains itself"):
        cohive.freeze(loop)
    d: dict[str, Any] = {}
    d["me"] = d
    with pytest.raises(ValueError, match=r"^value\['me'\]: the dict contains itself"):
        cohive.Map(d)


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = [value]
    return value


def test_nesting_limit() -> None:
    assert cohive.MAX_DEPTH == 256
    assert cohive.freeze(nested(cohive.MAX_DEPTH)) == nested(cohive.MAX_DEPTH)
    with pytest.raises(ValueError, match=r"nesting deeper than 256 levels"):
        cohive.freeze(nested(cohive.MAX_DEPTH + 1))
    # Frozen views count with their depth too: no way round the limit.
    deep = cohive.freeze(nested(cohive.MAX_DEPTH))
    with pytest.raises(ValueError, match=r"^value\[0\]: nesting deeper than 256 levels"):
        cohive.freeze([deep])
    with pytest.raises(ValueError, match="nesting deeper than 256 levels"):
        cohive.Map().set("k", deep)


def test_nesting_far_beyond_the_limit_is_a_value_error_not_recursion(native_baseline: int) -> None:
    # 10^5 levels: too deep for repr(), which the error's path text uses for keys.
    deep: Any = ()
    for _ in range(10**5):
        deep = (deep,)
    m = cohive.Map({"x": 1})
    with pytest.raises(ValueError, match=r"^value\['a'\]\[0\]\[0\].*: nesting deeper than 256 levels$"):
        cohive.Map({"a": deep})
    with pytest.raises(ValueError, match=r"^value key <tuple nested too deep to show>\[0\].*: nesting deeper than 256"):
        cohive.Map({deep: 1})
    with pytest.raises(ValueError, match=r"^key\[0\]\[0\].*: nesting deeper than 256 levels$"):
        m.set(deep, 1)
    with pytest.raises(ValueError, match=r"^value\['k'\] key <tuple nested too deep to show>.*: nesting deeper than 256"):
        m.set("k", {deep: 1})
    with pytest.raises(ValueError, match=r"nesting deeper than 256 levels"):
        cohive.Queue(maxsize=1).put(deep)
    assert m == {"x": 1}


def test_unshareable_keys_are_simply_absent_on_lookup() -> None:
    m = cohive.Map(a=1)
    assert object() not in m
    assert m.get(datetime.date.today(), "dflt") == "dflt"
    with pytest.raises(KeyError):
        m[object()]


def test_failed_edits_change_nothing(native_baseline: int) -> None:
    m = cohive.Map({"a": 1, "b": [1, 2]})
    before = cohive.native_bytes()
    for bad in ({"c": 1, "d": object()}, [("c", 1), ("d", object())], [("c", 1), (1, 2, 3)], [("c", 1), 5]):
        with pytest.raises((TypeError, ValueError)):
            m.update(bad)
        mm = m.mutate()
        mm["z"] = 26
        with pytest.raises((TypeError, ValueError)):
            mm.update(bad)
        assert mm.finish() == {"a": 1, "b": [1, 2], "z": 26}  # all of the update or none of it
        with pytest.raises((TypeError, ValueError)):
            cohive.Map(bad)
        del mm
    gc.collect()
    assert cohive.native_bytes() == before
    assert m == {"a": 1, "b": [1, 2]}


def test_update_sequence_errors_match_dict() -> None:
    with pytest.raises(TypeError, match="cannot convert map update sequence element #1"):
        cohive.Map([("a", 1), 5])
    with pytest.raises(ValueError, match="element #0 has length 3; 2 is required"):
        cohive.Map([(1, 2, 3)])


def test_finished_mutation_refuses_edits() -> None:
    mm = cohive.Map().mutate()
    mm["a"] = 1
    assert mm.finish() == {"a": 1}
    for edit in (lambda: mm.set("b", 2), lambda: mm.update(b=2), lambda: mm.delete("a"), lambda: mm.pop("a")):
        with pytest.raises(ValueError, match="has been finished"):
            edit()
    assert mm["a"] == 1 and len(mm) == 1
