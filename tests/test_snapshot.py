"""Snapshots: Map.save(path) and cohive.load(path).

A loaded Map is mapped read-only, so every read in these tests also proves
that reading writes nothing to it (a write would be a SIGSEGV).  The same
values are checked against the heap Map they were saved from, which is the
reference model here.
"""

import datetime
import decimal
import gc
import os
import pickle
import random
import struct
import subprocess
import sys
import textwrap
import uuid
import zoneinfo
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from interp_helpers import run_in_each
from strategies import keys, values

import cohive

TIMEOUT = 120


def record(i: int) -> dict[str, Any]:
    return {
        "name": f"user number {i}",
        "age": 18 + i % 80,
        "tags": [f"t{i % 13}", "member"],
        "score": i / 7,
        "active": i % 2 == 0,
        "nested": {"a": i, "b": [1, 2.5, "x" * 40], "c": {"deep": (i, "é")}},
    }


RICH: dict[Any, Any] = {
    "ascii": "plain",
    "latin1": "café",
    "ucs2": "Ω≈ç√",
    "ucs4": "𝄞 music",
    "long": "y" * 5000,
    "bytes": b"\x00\xff" * 10,
    "big bytes": bytes(range(256)) * 40,
    "buffer": bytearray(b"abc"),
    "float": -1.5e300,
    "complex": 3 - 4j,
    "ints": [0, -1, 127, 128, -(2**40), 2**60 - 1, -(2**60), 2**61, -(2**200)],
    "consts": (None, True, False),
    "big list": list(range(300)),
    "sets": [{1, 2, 3}, frozenset({"a", "b"}), set(), frozenset()],
    "empty": [{}, [], (), ""],
    "date": datetime.date(2024, 2, 29),
    "datetime": datetime.datetime(2020, 5, 17, 10, 30, 5, 123, tzinfo=datetime.timezone(datetime.timedelta(hours=-3))),
    "zoned": datetime.datetime(2021, 1, 1, 12, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")),
    "time": datetime.time(23, 59, 59, 999999),
    "delta": datetime.timedelta(days=-3, seconds=5),
    "decimals": [decimal.Decimal("1.25"), decimal.Decimal("-0"), decimal.Decimal("-Infinity"), decimal.Decimal("1e-999")],
    "uuid": uuid.UUID(int=12345),
    "big dict": {f"k{i}": {"v": i} for i in range(200)},
    "records": [record(i) for i in range(3)],
    42: "int key",
    (1, "two"): "tuple key",
    frozenset({1, 2}): "frozenset key",
    -7.5: "float key",
}


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "data.snapshot"


def saved(m: cohive.Map, path: Path) -> cohive.Map:
    m.save(path)
    return cohive.load(path)


def mapped_files() -> list[str]:
    with open("/proc/self/maps") as f:
        return [line.split()[-1] for line in f if len(line.split()) >= 6]


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"only": 1},
        {"a": 1, "b": "two"},
        {i: i for i in range(100)},
        {f"user:{i}": record(i) for i in range(2000)},
        RICH,
    ],
    ids=["empty", "one key", "record", "ints", "records", "rich"],
)
def test_round_trip(path: Path, data: dict[Any, Any]) -> None:
    m = cohive.Map(data)
    loaded = saved(m, path)
    assert type(loaded) is cohive.Map
    assert loaded == m and m == loaded
    assert hash(loaded) == hash(m)
    assert len(loaded) == len(m)
    assert list(loaded) == list(m)  # the same hash order in every process
    assert repr(loaded) == repr(m)
    assert loaded.thaw() == m.thaw() == cohive.thaw(cohive.freeze(data))
    for k in m:
        assert loaded[k] == m[k]
        assert k in loaded
    assert loaded.get("absent", 5) == 5


