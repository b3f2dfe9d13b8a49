"""Values people actually have: dates, decimals, UUIDs, enums, records, buffers and registered classes."""

import array
import dataclasses
import datetime as dt
import gc
import pickle
import subprocess
import sys
import tracemalloc
import uuid
import zoneinfo
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cohive
from interp_helpers import run_in_each
from types_records import Bits, Color, Level, Mode, Money, Opaque, Order, Pair, Perm, Point, Row, Slotted

UTC = dt.timezone.utc
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")

ROUND_TRIPS = [
    dt.datetime(2024, 2, 29, 23, 59, 59, 999_999),
    dt.datetime(1, 1, 1),
    dt.datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    dt.datetime(2024, 5, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=-3, minutes=-30))),
    dt.datetime(2024, 5, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=5), "Far East")),
    dt.datetime(2024, 5, 1, 12, tzinfo=dt.timezone(dt.timedelta(seconds=1, microseconds=7))),
    dt.datetime(2024, 7, 14, 9, 30, tzinfo=PARIS),
    dt.datetime(2021, 11, 7, 1, 30, tzinfo=NEW_YORK, fold=1),
    dt.datetime(2021, 11, 7, 1, 30, fold=1),
    dt.date(2024, 2, 29),
    dt.date.min,
    dt.time(),
    dt.time(23, 59, 59, 999_999, fold=1),
    dt.time(8, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    dt.time(8, tzinfo=PARIS),
    dt.timedelta(),
    dt.timedelta(days=-1, microseconds=1),
    dt.timedelta.max,
    dt.timedelta.min,
    Decimal("1.50"),
    Decimal("-0"),
    Decimal("0E-7"),
    Decimal("123456789012345678901234567890.000000001"),
    Decimal("1E+999999"),
    Decimal("-Infinity"),
    uuid.UUID(int=0),
    uuid.UUID(int=2**128 - 1),
    uuid.uuid4(),
    Color.RED,
    Color.GREEN,
    Color.BLUE,
    Level.HIGH,
    Mode.WRITE,
    Perm.R | Perm.X,
    Perm(0),
    Bits.A | Bits.B,
    Point(1, -2),
    Order(7, [Point(0, 0), {"qty": 2}], note="rush"),
    Slotted(Color.RED, (Level.LOW, Decimal("2.5"))),
    Pair(1, "x"),
    Row(id=3, name=dt.date(2020, 1, 1)),
    Money(1999, "EUR"),
]

# The first freeze of a class in an interpreter caches its frozen name and
# field names (native memory held until the interpreter ends): do it before
# any test measures native memory.
cohive.freeze(ROUND_TRIPS)


@pytest.mark.parametrize("value", ROUND_TRIPS, ids=repr)
def test_reads_back_as_the_same_type_and_equal(value: Any) -> None:
    for got in (cohive.Map(k=value)["k"], cohive.freeze(value), cohive.thaw(value), cohive.FrozenList([value])[0]):
        assert type(got) is type(value) and got == value
    if isinstance(value, (dt.datetime, dt.time)):
        back = cohive.Map(k=value)["k"]
        assert (back.fold, back.tzinfo) == (value.fold, value.tzinfo)


def test_decimal_digits_and_special_values_survive_exactly() -> None:
    for text in ("1.50", "-0.000", "1E+3", "NaN", "-NaN123", "sNaN", "Infinity", "0.1", "-1e-30"):
        assert str(cohive.Map(k=Decimal(text))["k"]) == str(Decimal(text))


def test_enum_members_come_back_as_the_members() -> None:
    for member in (Color.BLUE, Level.LOW, Mode.READ, Perm.W):
        assert cohive.Map(k=member)["k"] is member


def test_records_nest_and_their_lists_and_dicts_are_frozen() -> None:
    order = Order(1, [{"sku": "a", "at": dt.datetime(2024, 1, 1, tzinfo=UTC)}])
    back = cohive.Map(k=order)["k"]
    assert type(back.items) is cohive.FrozenList and type(back.items[0]) is cohive.Map
    assert back == cohive.thaw(order) and type(cohive.thaw(order).items) is list


def test_thaw_gives_plain_data_inside_records() -> None:
    thawed = cohive.thaw(cohive.Map(k=Pair([1], {"a": [2]})))
    assert thawed == {"k": Pair([1], {"a": [2]})} and type(thawed["k"].right) is dict


def test_native_memory_returns_to_baseline(native_baseline: int) -> None:
    m = cohive.Map({i: value for i, value in enumerate(ROUND_TRIPS)})
    assert [m[i] for i in range(len(m))] == ROUND_TRIPS
    del m


