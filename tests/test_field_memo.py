"""Field memos: a record read with a str key remembers where that key object
sits in the record's shape (src/binding/map.c, field_position), so that
`m[k]["age"]` in a loop hashes and probes nothing for "age".  A memo must
never answer for another shape: not for a record of other keys, not for a
shape made later at a freed shape's address, and not for another key.
"""

from typing import Any

import cohive
from interp_helpers import run_in_each

AGE = "age"  # one key object, read from every record below


def test_one_key_object_read_from_records_of_different_shapes() -> None:
    first = cohive.Map({"age": 1, "name": "a"})
    other = cohive.Map({"name": "b", "email": "e", "age": 2})
    without = cohive.Map({"name": "c"})
    for _ in range(3):  # alternating, so each read follows a memo made for another shape
        assert first[AGE] == 1
        assert other[AGE] == 2
        assert AGE not in without
        assert without.get(AGE, "absent") == "absent"
    absent_first = cohive.Map({"x": 0})
    assert AGE not in absent_first  # remembered as absent in this shape only
    assert cohive.Map({"x": 0, "age": 3})[AGE] == 3


def test_a_shape_made_where_a_freed_one_was_is_not_taken_for_it() -> None:
    # The memo holds no reference to its shape.  Shapes whose last record
    # died wait in a ring of 64 for reuse and are freed as newer ones push
    # them out; malloc then hands a freed shape's address to the next shape
    # of its size.  Here record `b`'s shape is made just after `a`'s is
    # freed, the same size, with "age" at the other position: only the
    # memo's serial number tells the two apart.
    def age_position(other_key: str) -> int:
        return list(cohive.Map({"age": 0, other_key: 0})).index("age")

    for attempt in range(20):
        a_key = f"a{attempt:03}"  # b_key the same length: shapes of one size
        b_key = next(key for key in (f"b{attempt:02}{j}" for j in range(10))
                     if age_position(key) != age_position(a_key))
        for j in range(64):  # the ring full of shapes made here, in a known order
            cohive.Map({f"f{attempt:03}{j:02}": 0, "zz": 0})
        a = cohive.Map({"age": 1, a_key: 0})
        assert a[AGE] == 1
        del a  # its shape now newest in the ring
        for j in range(64):  # pushes it out: freed
            cohive.Map({f"g{attempt:03}{j:02}": 0, "zz": 0})
        b = cohive.Map({"age": 2, b_key: 0})
        assert b[AGE] == 2


def test_equal_keys_that_are_other_objects() -> None:
    record = cohive.Map({"age": 7, "name": "n"})
    assert record[AGE] == 7
    built = "".join(["a", "g", "e"])  # equal to AGE, another object
    assert built is not AGE
    assert record[built] == 7
    assert record[AGE] == 7
    assert "name" in record and record.get("nam" + "e") == "n"


def test_records_read_in_subinterpreters() -> None:
    # Each interpreter has its own memos (module state); two read at once.
    code = """
import cohive
a = cohive.Map({"age": 1, "x": 2})
b = cohive.Map({"x": 3, "y": 4, "age": 5})
for _ in range(1000):
    assert [a["age"], b["age"], a["age"], b.get("age")] == [1, 5, 1, 5]
"""
    run_in_each([code, code])


def test_views_read_from_a_record_are_reused_safely() -> None:
    outer = cohive.Map({f"user:{i}": {"age": i, "tags": [i]} for i in range(100)})
    kept: list[Any] = []
    for i in range(100):
        view = outer[f"user:{i}"]
        assert view[AGE] == i
        if i % 3 == 0:
            kept.append(view)  # some views stay alive while others are freed and made again
    assert [v[AGE] for v in kept] == list(range(0, 100, 3))
    assert all(isinstance(v, cohive.Map) and v == outer[f"user:{v[AGE]}"] for v in kept)
