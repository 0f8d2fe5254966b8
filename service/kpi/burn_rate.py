"""Multi-window, multi-burn-rate alerts (Google's SRE workbook): pure rules over error ratios.

The burn rate over a window is the window's error ratio divided by the error budget
(1 - objective): 1 spends exactly the budget over the budget's period, 14.4 spends a 30-day
budget's 2 % in one hour. A rule fires while the burn rate reaches its threshold over both its
long window (enough budget is gone) and its short window (it is still burning now), and
resolves as soon as either drops below it: the short window drains first once an outage ends.

For availability the error ratio is the outage share of the window (the union of outage
intervals, service/kpi/intervals.py); for a ratio KPI it is 1 - good / total (or bad / total
when lower is better) over the events of the window.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from service.kpi.intervals import Interval, Window, union_seconds

#: The budget period the workbook's thresholds are stated for.
BUDGET_PERIOD = dt.timedelta(days=30)
#: Burn rates are compared to within this relative margin, so an error ratio that reaches a
#: threshold exactly (51.84 s of a 1-hour window at 14.4 for 99.9 %) is not lost to rounding.
TOLERANCE = 1e-9


@dataclass(frozen=True)
class Rule:
    """Fire when the burn rate is at least `burn_rate` over both windows."""

    name: str
    severity: str
    burn_rate: float
    long_window: dt.timedelta
    short_window: dt.timedelta


def minutes(n: int) -> dt.timedelta:
    return dt.timedelta(minutes=n)


#: The workbook's policy for a 30-day budget: page at 2 % of the budget in 1 h (confirmed over
#: 5 min), page at 5 % in 6 h (over 30 min), ticket at 10 % in 3 days (over 6 h).
DEFAULT_RULES = (
    Rule("page_fast", "page", 14.4, minutes(60), minutes(5)),
    Rule("page_slow", "page", 6.0, minutes(360), minutes(30)),
    Rule("ticket", "ticket", 1.0, minutes(3 * 24 * 60), minutes(360)),
)


@dataclass(frozen=True)
class Reading:
    """A rule's burn rates at one instant and whether it fires."""

    rule: Rule
    long_burn_rate: float
    short_burn_rate: float

    @property
    def firing(self) -> bool:
        threshold = self.rule.burn_rate * (1 - TOLERANCE)
        return self.long_burn_rate >= threshold and self.short_burn_rate >= threshold


def burn_rate(error_ratio: float, objective: float) -> float:
    """How fast the budget burns: the error ratio over the budget (1 - objective)."""
    budget = 1 - objective
    if budget <= 0:
        return 0.0 if error_ratio <= 0 else float("inf")
    return error_ratio / budget


def budget_spent(rate: float, window: dt.timedelta, period: dt.timedelta = BUDGET_PERIOD) -> float:
    """The share of the period's budget a burn rate spends over a window: 14.4 over 1 h of
    30 days is 0.02."""
    return rate * (window / period)


def windows(rules: Iterable[Rule]) -> list[dt.timedelta]:
    """Every window the rules read, shortest first, each once."""
    return sorted({w for r in rules for w in (r.long_window, r.short_window)})


def outage_error_ratio(
    intervals: Iterable[Interval], window: dt.timedelta, now: dt.datetime, services: int = 1
) -> float:
    """The outage share of the window ending at `now`, over `services` services (the
    intervals of different services add up, each service's merged apart by the caller)."""
    span = Window(now - window, now)
    return union_seconds(intervals, span, now) / (span.seconds * services)


def events_error_ratio(good_or_bad: float | None, total: float | None, *, bad: bool) -> float:
    """1 - good / total, or bad / total when the numerator counts bad events; 0 without
    events (nothing failed), kept within [0, 1]."""
    if good_or_bad is None or not total or total <= 0:
        return 0.0
    share = good_or_bad / total
    ratio = share if bad else 1 - share
    return min(max(ratio, 0.0), 1.0)


def assess(
    rules: Sequence[Rule], objective: float, error_ratios: Mapping[dt.timedelta, float]
) -> list[Reading]:
    """Each rule's reading from the error ratio of every window it reads."""
    return [
        Reading(
            rule,
            burn_rate(error_ratios[rule.long_window], objective),
            burn_rate(error_ratios[rule.short_window], objective),
        )
        for rule in rules
    ]