# --- keys ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "stored, probe",
    [
        (Level.HIGH, 2),
        (2, Level.HIGH),
        (Bits.A, 1.0),
        (Mode.READ, "r"),
        ("r", Mode.READ),
        (Pair(1, "x"), (1, "x")),
        (Row(1, "x"), Pair(1.0, "x")),
        (Decimal("1"), 1),
        (Decimal("1.000"), True),
        (1.0, Decimal("1")),
        (Decimal("0.5"), 0.5),
        (Decimal("-0"), 0),
        (Decimal(2**80), 2**80),
        (Decimal("Infinity"), float("inf")),
        (Decimal("1.50"), Decimal("1.5")),
        (Decimal("0.1"), Decimal("0.10")),
        (dt.datetime(2024, 1, 1, 12, tzinfo=UTC), dt.datetime(2024, 1, 1, 9, tzinfo=dt.timezone(dt.timedelta(hours=-3)))),
        (dt.datetime(2024, 7, 1, 12, tzinfo=UTC), dt.datetime(2024, 7, 1, 14, tzinfo=PARIS)),
        (dt.datetime(2024, 1, 1, 0, 30, fold=1), dt.datetime(2024, 1, 1, 0, 30)),
        (dt.time(12, tzinfo=UTC), dt.time(13, tzinfo=dt.timezone(dt.timedelta(hours=1)))),
        (dt.time(8, tzinfo=PARIS), dt.time(8)),  # a ZoneInfo gives a time no offset: it compares as naive
        (Point(1, 2), Point(1, 2)),
        (Color.RED, Color.RED),
        (uuid.UUID(int=5), uuid.UUID(int=5)),
        (dt.timedelta(hours=24), dt.timedelta(days=1)),
        (Money(1, "EUR"), Money(1, "EUR")),
    ],
    ids=repr,
)
def test_equal_values_find_each_other(stored: Any, probe: Any) -> None:
    assert stored == probe and hash(stored) == hash(probe)  # what dict does
    m = cohive.Map({stored: "v"})
    assert m[probe] == "v" and probe in m and cohive._cohive._hash(stored) == cohive._cohive._hash(probe)
    assert cohive.Map({probe: "v"}) == m


@pytest.mark.parametrize(
    "stored, probe",
    [
        (Color.RED, 1),
        (Perm.R, 4),
        (Decimal("0.1"), 0.1),
        (Decimal("1.5"), 1),
        (dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 1, tzinfo=UTC)),
        (dt.date(2024, 1, 1), dt.datetime(2024, 1, 1)),
        (dt.time(12), dt.time(12, tzinfo=UTC)),
        (dt.timedelta(0), 0),
        (uuid.UUID(int=5), 5),
        (Point(1, 2), (1, 2)),
        (Point(1, 2), Slotted(1, 2)),
        (Level.LOW, Color.RED),
        (Money(1, "EUR"), (1, "EUR")),
    ],
    ids=repr,
)
def test_unequal_values_stay_apart(stored: Any, probe: Any) -> None:
    assert stored != probe  # what dict does
    m = cohive.Map({stored: "v"})
    assert probe not in m and m.get(probe) is None
    assert len(cohive.Map({stored: 1, probe: 2})) == 2


def test_equal_keys_collapse_and_keep_the_first_key_as_dict_does() -> None:
    keys = [1, Level.LOW, Decimal("1.0"), 1.0, Bits.A]
    expected = dict.fromkeys(keys, 0)
    m = cohive.Map(expected)
    assert len(m) == 1 and type(next(iter(m))) is int and m == expected


def test_hashes_are_stable_across_processes() -> None:
    keys = [Decimal("2.5"), dt.datetime(2024, 1, 1, tzinfo=PARIS), uuid.UUID(int=9), Color.BLUE, Point(1, 2),
            Pair("a", Level.HIGH), dt.date(2000, 1, 1), dt.time(1), dt.timedelta(seconds=-1)]
    here = [cohive._cohive._hash(k) for k in keys]
    code = (
        "import sys, pickle, cohive; sys.path.insert(0, sys.argv[1]); import types_records; "
        "keys = pickle.loads(sys.stdin.buffer.read()); print([cohive._cohive._hash(k) for k in keys])"
    )
    out = subprocess.run([sys.executable, "-c", code, str(Path(__file__).parent)], input=pickle.dumps(keys),
                         capture_output=True, timeout=60, check=True)
    assert out.stdout.decode().strip() == str(here)


