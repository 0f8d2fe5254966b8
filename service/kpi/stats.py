"""Summary statistics as Postgres computes them, so SQL and Python results can be compared."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile_cont(values: Sequence[float], fraction: float) -> float | None:
    """Postgres' percentile_cont: linear interpolation between the two nearest ranks."""
    if not 0 <= fraction <= 1:
        raise ValueError("fraction must be between 0 and 1")
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def mean(values: Sequence[float]) -> float | None:
    return math.fsum(values) / len(values) if values else None


def median(values: Sequence[float]) -> float | None:
    return percentile_cont(values, 0.5)


def p90(values: Sequence[float]) -> float | None:
    return percentile_cont(values, 0.9)
