"""Budget variance, the fiscal-year spend forecast and opex stability as plain functions
(service/kpi/budgets.py) and through their registry entries, with hand-worked figures.

The forecast's fiscal year starts in April (April 2025 to March 2026, then April 2026 to
March 2027); the run rate is the mean of the last 3 whole months. Monthly spend:

    April 2025 ... December 2025   100 a month (9 months: 900)
    January 2026                   130
    February 2026                  160
    March 2026                     190
    April 2026                     220
"""

from __future__ import annotations

import datetime as dt
import math

import pytest
from pytest import approx

from service.kpi import budgets
from service.kpi.budgets import FiscalCalendar
from service.kpi.metrics import METRICS, Inputs
from service.kpi.periods import Period
from service.models.enums import BuiltinMetric

APRIL = FiscalCalendar(start_month=4, run_rate_months=3)


def day(year: int, month: int, d: int = 1) -> dt.datetime:
    return dt.datetime(year, month, d, tzinfo=dt.UTC)


def month(year: int, m: int) -> Period:
    return Period(day(year, m), day(year + (m == 12), m % 12 + 1))


MONTHLY = {
    **{day(2025, m): 100.0 for m in range(4, 13)},
    day(2026, 1): 130.0,
    day(2026, 2): 160.0,
    day(2026, 3): 190.0,
    day(2026, 4): 220.0,
}


def test_the_fiscal_year_holds_the_windows_last_instant() -> None:
    # A window ending on 1 April 2026 (March) belongs to the year April 2025 - March 2026;
    # one ending on 1 May 2026 (April) to April 2026 - March 2027.
    assert APRIL.year_of(day(2026, 4)) == Period(day(2025, 4), day(2026, 4))
    assert APRIL.year_of(day(2026, 5)) == Period(day(2026, 4), day(2027, 4))
    assert APRIL.year_of(day(2026, 3, 1)) == Period(day(2025, 4), day(2026, 4))
    # January start: the calendar year.
    assert FiscalCalendar().year_of(day(2026, 1)) == Period(day(2025, 1), day(2026, 1))
    assert FiscalCalendar().year_of(day(2026, 2, 10)) == Period(day(2026, 1), day(2027, 1))


def test_forecast_in_february() -> None:
    # Spent April 2025 - February 2026: 900 + 130 + 160 = 1,190. Run rate: December, January,
    # February: (100 + 130 + 160) / 3 = 130. One month left (March): 1,190 + 130 = 1,320.
    assert budgets.forecast(month(2026, 2), MONTHLY, APRIL) == approx(1320.0)


def test_forecast_in_march_the_last_month_of_the_fiscal_year() -> None:
    # Spent: 1,190 + 190 = 1,380; run rate (130 + 160 + 190) / 3 = 160; no month left: the
    # forecast is the year's spend, 1,380.
    assert budgets.forecast(month(2026, 3), MONTHLY, APRIL) == approx(1380.0)


def test_forecast_in_april_a_new_fiscal_year() -> None:
    # Only April's spend counts so far: 220. Run rate: February, March, April:
    # (160 + 190 + 220) / 3 = 190. Eleven months left (May - March): 220 + 11 x 190 = 2,310.
    assert budgets.forecast(month(2026, 4), MONTHLY, APRIL) == approx(2310.0)


def test_forecast_mid_month() -> None:
    # Measured to 15 February (14 of February's 28 days): February's spend so far is half of
    # 160, 80. Spent: 900 + 130 + 80 = 1,110. The run rate takes whole months only:
    # November, December, January: (100 + 100 + 130) / 3 = 110. Left: 14/28 of February and
    # March: 1.5 months. 1,110 + 1.5 x 110 = 1,275.
    part = {**MONTHLY, day(2026, 2): 80.0}
    window = Period(day(2026, 2), day(2026, 2, 15))
    assert budgets.months_left(window.end, day(2026, 4)) == approx(1.5)
    assert budgets.forecast(window, part, APRIL) == approx(1275.0)


def test_forecast_counts_months_without_spend_as_zero() -> None:
    # Spend starts in February 2026 (160): the run rate for February is (0 + 0 + 160) / 3,
    # 53.33; spent 160; one month left: 160 + 53.33 = 213.33.
    only = {day(2026, 2): 160.0}
    assert budgets.forecast(month(2026, 2), only, APRIL) == approx(160 + 160 / 3)


def test_the_months_the_forecast_reads() -> None:
    # February 2026: from the fiscal year's start (April 2025) to 1 March.
    assert APRIL.reads(month(2026, 2)) == Period(day(2025, 4), day(2026, 3))
    # April 2026: the run rate's first month (February) comes before the year's start.
    assert APRIL.reads(month(2026, 4)) == Period(day(2026, 2), day(2026, 5))
    assert APRIL.run_rate_months_before(day(2026, 5)) == [day(2026, m) for m in (2, 3, 4)]
    # A window ending mid-month: its month is not whole, so the run rate stops before it.
    assert APRIL.run_rate_months_before(day(2026, 2, 15)) == [
        day(2025, 11), day(2025, 12), day(2026, 1),
    ]  # fmt: skip


