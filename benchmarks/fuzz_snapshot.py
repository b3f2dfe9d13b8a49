"""Mutation fuzzer for snapshot files (#9): no file may crash the process.

Builds real snapshots with `Map.save` from varied Maps (every kind of value
a snapshot holds, dates, times, Decimals and UUIDs too, nested records, a
dict of more than 64 keys, latin-1, UCS-2 and UCS-4 strs, big ints, an
empty Map, one key, thousands of keys), then mutates them: bit
flips, bytes set to 0x00, 0xff or anything, truncations (to 0, inside the
header, anywhere), splices from the same or another snapshot, inserted and
deleted bytes, aligned 2-, 4- and 8-byte words set to boundary values (0,
1, 0x7fffffff, 0xffffffff, 2**63, -1, the file's size and sizes near it),
moved by a little or given another tag in their low 3 bits.  Two mutants in
three are then resealed: their header's checksum (and for half of those its
file size) made right again, so that they get past the checksum to the
structural checks (--no-reseal: never).  A child process loads each mutant,
half of them with `load(path, verify=True)` (checked whole at load) and half
with `load(path)` (checked as they are read), and reads all of it: lookups of
every key of every seed first, then every key and value, recursively, with
len, iteration, repr, hash, ==, thaw, pickling, Queue and Ref, and
copy-on-write edits.

The only acceptable outcomes are success, `cohive.SnapshotError` and (counted
apart: the mutants are readable files) `OSError`.  Anything else is a
finding: another exception, a str or int that breaks CPython's invariants,
the child killed by a signal (SIGSEGV, SIGBUS, SIGABRT...) or silent for
--timeout seconds (an endless loop).  Each finding is saved in --keep-dir (a
new temporary directory by default) with a description and the command that
replays it; the run ends with a summary and exits 1 if there were findings.

    python benchmarks/fuzz_snapshot.py [--iterations N] [--seed S] [--keep-dir DIR]
    python benchmarks/fuzz_snapshot.py --replay FILE    (reads one file in this process, both ways)

`mutants(data, rng, count)` generates the mutations and `reseal(data,
fix_size)` makes a mutant's checksum right, for the test suite.  For
out-of-bounds reads that do not crash, run it against an ASan build (as
./dev sanitize makes one) in the environment ./dev sanitize gives pytest
(LD_PRELOAD of libasan and libubsan, ASAN_OPTIONS=detect_leaks=0,
PYTHONMALLOC=malloc); the child then has no memory limit.
"""

import argparse
import collections
import contextlib
import datetime
import decimal
import faulthandler
import functools
import json
import os
import pickle
import random
import re
import select
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cohive  # noqa: E402

ACCEPTED = ("ok", "SnapshotError", "OSError")
# Under AddressSanitizer (./dev sanitize preloads it) a child needs no memory limit, which would leave ASan no
# room for its shadow memory, and no faulthandler, whose report would hide ASan's.
UNDER_ASAN = "libasan" in os.environ.get("LD_PRELOAD", "")


# --- The seeds: real snapshots of varied Maps.

def rich_record(i: int) -> dict[str, Any]:
    return {
        "none": None, "true": True, "false": False, "int": i, "negative": -i - 1, "big int": 3**(90 + i % 50),
        "negative big int": -(2**(64 + i % 70)), "float": i / 3, "inf": float("-inf"), "zero": -0.0,
        "complex": complex(i, -1), "bytes": bytes(range(i % 256)), "empty bytes": b"", "empty str": "",
        "latin-1": f"café ÿ {i}", "UCS-2": f"Ωμέγα ☃ {i}", "UCS-4": f"😀 𝄞 {i}", "list": [i, "a", None, [2, (3,)]],
        "tuple": (i, ("x", b"y")), "set": {i, "three", 4.5}, "frozenset": frozenset({(1, 2), "z"}),
        "nested": {"a": {"b": {"c": [1, {"d": i}]}}, "ü": {"😀": "Ω"}},
        "empty containers": [[], (), {}, set()],
        "datetime": datetime.datetime(2024, 1, 2, 3, 4, 5, i, tzinfo=datetime.timezone.utc),
        "local datetime": datetime.datetime(2000, 1, 1, i % 24, fold=1),
        "offset time": datetime.time(1, 2, tzinfo=datetime.timezone(datetime.timedelta(hours=-5, minutes=-30))),
        "date": datetime.date(1, 1, 1 + i % 28), "timedelta": datetime.timedelta(days=-i, microseconds=5),
        "decimal": decimal.Decimal(f"-{i}.25E+3"), "infinite decimal": decimal.Decimal("-Infinity"),
        "uuid": uuid.UUID(int=i),
        "more than 64 keys": {f"field {j}": j * i for j in range(70)},
    }