# --- refusals ---------------------------------------------------------------------------------


def test_local_classes_are_refused_with_the_reason_and_the_path(native_baseline: int) -> None:
    @dataclasses.dataclass
    class Local:
        x: int

    with pytest.raises(TypeError, match=r"^value\['a'\]\[1\]: .*Local is defined inside a function: cohive sends "
                                        r"classes by name"):
        cohive.Map(a=[0, Local(1)])
    assert cohive.Map(a=1).get(Local(1)) is None and Local(1) not in cohive.Map(a=1)  # as for other unshareables


def test_classes_typed_in_interactively_are_refused() -> None:
    code = (
        "import dataclasses, cohive\n"
        "@dataclasses.dataclass\nclass Typed:\n    x: int\n"
        "try:\n    cohive.freeze(Typed(1))\nexcept TypeError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60, check=True)
    assert b"value: __main__.Typed was defined interactively: cohive sends classes by name" in out.stdout


def test_a_class_that_its_name_does_not_find_is_refused() -> None:
    Renamed = dataclasses.make_dataclass("Renamed", ["x"])
    Renamed.__module__ = "types_records"
    with pytest.raises(TypeError, match="cannot be found under its own name"):
        cohive.freeze(Renamed(1))


def test_paths_name_fields_of_records() -> None:
    with pytest.raises(TypeError, match=r"^value\['k'\]\.items\[1\]: object is not shareable"):
        cohive.Map(k=Order(1, [1, object()]))
    with pytest.raises(TypeError, match=r"^value\[0\]\[1\]: object is not shareable"):
        cohive.FrozenList([Pair(1, object())])


def test_unhashable_records_are_refused_as_keys() -> None:
    with pytest.raises(TypeError, match=r"^key: unhashable type: 'Order'"):
        cohive.Map().set(Order(1, []), 1)
    with pytest.raises(TypeError, match=r"unhashable type: 'bytearray'"):
        cohive.Map({bytearray(b"x"): 1})
    with pytest.raises(TypeError, match=r"^key\[1\]: unhashable type: 'list'"):
        cohive.Map().set(Pair(1, []), 1)


def test_other_time_zones_are_refused() -> None:
    class Zone(dt.tzinfo):
        def utcoffset(self, when: Any) -> dt.timedelta:
            return dt.timedelta(0)

    with pytest.raises(TypeError, match=r"^value\['t'\]: a time zone of type .*Zone.* is not shareable"):
        cohive.Map(t=dt.datetime(2024, 1, 1, tzinfo=Zone()))


def test_refusal_stores_nothing(native_baseline: int) -> None:
    ref = cohive.Ref(f"types-{uuid.uuid4().hex}", default=cohive.Map(a=1))
    before = ref.version
    with pytest.raises(TypeError):
        ref.set({"ok": Point(1, 2), "bad": Order(1, [object()])})
    assert ref.version == before and ref.get() == {"a": 1}
    del ref


def test_a_deep_nest_of_tuples_raises_the_documented_error() -> None:
    nest: Any = ()
    for _ in range(100_000):
        nest = (nest,)
    with pytest.raises(ValueError, match=r"nesting deeper than 256 levels"):
        cohive.freeze(nest)
    deep_record: Any = 0
    for _ in range(300):
        deep_record = Pair(deep_record, None)
    with pytest.raises(ValueError, match=r"nesting deeper than 256 levels"):
        cohive.freeze(deep_record)


def test_an_encode_that_changes_the_container_being_frozen_is_caught() -> None:
    victim: list[Any] = []

    class Sneaky:
        pass

    Sneaky.__qualname__ = Sneaky.__name__ = "Sneaky"
    Sneaky.__module__ = __name__
    globals()["Sneaky"] = Sneaky
    try:
        cohive.register(Sneaky, lambda s: victim.clear() or 0, lambda v: Sneaky())
        victim.extend([Sneaky(), 1, 2])
        with pytest.raises(RuntimeError, match="the list changed size while being frozen"):
            cohive.freeze(victim)
    finally:
        del globals()["Sneaky"]


class Reentrant:
    """Its encode empties cohive's class cache mid-freeze, as a cohive.register call there would."""


def test_an_encode_that_empties_the_class_cache_is_safe() -> None:
    def encode(value: Reentrant) -> list[Any]:
        cohive._cohive._forget_classes()
        return [Point(1, 2), Color.RED, dt.date(2020, 1, 1)]

    cohive.register(Reentrant, encode, lambda items: Reentrant())
    for _ in range(3):
        m = cohive.Map(k=[Reentrant(), Reentrant()], p=Point(3, 4))
        assert type(m["k"][1]) is Reentrant and m["p"] == Point(3, 4)


# --- buffers ---------------------------------------------------------------------------------


def test_buffers_freeze_to_bytes_that_read_without_a_copy() -> None:
    size = 8 << 20
    m = cohive.Map(a=bytearray(size), b=array.array("d", [1.5, 2.5]), c=memoryview(b"abcdef")[::2])
    assert m["c"] == b"ace" and m["b"] == array.array("d", [1.5, 2.5]).tobytes()
    assert type(m["a"]) is cohive.FrozenBytes and len(m["a"]) == size
    tracemalloc.start()
    try:
        view = memoryview(m["a"])
        assert view.readonly and view.nbytes == size and view[size - 1] == 0
        assert tracemalloc.get_traced_memory()[1] < size // 8  # no copy of the 8 MiB was made
    finally:
        tracemalloc.stop()
    assert memoryview(m["b"]).cast("d").tolist() == [1.5, 2.5]


def test_frozen_bytes_behave_like_bytes() -> None:
    fb = cohive.FrozenBytes(bytearray(b"hello"))
    assert fb == b"hello" and b"hello" == fb and hash(fb) == hash(b"hello") and bytes(fb) == b"hello"
    assert fb[1] == ord("e") and fb[-1] == ord("o") and fb[1:3] == b"el" and len(fb) == 5
    assert {b"hello": 1}[fb] == 1 and repr(fb) == "cohive.FrozenBytes(b'hello')"
    assert pickle.loads(pickle.dumps(fb)) == fb and cohive.Map(k=fb)["k"] == fb
    with pytest.raises(TypeError, match="bytes-like"):
        cohive.FrozenBytes("text")  # type: ignore[arg-type]


def test_a_memoryview_keeps_the_native_bytes_alive(native_baseline: int) -> None:
    view = memoryview(cohive.Map(k=bytearray(b"x" * 1000))["k"])
    gc.collect()
    assert cohive.native_bytes() > native_baseline and bytes(view[:3]) == b"xxx"
    view.release()
    del view


# --- registration -----------------------------------------------------------------------------


def test_registered_classes_round_trip_through_encode_and_decode() -> None:
    m = cohive.Map(price=Money(250, "USD"), prices=[Money(1, "EUR")])
    assert m["price"] == Money(250, "USD") and type(m["prices"][0]) is Money


def test_register_refuses_bad_arguments() -> None:
    with pytest.raises(TypeError, match="needs a class"):
        cohive.register(Money(1, "x"), str, str)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="callable"):
        cohive.register(Money, None, str)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cohive shares int natively"):
        cohive.register(int, str, int)


