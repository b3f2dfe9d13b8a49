"""Native memory returns to its baseline; deep and long structures free without recursion."""

import gc
import pickle
from typing import Any

import cohive
from conftest import colliding_hashes


def test_large_workload_returns_to_baseline(native_baseline: int) -> None:
    data = {f"key:{i}": {"id": i, "tags": [str(i), i * 1.5], "big": 2**70 + i} for i in range(20_000)}
    m = cohive.Map(data)
    assert cohive.native_bytes() > native_baseline
    versions = [m]
    for i in range(0, 20_000, 7):
        versions.append(versions[-1].set(f"key:{i}", (i, "x")))
    for i in range(0, 20_000, 11):
        versions.append(versions[-1].delete(f"key:{i}"))
    with versions[-1].mutate() as mm:
        for i in range(5000):
            mm[("t", i)] = frozenset({i, -i})
        for i in range(1, 20_000, 13):
            mm.pop(f"key:{i}", None)
        versions.append(mm.finish())
    merged = versions[-1] | {"extra": list(range(100))}
    clone = pickle.loads(pickle.dumps(merged))
    assert clone == merged
    views = [x["tags"] for x in list(clone.values())[:1000] if isinstance(x, cohive.Map)]
    thawed = clone.thaw()
    assert len(thawed) == len(clone)
    del data, m, versions, mm, merged, clone, views, thawed
    gc.collect()


def test_partial_builds_are_released_on_error(native_baseline: int) -> None:
    for _ in range(3):
        try:
            cohive.Map({i: [i, {"x": (i, object() if i == 999 else i)}] for i in range(1000)})
        except TypeError:
            pass
        else:
            raise AssertionError("object() was accepted")


def test_deep_nesting_frees_without_recursion(native_baseline: int) -> None:
    value: Any = "leaf"
    for _ in range(cohive.MAX_DEPTH):
        value = [value, {"k": value}] if False else [value]
    frozen = cohive.freeze(value)
    chain = cohive.Map()
    for i in range(cohive.MAX_DEPTH - 1):
        chain = cohive.Map(inner=chain, i=i)
    del value, frozen, chain
    gc.collect()


def test_collision_nodes_free_cleanly(native_baseline: int) -> None:
    with colliding_hashes(0):
        m = cohive.Map({f"k{i}": i for i in range(300)})
        assert all(m[f"k{i}"] == i for i in range(300))
        for i in range(0, 300, 2):
            m = m.delete(f"k{i}")
        assert len(m) == 150 and m == {f"k{i}": i for i in range(1, 300, 2)}
        del m


def test_records_in_one_value_share_their_key_strings(native_baseline: int) -> None:
    long_key = "k" * 1000
    records = {i: {long_key: i, "other": [i]} for i in range(100)}
    listed = list(records.values())
    for build in (lambda: cohive.Map(records), lambda: cohive.freeze(listed)):
        before = cohive.native_bytes()
        value = build()
        # Unshared, the 1000-character key alone would take 100 * 1000 bytes.
        assert cohive.native_bytes() - before < 20_000
        assert value == (records if isinstance(value, cohive.Map) else listed)
        assert cohive.thaw(value) == (records if isinstance(value, cohive.Map) else listed)
        del value
        gc.collect()
    # A refused value after keys were shared releases everything (the fixture checks).
    records[50]["other"] = [object()]
    try:
        cohive.Map(records)
    except TypeError as e:
        assert str(e).startswith("value[50]['other'][0]: object is not shareable")
    else:
        raise AssertionError("an object() was frozen")