def seed_maps() -> dict[str, Any]:
    """Named Maps that together hold every kind of value and node the format has."""
    rich_keys: dict[Any, int] = {
        None: 0, True: 1, 2: 2, -3: 3, 2**100: 4, 1.5: 5, complex(1, 2): 6, b"key": 7, "é": 8, "Ω": 9, "😀": 10,
        (1, "a", b"b"): 11, frozenset({1, 2}): 12, "": 13, b"": 14, (): 15, datetime.date(2020, 2, 29): 16,
        uuid.UUID(int=2**128 - 1): 17, decimal.Decimal("1.5E-7"): 18, datetime.timedelta(seconds=1): 19,
    }
    records = {f"user:{i}": {"name": f"user number {i}", "age": 18 + i % 80, "score": i / 7, "active": i % 3 == 0,
                             "tags": [f"t{i % 13}", "member"]} for i in range(3000)}
    m: cohive.Map[Any, Any] = cohive.Map(records)
    edited = m.set("user:7", rich_record(7)).delete("user:8").update({i: str(i) for i in range(100)})
    return {
        "empty": cohive.Map(),
        "one key": cohive.Map({"k": 1}),
        "one rich record": cohive.Map({"r": rich_record(1)}),
        "rich keys": cohive.Map(rich_keys),
        "rich records": cohive.Map({i: rich_record(i) for i in range(40)}),
        "3,000 records": m,
        "edited after build": edited,
        "4,000 ints": cohive.Map({i: -i for i in range(4000)}),
    }


# --- Mutations.  Each takes the file as a bytearray, changes it in place and says what it did.

