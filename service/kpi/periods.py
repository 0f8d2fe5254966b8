"""Calendar periods in UTC: the buckets of a series and the reporting periods of a cadence.

A bucket starts where Postgres' date_trunc(grain, ts, 'UTC') puts it (weeks start on Monday).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from service.models.enums import Cadence, Grain

UTC = dt.UTC

#: The bucket size of each reporting cadence.
CADENCE_GRAIN = {
    Cadence.DAILY: Grain.DAY,
    Cadence.WEEKLY: Grain.WEEK,
    Cadence.MONTHLY: Grain.MONTH,
    Cadence.QUARTERLY: Grain.QUARTER,
    Cadence.YEARLY: Grain.YEAR,
}

#: Most buckets one series may span.
MAX_BUCKETS = 5_000


@dataclass(frozen=True)
class Period:
    start: dt.datetime
    end: dt.datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def truncate(grain: Grain, instant: dt.datetime) -> dt.datetime:
    """Start of the bucket holding `instant` (an aware datetime), in UTC."""
    t = instant.astimezone(UTC)
    if grain is Grain.HOUR:
        return t.replace(minute=0, second=0, microsecond=0)
    day = t.replace(hour=0, minute=0, second=0, microsecond=0)
    if grain is Grain.DAY:
        return day
    if grain is Grain.WEEK:
        return day - dt.timedelta(days=day.weekday())
    if grain is Grain.MONTH:
        return day.replace(day=1)
    if grain is Grain.QUARTER:
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day.replace(month=1, day=1)


def _add_months(start: dt.datetime, months: int) -> dt.datetime:
    index = start.year * 12 + start.month - 1 + months
    return start.replace(year=index // 12, month=index % 12 + 1)


def advance(grain: Grain, start: dt.datetime, steps: int = 1) -> dt.datetime:
    """The bucket start `steps` buckets after (or before, if negative) the bucket `start`."""
    if grain is Grain.HOUR:
        return start + dt.timedelta(hours=steps)
    if grain is Grain.DAY:
        return start + dt.timedelta(days=steps)
    if grain is Grain.WEEK:
        return start + dt.timedelta(weeks=steps)
    months = {Grain.MONTH: 1, Grain.QUARTER: 3, Grain.YEAR: 12}[grain]
    return _add_months(start, months * steps)


def bucket(grain: Grain, instant: dt.datetime) -> Period:
    start = truncate(grain, instant)
    return Period(start, advance(grain, start))


def buckets(grain: Grain, start: dt.datetime, end: dt.datetime) -> list[Period]:
    """The buckets that overlap [start, end), whole (the first may start before `start`)."""
    if end <= start:
        raise ValueError("the window must end after it starts")
    out: list[Period] = []
    current = truncate(grain, start)
    while current < end:
        following = advance(grain, current)
        out.append(Period(current, following))
        if len(out) > MAX_BUCKETS:
            raise ValueError(f"more than {MAX_BUCKETS} {grain.value} buckets; narrow the window")
        current = following
    return out


def measured(period: Period, start: dt.datetime, end: dt.datetime) -> Period | None:
    """The part of a bucket inside [start, end), or None when nothing of it is."""
    begin, stop = max(period.start, start), min(period.end, end)
    return Period(begin, stop) if stop > begin else None


def period_of(cadence: Cadence, instant: dt.datetime) -> Period:
    """The reporting period of the cadence that holds `instant`."""
    return bucket(CADENCE_GRAIN[cadence], instant)


def previous(cadence: Cadence, period: Period) -> Period:
    grain = CADENCE_GRAIN[cadence]
    return Period(advance(grain, period.start, -1), period.start)


def last_closed(cadence: Cadence, now: dt.datetime) -> Period:
    """The latest period of the cadence that has ended by `now`."""
    return previous(cadence, period_of(cadence, now))


#: The window a series covers when the caller gives no start: this many buckets back.
DEFAULT_SPAN = {
    Grain.HOUR: 48,
    Grain.DAY: 30,
    Grain.WEEK: 26,
    Grain.MONTH: 12,
    Grain.QUARTER: 8,
    Grain.YEAR: 5,
}


def default_start(grain: Grain, end: dt.datetime) -> dt.datetime:
    return advance(grain, truncate(grain, end), -(DEFAULT_SPAN[grain] - 1))


def is_complete(
    grain: Grain, bucket_start: dt.datetime, start: dt.datetime | None, end: dt.datetime | None,
    now: dt.datetime,
) -> bool:  # fmt: skip
    """Whether the bucket's figure covers its whole period: the period has ended by `now`,
    and the window [start, end) (None: open) cuts nothing off it."""
    whole = Period(bucket_start, advance(grain, bucket_start))
    return (
        whole.end <= now
        and (start is None or start <= whole.start)
        and (end is None or whole.end <= end)
    )
