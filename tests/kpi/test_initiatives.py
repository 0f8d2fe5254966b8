"""An initiative's before and after as plain arithmetic: windows, means, change, met, caveat."""

from __future__ import annotations

import datetime as dt

import pytest

from service.kpi.initiatives import (
    Evidence,
    after_window,
    baseline_window,
    caveat,
    change,
    met,
    window_figure,
)
from service.kpi.periods import Period
from service.models.enums import Grain

UTC = dt.UTC


def at(y: int, m: int, d: int) -> dt.datetime:
    return dt.datetime(y, m, d, tzinfo=UTC)


def test_monthly_baseline_is_the_whole_months_before_the_month_of_the_start() -> None:
    # Started 2026-04-10: the month holding it begins 04-01; three months back: Jan, Feb, Mar.
    assert baseline_window(Grain.MONTH, dt.date(2026, 4, 10), 3) == Period(
        at(2026, 1, 1), at(2026, 4, 1)
    )


def test_monthly_after_window_starts_at_the_first_boundary_at_or_after_delivery() -> None:
    # Delivered 2026-06-20: the next month boundary is 07-01; three months: Jul, Aug, Sep.
    assert after_window(Grain.MONTH, dt.date(2026, 6, 20), 3) == Period(
        at(2026, 7, 1), at(2026, 10, 1)
    )
    # Delivered on a boundary: the window starts that day.
    assert after_window(Grain.MONTH, dt.date(2026, 7, 1), 2) == Period(
        at(2026, 7, 1), at(2026, 9, 1)
    )
    assert after_window(Grain.MONTH, None, 3) is None


def test_weekly_and_quarterly_windows() -> None:
    # 2026-04-10 is a Friday; its week starts Monday 04-06; two weeks back: 03-23 to 04-06.
    assert baseline_window(Grain.WEEK, dt.date(2026, 4, 10), 2) == Period(
        at(2026, 3, 23), at(2026, 4, 6)
    )
    # Delivered Friday 2026-06-19: next Monday is 06-22; two weeks: 06-22 to 07-06.
    assert after_window(Grain.WEEK, dt.date(2026, 6, 19), 2) == Period(
        at(2026, 6, 22), at(2026, 7, 6)
    )
    # Quarterly: started in Q2 2026, baseline Q3 2025 .. Q1 2026 (three quarters).
    assert baseline_window(Grain.QUARTER, dt.date(2026, 5, 2), 3) == Period(
        at(2025, 7, 1), at(2026, 4, 1)
    )


def test_window_mean_counts_only_periods_with_a_value() -> None:
    # (99.0 + 99.2 + 99.4) / 3 = 297.6 / 3 = 99.2
    figure = window_figure([99.0, 99.2, 99.4])
    assert figure.mean == pytest.approx(99.2)
    assert figure.periods_with_data == 3
    # A period without data is left out: (10 + 20) / 2 = 15 over 2 periods.
    assert window_figure([10.0, None, 20.0]) == window_figure([10.0, 20.0])
    assert window_figure([10.0, None, 20.0]).mean == 15.0
    assert window_figure([None, None]).mean is None
    assert window_figure([]).periods_with_data == 0


def test_change_and_met_in_both_directions() -> None:
    # Availability 99.2 -> 99.5: +0.3 against +0.2 expected: met.
    moved = change(99.2, 99.5)
    assert moved == pytest.approx(0.3)
    assert met(moved, 0.2) is True
    # 99.2 -> 99.3: +0.1 against +0.2: not met (right way, not far enough).
    assert met(change(99.2, 99.3), 0.2) is False
    # MTTR 60 -> 45 minutes: -15 against -10 expected: met; against -20: not met.
    assert met(change(60, 45), -10) is True
    assert met(change(60, 45), -20) is False
    # A rise when a fall was expected is not met, whatever its size.
    assert met(change(60, 90), -10) is False
    # 99.3 - 99.1 is 0.19999999999998863 in floating point: it meets +0.2.
    assert met(change(99.1, 99.3), 0.2) is True
    assert change(None, 99.3) is None and met(None, 0.2) is None


def test_caveat_names_every_reason_to_read_with_care() -> None:
    enough = Evidence(before_periods=3, after_periods=3, min_periods=3, delivered=True,
                      after_ended=True)  # fmt: skip
    assert caveat(enough) is None
    thin = Evidence(before_periods=1, after_periods=3, min_periods=3, delivered=True,
                    after_ended=True)  # fmt: skip
    assert caveat(thin) == "only 1 period(s) with data before the start (at least 3 wanted)"
    running = Evidence(before_periods=3, after_periods=1, min_periods=3, delivered=True,
                       after_ended=False)  # fmt: skip
    assert caveat(running) == (
        "the after window has not ended: the figure will still move; "
        "only 1 period(s) with data after delivery (at least 3 wanted)"
    )
    undelivered = Evidence(before_periods=3, after_periods=0, min_periods=3, delivered=False,
                           after_ended=False)  # fmt: skip
    assert caveat(undelivered) == "not delivered yet: there is no after window"
    # With two periods wanted, two suffice.
    assert caveat(Evidence(2, 2, 2, True, True)) is None
