"""cohive.to_json and cohive.from_json against json.dumps and json.loads."""

import dataclasses
import datetime as dt
import decimal
import enum
import json
import math
import struct
import sys
import uuid
from collections import OrderedDict, namedtuple
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import cohive
from cohive import _cohive
from conftest import colliding_hashes
from interp_helpers import run_in_each


def dumps(value: Any, sort_keys: bool = False) -> bytes:
    """What to_json promises: json.dumps, compact, not ASCII-escaped, in UTF-8."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=sort_keys).encode()


def assert_same(a: Any, b: Any) -> None:
    """Equal with the same types all the way down, floats bit for bit (-0.0 is not 0.0)."""
    if isinstance(a, (cohive.Map, cohive.FrozenList)):
        a = cohive.thaw(a)
    if isinstance(b, (cohive.Map, cohive.FrozenList)):
        b = cohive.thaw(b)
    assert type(a) is type(b), (a, b)
    if isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    elif isinstance(a, float):
        assert struct.pack("<d", a) == struct.pack("<d", b), (a, b)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            assert_same(a[key], b[key])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    else:
        assert a == b


json_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=8)
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=-(2**200), max_value=2**200),
    st.floats(), json_text,
)
json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(json_text, inner, max_size=4),
    max_leaves=12,
)


# --- to_json ------------------------------------------------------------------------------


@given(json_values)
def test_plain_values_encode_as_json_dumps(value: Any) -> None:
    assert cohive.to_json(value) == dumps(value)


@given(json_values)
def test_frozen_values_encode_as_json_dumps_of_thaw(value: Any) -> None:
    frozen = cohive.freeze(value)
    assert cohive.to_json(frozen) == dumps(cohive.thaw(frozen))
    assert cohive.to_json(frozen, sort_keys=True) == dumps(cohive.thaw(frozen), sort_keys=True)


@given(json_values)
def test_output_parses_back_to_the_value(value: Any) -> None:
    assert_same(json.loads(cohive.to_json(cohive.freeze(value))), cohive.thaw(cohive.freeze(value)))


@given(st.floats() | st.floats(min_value=-1e-300, max_value=1e-300) | st.integers().map(float))
def test_floats_are_written_as_repr(x: float) -> None:
    expected = {math.inf: "Infinity", -math.inf: "-Infinity"}.get(x, "NaN" if math.isnan(x) else repr(x))
    assert cohive.to_json(x) == expected.encode()
    assert cohive.to_json(cohive.freeze([x])) == f"[{expected}]".encode()


def test_many_floats_are_written_as_repr() -> None:
    """Every kind of double the native formatter takes, and the edges where it hands over."""
    import random

    rng = random.Random(7)
    bits_of_1e_4 = struct.unpack("<Q", struct.pack("<d", 1e-4))[0]
    values = (
        [rng.random() for _ in range(20000)]
        + [round(rng.uniform(-1e6, 1e6), rng.randrange(12)) for _ in range(20000)]
        + [struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0] for _ in range(20000)]
        + [rng.uniform(5e-5, 1e-2) for _ in range(20000)] + [rng.uniform(1e12, 4.5e15) for _ in range(20000)]
        + [struct.unpack("<d", struct.pack("<Q", bits_of_1e_4 + i))[0] for i in range(-50, 50)]
        + [2.0**i * (1 + j / 8) for i in range(-80, 60) for j in range(8)]
        + [0.1, 0.2, 0.3, 1 / 3, 4503599627370495.5, 1e16 - 2, 1e16, 2.0**-1074, 5e-324, 1.7976931348623157e308]
    )
    values += [-v for v in values]
    assert cohive.to_json(values) == dumps(values)
    assert cohive.to_json(cohive.freeze(values)) == dumps(values)


def test_plain_dicts_keep_their_order_maps_their_own() -> None:
    data = {"b": 1, "a": 2, "c": [3, {"z": 0, "y": 1}]}
    assert cohive.to_json(data) == b'{"b":1,"a":2,"c":[3,{"z":0,"y":1}]}'
    assert cohive.to_json(OrderedDict(data)) == cohive.to_json(data)
    frozen = cohive.Map(data)
    assert cohive.to_json(frozen) == dumps(cohive.thaw(frozen))
    assert cohive.to_json(frozen, sort_keys=True) == b'{"a":2,"b":1,"c":[3,{"y":1,"z":0}]}'
    assert cohive.to_json(data, sort_keys=True) == b'{"a":2,"b":1,"c":[3,{"y":1,"z":0}]}'


def test_frozen_values_inside_plain_containers() -> None:
    m = cohive.Map({"x": cohive.FrozenList([1, (2, 3)])})
    assert cohive.to_json({"m": m, "t": (m,)}) == b'{"m":{"x":[1,[2,3]]},"t":[{"x":[1,[2,3]]}]}'


def test_strings_escape_as_json_dumps() -> None:
    every_char = "".join(chr(c) for c in range(0x300)) + "\u2028\u2029\uffff\U0001f600\U0010ffff"
    for s in [every_char, every_char[:0x80], "é" * 5000 + '"', "\U0001f600" * 5000 + "\\"]:
        assert cohive.to_json(s) == dumps(s)
        assert cohive.to_json(cohive.freeze([s])) == dumps([s])


def test_lone_surrogates_are_escaped_and_read_back() -> None:
    s = "a\ud800b\udfff"
    assert cohive.to_json(s) == b'"a\\ud800b\\udfff"'
    assert json.loads(cohive.to_json(s)) == s
    assert cohive.from_json(cohive.to_json(s)) == s


def test_int_and_float_keys_become_strings() -> None:
    data = {1: "a", -(2**100): "b", 1.5: "c", True: "d", None: "e", math.nan: "f", "s": "g"}
    data.pop(True)  # True == 1 already
    data[False] = "h"
    assert cohive.to_json(data) == dumps(data)
    frozen = cohive.Map(data)
    assert cohive.to_json(frozen) == dumps(cohive.thaw(frozen))


@pytest.mark.parametrize("keys", [[3, 1, 2.5, -(2**70), True], ["b", "a", "\U0001f600", "é", "", "ab"]])
def test_sort_keys_orders_as_sorted(keys: list[Any]) -> None:
    data = {k: i for i, k in enumerate(keys)}
    assert cohive.to_json(cohive.Map(data), sort_keys=True) == dumps(data, sort_keys=True)
    assert cohive.to_json(data, sort_keys=True) == dumps(data, sort_keys=True)


def test_sort_keys_refuses_keys_that_do_not_compare() -> None:
    with pytest.raises(TypeError, match=r"value\['x'\]: sort_keys cannot order the keys"):
        cohive.to_json(cohive.Map({"x": {1: 1, "a": 2}}), sort_keys=True)
    with pytest.raises(TypeError):
        json.dumps({1: 1, "a": 2}, sort_keys=True)
    assert cohive.to_json(cohive.Map({None: 1}), sort_keys=True) == b'{"null":1}'


def test_sort_keys_survives_keys_that_change_the_value() -> None:
    outer: list[Any] = []

    class Meddler:
        def __hash__(self) -> int:
            return id(self)

        def __lt__(self, other: object) -> bool:
            outer.clear()
            return True

    outer.extend([{Meddler(): 1, Meddler(): 2}, "x" * 100, [1, 2]])
    with pytest.raises(TypeError, match=r"value\[0\]: keys must be str, int, float, bool or None, not Meddler"):
        cohive.to_json(outer, sort_keys=True)


def test_ints_of_any_size_up_to_the_digit_limit() -> None:
    for n in [2**60 - 1, 2**60, -(2**60), -(2**60) - 1, 2**63, -(2**64), 10**100, -(10**4299)]:
        assert cohive.to_json(n) == str(n).encode()
        assert cohive.to_json(cohive.freeze([n])) == f"[{n}]".encode()
    too_long = 10**4300
    with pytest.raises(ValueError, match=r"value\[0\]\['k'\]: Exceeds the limit \(4300 digits\)"):
        cohive.to_json(cohive.freeze([{"k": too_long}]))
    with pytest.raises(ValueError):
        json.dumps(too_long)
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        assert cohive.to_json(cohive.freeze(too_long)) == str(too_long).encode()
    finally:
        sys.set_int_max_str_digits(old)


def test_subclasses_encode_as_their_base_like_json_dumps() -> None:
    import enum

    class Colour(enum.IntEnum):
        RED = 1

    class Name(str, enum.Enum):
        ADA = "ada"

    Point = namedtuple("Point", "x y")
    value = {"c": Colour.RED, "n": Name.ADA, "p": Point(1, 2), Colour.RED: 0}
    assert cohive.to_json(value) == dumps(value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"a": [1, b"x"]}, r"value\['a'\]\[1\]: Object of type bytes is not JSON serializable"),
        ([{1, 2}], r"value\[0\]: Object of type set is not JSON serializable"),
        (cohive.Map({"a": frozenset([1])}), r"value\['a'\]: Object of type frozenset is not JSON serializable"),
        (cohive.Map({"a": {"b": 1j}}), r"value\['a'\]\['b'\]: Object of type complex is not JSON serializable"),
        ({"r": [object()]}, r"value\['r'\]\[0\]: Object of type object is not JSON serializable"),
        ({(1, 2): 1}, r"value: keys must be str, int, float, bool or None, not tuple"),
        (cohive.Map({"k": {(1, 2): 1}}), r"value\['k'\]: keys must be str, int, float, bool or None, not tuple"),
        ({"q": cohive.Map({b"k": 1})}, r"value\['q'\]: keys must be str, int, float, bool or None, not bytes"),
    ],
)
def test_values_json_cannot_hold_are_refused_with_their_path(value: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        cohive.to_json(value)


def test_unsupported_native_kinds_name_their_type() -> None:
    lock = cohive.Lock()
    with pytest.raises(TypeError, match=r"value\['l'\]: Object of type cohive.Lock is not JSON serializable"):
        cohive.to_json(cohive.Map({"l": lock}))


def test_circular_and_too_deep_plain_values_are_refused() -> None:
    loop: list[Any] = [1]
    loop.append(loop)
    with pytest.raises(ValueError, match=r"value\[1\]: Circular reference detected"):
        cohive.to_json(loop)
    deep: list[Any] = []
    for _ in range(cohive.MAX_DEPTH):
        deep = [deep]
    with pytest.raises(ValueError, match="nesting deeper than 256 levels"):
        cohive.to_json(deep)
    assert cohive.to_json(deep[0]) == b"[" * 256 + b"]" * 256


def test_to_json_arguments() -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument 'indent'"):
        cohive.to_json(1, indent=2)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="takes exactly 1 arguments"):
        cohive.to_json()  # type: ignore[call-arg]


def test_failures_leave_no_native_memory(native_baseline: int) -> None:
    for bad in [cohive.Map({"a": [1, 2, {"b": b"x"}]}), {"a": [cohive.FrozenList([1]), {1j}]}, {(1,): 2}]:
        with pytest.raises(TypeError):
            cohive.to_json(bad)
    for text in ['{"a": [1, 2, {"b": [3, "x"', '[1, 2, {"a": 1, "a": 2}] x', '{"k": "\\q"}', '[' * 300]:
        with pytest.raises(ValueError):
            cohive.from_json(text)
    assert cohive.from_json('{"a": [1, {"b": "c"}], "a": 2}') == {"a": 2}


# --- from_json ----------------------------------------------------------------------------------


@given(json_values)
def test_documents_parse_as_json_loads(value: Any) -> None:
    text = json.dumps(value)
    assert_same(cohive.from_json(text), json.loads(text))
    assert_same(cohive.from_json(text.encode()), json.loads(text))
    compact = dumps(value)
    assert_same(cohive.from_json(compact), json.loads(compact))


@given(st.text(max_size=20))
def test_any_str_round_trips(s: str) -> None:
    for text in [json.dumps(s), json.dumps(s, ensure_ascii=False)]:
        assert_same(cohive.from_json(text), json.loads(text))


@pytest.mark.parametrize(
    "text",
    [
        '"\\ud83d\\ude00"', '"\\ud83d"', '"\\ude00\\ud83d"', '"\\ud83d\\u0041"', '"\\ud83dx\\ude00"',
        '"\\uD83D\\uDE00"', '"\\ud83d\\ud83d\\ude00"', '"\\/\\b\\f\\n\\r\\t\\"\\\\"', '"\ud800"',
        "NaN", "-Infinity", "[Infinity]", "-0", "-0.0", "1e400", "-1e-400", "0.1", "1E+2", "1e-7",
        "123456789012345678901234567890", "-1152921504606846976", "1152921504606846975", "1152921504606846976",
        "17976931348623157e292", "2.2250738585072011e-308", "0.30000000000000004", "9007199254740993.0",
        " \t\n\r[ 1 , 2 ]\r\n", '{"a": {"a": {}}, "b": []}', '{"": 1}', '"\x7f"', '"é\U0001f600"',
    ],
)
def test_edge_documents_parse_as_json_loads(text: str) -> None:
    assert_same(cohive.from_json(text), json.loads(text))
    assert_same(cohive.from_json(text.encode("utf-8", "surrogatepass")), json.loads(text))


def test_many_floats_parse_as_json_loads() -> None:
    """Numbers of up to 25 digits, the point anywhere, exponents around every fast path's edge."""
    import random

    rng = random.Random(11)
    numbers = []
    for _ in range(100_000):
        digits = str(rng.randrange(1, 10 ** rng.randrange(1, 26)))
        point = rng.randrange(len(digits) + 1)
        text = digits[:point] + ("." + digits[point:] if point < len(digits) else "")
        text = text if not text.startswith(".") else "0" + text
        text = text.lstrip("0") or "0" if "." not in text else text
        if text.startswith("0") and len(text) > 1 and text[1] != ".":
            text = text.lstrip("0") or "0"
        if rng.random() < 0.5:
            text += f"e{rng.randrange(-40, 40)}"
        numbers.append(("-" if rng.random() < 0.5 else "") + text)
    numbers += ["9007199254740993", "9007199254740993.0", "0.1e-21", "1e-22", "12345678901234567890e-21",
                "18446744073709551615e-21", "18446744073709551615e19", "2.2250738585072014e-308", "4.9e-324"]
    document = "[" + ",".join(numbers) + "]"
    assert_same(cohive.from_json(document), json.loads(document))


