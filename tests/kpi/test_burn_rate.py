"""Burn-rate rules with hand-worked numbers: a 99.9 % objective (budget 0.001) and one full
outage from 10:00 to 10:30, read at chosen instants through the workbook's three rules."""

from __future__ import annotations

import datetime as dt

from service.kpi.burn_rate import (
    DEFAULT_RULES,
    assess,
    budget_spent,
    burn_rate,
    events_error_ratio,
    outage_error_ratio,
    windows,
)

T0 = dt.datetime(2031, 5, 6, 10, 0, tzinfo=dt.UTC)
OUTAGE = [(T0, T0 + dt.timedelta(minutes=30))]
OBJECTIVE = 0.999


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def firing(now: dt.datetime) -> list[str]:
    ratios = {w: outage_error_ratio(OUTAGE, w, now) for w in windows(DEFAULT_RULES)}
    return [r.rule.name for r in assess(DEFAULT_RULES, OBJECTIVE, ratios) if r.firing]


def test_the_workbook_thresholds_spend_2_5_and_10_percent_of_a_30_day_budget() -> None:
    fast, slow, ticket = DEFAULT_RULES
    # 14.4 x 1 h / 720 h = 0.02; 6 x 6 h / 720 h = 0.05; 1 x 72 h / 720 h = 0.1
    assert round(budget_spent(fast.burn_rate, fast.long_window), 12) == 0.02
    assert round(budget_spent(slow.burn_rate, slow.long_window), 12) == 0.05
    assert round(budget_spent(ticket.burn_rate, ticket.long_window), 12) == 0.1
    assert [w.total_seconds() / 60 for w in windows(DEFAULT_RULES)] == [5, 30, 60, 360, 4320]


def test_burn_rate_is_the_error_ratio_over_the_budget() -> None:
    # a full outage: 1 / 0.001 = 1000; 0.0144 / 0.001 = 14.4
    assert round(burn_rate(1.0, OBJECTIVE), 9) == 1000
    assert round(burn_rate(0.0144, OBJECTIVE), 9) == 14.4
    assert burn_rate(0.0, 1.0) == 0.0
    assert burn_rate(0.1, 1.0) == float("inf")


def test_each_rule_fires_when_its_long_window_has_burnt_enough() -> None:
    # page_fast: 1 h needs 14.4 x 0.001 x 3600 s = 51.84 s of outage (5 min: 4.32 s)
    # page_slow: 6 h needs 6 x 0.001 x 21600 s = 129.6 s (30 min: 10.8 s)
    # ticket:    3 d needs 1 x 0.001 x 259200 s = 259.2 s (6 h: 21.6 s)
    assert firing(at(51)) == []
    assert firing(at(51.84)) == ["page_fast"]
    assert firing(at(129.5)) == ["page_fast"]
    assert firing(at(129.6)) == ["page_fast", "page_slow"]
    assert firing(at(259.1)) == ["page_fast", "page_slow"]
    assert firing(at(259.2)) == ["page_fast", "page_slow", "ticket"]


def test_after_the_outage_the_short_windows_drain_first() -> None:
    end = 1800  # the outage ends at 10:30, t seconds later:
    # page_fast: the 5 min window holds 300 - t s, below 4.32 s once t > 295.68
    # (its 1 h window still holds the whole 1800 s: burn rate 500)
    assert firing(at(end + 295.68)) == ["page_fast", "page_slow", "ticket"]
    assert firing(at(end + 295.69)) == ["page_slow", "ticket"]
    # page_slow: the 30 min window holds 1800 - t s, below 10.8 s once t > 1789.2
    assert firing(at(end + 1789.2)) == ["page_slow", "ticket"]
    assert firing(at(end + 1789.21)) == ["ticket"]
    # ticket: the 6 h window holds the 1800 s until t = 19800, then 1800 - (t - 19800) s,
    # below 21.6 s once t > 21578.4 (16:29:38.4); its 3 d window still burns at 6.94
    assert firing(at(end + 21578.4)) == ["ticket"]
    assert firing(at(end + 21578.41)) == []
    fast = assess(DEFAULT_RULES, OBJECTIVE, {
        w: outage_error_ratio(OUTAGE, w, at(end + 300)) for w in windows(DEFAULT_RULES)
    })[0]  # fmt: skip
    assert (round(fast.long_burn_rate, 9), fast.short_burn_rate) == (500, 0)


def test_several_services_share_the_window() -> None:
    # two services, one down for 6 of the last 60 minutes: 360 / (2 x 3600) = 0.05
    assert outage_error_ratio(OUTAGE, dt.timedelta(hours=1), at(360), services=2) == 0.05


def test_error_ratio_of_events() -> None:
    # 9,990 good of 10,000: 1 - 0.999 = 0.001 (to rounding); 12 bad of 1,000: 0.012
    assert round(events_error_ratio(9990, 10000, bad=False), 12) == 0.001
    assert events_error_ratio(12, 1000, bad=True) == 0.012
    # no events burn nothing; more good than total is clipped to none bad
    assert events_error_ratio(None, None, bad=False) == 0.0
    assert events_error_ratio(5, 0, bad=False) == 0.0
    assert events_error_ratio(11, 10, bad=False) == 0.0
