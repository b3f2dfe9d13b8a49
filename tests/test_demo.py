"""The README's first command, python -m cohive demo, runs and reports; so does the map demo."""

import subprocess
import sys

TIMEOUT = 180


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cohive", *args], capture_output=True, text=True, timeout=TIMEOUT)


def test_workers_demo_runs_and_prints_its_summary() -> None:
    out = run("demo", "--keys", "2000", "--workers", "2", "--duration", "0.3")
    assert out.returncode == 0, out.stderr
    assert "Building a Map of 2,000 items" in out.stdout
    assert "total" in out.stdout and "M lookups/s" in out.stdout  # the live line
    for row in ("cohive.Hive, 2 workers", "cohive.Hive, 1 worker", "2 threads, one interpreter (dict)",
                "multiprocessing, 2 processes (dict)", "data to workers", "memory added"):
        assert row in out.stdout


def test_map_demo_runs() -> None:
    out = run("map", "--keys", "2000")
    assert out.returncode == 0, out.stderr
    for line in ("a Map of 2,000 items", "build cohive.Map(dict)", "pickle dumps+loads", "random lookups",
                 "publish + read via a Ref", "len(m) = 2,000"):
        assert line in out.stdout


def test_demo_refuses_bad_options() -> None:
    for args, message in ((["demo", "--keys", "0"], "--keys must be at least 1, got 0"),
                          (["demo", "--workers", "0"], "--workers must be at least 1, got 0"),
                          (["demo", "--duration", "-1"], "--duration must be positive, got -1.0")):
        out = run(*args)
        assert out.returncode == 2 and message in out.stderr
    assert "--duration" in run("demo", "--help").stdout