def test_values_read_in_place(path: Path) -> None:
    loaded = saved(cohive.Map(RICH), path)
    assert loaded["ucs4"] == "𝄞 music"
    assert loaded["big list"][299] == 299
    assert isinstance(loaded["buffer"], cohive.FrozenBytes) and bytes(loaded["buffer"]) == b"abc"
    assert loaded["zoned"].tzinfo == zoneinfo.ZoneInfo("Europe/Paris")
    assert loaded["decimals"][2].is_infinite()
    assert loaded["big dict"]["k199"]["v"] == 199
    assert loaded["records"][2]["nested"]["c"]["deep"] == (2, "é")
    assert cohive.to_json(loaded["records"][0]) == cohive.to_json(cohive.freeze(record(0)))


def test_edits_share_the_mapping_and_outlive_it(path: Path) -> None:
    data = {f"user:{i}": record(i) for i in range(3000)}
    m = cohive.Map(data)
    loaded = saved(m, path)
    edited = loaded.set("new", 1).delete("user:7").update({"user:8": "replaced"})
    with loaded.mutate() as mm:
        mm["x"] = [1, 2]
        del mm["user:9"]
        mutated = mm.finish()
    view = loaded["user:5"]
    nested = loaded["user:6"]["nested"]
    del loaded
    gc.collect()
    assert str(path) in mapped_files()  # the edits and views keep it mapped
    assert edited["user:10"] == m["user:10"] and "user:7" not in edited and edited["user:8"] == "replaced"
    assert len(edited) == len(m)
    assert mutated["x"] == [1, 2] and "user:9" not in mutated and mutated["user:11"] == m["user:11"]
    assert view == m["user:5"] and nested == m["user:6"]["nested"]
    del edited, mutated, view, nested, mm
    gc.collect()
    assert str(path) not in mapped_files()


def test_values_stored_elsewhere_are_copied(path: Path) -> None:
    data = {"rec": record(1), "big": {f"k{i}": i for i in range(2000)}, "list": list(range(1000)), "n": 5}
    loaded = saved(cohive.Map(data), path)
    other = cohive.Map({"rec": loaded["rec"], "big": loaded["big"], "list": loaded["list"]})
    merged = cohive.Map({"keep": 1}).update(loaded)
    ref = cohive.Ref("snapshot-test-ref", default=loaded["big"])
    queue = cohive.Queue()
    queue.put(loaded["rec"])
    queue.put(loaded)
    from_queue = [queue.get(timeout=TIMEOUT), queue.get(timeout=TIMEOUT)]
    del loaded
    gc.collect()
    assert other.thaw() == {k: data[k] for k in ("rec", "big", "list")}
    assert merged["big"]["k1999"] == 1999 and merged["keep"] == 1
    assert ref.get()["k5"] == 5
    assert from_queue[0] == cohive.freeze(data["rec"]) and from_queue[1]["n"] == 5
    del other, merged, ref, from_queue
    gc.collect()
    assert str(path) not in mapped_files()


def test_memory_returns_to_baseline(path: Path) -> None:
    data = {f"user:{i}": record(i) for i in range(500)}
    cohive.Map(data).save(path)
    gc.collect()
    before = cohive.native_bytes()
    for _ in range(20):
        loaded = cohive.load(path)
        edited = loaded.set("x", 1).set(("a", 1), loaded["user:3"])
        assert edited["x"] == 1
        del loaded, edited
    gc.collect()
    assert cohive.native_bytes() == before
    assert str(path) not in mapped_files()


def test_save_is_atomic_and_loaded_files_never_change(path: Path) -> None:
    cohive.Map({"v": 1, "w": list(range(100))}).save(path)
    first = cohive.load(path)
    cohive.Map({"v": 2}).save(path)  # a new file renamed over the old one
    second = cohive.load(path)
    assert first["v"] == 1 and first["w"][99] == 99
    assert second["v"] == 2
    assert os.listdir(path.parent) == [path.name]  # no temporary file left


