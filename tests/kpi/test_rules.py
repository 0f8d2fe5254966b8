"""Pure KPI rules with hand-worked numbers: interval unions, availability and error budget,
DORA bands, status against targets, trends, and Postgres-compatible percentiles."""

from __future__ import annotations

import datetime as dt

import pytest

from service.kpi.bands import (
    change_failure_rate_band,
    deployment_frequency_band,
    lead_time_band,
    recovery_time_band,
)
from service.kpi.intervals import (
    Window,
    availability,
    burn_rate,
    error_budget_remaining,
    union_seconds,
)
from service.kpi.stats import mean, median, p90, percentile_cont
from service.kpi.status import evaluate, trend
from service.models.enums import Band, Direction, Status, Trend


def t(day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=dt.UTC)


MARCH_1_2 = Window(t(1), t(3))  # 48 hours = 172,800 s


def test_overlapping_outages_count_once_and_open_ones_run_until_now() -> None:
    outages = [
        (t(1, 10), t(1, 11)),  # 10:00-11:00
        (t(1, 10, 30), t(1, 12)),  # overlaps: union 10:00-12:00 = 2 h
        (t(1, 23), t(2, 1)),  # 2 h, crosses midnight
        (t(2, 20), None),  # open: until now = day 2 22:00 -> 2 h
    ]
    now = t(2, 22)
    assert union_seconds(outages, MARCH_1_2, now) == 6 * 3600
    # 1 - 6 h / 48 h = 0.875
    assert availability(outages, MARCH_1_2, now) == 0.875


def test_outages_are_clipped_to_the_window() -> None:
    outages = [(t(1) - dt.timedelta(hours=3), t(1, 1)), (t(2, 23), t(3, 5))]
    # 1 h at the start + 1 h at the end of the window
    assert union_seconds(outages, MARCH_1_2, now=t(4)) == 2 * 3600
    assert union_seconds([(t(4), t(5))], MARCH_1_2, now=t(6)) == 0


def test_contained_and_touching_intervals() -> None:
    outages = [(t(1, 1), t(1, 5)), (t(1, 2), t(1, 3)), (t(1, 5), t(1, 6))]
    assert union_seconds(outages, MARCH_1_2, now=t(4)) == 5 * 3600


def test_error_budget_and_burn_rate() -> None:
    # Target 99.9 % over 30 days: budget 43.2 minutes. 21.6 minutes down: half the budget.
    window = Window(t(1), t(31))
    down = [(t(5, 10), t(5, 10) + dt.timedelta(minutes=21.6))]
    value = availability(down, window, now=t(31))
    assert value == pytest.approx(1 - 21.6 / (30 * 24 * 60))
    assert error_budget_remaining(value, 0.999) == pytest.approx(0.5)
    assert burn_rate(value, 0.999) == pytest.approx(0.5)
    # Twice the budget: remaining -1, burning at 2.
    assert error_budget_remaining(0.998, 0.999) == pytest.approx(-1.0)
    assert burn_rate(0.998, 0.999) == pytest.approx(2.0)
    assert error_budget_remaining(1.0, 1.0) == 1.0
    assert error_budget_remaining(0.9999, 1.0) == -1.0


def test_a_window_must_have_a_length() -> None:
    with pytest.raises(ValueError, match="end after it starts"):
        Window(t(2), t(2))


@pytest.mark.parametrize(
    ("rate", "band"),
    [(0.0, Band.ELITE), (0.05, Band.ELITE), (0.051, Band.HIGH), (0.10, Band.HIGH),
     (0.15, Band.MEDIUM), (0.151, Band.LOW), (1.0, Band.LOW)],
)  # fmt: skip
def test_change_failure_rate_bands(rate: float, band: Band) -> None:
    assert change_failure_rate_band(rate) is band