def test_stability_over_a_quarter() -> None:
    # January 130, February 160, March 190: mean 160, deviations -30, 0, 30; population
    # variance (900 + 0 + 900) / 3 = 600; standard deviation sqrt(600) = 24.4949;
    # coefficient of variation 24.4949 / 160 = 0.153093.
    quarter = Period(day(2026, 1), day(2026, 4))
    assert budgets.stability(quarter, MONTHLY) == approx(math.sqrt(600) / 160)
    assert budgets.stability(quarter, MONTHLY) == approx(0.153093, abs=1e-6)


def test_stability_of_a_steady_spend_is_zero() -> None:
    # April - June 2025: 100 each, no deviation.
    assert budgets.stability(Period(day(2025, 4), day(2025, 7)), MONTHLY) == 0.0


def test_stability_needs_two_whole_months() -> None:
    # One month: no value. A quarter measured to 10 March: January and February are whole:
    # 130 and 160, mean 145, deviations -15 and 15, standard deviation 15: 15 / 145.
    assert budgets.stability(month(2026, 1), MONTHLY) is None
    assert budgets.stability(Period(day(2026, 1), day(2026, 3, 10)), MONTHLY) == approx(15 / 145)
    # A window starting mid-month: that month is not whole either (February, March).
    # 160 and 190: mean 175, standard deviation 15: 15 / 175.
    assert budgets.stability(Period(day(2026, 1, 20), day(2026, 4)), MONTHLY) == approx(15 / 175)
    # No spend at all: a mean of 0.
    assert budgets.stability(Period(day(2024, 1), day(2024, 4)), MONTHLY) is None


def test_variance() -> None:
    # Spent 3,100 against a budget of 3,000: 100 over, 100 / 3,000 = 0.0333.
    assert budgets.variance(3100.0, 3000.0, 1) == 100.0
    assert budgets.variance_share(3100.0, 3000.0, 1) == approx(1 / 30)
    # Nothing spent: the whole budget under.
    assert budgets.variance(0.0, 3000.0, 1) == -3000.0
    # No budget is no value, not 0; a budget of 0 has a variance but no share.
    assert budgets.variance(3100.0, 0.0, 0) is None
    assert budgets.variance_share(3100.0, 0.0, 0) is None
    assert budgets.variance(3100.0, 0.0, 1) == 3100.0
    assert budgets.variance_share(3100.0, 0.0, 1) is None


def inputs(window: Period, **figures: object) -> Inputs:
    return Inputs(seconds=window.seconds, services=(1,), window=window, fiscal=APRIL,
                  **figures)  # type: ignore[arg-type]  # fmt: skip


@pytest.mark.parametrize(
    ("metric", "unit", "expected"),
    [
        # 3,100 spent (2 records) against 3,000 budgeted (1 budget): 100, 3 behind it.
        (BuiltinMetric.BUDGET_VARIANCE, "EUR", (100.0, 3)),
        # 100 / 3,000 = 3.333 %.
        (BuiltinMetric.BUDGET_VARIANCE_SHARE, "percent", (approx(10 / 3), 3)),
        (BuiltinMetric.BUDGET_VARIANCE_SHARE, "share", (approx(1 / 30), 3)),
    ],
)
def test_variance_metrics(metric: BuiltinMetric, unit: str, expected: tuple[object, int]) -> None:
    i = inputs(month(2026, 2), spend=(3100.0, 2), budget=(3000.0, 1))
    assert METRICS[metric].compute(i, unit) == expected


def test_no_budget_gives_no_value() -> None:
    i = inputs(month(2026, 2), spend=(3100.0, 2))
    assert METRICS[BuiltinMetric.BUDGET_VARIANCE].compute(i, "EUR") == (None, 2)
    assert METRICS[BuiltinMetric.BUDGET_VARIANCE_SHARE].compute(i, "percent") == (None, 2)


def test_forecast_and_stability_metrics() -> None:
    # The forecast of February (1,320, as above) from 11 records; stability of the first
    # quarter in percent: 15.3093 %; no cost record at all: no value.
    feb = inputs(month(2026, 2), monthly=(MONTHLY, 11))
    assert METRICS[BuiltinMetric.SPEND_FORECAST].compute(feb, "EUR") == (approx(1320.0), 11)
    quarter = inputs(Period(day(2026, 1), day(2026, 4)), monthly=(MONTHLY, 3))
    assert METRICS[BuiltinMetric.OPEX_STABILITY].compute(quarter, "percent") == (
        approx(15.3093, abs=1e-4), 3,
    )  # fmt: skip
    empty = inputs(month(2026, 2))
    assert METRICS[BuiltinMetric.SPEND_FORECAST].compute(empty, "EUR") == (None, 0)
    assert METRICS[BuiltinMetric.OPEX_STABILITY].compute(empty, "percent") == (None, 0)
