"""JSON: cohive.to_json and cohive.from_json against json (and orjson, if installed).

- to_json of a frozen ~1 KB record against json.dumps(cohive.thaw(v)) (what a
  user must do without to_json), json.dumps and orjson.dumps of the
  equivalent dict, and to_json of the plain dict;
- from_json of a ~10 MB document into a Map against
  cohive.Map(json.loads(...)), and json.loads / orjson.loads alone;
- to_json of that 10 MB Map against json.dumps(thaw(m)) and orjson.dumps of
  the dict.

orjson is a benchmark-only dependency (requirements/bench.txt); its columns
are left out when it is not installed.  Ratios are cohive's speed over the
alternative's (> 1: cohive is faster).
"""

import json
import random
from collections.abc import Callable
from typing import Any

import cohive
from harness import fmt_time, median_time, table

try:
    import orjson
except ImportError:  # pragma: no cover - optional
    orjson = None


def record(i: int, rng: random.Random) -> dict[str, Any]:
    """A service's record: about 1 KB of JSON."""
    return {
        "id": i,
        "uuid": f"{rng.getrandbits(128):032x}",
        "name": f"user {i}",
        "email": f"user{i}@example.com",
        "active": rng.random() < 0.5,
        "score": rng.random() * 100,
        "balance": round(rng.uniform(-1000, 1000), 2),
        "created": "2026-11-26T14:37:54+00:00",
        "tags": [rng.choice(["admin", "staff", "guest", "beta", "vip"]) for _ in range(5)],
        "address": {"street": f"{rng.randrange(1, 999)} Main Street", "city": "Zürich", "zip": "8001",
                    "geo": [47.3769 + rng.random(), 8.5417 + rng.random()]},
        "history": [{"at": 1_700_000_000 + j * 3600, "event": "login", "ok": True, "ms": rng.random()}
                    for j in range(6)],
        "note": None,
        "bio": "Enjoys long walks, short JSON documents and fast parsers. " * 2,
    }


def per_call(fn: Callable[[], Any], calls: int, repeat: int) -> float:
    def run() -> None:
        for _ in range(calls):
            fn()

    return median_time(run, repeat) / calls


def comparison(title: str, ours: str, times: dict[str, float]) -> str:
    """One row of median times, cohive's first, then its speed over each other one (> 1: cohive is faster)."""
    columns = list(times)
    header = ["", *columns, *(f"{ours} vs {c}" for c in columns[1:])]
    cells = [fmt_time(times[c]) for c in columns] + [f"{times[c] / times[columns[0]]:.2f}x" for c in columns[1:]]
    return table(title, header, [["time", *cells]])


def encode_record(quick: bool) -> str:
    data = record(1, random.Random(1))
    frozen = cohive.freeze(data)
    assert cohive.to_json(frozen) == json.dumps(cohive.thaw(frozen), separators=(",", ":"),
                                                ensure_ascii=False).encode()
    size = len(cohive.to_json(data))
    calls, repeat = (200, 5) if quick else (2000, 15)
    times = {
        "cohive.to_json(frozen)": per_call(lambda: cohive.to_json(frozen), calls, repeat),
        "json.dumps(thaw(frozen))": per_call(lambda: json.dumps(cohive.thaw(frozen)), calls, repeat),
        "json.dumps(dict)": per_call(lambda: json.dumps(data), calls, repeat),
        "cohive.to_json(dict)": per_call(lambda: cohive.to_json(data), calls, repeat),
    }
    if orjson is not None:
        times["orjson.dumps(dict)"] = per_call(lambda: orjson.dumps(data), calls, repeat)
    return comparison(f"to_json of a {size}-byte record, time per call", "to_json(frozen)", times)


def big_document(quick: bool) -> tuple[bytes, dict[str, Any]]:
    rng = random.Random(2)
    n = 1_000 if quick else 10_000
    data = {f"user:{i}": record(i, rng) for i in range(n)}
    return json.dumps(data, ensure_ascii=False).encode(), data


def parse_document(text: bytes, repeat: int) -> str:
    assert cohive.from_json(text) == cohive.Map(json.loads(text))
    times = {
        "cohive.from_json": median_time(lambda: cohive.from_json(text), repeat),
        "cohive.Map(json.loads)": median_time(lambda: cohive.Map(json.loads(text)), repeat),
        "json.loads": median_time(lambda: json.loads(text), repeat),
    }
    if orjson is not None:
        times["cohive.Map(orjson.loads)"] = median_time(lambda: cohive.Map(orjson.loads(text)), repeat)
        times["orjson.loads"] = median_time(lambda: orjson.loads(text), repeat)
    return comparison(f"from_json of a {len(text) / 1e6:.1f} MB document into a Map", "from_json", times)


def encode_document(data: dict[str, Any], repeat: int) -> str:
    frozen = cohive.Map(data)
    times = {
        "cohive.to_json(Map)": median_time(lambda: cohive.to_json(frozen), repeat),
        "json.dumps(thaw(Map))": median_time(lambda: json.dumps(cohive.thaw(frozen)), repeat),
        "json.dumps(dict)": median_time(lambda: json.dumps(data), repeat),
    }
    if orjson is not None:
        times["orjson.dumps(dict)"] = median_time(lambda: orjson.dumps(data), repeat)
    return comparison(f"to_json of that document's Map ({len(frozen):,} records)", "to_json", times)


def run(quick: bool = False) -> str:
    text, data = big_document(quick)
    repeat = 3 if quick else 7
    parts = [encode_record(quick), parse_document(text, repeat), encode_document(data, repeat)]
    if orjson is None:
        parts.append("\n(orjson is not installed: pip install -r requirements/bench.txt for its columns)")
    return "\n".join(parts)
