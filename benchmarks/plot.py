"""Draws the main benchmark figures as PNGs in docs/ from run.py's --data JSON.

Runs in its own environment with requirements/plots.txt (./dev bench --plot
sets it up), so matplotlib never enters the test environments.
"""

import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

COLOURS = {"cohive": "#d9822b", "stdlib": "#4c72b0", "other": "#8c8c8c"}


def colour(label: str) -> str:
    if label.startswith("cohive"):
        return COLOURS["cohive"]
    if "Interpreter" in label or "interpreters" in label or "_interpqueues" in label:
        return COLOURS["stdlib"]
    return COLOURS["other"]


def bars(ax: Any, labels: list[str], micros: list[float], title: str, log: bool = False) -> None:
    ys = range(len(labels))
    ax.barh(list(ys), micros, color=[colour(label) for label in labels])
    ax.set_yticks(list(ys), labels)
    ax.invert_yaxis()
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("microseconds (lower is better)" + (", log scale" if log else ""))
    if log:
        ax.set_xscale("log")
    for y, v in zip(ys, micros):
        ax.text(v, y, f" {v:,.1f} µs" if v < 1000 else f" {v / 1000:,.1f} ms", va="center", fontsize=8)
    ax.margins(x=0.25)


def plot_latency(data: dict[str, Any], python: str, out: Path) -> None:
    fig, axes = plt.subplots(1, 5, figsize=(21, 3.2), constrained_layout=True)
    names = list(data)
    for ax, (key, title) in zip(axes, [("sync", "submit(f).result(), worker idle"),
                                       ("back_to_back", "submit(f).result(), back to back"),
                                       ("async", "await run_in_executor(...), worker idle"),
                                       ("async_back_to_back", "await run_in_executor(...), back to back"),
                                       ("map", "map() of trivial tasks, per task")]):
        bars(ax, names, [data[n][key] * 1e6 for n in names], title)
    fig.suptitle(f"One task through an executor with one worker (Python {python}; medians of interleaved rounds)",
                 fontsize=11)
    fig.savefig(out, dpi=110)
    plt.close(fig)


def plot_queue(data: dict[str, Any], python: str, out: Path) -> None:
    labels = {
        "cohive sync": "cohive.Queue",
        "cohive async": "cohive.Queue, asyncio",
        "stdlib public": "concurrent.interpreters.Queue",
        "stdlib spinning": "_interpqueues, spinning",
        "processes": "multiprocessing Pipe",
        "threads": "queue.Queue (threads)",
        "cohive idle": "cohive.Queue, echo idle",
        "threads idle": "queue.Queue (threads), echo idle",
    }
    times = data["round_trip"]
    shown = [k for k in labels if times.get(k)]
    fig, ax = plt.subplots(figsize=(8, 3.2), constrained_layout=True)
    bars(ax, [labels[k] for k in shown], [times[k] * 1e6 for k in shown],
         f"Round trip of an int to an echo worker and back (Python {python})", log=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main() -> int:
    source, docs = Path(sys.argv[1]), Path(sys.argv[2])
    data = json.loads(source.read_text())
    python = data["python"]
    drawn = []
    if "latency" in data:
        plot_latency(data["latency"], python, docs / "bench-latency.png")
        drawn.append("bench-latency.png")
    if "queue" in data:
        plot_queue(data["queue"], python, docs / "bench-queue.png")
        drawn.append("bench-queue.png")
    print(f"plotted {', '.join(drawn) or 'nothing'} in {docs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