def test_registration_reaches_interpreters_that_import_the_module() -> None:
    ref = cohive.Ref(f"reg-{uuid.uuid4().hex}", default=cohive.Map(m=Money(5, "JPY"), p=Point(1, 2)))
    run_in_each([f"""
        import cohive
        m = cohive.Ref({ref.name!r}).get()
        # Reading imports types_records, whose import registers Money.
        from types_records import Money, Point
        assert m["m"] == Money(5, "JPY") and m["p"] == Point(1, 2)
        assert cohive.Map({{Money(5, "JPY"): 1}})[m["m"]] == 1
    """])


def test_an_interpreter_that_did_not_register_a_class_is_told_to() -> None:
    from types_records import register_opaque

    register_opaque()
    ref = cohive.Ref(f"reg-{uuid.uuid4().hex}", default=cohive.Map(o=Opaque([1, 2])))
    assert ref.get()["o"] == Opaque(cohive.FrozenList([1, 2]))
    run_in_each([f"""
        import cohive
        m = cohive.Ref({ref.name!r}).get()
        try:
            m["o"]
        except TypeError as e:
            assert "types_records.Opaque" in str(e) and "cohive.register(Opaque" in str(e), e
        else:
            raise AssertionError("read an unregistered class")
        from types_records import register_opaque
        register_opaque()
        assert m["o"].data == [1, 2]
    """])


def test_a_reader_that_cannot_import_the_class_gets_an_error_naming_it() -> None:
    ref = cohive.Ref(f"imp-{uuid.uuid4().hex}", default=cohive.Map(p=Point(1, 2)))
    run_in_each([f"""
        import sys, cohive
        sys.modules["types_records"] = None  # as if it could not be imported here
        try:
            cohive.Ref({ref.name!r}).get()["p"]
        except ImportError as e:
            assert "cannot rebuild a frozen types_records.Point" in str(e), e
        else:
            raise AssertionError("read a class that cannot be imported")
    """])