def test_duplicate_keys_last_wins() -> None:
    assert cohive.from_json('{"a": 1, "b": 2, "a": 3}') == {"a": 3, "b": 2}
    many = "{" + ",".join(f'"k{i % 20}": {i}' for i in range(100)) + "}"
    assert cohive.thaw(cohive.from_json(many)) == json.loads(many)


def test_repeated_keys_are_stored_once() -> None:
    """Parsed objects with the same keys are records sharing one shape: no key bytes per object."""
    document = json.dumps([{"name": i, "email": i, "a somewhat longer key": i} for i in range(1000)])
    before = cohive.native_bytes()
    parsed = cohive.from_json(document)
    shared = cohive.native_bytes() - before
    frozen = cohive.freeze(json.loads(document))
    assert parsed == frozen and _cohive._map_form(parsed[0]) == "record"
    # a record of three small ints is 16 + 3 * 8 bytes, the list holds a word for it
    assert shared < 1000 * (40 + 8) + 1000


def test_keys_with_colliding_hashes() -> None:
    document = '[{"a": 1, "b": 2}, {"b": 3, "a": 4}, {"ab": 5, "a": 6, "b": 7}]'
    with colliding_hashes(0):
        assert cohive.thaw(cohive.from_json(document)) == json.loads(document)


