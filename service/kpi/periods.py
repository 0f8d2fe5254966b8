"""Calendar periods: the buckets of a series and the reporting periods of a cadence, in a
business calendar (a time zone, the first day of the week, the first month of the fiscal
year), which may change from an instant onwards.

In the default calendar (UTC, weeks from Monday, years from January) a bucket starts where
Postgres' date_trunc(grain, ts, 'UTC') puts it. In another, a day starts at local midnight (so
it lasts 23 or 25 hours across a daylight-saving change), a week at local midnight of its
first day, a month on the 1st, quarters and years on the fiscal year's first month. Where the
calendar changes, the period under way at the change ends there and the new calendar's begins.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

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

#: Weekday names, Monday first (Python's and ISO's order).
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Period:
    start: dt.datetime
    end: dt.datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def zone_info(name: str) -> ZoneInfo:
    """The IANA zone `name`; ValueError for anything else (a fixed offset is not a zone)."""
    if name in ("UTC", "Etc/UTC"):
        return ZoneInfo("UTC")
    if name not in _zone_names():
        raise ValueError(f"{name!r} is not an IANA time zone such as Europe/Berlin")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:  # pragma: no cover - listed but absent
        raise ValueError(f"{name!r} is not an IANA time zone such as Europe/Berlin") from exc


_ZONES: set[str] = set()


def _zone_names() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones())
    return _ZONES


@lru_cache(maxsize=256)
def _tz(name: str) -> dt.tzinfo:
    return UTC if name in ("UTC", "Etc/UTC") else zone_info(name)


@dataclass(frozen=True)
class Rules:
    """One calendar: its zone, the weekday weeks start on (0 Monday ... 6 Sunday) and the
    first month of the fiscal year (1 January ... 12 December)."""

    zone: str = "UTC"
    week_start: int = 0
    fiscal_start_month: int = 1

    def __post_init__(self) -> None:
        zone_info(self.zone)
        if not 0 <= self.week_start <= 6:
            raise ValueError("week_start is a weekday from 0 (Monday) to 6 (Sunday)")
        if not 1 <= self.fiscal_start_month <= 12:
            raise ValueError("fiscal_start_month is a month from 1 to 12")

    @property
    def is_default(self) -> bool:
        return self.zone == "UTC" and self.week_start == 0 and self.fiscal_start_month == 1

    @property
    def tz(self) -> dt.tzinfo:
        return _tz(self.zone)

    def local_start(self, grain: Grain, instant: dt.datetime) -> dt.datetime:
        """Start (in UTC) of this calendar's bucket holding `instant`, as if it always held."""
        if self.is_default:
            return _utc_truncate(grain, instant)
        t = instant.astimezone(self.tz)
        if grain is Grain.HOUR:
            # An hour of local time: whole UTC hours too except in zones a part-hour off UTC.
            return t.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
        day = dt.date(t.year, t.month, t.day)
        if grain is Grain.WEEK:
            day -= dt.timedelta(days=(day.weekday() - self.week_start) % 7)
        elif grain is Grain.MONTH:
            day = day.replace(day=1)
        elif grain in (Grain.QUARTER, Grain.YEAR):
            size = 3 if grain is Grain.QUARTER else 12
            into = (day.month - self.fiscal_start_month) % size
            day = _shift_date(day.replace(day=1), -into)
        return self.midnight(day)

    def local_advance(self, grain: Grain, start: dt.datetime, steps: int) -> dt.datetime:
        """The bucket start `steps` buckets after `start` (a bucket start) in this calendar."""
        if self.is_default or grain is Grain.HOUR:
            return _utc_advance(grain, start, steps)
        t = start.astimezone(self.tz)
        day = dt.date(t.year, t.month, t.day)
        if grain is Grain.DAY:
            day += dt.timedelta(days=steps)
        elif grain is Grain.WEEK:
            day += dt.timedelta(weeks=steps)
        else:
            day = _shift_date(
                day, {Grain.MONTH: 1, Grain.QUARTER: 3, Grain.YEAR: 12}[grain] * steps
            )
        return self.midnight(day)

    def midnight(self, day: dt.date) -> dt.datetime:
        """Local midnight starting `day`, in UTC (a midnight skipped by a daylight-saving
        change reads with the offset before it, as Postgres' AT TIME ZONE does)."""
        return dt.datetime(day.year, day.month, day.day, tzinfo=self.tz).astimezone(UTC)


