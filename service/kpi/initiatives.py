"""An initiative's before and after: the baseline window of whole cadence periods before its
start, the same number of whole periods from its delivery, each window's mean, the change,
whether it met the expectation, and the caveat that goes with thin data. No I/O."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from service.kpi.periods import UTC, Period, advance, truncate
from service.models.enums import Grain

#: How far a change may fall short of the expected size and still meet it: floating-point
#: rounding only (99.4 - 99.2 is 0.2000000000000028, 99.3 - 99.1 is 0.19999999999998863).
TOLERANCE = 1e-9


def midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=UTC)


def baseline_window(grain: Grain, started_on: dt.date, periods: int) -> Period:
    """The `periods` whole periods ending where the period holding the start begins."""
    end = truncate(grain, midnight(started_on))
    return Period(advance(grain, end, -periods), end)


def after_window(grain: Grain, delivered_on: dt.date | None, periods: int) -> Period | None:
    """The `periods` whole periods from the first period boundary at or after delivery; None
    before delivery."""
    if delivered_on is None:
        return None
    day = midnight(delivered_on)
    start = truncate(grain, day)
    if start < day:
        start = advance(grain, start)
    return Period(start, advance(grain, start, periods))


@dataclass(frozen=True)
class WindowFigure:
    """A window's mean over the periods that have a value, and how many those are."""

    mean: float | None
    periods_with_data: int


def window_figure(values: Sequence[float | None]) -> WindowFigure:
    """The mean of the values that exist (one per complete period of the window)."""
    present = [v for v in values if v is not None]
    if not present:
        return WindowFigure(None, 0)
    return WindowFigure(sum(present) / len(present), len(present))


def change(before: float | None, after: float | None) -> float | None:
    """after - before, or None when either is missing."""
    if before is None or after is None:
        return None
    return after - before


def met(moved: float | None, expected: float) -> bool | None:
    """Whether the change went the expected way by at least the expected size (a rise for a
    positive expectation, a fall for a negative one); None without a change."""
    if moved is None:
        return None
    if expected >= 0:
        return moved >= expected - TOLERANCE * max(1.0, abs(expected))
    return moved <= expected + TOLERANCE * max(1.0, abs(expected))


@dataclass(frozen=True)
class Evidence:
    """What a comparison rests on: periods with data on each side, how many a side should
    have, and whether the after window exists and has ended."""

    before_periods: int
    after_periods: int
    min_periods: int
    delivered: bool
    after_ended: bool


def caveat(e: Evidence) -> str | None:
    """Why the comparison should be read with care, or None when it rests on enough data."""
    notes = []
    if e.before_periods < e.min_periods:
        notes.append(
            f"only {e.before_periods} period(s) with data before the start "
            f"(at least {e.min_periods} wanted)"
        )
    if not e.delivered:
        notes.append("not delivered yet: there is no after window")
    else:
        if not e.after_ended:
            notes.append("the after window has not ended: the figure will still move")
        if e.after_periods < e.min_periods:
            notes.append(
                f"only {e.after_periods} period(s) with data after delivery "
                f"(at least {e.min_periods} wanted)"
            )
    return "; ".join(notes) if notes else None
