"""Pure arithmetic of the benchmarks: percentiles, counts over time, rates and ratios to a floor."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100), interpolated between the two nearest ranks."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    below, above = math.floor(rank), math.ceil(rank)
    return ordered[below] + (ordered[above] - ordered[below]) * (rank - below)


def cumulative(times: Sequence[float], start: float, step: float, end: float) -> list[int]:
    """How many of `times` happened by start, start + step, ... up to and including end."""
    ordered = sorted(times)
    counts, seen = [], 0
    for n in range(math.floor((end - start) / step) + 1):
        at = start + n * step
        while seen < len(ordered) and ordered[seen] <= at:
            seen += 1
        counts.append(seen)
    return counts


def span_rate(times: Sequence[float]) -> float | None:
    """Events per second between the first and the last: how fast a stage goes once it is going."""
    if len(times) < 2 or max(times) == min(times):
        return None
    return (len(times) - 1) / (max(times) - min(times))


def ratio_to_floor(rate: float | None, floors: Mapping[str, float], parts: Sequence[str]) -> float | None:
    """A stage's rate against the slowest raw part it goes through (Kafka, Postgres, SMTP)."""
    if rate is None:
        return None
    return rate / min(floors[part] for part in parts)