def interesting_values(size: int) -> list[int]:
    """Values a length, count or offset field should never trust."""
    return [0, 1, 2, 7, 8, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
            2**32, 2**63 - 1, 2**63, 2**64 - 1, -1, -8, -size, size, size - 1, size + 1, size - 8, size + 8,
            size // 2, size * 2]


def offset(size: int, rng: random.Random, align: int = 1) -> int:
    """An offset in [0, size), more often in the first and last 256 bytes, where headers and roots are."""
    r = rng.random()
    if r < 0.4:
        at = rng.randrange(min(size, 256))
    elif r < 0.55:
        at = rng.randrange(max(0, size - 256), size)
    else:
        at = rng.randrange(size)
    return at - at % align


def flip_bits(data: bytearray, rng: random.Random, donors: Sequence[bytes]) -> str:
    flipped = []
    for _ in range(rng.choice((1, 1, 1, 2, 4, 8))):
        at, bit = offset(len(data), rng), rng.randrange(8)
        data[at] ^= 1 << bit
        flipped.append(f"{at}.{bit}")
    return "flip bits " + ",".join(flipped)


def set_bytes(data: bytearray, rng: random.Random, donors: Sequence[bytes]) -> str:
    at, count = offset(len(data), rng), rng.choice((1, 1, 2, 4, 16))
    fill = rng.choice(("0x00", "0xff", "random"))
    new = (bytes(count) if fill == "0x00" else b"\xff" * count if fill == "0xff" else rng.randbytes(count))
    data[at:at + count] = new[:len(data) - at]
    return f"set {count} bytes at {at} to {fill}"


def truncate(data: bytearray, rng: random.Random, donors: Sequence[bytes]) -> str:
    size = len(data)
    length = rng.choice((0, rng.randrange(min(size, 64) + 1), rng.randrange(size), size - 1, size - 8))
    length = max(0, length)
    del data[length:]
    return f"truncate {size} -> {length}"


def splice(data: bytearray, rng: random.Random, donors: Sequence[bytes]) -> str:
    source, where = (data, "itself") if not donors or rng.random() < 0.5 else (rng.choice(donors), "another")
    if not source:
        return "splice nothing"
    count = rng.choice((1, 4, 8, 16, 64, 256, rng.randrange(1, len(source) + 1)))
    start, at = rng.randrange(len(source)), offset(len(data), rng)
    chunk = bytes(source[start:start + count])
    data[at:at + len(chunk)] = chunk[:len(data) - at]
    return f"splice {len(chunk)} bytes from {start} of {where} to {at}"


def insert(data: bytearray, rng: random.Random, donors: Sequence[bytes]) -> str:
    at, count = rng.randrange(len(data) + 1), rng.choice((1, 2, 4, 8, 16))
    data[at:at] = rng.randbytes(count) if rng.random() < 0.5 else bytes(count)
    return f"insert {count} bytes at {at}"


def delete(data: bytearray, rng: random.Random, donors: Sequence[bytes]) -> str:
    at, count = offset(len(data), rng), rng.choice((1, 2, 4, 8, 16))
    del data[at:at + count]
    return f"delete {count} bytes at {at}"


def set_word(data: bytearray, rng: random.Random, donors: Sequence[bytes]) -> str:
    width = rng.choice((2, 4, 8, 8))
    if len(data) < width:
        return "set no word: too short"
    at = min(offset(len(data), rng, width), len(data) - width)
    value = rng.choice(interesting_values(len(data)))
    order = "little" if rng.random() < 0.8 else "big"
    data[at:at + width] = (value % 2**(8 * width)).to_bytes(width, order)
    return f"set {width}-byte word at {at} to {value} ({order} endian)"


def add_to_word(data: bytearray, rng: random.Random, donors: Sequence[bytes]) -> str:
    """Moves an offset or a length a little: into the next object, the middle of one, one byte off."""
    width = rng.choice((4, 8, 8))
    if len(data) < width:
        return "add to no word: too short"
    at = min(offset(len(data), rng, width), len(data) - width)
    delta = rng.choice((-4096, -64, -16, -8, -1, 1, 8, 16, 64, 4096))
    value = int.from_bytes(data[at:at + width], "little") + delta
    data[at:at + width] = (value % 2**(8 * width)).to_bytes(width, "little")
    return f"add {delta} to the {width}-byte word at {at}"


def retag(data: bytearray, rng: random.Random, donors: Sequence[bytes]) -> str:
    """Sets the low 3 bits of an 8-byte word: where cohive's values keep their tag (pointer, int, relative...)."""
    if len(data) < 8:
        return "retag no word: too short"
    at, tag = min(offset(len(data), rng, 8), len(data) - 8), rng.randrange(8)
    data[at] = data[at] & ~7 | tag
    return f"retag the word at {at} as {tag}"


MUTATIONS: dict[str, Callable[[bytearray, random.Random, Sequence[bytes]], str]] = {
    "flip": flip_bits, "bytes": set_bytes, "truncate": truncate, "splice": splice, "insert": insert,
    "delete": delete, "word": set_word, "add": add_to_word, "retag": retag,
}
WEIGHTS = {"flip": 4, "bytes": 2, "truncate": 1, "splice": 2, "insert": 1, "delete": 1, "word": 4, "add": 2,
           "retag": 2}


def mutate(data: bytes, rng: random.Random, donors: Sequence[bytes] = ()) -> tuple[str, bytes]:
    """One to three mutations of `data`; returns what was done and the mutant."""
    mutant, done = bytearray(data), []
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        name = rng.choices(list(WEIGHTS), list(WEIGHTS.values()))[0] if mutant else "insert"
        done.append(MUTATIONS[name](mutant, rng, donors))
    return "; ".join(done), bytes(mutant)


def mutants(data: bytes, rng: random.Random, count: int, donors: Sequence[bytes] = ()) -> Iterator[tuple[str, bytes]]:
    """`count` mutants of a snapshot file's bytes, each with a description; splices may take from `donors`."""
    for _ in range(count):
        yield mutate(data, rng, donors)


# --- Resealing: the loader checks a checksum of the whole file (and its size) before anything else,
# so a mutant reaches the structural checks only with both made right again.  This mirrors
# src/core/snapshot.c (file_checksum) and the header of docs/format.md; write_seeds() checks that it
# still reproduces every seed, byte for byte.

HEADER_SIZE, SIZE_AT, CHECKSUM_AT = 64, 24, 56
K1, K2, MASK = 0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 2**64 - 1


def checksum(data: bytes) -> int:
    lanes = [K1, K2, ~K1 & MASK, ~K2 & MASK]
    blocks = len(data) // 32
    words = struct.unpack_from(f"<{4 * blocks}Q", data)
    for i in range(0, 4 * blocks, 4):
        for j in range(4):
            lane = lanes[j] ^ (words[i + j] * K2 & MASK)
            lanes[j] = ((lane << 31 | lane >> 33) & MASK) * K1 & MASK
    h = len(data) * K1 & MASK
    for lane in lanes:
        h = ((h ^ lane) * K2 + K1) & MASK
    for byte in data[32 * blocks:]:
        h = (h ^ byte) * K1 & MASK
    return h ^ h >> 29


def reseal(data: bytes, fix_size: bool) -> bytes:
    """`data` with the header's checksum (and, if fix_size, its file size) made to match it again."""
    if len(data) < HEADER_SIZE:
        return data
    out = bytearray(data)
    if fix_size:
        out[SIZE_AT:SIZE_AT + 8] = len(out).to_bytes(8, "little")
    out[CHECKSUM_AT:CHECKSUM_AT + 8] = bytes(8)
    total = checksum(bytes(out[:HEADER_SIZE])) ^ checksum(bytes(out[HEADER_SIZE:]))
    out[CHECKSUM_AT:CHECKSUM_AT + 8] = total.to_bytes(8, "little")
    return bytes(out)


# --- Reading a mutant completely (in the child process).

class Broken(AssertionError):
    """A value read from the file breaks an invariant CPython relies on."""


TIME_TYPES = (datetime.date, datetime.time, datetime.timedelta)  # datetime.datetime is a date
MISSING = object()
ABSENT_KEYS = ("absent", 12345, -1, 2**70, 0.25, b"absent", (1, "absent"), None, "😀absent")


def walk(value: Any) -> None:
    hash(value)  # the repr of everything comes from the whole Map's, once
    if isinstance(value, cohive.Map):
        read_map(value)
    elif isinstance(value, (cohive.FrozenList, tuple)):
        items = list(value)
        if len(items) != len(value):
            raise Broken(f"{type(value).__name__} of len {len(value)} iterates {len(items)} items")
        for item in items:
            walk(item)
        if items:
            value[0], value[-1], value[len(items) // 2], value[1:]
    elif isinstance(value, frozenset):
        for item in value:
            walk(item)
    elif isinstance(value, str):
        # Decoding makes a str of the narrowest kind that holds its code points; == compares kinds first.
        canonical = value.encode("utf-32-le", "surrogatepass").decode("utf-32-le", "surrogatepass")
        if value != canonical or hash(value) != hash(canonical):
            raise Broken(f"str not in CPython's canonical form (wrong kind for its code points): {value!r}")
    elif isinstance(value, int):  # bool too
        if int(repr(int(value))) != value:
            raise Broken(f"int whose digits are not normalized: {value!r}")
    elif isinstance(value, bytes):
        value[:1], value[-1:]
    elif not isinstance(value, (float, complex, type(None), *TIME_TYPES, decimal.Decimal, uuid.UUID)):
        raise Broken(f"a value of type {type(value).__name__} in a snapshot")


def read_map(m: Any) -> None:
    len(m)
    for key, value in m.items():
        walk(key)
        walk(value)
        m.get(key, MISSING)
        key in m
    for key in ABSENT_KEYS:
        m.get(key, MISSING)
    list(m.values())


@functools.cache
def probe_keys() -> list[Any]:
    """Every key of every seed: what a lookup can find in a mutant of any of them."""
    return [key for m in seed_maps().values() for key in m]


def read_fully(path: str, verify: bool) -> None:
    """Loads the snapshot at `path` and reads every part of it, every way a user can.

    Lookups come first: a loaded Map checks what each lookup reads as it goes, and checks the whole file
    only at its first other read (or at load, with verify=True).
    """
    m = cohive.load(path, verify=True) if verify else cohive.load(path)
    for key in probe_keys():
        found = m.get(key, MISSING)
        if found is not MISSING:
            walk(found)
    read_map(m)
    repr(m)
    hash(m)
    m == m  # noqa: B015
    m == cohive.Map(m.items())  # noqa: B015 - the same items in a heap Map
    thawed = m.thaw()
    m == thawed  # noqa: B015
    pickle.loads(pickle.dumps(m)) == m  # noqa: B015
    queue: cohive.Queue[Any] = cohive.Queue()
    queue.put_nowait(m)
    queue.get_nowait() == m  # noqa: B015
    ref: cohive.Ref[Any] = cohive.Ref(f"cohive-fuzz-{os.getpid()}")
    ref.set(m)
    ref.get() == m  # noqa: B015
    ref.set(None)
    edited = m.set("fuzz: new key", [1, "x"])
    edited.delete("fuzz: new key") == m  # noqa: B015
    for key in list(m)[:3]:
        m.delete(key).set(key, None)
    with m.mutate() as mutation:
        mutation["fuzz"] = 1
        for key in list(m)[-2:]:
            del mutation[key]
        mutation.finish()


def outcome(path: str, verify: bool) -> tuple[str, str]:
    """(kind, detail) of reading one file: "ok", "SnapshotError", "OSError", or the name of what else it raised."""
    try:
        read_fully(path, verify)
    except cohive.SnapshotError as e:
        return "SnapshotError", str(e)
    except OSError as e:
        return "OSError", str(e)
    except Exception as e:  # noqa: BLE001 - every other exception is what the fuzzer looks for
        return type(e).__name__, traceback.format_exc()
    return "ok", ""


def reading_setup() -> None:
    if not UNDER_ASAN:
        faulthandler.enable()  # a crash prints where it happened to stderr, which the parent keeps
    sys.set_int_max_str_digits(0)  # the repr of a big int from a file is no error of the file's


def serve(memory_limit_mib: int) -> None:
    """The child: reads lines "VERIFY PATH" from stdin (VERIFY 0 or 1), answers one JSON line each."""
    if memory_limit_mib and not UNDER_ASAN:
        import resource
        limit = memory_limit_mib * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    reading_setup()
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    sys.stdout = sys.stderr  # nothing else may write into the answers
    probe_keys()  # before the first mutant's time starts
    for line in sys.stdin:
        verify, path = line.rstrip("\n").split(" ", 1)
        kind, detail = outcome(path, verify == "1")
        answers.write(json.dumps([kind, detail]) + "\n")
        answers.flush()


# --- The parent: feeds mutants to a child, restarting it when it dies or hangs.

class Reader:
    """A child process that reads mutants; a new one starts after a crash or a timeout."""

    def __init__(self, workdir: str, memory_limit_mib: int) -> None:
        self.stderr_path = os.path.join(workdir, "child.stderr")
        self.command = [sys.executable, __file__, "--serve", "--memory-limit", str(memory_limit_mib)]
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> subprocess.Popen[str]:
        with open(self.stderr_path, "w") as stderr:
            return subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                                    text=True)

    def stderr_tail(self) -> str:
        with open(self.stderr_path, errors="replace") as f:
            return f.read()[-12000:]  # enough for a sanitizer report with its stacks

    def check(self, path: str, verify: bool, timeout: float) -> tuple[str, str]:
        if self.process is None:
            self.process = self.start()
        process = self.process
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write(f"{int(verify)} {path}\n")
            process.stdin.flush()
        except BrokenPipeError:
            pass  # it died: readline below finds out how
        ready, _, _ = select.select([process.stdout], [], [], timeout)
        line = process.stdout.readline() if ready else None
        if line:
            kind, detail = json.loads(line)
            return kind, detail
        self.process = None
        if line is None:
            process.kill()
            process.wait()
            return "timeout", f"no answer in {timeout:g} s (killed)\n{self.stderr_tail()}"
        code = process.wait()
        if code == -signal.SIGINT:
            raise KeyboardInterrupt  # Ctrl-C reached the child first
        died = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exited with status {code}"
        return "crash", f"{died}\n{self.stderr_tail()}"

    def close(self) -> None:
        if self.process is not None:
            with contextlib.suppress(BrokenPipeError):
                self.process.communicate(timeout=60)
            self.process = None


def signature(kind: str, detail: str) -> str:
    """What groups findings and messages: the kind and one line (a traceback's last), numbers left out;
    for a crash, the innermost Python line faulthandler printed."""
    lines = detail.strip().splitlines() or [""]
    line = re.sub(r"[0-9]+", "N", lines[0] if kind in (*ACCEPTED, "crash", "timeout") else lines[-1])[:120]
    frame = re.search(r'File "[^"]*", line ([0-9]+) in (\w+)', detail) if kind == "crash" else None
    where = f" (in {frame[2]}, line {frame[1]})" if frame else ""
    return f"{kind}: {line}{where}" if line else kind


class Findings:
    def __init__(self, keep_dir: str | None, per_signature: int) -> None:
        self.keep_dir, self.per_signature = keep_dir, per_signature
        self.counts: collections.Counter[str] = collections.Counter()

    def save(self, sig: str, mutant: bytes, description: str) -> str | None:
        self.counts[sig] += 1
        if self.counts[sig] > self.per_signature:
            return None
        if self.keep_dir is None:
            self.keep_dir = tempfile.mkdtemp(prefix="cohive-fuzz-findings-")
        os.makedirs(self.keep_dir, exist_ok=True)
        name = f"{sum(self.counts.values()):05d}-{re.sub(r'[^A-Za-z0-9]+', '-', sig)[:60].strip('-')}"
        path = os.path.join(self.keep_dir, name + ".snap")
        with open(path, "wb") as f:
            f.write(mutant)
        with open(path[:-5] + ".txt", "w") as f:
            f.write(f"{description}\n\nreplay (without, then with verify=True):\n"
                    f"{sys.executable} {__file__} --replay {path}\n")
        return path


def seed_path(workdir: str, n: int) -> str:
    return os.path.join(workdir, f"seed-{n}.snap")


def write_seeds(workdir: str, reseal_too: bool) -> dict[str, bytes]:
    """Saves every seed Map, checks it loads back equal (and that reseal() keeps it as it is), and returns
    the files' bytes."""
    seeds = {}
    for i, (name, m) in enumerate(seed_maps().items()):
        path = seed_path(workdir, i)
        m.save(path)
        if cohive.load(path) != m:
            raise SystemExit(f"the seed {name!r} does not load back equal to the Map saved")
        with open(path, "rb") as f:
            seeds[name] = f.read()
        if reseal_too and reseal(seeds[name], True) != seeds[name]:
            raise SystemExit(f"resealing the seed {name!r} changes it: the checksum or header of the format "
                             "changed; update reseal() or run with --no-reseal")
    return seeds


def nth_mutant(seeds: dict[str, bytes], seed: int, i: int, reseal_too: bool) -> tuple[str, str, bytes]:
    """Iteration i of --seed `seed`: the name of the seed mutated, what was done to it, and the mutant."""
    rng = random.Random(f"{seed}/{i}")
    name = rng.choice(list(seeds))
    mutations, mutant = mutate(seeds[name], rng, list(seeds.values()))
    sealing = rng.choice(("", "resealed", "resealed with its size")) if reseal_too else ""
    if sealing:
        mutant = reseal(mutant, fix_size=sealing != "resealed")
        mutations += f"; {sealing}"
    return name, mutations, mutant


def fuzz(args: argparse.Namespace) -> int:
    findings = Findings(args.keep_dir, args.per_signature)
    outcomes: collections.Counter[str] = collections.Counter()
    messages: collections.Counter[str] = collections.Counter()
    started, done = time.monotonic(), 0
    with tempfile.TemporaryDirectory(prefix="cohive-fuzz-") as workdir:
        seeds = write_seeds(workdir, args.reseal)
        reader = Reader(workdir, args.memory_limit)
        try:
            for n, name in enumerate(seeds):  # the unmutated files first: they must read back whole
                kind, detail = reader.check(seed_path(workdir, n), False, args.timeout)
                if kind != "ok":
                    print(f"the seed {name!r} does not read: {kind}: {detail}", file=sys.stderr)
                    return 2
            for i in range(args.iterations):
                name, mutations, mutant = nth_mutant(seeds, args.seed, i, args.reseal)
                path = os.path.join(workdir, f"mutant-{i}.snap")
                with open(path, "wb") as f:
                    f.write(mutant)
                verify = i % 2 == 1  # the other half read as they load, checked as they are read
                kind, detail = reader.check(path, verify, args.timeout)
                detail = detail.replace(path, "FILE")
                os.unlink(path)
                outcomes[kind if kind in ACCEPTED else "finding"] += 1
                sig = signature(kind, detail)
                if kind in ACCEPTED:
                    messages[sig] += 1
                else:
                    description = (f"finding: {sig}\nseed map: {name!r}\niteration {i} of --seed {args.seed}\n"
                                   f"mutations: {mutations}\nloaded with verify={verify}\n\n{detail}")
                    saved = findings.save(sig, mutant, description)
                    print(f"finding at iteration {i} ({name}; {mutations}): {sig}"
                          + (f" -> {saved}" if saved else ""), file=sys.stderr)
                done = i + 1
                if done % args.progress == 0:
                    print(f"{done:,}/{args.iterations:,} in {time.monotonic() - started:.0f} s: "
                          + ", ".join(f"{k} {v:,}" for k, v in outcomes.most_common()), file=sys.stderr)
        except KeyboardInterrupt:
            print("interrupted: the summary of what ran", file=sys.stderr)
        finally:
            reader.close()
    elapsed = time.monotonic() - started
    print(f"\n{done:,} mutants of {len(seeds)} snapshots in {elapsed:.0f} s ({done / elapsed:.0f}/s), "
          f"--seed {args.seed}")
    for kind in (*ACCEPTED, "finding"):
        print(f"  {kind}: {outcomes[kind]:,}")
    print("most frequent accepted outcomes:")
    for sig, count in messages.most_common(12):
        print(f"  {count:7,}  {sig}")
    if findings.counts:
        print(f"findings ({sum(findings.counts.values()):,}; up to {args.per_signature} of each kept in "
              f"{findings.keep_dir}):")
        for sig, count in findings.counts.most_common():
            print(f"  {count:7,}  {sig}")
        return 1
    print("no findings")
    return 0


def replay(path: str) -> int:
    reading_setup()
    status = 0
    for verify in (False, True):
        kind, detail = outcome(path, verify)
        print(f"verify={verify}: {kind}\n{detail}".rstrip())
        status |= kind not in ACCEPTED
    return status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=5000, help="how many mutants (default 5000)")
    parser.add_argument("--seed", type=int, default=0, help="the random seed; iteration I of seed S is reproducible")
    parser.add_argument("--keep-dir", help="where findings are saved (default: a new temporary directory)")
    parser.add_argument("--timeout", type=float, default=10, help="seconds a mutant may take (default 10)")
    parser.add_argument("--memory-limit", type=int, default=4096,
                        help="the child's address space in MiB (default 4096; 0: none; none under ASan)")
    parser.add_argument("--per-signature", type=int, default=5, help="findings of one kind kept (default 5)")
    parser.add_argument("--progress", type=int, default=1000, help="a progress line every N mutants")
    parser.add_argument("--no-reseal", dest="reseal", action="store_false",
                        help="never make a mutant's checksum and size right again (by default two in three are)")
    parser.add_argument("--replay", metavar="FILE", help="read one file in this process and say what happened")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if os.environ.get("PYTHONHASHSEED") != "0":
        # Seeds hold sets of strs, which freeze (and save) in the order of Python's str hashes: with those
        # fixed, iteration I of --seed S is the same mutant in every run.
        os.execve(sys.executable, [sys.executable, __file__, *sys.argv[1:]], {**os.environ, "PYTHONHASHSEED": "0"})
    if args.serve:
        serve(args.memory_limit)
        return 0
    if args.replay:
        return replay(args.replay)
    return fuzz(args)


if __name__ == "__main__":
    sys.exit(main())
