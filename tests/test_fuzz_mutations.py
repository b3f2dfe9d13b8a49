"""The snapshot fuzzer's mutations (benchmarks/fuzz_snapshot.py), which snapshot tests can reuse."""

import random
import subprocess
import sys
from pathlib import Path

import pytest

import cohive

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
try:
    import fuzz_snapshot
finally:
    sys.path.pop(0)

BLOB = random.Random(7).randbytes(4096)


def test_mutants_are_reproducible_from_the_seed() -> None:
    first = list(fuzz_snapshot.mutants(BLOB, random.Random(1), 50))
    assert first == list(fuzz_snapshot.mutants(BLOB, random.Random(1), 50))
    assert first != list(fuzz_snapshot.mutants(BLOB, random.Random(2), 50))


def test_every_kind_of_mutation_happens_and_changes_the_file() -> None:
    produced = list(fuzz_snapshot.mutants(BLOB, random.Random(3), 500, donors=[bytes(1000)]))
    described = " ".join(description for description, _ in produced)
    for words in ("flip bits", "set 1 bytes", "truncate", "splice", "of another", "insert", "delete", "-byte word",
                  "add", "retag"):
        assert words in described
    changed = sum(mutant != BLOB for _, mutant in produced)
    assert changed >= 0.95 * len(produced)


def test_truncations_reach_empty_files_and_the_header() -> None:
    lengths = {len(mutant) for _, mutant in fuzz_snapshot.mutants(BLOB, random.Random(4), 2000)}
    assert 0 in lengths
    assert any(0 < n < 64 for n in lengths)


def test_tiny_and_empty_files_mutate_without_error() -> None:
    for data in (b"", b"\x00", b"1234567"):
        for description, mutant in fuzz_snapshot.mutants(data, random.Random(5), 300):
            assert isinstance(mutant, bytes) and description


def test_a_word_mutation_writes_one_aligned_word_of_a_boundary_value() -> None:
    rng = random.Random(6)
    for _ in range(200):
        data = bytearray(BLOB)
        description = fuzz_snapshot.set_word(data, rng, ())
        width, at = int(description.split()[1].split("-")[0]), int(description.split()[4])
        assert at % width == 0 and len(data) == len(BLOB)
        assert data[:at] == BLOB[:at] and data[at + width:] == BLOB[at + width:]
        value = int(description.split()[6])
        order = "little" if "little" in description else "big"
        assert int.from_bytes(data[at:at + width], order) == value % 2**(8 * width)
        assert value in fuzz_snapshot.interesting_values(len(BLOB))


def test_reseal_rewrites_only_the_checksum_and_the_size() -> None:
    sealed = fuzz_snapshot.reseal(BLOB, fix_size=False)
    assert sealed[:56] == BLOB[:56] and sealed[64:] == BLOB[64:] and sealed[56:64] != BLOB[56:64]
    assert fuzz_snapshot.reseal(sealed, fix_size=False) == sealed
    shorter = fuzz_snapshot.reseal(BLOB[:1000], fix_size=True)
    assert int.from_bytes(shorter[24:32], "little") == 1000
    assert shorter[56:64] != fuzz_snapshot.reseal(BLOB[:1000], fix_size=False)[56:64]
    assert fuzz_snapshot.reseal(BLOB[:63], fix_size=True) == BLOB[:63]  # no header to reseal


@pytest.mark.skipif(not hasattr(cohive, "load"), reason="needs snapshots (Map.save, cohive.load)")
def test_the_fuzzer_runs_end_to_end() -> None:
    # Exit status 1 means findings, which test_snapshot's own mutations judge; 2 or a traceback means the
    # fuzzer itself broke: its seeds do not save and load back, or reseal() no longer matches the format.
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "fuzz_snapshot.py"), "--iterations", "40"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode in (0, 1), out.stderr
    assert "40 mutants of 8 snapshots" in out.stdout