@dataclass(frozen=True)
class Era:
    """A calendar's rules from `since` (None: from the beginning) until the next era."""

    rules: Rules
    since: dt.datetime | None = None


@dataclass(frozen=True)
class Calendar:
    """The calendars in force over time, oldest first: the first era has no start."""

    eras: tuple[Era, ...] = field(default_factory=lambda: (Era(Rules()),))

    @staticmethod
    def of(zone: str = "UTC", week_start: int = 0, fiscal_start_month: int = 1) -> Calendar:
        return Calendar((Era(Rules(zone, week_start, fiscal_start_month)),))

    @property
    def current(self) -> Rules:
        return self.eras[-1].rules

    @property
    def is_default(self) -> bool:
        return len(self.eras) == 1 and self.current.is_default

    def changed(self, rules: Rules, since: dt.datetime) -> Calendar:
        """This calendar with `rules` in force from `since` on (later eras dropped)."""
        kept = tuple(e for e in self.eras if e.since is None or e.since < since)
        return Calendar((*kept, Era(rules, since)))

    def with_zone(self, zone: str) -> Calendar:
        """The current rules in another zone, for all time (a KPI's own zone)."""
        return Calendar.of(zone, self.current.week_start, self.current.fiscal_start_month)

    def era_at(self, instant: dt.datetime) -> tuple[Rules, dt.datetime | None, dt.datetime | None]:
        """The rules in force at `instant`, with the instants their era starts and ends."""
        index = 0
        for i, era in enumerate(self.eras):
            if era.since is None or era.since <= instant:
                index = i
        until = self.eras[index + 1].since if index + 1 < len(self.eras) else None
        return self.eras[index].rules, self.eras[index].since, until


DEFAULT = Calendar()


