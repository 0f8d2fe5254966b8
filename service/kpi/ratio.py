"""Ratio KPIs: numerator and denominator aggregated per bucket first, then divided."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar


class Point(Protocol):
    """What division reads of a series point."""

    @property
    def bucket(self) -> dt.datetime: ...
    @property
    def value(self) -> float | None: ...
    @property
    def count(self) -> int: ...
    @property
    def complete(self) -> bool: ...


P = TypeVar("P", bound=Point)


def divide_series(
    numerator: Sequence[P], denominator: Sequence[Point], make: Callable[..., P]
) -> list[P]:
    """Bucket-wise numerator / denominator over the numerator's buckets, each point built by
    `make(bucket=, value=, count=, complete=)`.

    A bucket whose denominator is zero or missing has a null value (no data), never an error.
    """
    den_by_bucket = {p.bucket: p for p in denominator}
    out = []
    for num in numerator:
        den = den_by_bucket.get(num.bucket)
        value = None
        if den is not None and num.value is not None and den.value:
            value = num.value / den.value
        count = num.count + (den.count if den else 0)
        complete = num.complete and (den is None or den.complete)
        out.append(make(bucket=num.bucket, value=value, count=count, complete=complete))
    return out
