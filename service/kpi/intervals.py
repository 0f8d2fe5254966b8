"""Outage intervals: their union within a window, availability, error budget and burn rate.

Availability = 1 - |union of outage intervals within the window| / |window|: overlapping
incidents are never counted twice, and an open incident counts up to `now`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

Interval = tuple[dt.datetime, dt.datetime | None]


@dataclass(frozen=True)
class Window:
    start: dt.datetime
    end: dt.datetime

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError("a window must end after it starts")

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def union_seconds(intervals: Iterable[Interval], window: Window, now: dt.datetime) -> float:
    """Seconds of the window covered by at least one interval; an open one (end None) runs
    until `now`."""
    clipped = []
    for start, end in intervals:
        stop = min(end if end is not None else now, window.end)
        begin = max(start, window.start)
        if stop > begin:
            clipped.append((begin, stop))
    clipped.sort()
    total = 0.0
    current_start: dt.datetime | None = None
    current_end: dt.datetime | None = None
    for begin, stop in clipped:
        if current_end is None or begin > current_end:
            if current_start is not None and current_end is not None:
                total += (current_end - current_start).total_seconds()
            current_start, current_end = begin, stop
        elif stop > current_end:
            current_end = stop
    if current_start is not None and current_end is not None:
        total += (current_end - current_start).total_seconds()
    return total


def availability(intervals: Iterable[Interval], window: Window, now: dt.datetime) -> float:
    """Share of the window without outage, from 0 to 1."""
    return 1 - union_seconds(intervals, window, now) / window.seconds


def error_budget_remaining(availability_value: float, target: float) -> float:
    """Share of the error budget (1 - target) not yet spent; negative once overspent.

    A target of 1 (100 %) leaves no budget: remaining is 1 while nothing failed and -1
    (overspent) as soon as anything did.
    """
    budget = 1 - target
    spent = 1 - availability_value
    if budget <= 0:
        return 1.0 if spent <= 0 else -1.0
    return 1 - spent / budget


def burn_rate(availability_value: float, target: float) -> float:
    """How fast the budget burns: 1 spends exactly the budget over the window."""
    budget = 1 - target
    spent = 1 - availability_value
    if budget <= 0:
        return 0.0 if spent <= 0 else float("inf")
    return spent / budget
