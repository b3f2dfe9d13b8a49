"""cohive.Map driven by random operations side by side with a dict model.

Every version ever made is kept and re-checked, so the tests also prove
persistence: deriving a new Map never changes an old one.
"""

import pickle
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

import cohive
from cohive import _cohive
from conftest import colliding_hashes
from strategies import keys, numeric_twins, values

any_key = keys | numeric_twins
str_keys = st.text(max_size=6)


class MapVersusDict(RuleBasedStateMachine):
    """Each version is a (cohive.Map, dict) pair that must always agree."""

    def __init__(self) -> None:
        super().__init__()
        self.versions: list[tuple[cohive.Map, dict[Any, Any]]] = []

    @initialize(items=st.dictionaries(any_key, values, max_size=20))
    def start(self, items: dict[Any, Any]) -> None:
        self.versions.append((cohive.Map(items), dict(items)))

    def pick(self, data: st.DataObject) -> tuple[cohive.Map, dict[Any, Any]]:
        return data.draw(st.sampled_from(self.versions[-6:]))

    def existing_or_new_key(self, data: st.DataObject, model: dict[Any, Any]) -> Any:
        if model and data.draw(st.booleans()):
            return data.draw(st.sampled_from(sorted(model, key=repr)))
        return data.draw(any_key)

    @rule(data=st.data(), value=values)
    def set(self, data: st.DataObject, value: Any) -> None:
        m, model = self.pick(data)
        key = self.existing_or_new_key(data, model)
        new_model = dict(model)
        new_model[key] = value
        self.versions.append((m.set(key, value), new_model))

    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        m, model = self.pick(data)
        key = self.existing_or_new_key(data, model)
        if key in model:
            new_model = dict(model)
            del new_model[key]
            self.versions.append((m.delete(key), new_model))
        else:
            with pytest.raises(KeyError):
                m.delete(key)

    @rule(data=st.data(), items=st.dictionaries(any_key, values, max_size=8))
    def update(self, data: st.DataObject, items: dict[Any, Any]) -> None:
        m, model = self.pick(data)
        new_model = dict(model)
        new_model.update(items)
        self.versions.append((m.update(items), new_model))
        self.versions.append((m | items, new_model))

    @rule(data=st.data(), edits=st.lists(st.tuples(st.booleans(), any_key, values), max_size=12))
    def mutate(self, data: st.DataObject, edits: list[tuple[bool, Any, Any]]) -> None:
        m, model = self.pick(data)
        new_model = dict(model)
        with m.mutate() as mm:
            for is_set, key, value in edits:
                if is_set:
                    mm[key] = value
                    new_model[key] = value
                elif key in new_model:
                    assert mm.pop(key) == new_model.pop(key)
                else:
                    with pytest.raises(KeyError):
                        del mm[key]
                assert len(mm) == len(new_model)
            self.versions.append((mm.finish(), new_model))

    @precondition(lambda self: len(self.versions) > 1)
    @rule(data=st.data())
    def compare_versions(self, data: st.DataObject) -> None:
        (a, model_a), (b, model_b) = data.draw(st.lists(st.sampled_from(self.versions), min_size=2, max_size=2))
        assert (a == b) == (model_a == model_b)
        if a == b:
            assert hash(a) == hash(b)

    @invariant()
    def every_version_matches_its_model(self) -> None:
        for m, model in self.versions[-8:]:
            assert len(m) == len(model)
            assert m == model
            for key, value in model.items():
                assert key in m
                assert m[key] == value
                assert m.get(key) == value
            assert set(m) == set(model) and len(list(m)) == len(model)
            assert len(list(m.items())) == len(model)


MapVersusDict.TestCase.settings = settings(
    max_examples=60, stateful_step_count=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestMapVersusDict = MapVersusDict.TestCase


class RecordsVersusDict(MapVersusDict):
    """Str keys: a frozen dict of up to 64 of them is a record, an edit makes a HAMT.

    Every version must also equal, hash and iterate like a HAMT Map with its items."""

    @initialize(items=st.dictionaries(str_keys, values, max_size=20))
    def start(self, items: dict[Any, Any]) -> None:
        m = cohive.Map(items)
        assert _cohive._map_form(m) == ("record" if items else "hamt")
        self.versions.append((m, dict(items)))

    def existing_or_new_key(self, data: st.DataObject, model: dict[Any, Any]) -> Any:
        if model and data.draw(st.booleans()):
            return data.draw(st.sampled_from(sorted(model, key=repr)))
        return data.draw(str_keys)

    @rule(data=st.data())
    def refreeze(self, data: st.DataObject) -> None:
        """A version thawed and frozen again (a record when it has 1..64 keys)."""
        m, model = self.pick(data)
        self.versions.append((cohive.Map(m.thaw()), model))

    @invariant()
    def records_and_hamts_agree(self) -> None:
        for m, model in self.versions[-8:]:
            hamt = cohive.Map().update(model)
            assert _cohive._map_form(hamt) == "hamt"
            assert m == hamt and hash(m) == hash(hamt) and m.thaw() == model
            # Other keys may collide (1 and 2**61 hash alike), and colliding keys keep their insertion order.
            if all(type(k) is str for k in model):
                assert list(m) == list(hamt) and list(m.items()) == list(hamt.items()) and repr(m) == repr(hamt)
                # Pickles hold each form as it is (a snapshot), and load back equal.
                assert pickle.loads(pickle.dumps(m)) == model == pickle.loads(pickle.dumps(hamt))


TestRecordsVersusDict = RecordsVersusDict.TestCase


class SmallKeysWithCollisions(MapVersusDict):
    """The same machine with a 2-bit hash: most keys collide all the way down."""


def test_model_with_colliding_hashes() -> None:
    with colliding_hashes(0b11):
        run_state_machine_as_test(
            SmallKeysWithCollisions,
            settings=settings(max_examples=25, stateful_step_count=20, deadline=None,
                              suppress_health_check=[HealthCheck.too_slow]),
        )
