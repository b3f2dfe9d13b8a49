"""On Python 3.11 and older, `import cohive` says that 3.12+ is needed."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("version", ["3.11", "3.10"])
def test_old_python_gets_a_clear_error(version: str) -> None:
    python = shutil.which(f"python{version}")
    if python is None or subprocess.run([python, "-V"], capture_output=True, timeout=30).returncode != 0:
        pytest.skip(f"no python{version} on this machine")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    out = subprocess.run([python, "-c", "import cohive"], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode != 0
    assert f"cohive needs CPython 3.12 or newer (per-interpreter GIL, PEP 684); this is Python {version}" in out.stderr
