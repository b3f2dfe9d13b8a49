"""Shared benchmark helpers: medians of repeated runs, printed as tables with ratios."""

import gc
import os
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any


def rss_bytes() -> int | None:
    """Resident memory of this process (Linux's /proc/self/statm), or None elsewhere."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return None


def smaps_kb() -> dict[str, int]:
    """This process's memory by kind (Rss, Pss, Private_Dirty, Private_Clean, Anonymous...), in kB,
    from Linux's /proc/self/smaps_rollup."""
    fields = {}
    with open("/proc/self/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "kB":
                fields[parts[0].rstrip(":")] = int(parts[1])
    return fields


def median_time(fn: Callable[[], Any], repeat: int) -> float:
    """Median wall time of fn() over `repeat` runs.

    Results are kept until all runs are done, so that freeing one run's result
    is never timed as part of the next run.
    """
    results = []
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        results.append(fn())
        times.append(time.perf_counter() - start)
    del results
    gc.collect()
    return statistics.median(times)


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda cells: "| " + " | ".join(str(c).rjust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    out = [f"\n### {title}\n", line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in rows]
    return "\n".join(out)


def fmt_rate(per_second: float) -> str:
    if per_second >= 1e6:
        return f"{per_second / 1e6:.2f} M/s"
    if per_second >= 1e3:
        return f"{per_second / 1e3:.0f} k/s"
    return f"{per_second:.2g} /s"


def fmt_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.1f} µs"