def test_pickle_and_equality_with_heap_maps(path: Path) -> None:
    m = cohive.Map(RICH)
    loaded = saved(m, path)
    assert pickle.loads(pickle.dumps(loaded)) == m
    assert cohive.Map({"a": loaded}) == cohive.Map({"a": m})
    assert loaded.save(path.with_suffix(".again")) is None  # a loaded Map saves like any other
    assert cohive.load(path.with_suffix(".again")) == m


def test_a_second_process_reads_the_same_file(path: Path) -> None:
    m = cohive.Map({f"user:{i}": record(i) for i in range(1000)})
    m.save(path)
    code = textwrap.dedent(
        f"""
        import cohive
        m = cohive.load({str(path)!r})
        print(sum(m[f"user:{{i}}"]["age"] for i in range(1000)), m["user:7"]["nested"]["c"]["deep"])
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split(maxsplit=1) == [str(sum(m[f"user:{i}"]["age"] for i in range(1000))), "(7, 'é')\n"]


@pytest.mark.skipif(sys.platform == "win32", reason="os.fork is POSIX only")
def test_forked_child_reads_a_loaded_snapshot(path: Path) -> None:
    cohive.Map({f"k{i}": record(i) for i in range(100)}).save(path)
    code = textwrap.dedent(
        f"""
        import os, cohive
        m = cohive.load({str(path)!r})
        pid = os.fork()
        if pid == 0:
            ok = m["k5"]["nested"]["a"] == 5 and m.set("x", 1)["k9"]["age"] == 27
            os._exit(0 if ok else 1)
        print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "0\n"


def test_interpreters_load_and_read_in_parallel(path: Path) -> None:
    m = cohive.Map({f"k{i}": record(i) for i in range(500)})
    m.save(path)
    want = sum(m[f"k{i}"]["age"] for i in range(500))
    code = f"""
        import cohive
        m = cohive.load({str(path)!r})
        assert sum(m[f"k{{i}}"]["age"] for i in range(500)) == {want}
        assert m["k3"]["nested"]["b"][2] == "x" * 40
    """
    run_in_each([code, code])


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(keys, values, max_size=8))
def test_any_frozen_value_round_trips(tmp_path_factory: pytest.TempPathFactory, data: dict[Any, Any]) -> None:
    path = tmp_path_factory.mktemp("hyp") / "s"
    m = cohive.Map(data)
    loaded = saved(m, path)
    assert loaded == m and hash(loaded) == hash(m) and list(loaded) == list(m)
    assert loaded.thaw() == m.thaw()


# --- bad input ------------------------------------------------------------------------


def test_named_objects_and_instances_are_refused_with_their_path(path: Path) -> None:
    m = cohive.Map({"users": [{"name": "a"}, {"name": "b", "lock": cohive.Lock()}]})
    with pytest.raises(TypeError, match=r"synchronisation primitive at m\['users'\]\[1\]"):
        m.save(path)
    assert not path.exists() and os.listdir(path.parent) == []


def test_unwritable_path_leaves_no_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        cohive.Map({"a": 1}).save(tmp_path / "missing" / "s")
    assert os.listdir(tmp_path) == []