def test_containers_are_frozen() -> None:
    value = cohive.from_json('{"users": [{"name": "ada", "tags": ["x"]}]}')
    assert isinstance(value, cohive.Map)
    assert isinstance(value["users"], cohive.FrozenList)
    assert isinstance(value["users"][0], cohive.Map)
    assert value == cohive.freeze({"users": [{"name": "ada", "tags": ["x"]}]})


@pytest.mark.parametrize(
    "text",
    [
        "", " ", "[", "[1,]", '{"a":1,}', "{", '{"a"', '{"a":', '{"a" 1}', "{1: 2}", "[1 2]", "01", "1.", ".5",
        "1e", "-", "--1", "+1", "tru", "nul", "nan", "-NaN", "infinity", "[1] x", '"abc', '"\\x"', '"\\u12"',
        '"\\u12G4"', '"a\nb"', '"\x00"', "'a'", "[1,,2]", '{"a":1 "b":2}', "\ufeff[]", "[1]\x00", "1 2",
    ],
)
def test_malformed_documents_fail_as_json_loads_does(text: str) -> None:
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    with pytest.raises(json.JSONDecodeError) as got:
        cohive.from_json(text)
    if sys.version_info < (3, 13) and got.value.msg.startswith("Illegal trailing comma"):
        return  # 3.12 says "Expecting value" one character later; cohive speaks as 3.13 does
    assert got.value.msg == expected.value.msg
    assert (got.value.pos, got.value.lineno, got.value.colno) == (
        expected.value.pos, expected.value.lineno, expected.value.colno)


