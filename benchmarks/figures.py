"""How the benchmarks print what they measured: durations with a unit that fits, and min / median /
max of repeated measurements."""

from __future__ import annotations

import statistics
from typing import List, Optional, Tuple

__all__ = ["stats", "show"]


def stats(values: List[float]) -> Tuple[float, float, float]:
    """(min, median, max)."""
    return min(values), statistics.median(values), max(values)


def show(seconds: Optional[float]) -> str:
    """A duration with a unit that fits (``-`` for None)."""
    if seconds is None:
        return "-"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.2f} us"
