"""Reads write nothing shared: proved by making the native memory read-only.

Each test runs in a fresh process that builds a Map of records (each one a
record: its values and an interned shape) inside cohive's
test arena (all native memory of the Map in one mapping), seals the arena
read-only and then runs one read path over every record.  A write to the
Map's memory at any depth -- a reference count, a cached hash, anything --
faults at once (SIGSEGV), so the test fails naming the read path.
"""

import signal
import subprocess
import sys
import textwrap

import pytest

TIMEOUT = 120

BUILD = textwrap.dedent(
    """
    import gc, pickle, sys
    import cohive
    from cohive import _cohive

    _cohive._arena_build(1 << 28)
    m = cohive.Map({
        f"user:{i}": {
            "name": f"name {i}", "age": i, "ratio": i / 7, "big": 1 << 80,
            "tags": ["a", f"t{i}", ("x", i), {"in": i}, 1 << 70], "addr": {"city": "c" * (i % 9), "geo": [i, -i]},
            "seen": frozenset({i, "i"}),
        }
        for i in range(500)
    })
    keys = [f"user:{i}" for i in range(500)]
    plain = m.thaw()
    # the records are records (one object and a shared shape) and the outer Map a HAMT: both are read below
    assert _cohive._map_form(m[keys[0]]) == _cohive._map_form(m[keys[0]]["addr"]) == "record"
    assert _cohive._map_form(m) == "hamt"

    # Rich values (stdlib classes only: the child imports nothing of the tests').
    import datetime as dt, decimal, inspect, http, re, uuid
    tz = dt.timezone(dt.timedelta(hours=2), "CEST")
    rich = cohive.Map({
        f"r{i}": {
            "when": dt.datetime(2026, 1, 1 + i % 28, 12, i % 60, tzinfo=tz), "day": dt.date(2026, 2, 1 + i % 28),
            "at": dt.time(i % 24, 30), "took": dt.timedelta(seconds=i), "price": decimal.Decimal(f"{i}.25"),
            "id": uuid.UUID(int=i), "status": http.HTTPStatus.OK, "flags": re.IGNORECASE | re.MULTILINE,
            "args": inspect.ArgInfo([f"a{i}"], None, None, {}), "blob": bytearray(b"b" * i),
        }
        for i in range(100)
    })
    rich_plain = rich.thaw()
    _cohive._arena_seal(True)  # from here on, any write to the Map's memory faults
    """
)

READ_PATHS = {
    "subscript": "for k in keys: m[k]['addr']['city']; m[k]['tags'][2][1]; m[k]['addr']['geo'][-1]",
    "get": "for k in keys: m.get(k).get('addr').get('city'); m.get('absent'); m[k].get('nope', 0)",
    "contains": "for k in keys: assert k in m and 'age' in m[k] and 'a' in m[k]['tags'] and 0 not in m[k]['addr']",
    "len": "for k in keys: len(m[k]) + len(m[k]['tags']) + len(m[k]['addr'])",
    "iteration": "for rec in m.values():\n    for f in rec: rec[f]\n    for t in rec['tags']: t\n    list(rec['addr'])",
    "keys_values_items": (
        "for k, rec in m.items():\n"
        "    list(rec.keys()); list(rec.values()); list(rec.items())\n"
        "    assert ('age', rec['age']) in rec.items() and 'name' in rec.keys() and rec['age'] in rec.values()\n"
        "    rec.keys() & {'age'}"
    ),
    "views_outlive_parents": (
        "held = []\n"
        "for k in keys:\n    rec = m[k]; held.append((rec['addr'], rec['tags'], iter(rec)))\n    del rec\n"
        "gc.collect()\n"
        "for addr, tags, it in held: addr['city']; tags[0]; next(it)"
    ),
    "equality": (
        "for k in keys:\n"
        "    assert m[k] == m[k] and m[k] == plain[k] and m[k]['tags'] == m[k]['tags']\n"
        "    assert m[k]['tags'] == plain[k]['tags'] and not (m[k]['addr'] != m[k]['addr'])\n"
        "    assert m[k]['tags'] <= plain[k]['tags']\n"
        "assert m == m"
    ),
    "hash": "for k in keys: hash(m[k]); hash(m[k]['tags']); hash(m[k]['addr'])\nhash(m)",
    "repr": "for k in keys: repr(m[k]); repr(m[k]['tags']); repr(m[k].items())",
    "thaw": "for k in keys: assert m[k].thaw() == plain[k] and cohive.thaw(m[k]) == plain[k]; m[k]['tags'].thaw()",
    "list_search": (
        "probe = cohive.Map({1: 2})\n"
        "for k in keys: t = m[k]['tags']; t.index('a'); t.count('a'); ('x', 3) in t; t[1:]; t[::-1]; t in probe; probe.get(t)"
    ),
    "pickle": "for k in keys: assert pickle.loads(pickle.dumps(m[k])) == m[k]",
    "freeze": "for k in keys: assert cohive.freeze(m[k]) == m[k] and cohive.freeze([m[k]])[0] == m[k]",
    "insert_into_map": (
        "out = cohive.Map()\n"
        "for k in keys:\n"
        "    out = out.set(k, m[k]['addr'])\n"
        "    cohive.Map({'r': m[k], 'l': m[k]['tags']}); out.update({'again': m[k]})\n"
        "    with out.mutate() as mut: mut['x'] = m[k]; mut.update(m[k])\n"
        "    out.update(m[k]['addr']); {'more': 1} | m[k]\n"
        "assert out[keys[3]] == m[keys[3]]['addr']"
    ),
    "insert_into_ref": "r = cohive.Ref('zero-write', None)\nfor k in keys: r.set(m[k]); assert r.get() == m[k]; r.set([m[k]['tags']])",
    "rich_values": (
        "for k, rec in rich.items():\n"
        "    assert rec == rich_plain[k] and rec.thaw() == rich_plain[k] and hash(rec['when']) == hash(rich_plain[k]['when'])\n"
        "    assert bytes(memoryview(rec['blob'])) == bytes(rich_plain[k]['blob']) and rec['args'].args[0] == 'a' + k[1:]\n"
        "    repr(rec); pickle.loads(pickle.dumps(rec)); cohive.Map(copy=rec, blob=rec['blob'])"
    ),
    "insert_into_queue": "q = cohive.Queue()\nfor k in keys: q.put((m[k], m[k]['tags'])); assert q.get(timeout=5)[0] == m[k]",
}


def faulted(out: subprocess.CompletedProcess[str]) -> bool:
    """Whether the process died writing to read-only memory (as itself or under AddressSanitizer)."""
    return out.returncode == -signal.SIGSEGV or (out.returncode != 0 and "AddressSanitizer: SEGV" in out.stderr)


def run_sealed(code: str) -> subprocess.CompletedProcess[str]:
    script = BUILD + code + "\n_cohive._arena_seal(False)\nprint('done')\n"
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=TIMEOUT)


@pytest.mark.skipif(sys.platform == "win32", reason="the test arena needs mmap")
@pytest.mark.parametrize("path", READ_PATHS)
def test_read_path_writes_no_shared_memory(path: str) -> None:
    out = run_sealed(READ_PATHS[path])
    assert not faulted(out), f"{path} wrote to the Map's read-only native memory"
    assert out.returncode == 0 and out.stdout.strip() == "done", out.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="the test arena needs mmap")
def test_a_write_to_sealed_memory_is_caught() -> None:
    """The proof works: an edit of the sealed Map in place does fault."""
    out = run_sealed("m.mutate()")  # takes a reference on the root node
    assert faulted(out), (out.returncode, out.stderr)
