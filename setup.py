"""Builds the C11 extension cohive._cohive from src/core (plain C) and src/binding (CPython)."""

import platform
import sys
from pathlib import Path

from setuptools import Extension, setup

here = Path(__file__).parent
sources = sorted(str(p.relative_to(here)) for p in (here / "src").rglob("*.c"))
headers = sorted(str(p.relative_to(here)) for p in (here / "src").rglob("*.h"))

if sys.platform == "win32":
    flags = ["/std:c11", "/experimental:c11atomics"]
else:
    # The stack-built probe keys in convert.c read a byte buffer as a ch_str.
    flags = ["-std=c11", "-O2", "-fno-strict-aliasing", "-Wall", "-Wextra", "-Wno-unused-parameter",
             "-Wno-missing-field-initializers", "-Wno-cast-function-type",
             # an undeclared function is taken to return int: a pointer would be cut to 32 bits
             "-Werror=implicit-function-declaration"]


def cpu_has_popcnt() -> bool:
    """HAMT indexing is a popcount per level; without the instruction it is a slow library call.

    cohive is built on the machine that runs it, so the build host's CPU decides.
    """
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    try:
        return " popcnt" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


if sys.platform != "win32" and cpu_has_popcnt():
    flags.append("-mpopcnt")

setup(
    ext_modules=[
        Extension("cohive._cohive", sources=sources, depends=headers, extra_compile_args=flags),
    ],
)
