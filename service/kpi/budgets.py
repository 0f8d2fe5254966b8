"""Budget variance, the fiscal-year spend forecast and opex stability: pure arithmetic over
spend and budgets spread over their days (service/kpi/metrics.py reads them per window).

Months are calendar months in UTC. A month without cost records counts as no spend (0).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Mapping
from dataclasses import dataclass

from service.kpi.periods import Period, advance, truncate
from service.models.enums import Grain

#: Spend per calendar month (its first instant, UTC), within the range the engine read.
MonthlySpend = Mapping[dt.datetime, float]


@dataclass(frozen=True)
class FiscalCalendar:
    """The fiscal year (first month) and the run rate's look-back (whole months)."""

    start_month: int = 1
    run_rate_months: int = 3

    def year_of(self, end: dt.datetime) -> Period:
        """The fiscal year holding the last instant before `end` (a window's end): a window
        ending at the first instant of a fiscal year belongs to the year before."""
        last = end - dt.timedelta(microseconds=1)
        year = last.year if last.month >= self.start_month else last.year - 1
        start = dt.datetime(year, self.start_month, 1, tzinfo=dt.UTC)
        return Period(start, advance(Grain.MONTH, start, 12))

    def run_rate_months_before(self, end: dt.datetime) -> list[dt.datetime]:
        """The last `run_rate_months` whole months ending at or before `end`, oldest first."""
        last = truncate(Grain.MONTH, end)
        return [advance(Grain.MONTH, last, -k) for k in range(self.run_rate_months, 0, -1)]

    def reads(self, window: Period) -> Period:
        """The span whose monthly spend the forecast and stability of `window` need: from
        the earliest of the window's month, the fiscal year's start and the run rate's first
        month, to the window's end."""
        first = min(
            truncate(Grain.MONTH, window.start),
            self.year_of(window.end).start,
            self.run_rate_months_before(window.end)[0],
        )
        return Period(first, window.end)


def variance(actual: float, budget: float, budget_records: int) -> float | None:
    """actual - budget; None without any budget (no budget is not a budget of 0)."""
    return actual - budget if budget_records else None


def variance_share(actual: float, budget: float, budget_records: int) -> float | None:
    """(actual - budget) / budget; None without a budget or with a budget of 0."""
    return (actual - budget) / budget if budget_records and budget else None


def months_left(end: dt.datetime, year_end: dt.datetime) -> float:
    """Months from `end` to `year_end`: whole months, plus the part of `end`'s month still
    to come (its days left over its days)."""
    month = truncate(Grain.MONTH, end)
    if month == end:
        return float((year_end.year - end.year) * 12 + year_end.month - end.month)
    following = advance(Grain.MONTH, month)
    part = (following - end) / (following - month)
    return part + months_left(following, year_end)


def forecast(window: Period, monthly: MonthlySpend, calendar: FiscalCalendar) -> float:
    """Fiscal-year-end spend as of the window's end: spend from the fiscal year's start to
    the window's end, plus the run rate (mean monthly spend over the last whole months up to
    the window's end) times the months left in the fiscal year."""
    year = calendar.year_of(window.end)
    spent = sum(v for month, v in monthly.items() if year.start <= month < window.end)
    months = calendar.run_rate_months_before(window.end)
    run_rate = sum(monthly.get(m, 0.0) for m in months) / len(months)
    return spent + run_rate * months_left(window.end, year.end)


def stability(window: Period, monthly: MonthlySpend) -> float | None:
    """Coefficient of variation of the monthly spend over the window's whole months: the
    population standard deviation over the mean. None with fewer than two whole months or a
    mean of 0."""
    whole, month = [], truncate(Grain.MONTH, window.start)
    if month < window.start:
        month = advance(Grain.MONTH, month)
    while advance(Grain.MONTH, month) <= window.end:
        whole.append(monthly.get(month, 0.0))
        month = advance(Grain.MONTH, month)
    if len(whole) < 2:
        return None
    mean = statistics.fmean(whole)
    return statistics.pstdev(whole, mean) / mean if mean else None
