"""service.kpi.ratio.divide_series: bucket-wise numerator / denominator, as a plain function."""

from __future__ import annotations

import datetime as dt

from service.kpi.ratio import divide_series
from service.models.observations import SeriesPoint


def divide(num: list[SeriesPoint], den: list[SeriesPoint]) -> list[SeriesPoint]:
    return divide_series(num, den, SeriesPoint)


D1 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
D2 = dt.datetime(2024, 1, 2, tzinfo=dt.UTC)
D3 = dt.datetime(2024, 1, 3, tzinfo=dt.UTC)
D4 = dt.datetime(2024, 1, 4, tzinfo=dt.UTC)


def sp(bucket: dt.datetime, value: float | None, count: int) -> SeriesPoint:
    return SeriesPoint(bucket=bucket, value=value, count=count)


def as_tuples(points: list[SeriesPoint]) -> list[tuple[dt.datetime, float | None, int]]:
    return [(p.bucket, p.value, p.count) for p in points]


def test_divides_bucket_by_bucket_and_adds_counts() -> None:
    num = [sp(D1, 6, 2), sp(D2, 5, 1)]
    den = [sp(D1, 40, 3), sp(D2, 20, 4)]
    assert as_tuples(divide(num, den)) == [(D1, 0.15, 5), (D2, 0.25, 5)]


def test_matches_buckets_not_positions() -> None:
    num = [sp(D1, 1, 1), sp(D3, 9, 1)]
    den = [sp(D3, 3, 2), sp(D1, 4, 1)]
    assert as_tuples(divide(num, den)) == [(D1, 0.25, 2), (D3, 3.0, 3)]


def test_zero_denominator_gives_null_not_an_error() -> None:
    assert as_tuples(divide([sp(D1, 3, 1)], [sp(D1, 0, 2)])) == [(D1, None, 3)]
    assert as_tuples(divide([sp(D1, 0, 1)], [sp(D1, -0.0, 1)])) == [(D1, None, 2)]


def test_missing_denominator_bucket_gives_null() -> None:
    num = [sp(D1, 2, 1), sp(D2, 7, 3)]
    den = [sp(D1, 8, 1)]
    assert as_tuples(divide(num, den)) == [(D1, 0.25, 2), (D2, None, 3)]


def test_null_sides_give_null() -> None:
    assert as_tuples(divide([sp(D1, None, 0)], [sp(D1, 5, 2)])) == [(D1, None, 2)]
    assert as_tuples(divide([sp(D1, 5, 2)], [sp(D1, None, 0)])) == [(D1, None, 2)]


def test_zero_numerator_gives_zero() -> None:
    assert as_tuples(divide([sp(D1, 0, 1)], [sp(D1, 4, 1)])) == [(D1, 0.0, 2)]


def test_negative_values_divide() -> None:
    assert as_tuples(divide([sp(D1, -3, 1)], [sp(D1, 12, 1)])) == [(D1, -0.25, 2)]
    assert as_tuples(divide([sp(D1, 3, 1)], [sp(D1, -6, 1)])) == [(D1, -0.5, 2)]


def test_only_numerator_buckets_are_kept_in_their_order() -> None:
    num = [sp(D2, 1, 1), sp(D4, 2, 1)]
    den = [sp(D1, 1, 1), sp(D2, 2, 1), sp(D3, 3, 1), sp(D4, 4, 1)]
    assert as_tuples(divide(num, den)) == [(D2, 0.5, 2), (D4, 0.5, 2)]


def test_empty_sides() -> None:
    assert divide([], []) == []
    assert divide([], [sp(D1, 1, 1)]) == []
    assert as_tuples(divide([sp(D1, 1, 1)], [])) == [(D1, None, 1)]


def test_inputs_are_left_untouched() -> None:
    num = [sp(D1, 1, 1)]
    den = [sp(D1, 2, 1)]
    divide(num, den)
    assert as_tuples(num) == [(D1, 1.0, 1)]
    assert as_tuples(den) == [(D1, 2.0, 1)]