@pytest.mark.parametrize(
    ("hours", "lead", "recovery"),
    [(0.5, Band.ELITE, Band.ELITE), (1, Band.ELITE, Band.HIGH), (23, Band.ELITE, Band.HIGH),
     (24, Band.HIGH, Band.MEDIUM), (24 * 6, Band.HIGH, Band.MEDIUM),
     (24 * 7, Band.MEDIUM, Band.LOW), (24 * 30, Band.LOW, Band.LOW)],
)  # fmt: skip
def test_duration_bands(hours: float, lead: Band, recovery: Band) -> None:
    value = dt.timedelta(hours=hours)
    assert lead_time_band(value) is lead
    assert recovery_time_band(value) is recovery


@pytest.mark.parametrize(
    ("deploys", "days", "band"),
    [(30, 30, Band.ELITE), (29, 30, Band.HIGH), (1, 7, Band.HIGH), (4, 30, Band.MEDIUM),
     (1, 30, Band.MEDIUM), (1, 31, Band.LOW), (0, 7, Band.LOW)],
)  # fmt: skip
def test_deployment_frequency_bands(deploys: int, days: int, band: Band) -> None:
    assert deployment_frequency_band(deploys, dt.timedelta(days=days)) is band


@pytest.mark.parametrize(
    ("value", "target", "warning", "direction", "status"),
    [
        (99.97, 99.95, 99.97, Direction.HIGHER_IS_BETTER, Status.MET),
        (99.96, 99.95, 99.97, Direction.HIGHER_IS_BETTER, Status.AT_RISK),
        (99.95, 99.95, 99.97, Direction.HIGHER_IS_BETTER, Status.AT_RISK),
        (99.94, 99.95, 99.97, Direction.HIGHER_IS_BETTER, Status.BREACHED),
        (99.94, 99.95, None, Direction.HIGHER_IS_BETTER, Status.BREACHED),
        (99.95, 99.95, None, Direction.HIGHER_IS_BETTER, Status.MET),
        (40.0, 60.0, 45.0, Direction.LOWER_IS_BETTER, Status.MET),
        (45.0, 60.0, 45.0, Direction.LOWER_IS_BETTER, Status.MET),
        (50.0, 60.0, 45.0, Direction.LOWER_IS_BETTER, Status.AT_RISK),
        (61.0, 60.0, 45.0, Direction.LOWER_IS_BETTER, Status.BREACHED),
        (None, 60.0, 45.0, Direction.LOWER_IS_BETTER, Status.NO_DATA),
        (50.0, None, None, Direction.LOWER_IS_BETTER, Status.NO_DATA),
    ],
)
def test_status_against_target_and_warning(
    value: float | None, target: float | None, warning: float | None, direction: Direction,
    status: Status,
) -> None:  # fmt: skip
    assert evaluate(value, target, warning, direction) is status


def test_trend_follows_the_direction() -> None:
    assert trend(99.9, 99.8, Direction.HIGHER_IS_BETTER) is Trend.IMPROVING
    assert trend(99.7, 99.8, Direction.HIGHER_IS_BETTER) is Trend.WORSENING
    assert trend(30.0, 45.0, Direction.LOWER_IS_BETTER) is Trend.IMPROVING
    assert trend(50.0, 45.0, Direction.LOWER_IS_BETTER) is Trend.WORSENING
    assert trend(45.0, 45.0, Direction.LOWER_IS_BETTER) is Trend.STEADY
    assert trend(45.0, None, Direction.LOWER_IS_BETTER) is Trend.UNKNOWN


def test_percentiles_interpolate_like_postgres() -> None:
    # percentile_cont(0.9) over 10, 20, 30, 40: position 0.9 * 3 = 2.7 -> 30 + 0.7 * 10 = 37
    assert p90([40, 10, 30, 20]) == pytest.approx(37.0)
    assert median([40, 10, 30, 20]) == 25.0
    assert median([5]) == 5.0
    assert mean([10, 20, 60]) == 30.0
    assert percentile_cont([], 0.5) is None and mean([]) is None
    assert percentile_cont([1, 2, 3], 0.0) == 1 and percentile_cont([1, 2, 3], 1.0) == 3
    with pytest.raises(ValueError, match="between 0 and 1"):
        percentile_cont([1.0], 1.5)