def test_error_positions_count_characters_and_lines() -> None:
    text = '{\n  "é\U0001f600": [1,\n   2,, 3]}'
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    for data in [text, text.encode()]:
        with pytest.raises(json.JSONDecodeError) as got:
            cohive.from_json(data)
        assert (got.value.msg, got.value.pos, got.value.lineno, got.value.colno) == (
            expected.value.msg, expected.value.pos, expected.value.lineno, expected.value.colno)
        assert "line 3 column 6" in str(got.value)


def test_invalid_utf8_is_a_value_error() -> None:
    for data in [b'"\xff"', b'"\xc0\x80"', b'"\xe0\x80\x80"', b'"\xf4\x90\x80\x80"', b'"\xe2\x82"']:
        with pytest.raises(ValueError):
            json.loads(data)
        with pytest.raises(json.JSONDecodeError, match="Invalid UTF-8"):
            cohive.from_json(data)
    assert cohive.from_json(b'"\xed\xa0\x80"') == json.loads(b'"\xed\xa0\x80"') == "\ud800"


def test_bytes_in_every_encoding_json_loads_detects() -> None:
    doc = '{"k": ["é", "\U0001f600", 1]}'
    for encoding in ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"]:
        data = doc.encode(encoding)
        assert cohive.thaw(cohive.from_json(data)) == json.loads(data), encoding
    assert cohive.from_json(bytearray(b"[1]")) == [1]
    assert cohive.from_json(memoryview(b"[12, 3]")[1:3]) == 12
    with pytest.raises(TypeError, match="must be str, bytes or bytearray, not int"):
        cohive.from_json(1)  # type: ignore[arg-type]


