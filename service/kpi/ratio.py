"""Ratio KPIs: numerator and denominator aggregated per bucket first, then divided."""

from __future__ import annotations

from service.models.observations import SeriesPoint


def divide_series(
    numerator: list[SeriesPoint], denominator: list[SeriesPoint]
) -> list[SeriesPoint]:
    """Bucket-wise numerator / denominator over the numerator's buckets.

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
        out.append(SeriesPoint(bucket=num.bucket, value=value, count=count, complete=complete))
    return out