def test_rich_values_cross_interpreters_both_ways() -> None:
    ref = cohive.Ref(f"rich-{uuid.uuid4().hex}", default=cohive.Map(values=ROUND_TRIPS[:-1]))
    run_in_each([f"""
        import cohive, pickle
        ref = cohive.Ref({ref.name!r})
        values = list(ref.get()["values"])
        assert values == pickle.loads({pickle.dumps(ROUND_TRIPS[:-1])!r})
        assert [type(v) for v in values] == [type(v) for v in pickle.loads({pickle.dumps(ROUND_TRIPS[:-1])!r})]
        ref.set(cohive.Map(back=values, buffer=bytearray(b"xyz")))
    """])
    assert list(ref.get()["back"]) == ROUND_TRIPS[:-1] and ref.get()["buffer"] == b"xyz"


# --- pickling --------------------------------------------------------------------------------


def test_pickled_rich_values_load_in_another_process_once_allowed() -> None:
    m = cohive.Map({"values": ROUND_TRIPS, Point(1, 2): Level.HIGH})
    code = """if True:
        import pickle, sys, cohive
        sys.path.insert(0, sys.argv[1])
        data = sys.stdin.buffer.read()
        try:
            pickle.loads(data)
        except pickle.UnpicklingError as e:
            assert "cohive.allow(" in str(e) and "types_records:" in str(e), e
        assert "types_records" not in sys.modules  # refused without importing anything
        cohive.allow("types_records:Color", "types_records:Level", "types_records:Mode", "types_records:Perm",
                     "types_records:Bits", "types_records:Point", "types_records:Order", "types_records:Slotted",
                     "types_records:Pair", "types_records:Row", "types_records:Money")
        m = pickle.loads(data)
        import types_records
        print(len(m["values"]), m[types_records.Point(1, 2)] is types_records.Level.HIGH,
              m["values"][-1] == types_records.Money(1999, "EUR"))
    """
    out = subprocess.run([sys.executable, "-c", code, str(Path(__file__).parent)], input=pickle.dumps(m),
                         capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr.decode()
    assert out.stdout.split() == [str(len(ROUND_TRIPS)).encode(), b"True", b"True"]


def test_pickles_round_trip_in_process() -> None:
    m = cohive.Map({"values": ROUND_TRIPS, Point(1, 2): Level.HIGH, "buf": bytearray(b"q")})
    back = pickle.loads(pickle.dumps(m))
    assert back == m and list(back["values"]) == ROUND_TRIPS and type(back["buf"]) is cohive.FrozenBytes


def test_malformed_pickle_payloads_are_refused() -> None:
    restore = cohive._cohive._restore
    good = pickle.dumps(cohive.Map(a=Decimal("1.5")))
    payload = cohive.Map(a=Decimal("1.5")).__reduce__()[1][2]
    assert restore("Map", 2, payload) == {"a": Decimal("1.5")}
    for cut in range(len(payload)):
        with pytest.raises(ValueError, match="malformed data at byte"):
            restore("Map", 2, payload[:cut])
    with pytest.raises(ValueError, match="malformed"):
        restore("FrozenList", 2, payload)
    assert good


PAYLOAD = cohive.Map({"values": ROUND_TRIPS, Point(1, 2): [Level.HIGH, {"x": bytearray(b"b")}]}).__reduce__()[1][2]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(PAYLOAD) - 1), st.integers(0, 255)), min_size=1, max_size=4))
def test_corrupted_pickle_payloads_never_crash(edits: list[tuple[int, int]]) -> None:
    payload = bytearray(PAYLOAD)
    for at, byte in edits:
        payload[at] = byte
    try:
        m = cohive._cohive._restore("Map", 2, bytes(payload))
    except (ValueError, pickle.UnpicklingError):
        return
    try:  # decodable garbage: reading it may fail (a bad date), but cleanly
        cohive.thaw(m)
    except (ValueError, TypeError, ImportError, ArithmeticError, KeyError, AttributeError):
        pass


def test_a_map_holding_a_ref_is_not_pickled() -> None:
    ref = cohive.Ref(f"p-{uuid.uuid4().hex}")
    with pytest.raises(TypeError, match="cannot pickle a Map that holds a Ref"):
        pickle.dumps(cohive.Map(r=ref))
