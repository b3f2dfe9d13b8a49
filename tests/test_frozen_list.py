"""cohive.FrozenList: what a list becomes once frozen."""

from collections.abc import Sequence

import pytest

import cohive


def test_sequence_behaviour() -> None:
    fl = cohive.FrozenList([1, "a", [2, 3], {"k": 1}])
    assert len(fl) == 4 and fl[0] == 1 and fl[-1] == {"k": 1} and fl[2][1] == 3
    assert list(fl) == [1, "a", [2, 3], {"k": 1}]
    assert list(reversed(fl)) == [{"k": 1}, [2, 3], "a", 1]
    assert fl[1:3] == ["a", [2, 3]] and isinstance(fl[1:3], cohive.FrozenList)
    assert fl[::-2] == [{"k": 1}, "a"]
    assert fl[:] is fl
    assert "a" in fl and [2, 3] in fl and {"k": 1} in fl and "zz" not in fl and object() not in fl
    assert fl.index("a") == 1 and fl.count(1) == 1 and fl.count(True) == 1
    with pytest.raises(ValueError, match="is not in FrozenList"):
        fl.index("zz")
    with pytest.raises(IndexError):
        fl[4]
    with pytest.raises(TypeError):
        fl["a"]  # type: ignore[call-overload]
    assert isinstance(fl, Sequence)


def test_comparisons_follow_list() -> None:
    fl = cohive.FrozenList([1, 2, 3])
    assert fl == [1, 2, 3] and [1, 2, 3] == fl and fl == cohive.FrozenList([1.0, 2, 3])
    assert fl != [1, 2] and fl != (1, 2, 3)
    assert fl < [1, 2, 4] and fl > [1, 2] and fl <= cohive.FrozenList([1, 2, 3])
    assert sorted([cohive.FrozenList([2]), cohive.FrozenList([1])]) == [[1], [2]]


def test_hashable_and_immutable() -> None:
    fl = cohive.FrozenList([1, [2]])
    assert hash(fl) == hash(cohive.FrozenList([1, [2]]))
    with pytest.raises(TypeError):
        fl[0] = 5  # type: ignore[index]
    assert repr(fl) == "cohive.FrozenList([1, cohive.FrozenList([2])])"
    assert cohive.FrozenList() == [] and cohive.FrozenList(range(3)) == [0, 1, 2]
    assert cohive.FrozenList(fl) is fl
