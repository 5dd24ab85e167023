"""Shared helpers for the benchmark scripts: timing and table printing."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence


def best_times_interleaved(
    fns: Sequence[Callable[[], object]],
    repeats: int = 5,
    clock: Callable[[], float] = time.perf_counter,
) -> list[float]:
    """Fastest time of each function, running them in turn ``repeats`` times.

    Interleaving exposes every function to the same drift in machine load, so
    ratios between them stay meaningful on a busy machine. ``clock`` is wall
    time by default; ``time.process_time`` (this process's CPU time) leaves
    out the time spent waiting for a CPU that other processes hold.
    """
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            start = clock()
            fn()
            best[i] = min(best[i], clock() - start)
    return best


def print_table(
    title: str, header: Sequence[str], rows: Sequence[Sequence[object]]
) -> None:
    """Print a plain-text (Markdown-compatible) table."""
    print(f"\n## {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        cells = [f"{c:.3f}" if isinstance(c, float) else str(c) for c in row]
        print("| " + " | ".join(cells) + " |")
