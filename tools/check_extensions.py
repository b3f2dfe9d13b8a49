"""Which extension modules import in an isolated subinterpreter (own GIL), as cohive's workers are.

    python tools/check_extensions.py [module ...]

Each module is imported first in the main interpreter (to tell "not
installed" apart), then in a fresh isolated subinterpreter, each check in a
process of its own so a crash cannot hide the others.  Prints a Markdown
table; docs/extensions.md records what it found.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The modules new users asked about: stdlib C extensions, then third-party packages.
DEFAULT = [
    "json", "re", "decimal", "datetime", "sqlite3", "hashlib", "zlib", "ssl", "socket", "asyncio", "ctypes",
    "select", "readline", "curses",
    "attrs", "h11", "starlette", "numpy", "orjson", "msgspec", "pydantic_core", "uvloop", "httptools", "regex",
]

CHECK = """
import importlib, sys
name = sys.argv[1]
try:
    importlib.import_module(name)
except ImportError:
    print("not installed")
    raise SystemExit
from cohive._interpreters import Subinterpreter, InterpreterError
with Subinterpreter() as interp:
    try:
        interp.run(f"import {name}", timeout=120)
        print("imports")
    except InterpreterError as exc:
        last = [line for line in str(exc).splitlines() if line.strip()][-1]
        print("refused: " + last.strip())
"""


def check(name: str) -> str:
    try:
        out = subprocess.run([sys.executable, "-c", CHECK, name], capture_output=True, text=True, timeout=180,
                             cwd=ROOT)
    except subprocess.TimeoutExpired:
        return "hangs"
    if out.returncode != 0:
        return f"crashes the process (exit {out.returncode})"
    return out.stdout.strip() or "no answer"


def main() -> int:
    names = sys.argv[1:] or DEFAULT
    print(f"Python {sys.version.split()[0]}\n")
    print("| module | in an isolated subinterpreter |")
    print("|---|---|")
    for name in names:
        print(f"| {name} | {check(name)} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