def _shift_date(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return day.replace(year=index // 12, month=index % 12 + 1)


def _utc_truncate(grain: Grain, instant: dt.datetime) -> dt.datetime:
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


def _utc_advance(grain: Grain, start: dt.datetime, steps: int) -> dt.datetime:
    if grain is Grain.HOUR:
        return start + dt.timedelta(hours=steps)
    if grain is Grain.DAY:
        return start + dt.timedelta(days=steps)
    if grain is Grain.WEEK:
        return start + dt.timedelta(weeks=steps)
    months = {Grain.MONTH: 1, Grain.QUARTER: 3, Grain.YEAR: 12}[grain]
    return _add_months(start, months * steps)


_TICK = dt.timedelta(microseconds=1)


def bucket(grain: Grain, instant: dt.datetime, cal: Calendar = DEFAULT) -> Period:
    """The bucket holding `instant` (an aware datetime) in the calendar in force then, cut
    where the calendar changes."""
    if cal.is_default:
        start = _utc_truncate(grain, instant)
        return Period(start, _utc_advance(grain, start, 1))
    rules, since, until = cal.era_at(instant)
    start = rules.local_start(grain, instant)
    end = rules.local_advance(grain, start, 1)
    if since is not None and start < since:
        start = since
    if until is not None and end > until:
        end = until
    return Period(start, end)


def truncate(grain: Grain, instant: dt.datetime, cal: Calendar = DEFAULT) -> dt.datetime:
    """Start of the bucket holding `instant` (an aware datetime), in UTC."""
    return bucket(grain, instant, cal).start


def advance(
    grain: Grain, start: dt.datetime, steps: int = 1, cal: Calendar = DEFAULT
) -> dt.datetime:
    """The bucket start `steps` buckets after (or before, if negative) the bucket `start`."""
    if cal.is_default:
        return _utc_advance(grain, start, steps)
    if len(cal.eras) == 1:
        return cal.current.local_advance(grain, start, steps)
    current = start
    for _ in range(abs(steps)):
        current = (
            bucket(grain, current, cal).end
            if steps > 0
            else bucket(grain, current - _TICK, cal).start
        )
    return current


def buckets(
    grain: Grain, start: dt.datetime, end: dt.datetime, cal: Calendar = DEFAULT
) -> list[Period]:
    """The buckets that overlap [start, end), whole (the first may start before `start`)."""
    if end <= start:
        raise ValueError("the window must end after it starts")
    out: list[Period] = []
    current = truncate(grain, start, cal)
    while current < end:
        following = advance(grain, current, 1, cal)
        out.append(Period(current, following))
        if len(out) > MAX_BUCKETS:
            raise ValueError(f"more than {MAX_BUCKETS} {grain.value} buckets; narrow the window")
        current = following
    return out


def measured(period: Period, start: dt.datetime, end: dt.datetime) -> Period | None:
    """The part of a bucket inside [start, end), or None when nothing of it is."""
    begin, stop = max(period.start, start), min(period.end, end)
    return Period(begin, stop) if stop > begin else None


def period_of(cadence: Cadence, instant: dt.datetime, cal: Calendar = DEFAULT) -> Period:
    """The reporting period of the cadence that holds `instant`."""
    return bucket(CADENCE_GRAIN[cadence], instant, cal)


def previous(cadence: Cadence, period: Period, cal: Calendar = DEFAULT) -> Period:
    grain = CADENCE_GRAIN[cadence]
    return Period(advance(grain, period.start, -1, cal), period.start)


def last_closed(cadence: Cadence, now: dt.datetime, cal: Calendar = DEFAULT) -> Period:
    """The latest period of the cadence that has ended by `now`."""
    return previous(cadence, period_of(cadence, now, cal), cal)


#: The window a series covers when the caller gives no start: this many buckets back.
DEFAULT_SPAN = {
    Grain.HOUR: 48,
    Grain.DAY: 30,
    Grain.WEEK: 26,
    Grain.MONTH: 12,
    Grain.QUARTER: 8,
    Grain.YEAR: 5,
}


def default_start(grain: Grain, end: dt.datetime, cal: Calendar = DEFAULT) -> dt.datetime:
    return advance(grain, truncate(grain, end, cal), -(DEFAULT_SPAN[grain] - 1), cal)


def is_complete(
    grain: Grain, bucket_start: dt.datetime, start: dt.datetime | None, end: dt.datetime | None,
    now: dt.datetime, cal: Calendar = DEFAULT,
) -> bool:  # fmt: skip
    """Whether the bucket's figure covers its whole period: the period has ended by `now`,
    and the window [start, end) (None: open) cuts nothing off it."""
    whole = Period(bucket_start, advance(grain, bucket_start, 1, cal))
    return (
        whole.end <= now
        and (start is None or start <= whole.start)
        and (end is None or whole.end <= end)
    )


def whole_hours(cal: Calendar) -> bool:
    """Whether every bucket bound of the calendar falls on a whole UTC hour (hour roll-ups
    serve it): true unless a zone or an era's start sits a part-hour off UTC."""
    for era in cal.eras:
        if era.since is not None and era.since.astimezone(UTC).minute:
            return False
        offsets = _offsets(era.rules.tz)
        if any(o % 3600 for o in offsets):
            return False
    return True


def whole_days(cal: Calendar) -> bool:
    """Whether every bucket of a day or more of the calendar is made of whole UTC days (the
    day roll-ups serve it): every zone is UTC all year round and every era starts at a UTC
    midnight."""
    for era in cal.eras:
        if era.since is not None and era.since.astimezone(UTC).timetz() != dt.time(tzinfo=UTC):
            return False
        if _offsets(era.rules.tz) != frozenset({0}):
            return False
    return True


@lru_cache(maxsize=64)
def _offsets(tz: dt.tzinfo) -> frozenset[int]:
    """The UTC offsets (seconds) a zone took between 1970 and 2100, sampled twice a month."""
    found = set()
    t = dt.datetime(1970, 1, 1, tzinfo=UTC)
    while t.year < 2100:
        offset = t.astimezone(tz).utcoffset()
        found.add(int(offset.total_seconds()) if offset is not None else 0)
        t += dt.timedelta(days=15)
    return frozenset(found)