def test_nesting_is_limited_to_max_depth() -> None:
    deepest = "[" * 256 + "]" * 256
    assert cohive.from_json(deepest) == json.loads(deepest)
    with pytest.raises(json.JSONDecodeError, match=r"nesting deeper than cohive.MAX_DEPTH \(256\).*char 256"):
        cohive.from_json("[" * 257 + "]" * 257)
    with pytest.raises(ValueError, match="nesting deeper"):
        cohive.from_json('{"a":' * 300 + "1" + "}" * 300)
    with pytest.raises(ValueError, match="nesting deeper"):  # never a crash, however deep
        cohive.from_json("[" * 1_000_000)


def test_int_digit_limit_as_json_loads() -> None:
    text = "1" * 4301
    with pytest.raises(ValueError):
        json.loads(text)
    with pytest.raises(ValueError, match=r"Exceeds the limit \(4300 digits\).*has 4301 digits"):
        cohive.from_json(f"[{text}]")
    assert cohive.from_json("-" + "9" * 4300) == -int("9" * 4300)
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        assert cohive.from_json("7" * 20000) == int("7" * 20000)
    finally:
        sys.set_int_max_str_digits(old)


# Valid documents, then damaged: from_json accepts exactly what json.loads accepts.
mutations = st.lists(
    st.tuples(st.sampled_from(["insert", "delete", "replace"]), st.integers(0, 10**6),
              st.sampled_from(list(b'{}[]",:.-+eE0123456789 \\/ubfnrtaxNIl\x00\x1f\x7f') + [0xC3, 0xA9, 0xED, 0xFF])),
    min_size=1, max_size=4,
)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(json_values, mutations)
def test_damaged_documents_are_accepted_exactly_when_json_loads_accepts(value: Any, edits: list[Any]) -> None:
    data = bytearray(json.dumps(value, ensure_ascii=False).encode())
    for op, where, byte in edits:
        i = where % (len(data) + 1)
        if op == "insert":
            data.insert(i, byte)
        elif i < len(data):
            if op == "delete":
                del data[i]
            else:
                data[i] = byte
    document = bytes(data)
    try:
        expected = json.loads(document)
    except ValueError:
        with pytest.raises(ValueError):
            cohive.from_json(document)
        return
    except RecursionError:  # pragma: no cover - documents here are shallow
        assume(False)
    assert_same(cohive.from_json(document), expected)