def test_missing_and_unreadable_paths(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        cohive.load(tmp_path / "nothing")
    with pytest.raises(IsADirectoryError):
        cohive.load(tmp_path)


def test_other_versions_are_named(path: Path) -> None:
    cohive.Map({"a": 1}).save(path)
    data = bytearray(path.read_bytes())
    struct.pack_into("<I", data, 8, 7)
    path.write_bytes(data)
    with pytest.raises(cohive.SnapshotError, match="format version 7; this cohive reads version 1"):
        cohive.load(path)


def test_snapshot_error_is_a_value_error(path: Path) -> None:
    path.write_bytes(b"not a snapshot at all, but long enough to have a header......." * 2)
    with pytest.raises(ValueError, match="not a cohive snapshot"):
        cohive.load(path)
    assert issubclass(cohive.SnapshotError, ValueError)


def read_all(value: Any) -> None:
    """Reads everything reachable, every way (a bad word would crash here)."""
    if isinstance(value, cohive.Map):
        len(value), hash(value), repr(value), value.thaw(), pickle.dumps(value)
        value.set("probe", 1).delete("probe")
        for k, v in value.items():
            read_all(k)
            read_all(v)
            value.get(k)
    elif isinstance(value, (cohive.FrozenList, tuple, frozenset)):
        hash(value) if not isinstance(value, cohive.FrozenList) else None
        for item in value:
            read_all(item)
    else:
        repr(value)


def mutants(data: bytes, rng: random.Random) -> list[tuple[str, bytes]]:
    """Damaged copies of a snapshot file: what disks, truncation and hostile
    writers make of one."""
    out = []
    n = len(data)
    for _ in range(60):
        b = bytearray(data)
        i = rng.randrange(n)
        b[i] ^= 1 << rng.randrange(8)
        out.append((f"bit flip at {i}", bytes(b)))
    for cut in (0, 1, 63, 64, n // 2, n - 8, n - 1):
        out.append((f"truncated to {cut}", data[:cut]))
    for _ in range(40):
        b = bytearray(data)
        at = rng.randrange(0, n - 8) & ~7
        word = rng.choice([0, 1, 4, 5, 0x7FFFFFFF, 0xFFFFFFFF, 2**63, n, n - 8, n + 8, 2**64 - 8, 2**64 - 4])
        struct.pack_into("<Q", b, at, word)
        out.append((f"word {word:#x} at {at}", bytes(b)))
    for _ in range(20):
        b = bytearray(data)
        src, dst, size = rng.randrange(n), rng.randrange(n), rng.randrange(1, 64)
        b[dst : dst + size] = data[src : src + size]
        out.append((f"splice {size} bytes from {src} to {dst}", bytes(b[:n])))
    return out


def fix_checksum(data: bytes) -> bytes:
    """The mutant with a checksum that matches, so the structural checks
    behind it are what must catch the damage (as for a hostile file)."""
    if len(data) < 64:
        return data
    b = bytearray(data)
    struct.pack_into("<Q", b, 56, 0)
    struct.pack_into("<Q", b, 24, len(b))
    b[56:64] = cohive._cohive._snapshot_checksum(bytes(b))
    return bytes(b)


@pytest.mark.parametrize("seed", range(3))
def test_damaged_files_raise_snapshot_error_never_crash(path: Path, seed: int) -> None:
    rng = random.Random(seed)
    m = cohive.Map({**RICH, "records": {f"r{i}": record(i) for i in range(40)}})
    m.save(path)
    original = path.read_bytes()
    outcomes = {"at load": 0, "at a lookup": 0, "at a full read": 0, "sound": 0}
    for what, data in mutants(original, rng):
        for attempt in (data, fix_checksum(data)):
            fresh = path.with_suffix(".new")  # a new file, as save makes: never rewrite one that may be mapped
            fresh.write_bytes(attempt)
            os.replace(fresh, path)
            try:
                loaded = cohive.load(path)
            except cohive.SnapshotError as e:
                assert str(path) in str(e), what
                outcomes["at load"] += 1
                continue
            try:
                for k in m:  # lookups check only what they read, as they read it
                    loaded.get(k)
            except cohive.SnapshotError:
                outcomes["at a lookup"] += 1
                with pytest.raises(cohive.SnapshotError):  # and the snapshot stays damaged
                    len(list(loaded))
                continue
            try:
                read_all(loaded)  # checks the whole file first
            except cohive.SnapshotError:
                outcomes["at a full read"] += 1
                continue
            outcomes["sound"] += 1
    assert all(outcomes.values()), outcomes


def test_load_is_lazy_and_verify_checks_everything(path: Path) -> None:
    m = cohive.Map({f"k{i}": record(i) for i in range(2000)})
    m.save(path)
    data = bytearray(path.read_bytes())
    victim = data.index(b"user number 1999")  # inside one record, deep in the trie
    data[victim : victim + 4] = b"\xff\xff\xff\xff"  # no longer ASCII
    path.write_bytes(fix_checksum(bytes(data)))
    loaded = cohive.load(path)  # reads the header, the shapes and the root only
    assert loaded["k5"] == m["k5"]
    with pytest.raises(cohive.SnapshotError, match="code units do not match its width"):
        loaded["k1999"]
    with pytest.raises(cohive.SnapshotError):
        loaded["k5"]  # a snapshot found damaged stays so
    with pytest.raises(cohive.SnapshotError, match="code units do not match its width"):
        cohive.load(path, verify=True)
    fresh = cohive.load(path)
    with pytest.raises(cohive.SnapshotError):
        list(fresh)  # anything but a lookup checks the whole file first


# --- crafted files (each once let a file through that misled or crashed a reader) -------


def crafted(path: Path, m: cohive.Map, change: Any) -> cohive.Map:
    """Saves `m`, lets change(bytearray) damage the file, fixes the checksum
    so the structural checks are what must catch it, and loads it."""
    m.save(path)
    data = bytearray(path.read_bytes())
    change(data)
    path.write_bytes(fix_checksum(bytes(data)))
    return cohive.load(path)


def set_word(data: bytearray, at: int, value: int) -> None:
    struct.pack_into("<Q", data, at, value)


def test_a_scalar_that_says_it_nests_is_refused(path: Path) -> None:
    def change(data: bytearray) -> None:
        head = data.index(bytes.fromhex("ffffffff01000000"), 64)  # the long str: count, str, ASCII, aux 0
        struct.pack_into("<H", data, head + 6, 60000)

    loaded = crafted(path, cohive.Map({1: "x" * 1000}), change)
    with pytest.raises(cohive.SnapshotError, match="a value that says it nests"):
        loaded[1]


def test_a_set_out_of_hash_order_is_refused(path: Path) -> None:
    def change(data: bytearray) -> None:
        items = data.index(bytes([0x8F, 4, 0])) + 3 + 2 * 5
        data[items], data[items + 3] = data[items + 3], data[items]

    loaded = crafted(path, cohive.Map({1: frozenset({10, 20, 30, 40})}), change)
    with pytest.raises(cohive.SnapshotError, match="a set out of hash order"):
        loaded[1]


def test_a_big_int_a_small_int_holds_is_refused(path: Path) -> None:
    def change(data: bytearray) -> None:
        data_at = data.index(bytes.fromhex("ffffffff05"), 64) + 12
        data[data_at : data_at + 8] = (2).to_bytes(8, "little")

    loaded = crafted(path, cohive.Map({2**62: "a"}), change)
    with pytest.raises(cohive.SnapshotError, match="a big int not in its one form"):
        list(loaded)


def test_a_key_twice_in_a_collision_node_is_refused(path: Path) -> None:
    old = cohive._cohive._set_hash_mask(0)  # every key collides: one collision node
    try:
        def change(data: bytearray) -> None:
            at = data.index(struct.pack("<Q", (2 << 3) | 1))
            set_word(data, at, (1 << 3) | 1)  # key 2 becomes a second key 1

        loaded = crafted(path, cohive.Map({1: "one", 2: "two"}), change)
        with pytest.raises(cohive.SnapshotError, match="a key twice in one collision node"):
            list(loaded)
    finally:
        cohive._cohive._set_hash_mask(old)


def test_an_object_cut_by_the_end_of_the_file_is_refused(path: Path) -> None:
    def change(data: bytearray) -> None:
        del data[-8:]  # the last object loses its last word (a float's value)
        struct.pack_into("<Q", data, 24, len(data))
        struct.pack_into("<Q", data, 32, len(data))

    with pytest.raises(cohive.SnapshotError):
        loaded = crafted(path, cohive.Map({"a": 1.5, "b": [2.5] * 100}), change)
        list(loaded)


def test_a_record_that_no_longer_packs_is_copied_as_a_map(path: Path) -> None:
    record = {f"f{i:02d}": ("y" * 600) + str(i) for i in range(62)}
    record["nest"] = {"a": "abc"}

    def change(data: bytearray) -> None:
        # The record owns its nested record's shape by an extern word: make
        # that word None and the nested "abc" an extern naming it, so 63
        # externs are in use and a repack of the record no longer fits.
        for at in range(144, len(data), 8):
            if struct.unpack_from("<Q", data, at)[0] & 7 == 5 and data[133] >> 2 == 63:
                set_word(data, at, 2)
                item = data.index(b"\xa3abc", 128)
                data[item] = 0x88
                struct.pack_into("<H", data, item + 1, item - at)
                return
        raise AssertionError("no owned shape word")

    loaded = crafted(path, cohive.Map({1: record}), change)
    copied = cohive.Map({"x": loaded[1]})  # was a MemoryError
    assert copied["x"] == loaded[1] and copied["x"]["nest"]["a"] is None


# --- pickles: a Map pickles as its snapshot file's bytes ---------------------------------


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_a_map_pickles_as_its_snapshot(protocol: int) -> None:
    m = cohive.Map({**RICH, "records": {f"r{i}": record(i) for i in range(100)}})
    data = pickle.dumps(m, protocol=protocol)
    assert pickle.loads(data) == m
    assert m.__reduce_ex__(protocol)[1][:2] == ("Map", 3)


def test_protocol_5_moves_one_out_of_band_buffer(path: Path) -> None:
    m = cohive.Map({f"user:{i}": record(i) for i in range(1000)})
    buffers: list[pickle.PickleBuffer] = []
    data = pickle.dumps(m, protocol=5, buffer_callback=buffers.append)
    assert len(buffers) == 1 and len(data) < 100  # the pickle stream holds a reference, the buffer the Map
    m.save(path)
    assert bytes(buffers[0].raw()) == path.read_bytes()  # the same bytes as a snapshot file
    assert pickle.loads(data, buffers=buffers) == m


def test_a_damaged_pickle_raises_snapshot_error() -> None:
    m = cohive.Map({f"k{i}": record(i) for i in range(50)})
    restore, (kind, version, payload) = m.__reduce_ex__(4)
    damaged = bytearray(payload)
    damaged[len(damaged) // 2] ^= 0x10
    with pytest.raises(cohive.SnapshotError, match="a pickled cohive Map"):
        restore(kind, version, bytes(damaged))
    assert restore(kind, version, payload) == m


def test_maps_of_class_instances_pickle_by_class_name() -> None:
    m = cohive.Map({"when": datetime.date(2020, 1, 1), "point": cohive.freeze(uuid.UUID(int=1))})
    assert m.__reduce_ex__(4)[1][1] == 3
    instance = cohive.Map({"e": pytest.ExitCode.OK})  # an enum member: a class instance
    assert instance.__reduce_ex__(4)[1][1] == 2
    assert pickle.loads(pickle.dumps(instance)) == instance


def test_a_record_nested_in_another_saves_on_its_own(path: Path) -> None:
    m = cohive.Map({"u": {"addr": {"city": "Oslo", "when": datetime.date(2026, 1, 2), "big": 2**70}, "n": 1}})
    addr = m["u"]["addr"]  # inside its parent's bytes, naming externs there
    assert saved(addr, path) == addr
    assert pickle.loads(pickle.dumps(addr)) == addr


def test_a_root_word_that_misses_its_node_is_refused_at_load(path: Path) -> None:
    def change(data: bytearray) -> None:
        (root_word,) = struct.unpack_from("<Q", data, 80)
        set_word(data, 80, root_word + 8)  # into the root node: its bitmaps read as a count

    with pytest.raises(cohive.SnapshotError, match="a bad count"):
        crafted(path, cohive.Map({0: 1, 1: 2}), change)  # was a write into the mapping when freed


def test_nesting_deeper_than_allowed_is_refused_before_recursing(path: Path) -> None:
    cohive.Map({0: ((1,),)}).save(path)
    data = bytearray(path.read_bytes()[:128])
    struct.pack_into("<H", data, 64 + 6, 256)  # the map says it nests 256 deep
    levels = 100_000  # a chain of one-item tuples, each saying 256 too
    for i in range(levels):
        item = 0x0C if i < levels - 1 else 0x09  # the next tuple, 8 bytes on; the last holds 1
        data += struct.pack("<IBBHIIQ", 0xFFFFFFFF, 6, 0, 256, 1, 0, item)
    struct.pack_into("<QQ", data, 24, len(data), len(data))
    path.write_bytes(fix_checksum(bytes(data)))
    with pytest.raises(cohive.SnapshotError, match="nested too deep"):
        cohive.load(path)[0]  # was a stack overflow
    with pytest.raises(cohive.SnapshotError, match="nested too deep"):
        cohive.load(path, verify=True)


def test_editing_a_value_read_by_a_lookup_keeps_the_snapshot_lazy_and_sound(path: Path) -> None:
    cohive.Map({"inner": {i: i for i in range(100)}, "x": 1, 7: 7}).save(path)
    loaded = cohive.load(path)
    inner = loaded["inner"].set(1000, "new")  # a heap map sharing checked mapped nodes
    assert inner[1000] == "new" and inner[5] == 5 and len(inner) == 101
    assert loaded["x"] == 1  # was a false SnapshotError, and the snapshot marked damaged


def test_a_root_that_is_not_a_map_is_refused_by_every_check(path: Path) -> None:
    header = bytearray(cohive.Map({"a": 1}).__reduce_ex__(2)[1][2][:64])
    root = struct.pack("<IBBHII", 0xFFFFFFFF, 2, 0, 0, 12, 0) + struct.pack("<Q", 0x4141414141414140)  # bytes
    data = header + root
    struct.pack_into("<QQII", data, 24, len(data), len(data), 0, 0)
    data = bytearray(fix_checksum(bytes(data)))
    with pytest.raises(cohive.SnapshotError, match="a root that is not a Map"):
        cohive._cohive._restore("Map", 3, bytes(data))  # was a Map over a bytes object
    path.write_bytes(data)
    for verify in (False, True):
        with pytest.raises(cohive.SnapshotError, match="a root that is not a Map"):
            cohive.load(path, verify=verify)


@pytest.mark.parametrize("leaf", [datetime.datetime(2020, 1, 1, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")),
                                  decimal.Decimal(10**40)], ids=["zoned datetime", "big decimal"])
def test_values_as_deep_as_cohive_nests_them_load(path: Path, leaf: Any) -> None:
    value: Any = leaf
    for _ in range(cohive.MAX_DEPTH):
        value = {**{i: i for i in range(40)}, "k": value}  # tries, not records
    m = cohive.Map(value)
    assert pickle.loads(pickle.dumps(m)) == m
    loaded = saved(m, path)
    assert loaded.get(0) == 0 and loaded == m and loaded.get(0) == 0  # the whole check passes


def test_equal_maps_save_to_equal_bytes(tmp_path: Path) -> None:
    """Every byte of a saved object is the value's (no stray process memory):
    the same Map saved in fresh processes gives the same file."""
    code = textwrap.dedent(
        """
        import datetime, decimal, sys, cohive
        junk = [bytes([i % 251]) * (i % 97) for i in range(20000)]  # dirty the heap first
        del junk
        m = cohive.Map({"d": decimal.Decimal("1.50"), "r": {"float": 0.0, "s": {"a", "bb"}, "t": ("é", 2**70)},
                        "when": datetime.datetime(2020, 1, 1), "big": {f"k{i}": [i, "x" * i] for i in range(80)}})
        m.save(sys.argv[1])
        """
    )
    files = []
    for i, seed in enumerate(("1", "2", "3")):
        path = tmp_path / f"s{i}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, env=env,
                             timeout=TIMEOUT)
        assert out.returncode == 0, out.stderr
        files.append(path.read_bytes())
    assert files[0] == files[1] == files[2]
