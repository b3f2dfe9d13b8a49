"""The README's first command, python -m cohive demo, runs and reports."""

import subprocess
import sys


def test_demo_runs_and_prints_its_summary() -> None:
    out = subprocess.run([sys.executable, "-m", "cohive", "demo", "--keys", "2000"], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    for line in ("a Map of 2,000 items", "build cohive.Map(dict)", "pickle dumps+loads", "random lookups",
                 "publish + read via a Ref", "len(m) = 2,000"):
        assert line in out.stdout


def test_demo_refuses_bad_options() -> None:
    out = subprocess.run([sys.executable, "-m", "cohive", "demo", "--keys", "0"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 2 and "--keys must be at least 1, got 0" in out.stderr