@given(st.binary(max_size=40))
def test_random_bytes_never_crash(data: bytes) -> None:
    try:
        expected = json.loads(data)
    except ValueError:
        with pytest.raises(ValueError):
            cohive.from_json(data)
    else:
        assert_same(cohive.from_json(data), expected)


# --- other interpreters ------------------------------------------------------------------------


def test_json_works_in_isolated_subinterpreters() -> None:
    code = """
        import json, cohive
        data = {"name": "ada", "n": [1, 2.5, None, True, 10**30], "é": {"x": "\\U0001f600\\n"}}
        m = cohive.freeze(data)
        assert cohive.to_json(data) == json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
        assert cohive.to_json(m) == json.dumps(cohive.thaw(m), separators=(",", ":"), ensure_ascii=False).encode()
        assert cohive.from_json(cohive.to_json(m)) == m
        try:
            cohive.from_json('{"a": }')
        except json.JSONDecodeError as e:
            assert e.pos == 6, e
        else:
            raise AssertionError("no error")
    """
    run_in_each([code, code])


# --- rich values: the JSON forms #11 asks for ------------------------------------------------------


class Colour(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    tags: list[str]


Pair = namedtuple("Pair", "a b")


def json_form(v: Any) -> Any:
    """What to_json promises for rich values, built with plain Python."""
    if isinstance(v, enum.Enum):
        return v.value
    if isinstance(v, (dt.datetime, dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, (dt.timedelta, decimal.Decimal, uuid.UUID)):
        return str(v)
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return {f.name: json_form(getattr(v, f.name)) for f in dataclasses.fields(v)}
    if isinstance(v, dict):
        return {json_form(k) if not isinstance(k, (str, int, float)) or isinstance(k, enum.Enum) else k: json_form(x)
                for k, x in v.items()}
    if isinstance(v, (list, tuple, cohive.FrozenList)):
        return [json_form(x) for x in v]
    return v


RICH = {
    "when": dt.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    "naive": dt.datetime(2026, 1, 2, 3, 4),
    "day": dt.date(2026, 1, 2),
    "at": dt.time(1, 2, 3, 4),
    "took": dt.timedelta(days=-1, seconds=5, microseconds=7),
    "price": decimal.Decimal("-1.50E+3"),
    "id": uuid.UUID(int=5),
    "colour": Colour.RED,
    "level": Level.HIGH,
    "point": Point(1, ["a", "b"]),
    "pair": Pair(1, [Colour.RED]),
    dt.date(2020, 1, 1): "a date key",
    uuid.UUID(int=1): "a UUID key",
    Colour.RED: "an enum key",
    decimal.Decimal("2.5"): "a Decimal key",
}


@pytest.mark.parametrize("sort_keys", [False, True])
def test_rich_values_have_their_json_forms(sort_keys: bool) -> None:
    expected = json_form(RICH)
    plain = cohive.to_json(RICH)
    assert plain == dumps(expected)  # plain values: json.dumps's own order
    frozen = cohive.to_json(cohive.Map(RICH))
    assert json.loads(frozen) == expected
    if sort_keys:
        point = cohive.Map(RICH)["point"]
        assert cohive.to_json(point, sort_keys=True) == dumps(json_form(point), sort_keys=True)
