"""The Map and MapMutation API, immutables.Map-compatible where the two overlap."""

import copy
import pickle
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

import immutables
import pytest

import cohive


def test_the_readme_example() -> None:
    m = cohive.Map({"user:1": {"name": "Ada", "tags": ["x", "y"]}}, answer=42)
    m2 = m.set("user:2", ("Bob", 3.5))
    with m2.mutate() as mm:
        mm["n"] = 1
        del mm["answer"]
        m3 = mm.finish()
    assert m3["user:1"]["tags"][1] == "y"
    assert m3 == {"user:1": {"name": "Ada", "tags": ["x", "y"]}, "user:2": ("Bob", 3.5), "n": 1}
    assert m == {"user:1": {"name": "Ada", "tags": ["x", "y"]}, "answer": 42}
    assert "user:2" not in m and len(m2) == 3


@pytest.mark.parametrize(
    "make_args, kwargs",
    [
        (lambda: (), {}),
        (lambda: ({"a": 1},), {}),
        (lambda: ([("a", 1), ("b", 2)],), {}),
        (lambda: (iter([("a", 1)]),), {"b": 2}),
        (lambda: (immutables.Map(a=1),), {}),
        (lambda: (cohive.Map(a=1),), {"b": 2}),
        (lambda: ({"a": 1}.items(),), {}),
    ],
)
def test_constructor_forms(make_args: Any, kwargs: dict[str, Any]) -> None:
    expected = dict(*make_args(), **kwargs)
    assert cohive.Map(*make_args(), **kwargs) == expected
    if not any(isinstance(arg, cohive.Map) for arg in make_args()):  # immutables cannot read a cohive.Map
        assert dict(immutables.Map(*make_args(), **kwargs)) == expected


def test_constructor_shares_a_map_argument() -> None:
    m = cohive.Map(a=1)
    assert cohive.Map(m) is m
    with pytest.raises(TypeError):
        cohive.Map({}, {})


def test_lookup_api() -> None:
    m = cohive.Map({"a": 1, 2: "two", (1, 2): None})
    assert m["a"] == 1 and m[2] == "two" and m[(1, 2)] is None and m[2.0] == "two"
    assert m.get("zz") is None and m.get("zz", 5) == 5 and m.get((1, 2), 5) is None
    assert "a" in m and "zz" not in m
    with pytest.raises(KeyError) as info:
        m[(3, 4)]
    assert info.value.args == ((3, 4),)
    assert len(m) == 3 and sorted(map(repr, m)) == sorted(map(repr, ["a", 2, (1, 2)]))
    assert isinstance(m, Mapping)


def test_views_behave_like_dict_views() -> None:
    m = cohive.Map(a=1, b=2, c=3)
    d = dict(m)
    assert m.keys() == d.keys() and set(m.values()) == set(d.values()) and m.items() == d.items()
    assert m.keys() & {"a", "z"} == {"a"}
    assert m.keys() - {"a"} == {"b", "c"}
    assert ("a", 1) in m.items() and ("a", 2) not in m.items()
    assert 3 in m.values() and len(m.values()) == 3
    assert sorted(m.items()) == [("a", 1), ("b", 2), ("c", 3)]
    assert "cohive.MapKeysView" in repr(m.keys())


def test_set_delete_update_return_new_maps() -> None:
    m = cohive.Map(a=1)
    assert m.set("b", 2) == {"a": 1, "b": 2}
    assert m.set("a", 5) == {"a": 5}
    assert m.delete("a") == {}
    with pytest.raises(KeyError):
        m.delete("b")
    assert m.update({"b": 2}, c=3) == {"a": 1, "b": 2, "c": 3}
    assert m.update([("a", 9)]) == {"a": 9}
    assert m == {"a": 1}


def test_or_merges_with_the_right_side_winning() -> None:
    m = cohive.Map(a=1, b=2)
    assert m | {"b": 3, "c": 4} == {"a": 1, "b": 3, "c": 4}
    assert {"b": 3, "c": 4} | m == {"a": 1, "b": 2, "c": 4}
    assert isinstance({"x": 1} | m, cohive.Map)
    assert m | cohive.Map(a=0) == {"a": 0, "b": 2}
    with pytest.raises(TypeError):
        m | [1]  # type: ignore[operator]


def test_mutation_api() -> None:
    m = cohive.Map(a=1, b=2)
    mm = m.mutate()
    mm["c"] = 3
    mm.set("d", 4)
    del mm["a"]
    mm.delete("b")
    assert mm.pop("c") == 3 and mm.pop("zz", "dflt") == "dflt"
    with pytest.raises(KeyError):
        mm.pop("zz")
    mm.update({"e": 5}, f=6)
    assert mm.get("e") == 5 and mm["f"] == 6 and "d" in mm and len(mm) == 3
    result = mm.finish()
    assert result == {"d": 4, "e": 5, "f": 6}
    assert m == {"a": 1, "b": 2}
    with pytest.raises(TypeError):
        hash(mm)


