"""./dev under CI=true: a supported CPython that is missing fails the run, by name."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def test_ci_fails_naming_a_missing_interpreter(tmp_path: Path) -> None:
    # Only the system's own directories: no pyenv, no uv, none of the venvs.
    path = "/usr/bin:/bin"
    supported = re.search(r"^SUPPORTED=\((.*)\)$", (REPO / "dev").read_text(), re.M)
    assert supported is not None
    missing = [v for v in supported.group(1).split() if shutil.which(f"python{v}", path=path) is None]
    if not missing:
        pytest.skip("every supported CPython is on the system PATH here")
    env = {"PATH": path, "HOME": str(tmp_path), "CI": "true"}
    out = subprocess.run(["bash", str(REPO / "dev"), "test", "--co"], capture_output=True, text=True, env=env,
                         timeout=120, cwd=tmp_path)
    assert out.returncode != 0
    assert f"CI needs CPython {missing[0]} and it is not installed" in out.stderr, out.stderr
    assert "unbound variable" not in out.stderr and "tests on Python" not in out.stderr  # it stopped right there
