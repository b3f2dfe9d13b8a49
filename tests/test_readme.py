"""Every ```python block of the README runs as pasted, as a script of its own.

A block preceded by `<!-- README test: needs CPython 3.13 ... -->` is
skipped on older Pythons.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(r"(?:<!-- README test: needs CPython (\d+)\.(\d+)[^>]*-->\n)?```python\n(.*?)```", re.S)


def blocks() -> list[tuple[int, tuple[int, int] | None, str]]:
    text = README.read_text()
    found = []
    for match in BLOCK.finditer(text):
        line = text.count("\n", 0, match.start(3))
        needs = (int(match.group(1)), int(match.group(2))) if match.group(1) else None
        found.append((line, needs, match.group(3)))
    return found


def test_the_readme_has_python_blocks() -> None:
    assert len(blocks()) >= 5


@pytest.mark.parametrize(("line", "needs", "code"), blocks(), ids=lambda v: f"line{v}" if isinstance(v, int) else "")
def test_readme_block_runs_as_pasted(line: int, needs: tuple[int, int] | None, code: str, tmp_path: Path) -> None:
    if needs is not None and sys.version_info < needs:
        pytest.skip(f"the README says this block needs CPython {needs[0]}.{needs[1]}")
    script = tmp_path / "readme_block.py"
    script.write_text(code)
    out = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, f"README.md block at line {line} failed:\n{out.stderr}"