def test_finish_then_further_maps_are_independent() -> None:
    mm = cohive.Map().mutate()
    for i in range(100):
        mm[i] = i
    first = mm.finish()
    assert first == {i: i for i in range(100)}
    with pytest.raises(TypeError):
        cohive.MapMutation()  # type: ignore[call-arg]


def test_equality_and_hash() -> None:
    a = cohive.Map({"x": [1, 2], "y": {"z": 1}})
    b = cohive.Map({"y": {"z": 1}, "x": [1, 2]})
    assert a == b and hash(a) == hash(b)
    assert a == {"x": [1, 2], "y": {"z": 1}}
    assert a != {"x": [1, 2]} and a != {"x": [1, 3], "y": {"z": 1}}
    assert a != [1] and not (a == 1)
    assert cohive.Map({1: "a"}) == cohive.Map({1.0: "a"}) == {True: "a"}
    assert hash(cohive.Map({1: "a"})) == hash(cohive.Map({1.0: "a"}))
    assert {a: 1}[b] == 1


def test_repr() -> None:
    assert repr(cohive.Map()) == "cohive.Map({})"
    assert repr(cohive.Map(a=[1])) == "cohive.Map({'a': cohive.FrozenList([1])})"


def test_copies_are_free() -> None:
    m = cohive.Map(a=[1])
    assert copy.copy(m) is m and copy.deepcopy(m) is m


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickle_round_trip(protocol: int) -> None:
    m = cohive.Map({"a": [1, {"b": (2, {3})}], 2**70: -0.0, (1, "x"): frozenset({1}), "s": "日本\ud800"})
    back = pickle.loads(pickle.dumps(m, protocol))
    assert back == m and type(back["a"]) is cohive.FrozenList
    fl = cohive.FrozenList([1, [2]])
    assert pickle.loads(pickle.dumps(fl, protocol)) == fl


def test_pickle_loads_in_another_process() -> None:
    m = cohive.Map({f"k{i}": [i, {"sq": i * i}] for i in range(1000)})
    code = (
        "import pickle, sys, cohive; m = pickle.loads(sys.stdin.buffer.read()); "
        "assert type(m) is cohive.Map; print(len(m), m['k7']['sq' if False else 1]['sq'])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], input=pickle.dumps(m), capture_output=True, timeout=60, check=True
    )
    assert out.stdout.split() == [b"1000", b"49"]


def test_pickle_format_is_versioned() -> None:
    payload = pickle.dumps(cohive.Map(a=1)).replace(b"K\x03", b"K\x09")
    with pytest.raises(ValueError, match=r"format version 9: this cohive reads versions 1, 2 and \(for Maps\) 3"):
        pickle.loads(payload)


class _PickledByVersion1:
    """Pickles as cohive 0.1 pickled Maps and FrozenLists: format version 1, a list of items."""

    def __init__(self, kind: str, items: list[object]) -> None:
        self.kind, self.items = kind, items

    def __reduce__(self) -> tuple[object, ...]:
        return (cohive._cohive._restore, (self.kind, 1, self.items))


def test_version_1_pickles_still_load() -> None:
    old = pickle.dumps(_PickledByVersion1("Map", [("a", [1, 2]), ((1, 2), {"b": 3})]))
    assert pickle.loads(old) == cohive.Map({"a": [1, 2], (1, 2): {"b": 3}})
    assert pickle.loads(pickle.dumps(_PickledByVersion1("FrozenList", [1, [2]]))) == cohive.FrozenList([1, [2]])


def test_generic_alias() -> None:
    assert cohive.Map[str, int].__origin__ is cohive.Map
    assert cohive.FrozenList[int].__origin__ is cohive.FrozenList
    assert cohive.Ref[int].__origin__ is cohive.Ref and cohive.Queue[str].__origin__ is cohive.Queue


def test_map_matches_immutables_on_the_shared_api() -> None:
    data = {f"k{i}": i for i in range(50)}
    ours, theirs = cohive.Map(data), immutables.Map(data)
    for op in (
        lambda m: m.set("k1", "x").delete("k2"),
        lambda m: m.update({"new": 1}, k3=None),
        lambda m: m.get("k5"),
        lambda m: len(m),
        lambda m: "k9" in m,
    ):
        r1, r2 = op(ours), op(theirs)
        assert (dict(r1) if isinstance(r1, Mapping) else r1) == (dict(r2) if isinstance(r2, Mapping) else r2)
