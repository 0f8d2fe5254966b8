"""Instants and days the API accepts: ISO 8601 text (never a number), between 1970 and 2200.

Instants carry a zone offset and are kept in UTC; days are calendar dates. Every date and
time field of the API, the catalog file and `kpi import` uses one of the two types, so the
rule is the same wherever a time enters.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, ValidationInfo

from service.models.stored import is_stored

#: Instants outside [EARLIEST, LATEST) are refused: they are typos, Postgres would store the
#: ends of the calendar as +-infinity, and each month of observations gets a partition.
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)
#: Days from EARLIEST_DAY to LATEST_DAY, both included (LATEST_DAY as the exclusive end of a
#: period that runs to the last day allowed).
EARLIEST_DAY = EARLIEST.date()
LATEST_DAY = LATEST.date()

RANGE = f"from {EARLIEST_DAY} to {LATEST_DAY} (UTC)"
INSTANT_TEXT = (
    "an ISO 8601 date and time with a zone offset (e.g. 2026-11-02T09:00:00+01:00), not a number"
)
DAY_TEXT = "an ISO 8601 date, YYYY-MM-DD"


def _instant_text(value: Any) -> Any:
    # A number, or a string of digits, would be taken as seconds since 1970 by the parser:
    # the API requires a zone offset, so only ISO text (or a datetime from Python callers)
    # goes on. Runs once per observation point: kept to a type test and one character.
    if type(value) is str:
        if value[4:5] == "-":
            return value
    elif isinstance(value, dt.datetime):
        return value
    raise ValueError(f"must be {INSTANT_TEXT}")


def _in_range(ts: dt.datetime) -> dt.datetime:
    # Converted to UTC first: comparing two UTC instants is about half the cost of comparing
    # across offsets, and this runs once per observation point.
    try:
        utc = ts.astimezone(dt.UTC)
    except OverflowError:  # beyond year 1 or 9999 once in UTC
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise ValueError(f"must be between {EARLIEST.year} and {LATEST.year}")
    return utc


Instant = Annotated[
    AwareDatetime,
    BeforeValidator(_instant_text),
    AfterValidator(_in_range),
    Field(
        description=f"ISO 8601 with a zone offset, {RANGE}; stored in UTC.",
        json_schema_extra={
            "x-formatMinimum": EARLIEST.isoformat().replace("+00:00", "Z"),
            "x-formatExclusiveMaximum": LATEST.isoformat().replace("+00:00", "Z"),
        },
    ),
]


def _day_text(value: Any) -> Any:
    if type(value) is str:
        if len(value) == 10 and value[4] == "-" and value[7] == "-":
            return value
    elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    raise ValueError(f"must be {DAY_TEXT}")


def _day_in_range(day: dt.date, info: ValidationInfo) -> dt.date:
    # A day read back from the database is taken as stored (an 'infinity' there is for
    # `kpi doctor` to report, not a reason to refuse reading the row).
    if not EARLIEST_DAY <= day <= LATEST_DAY and not is_stored(info):
        raise ValueError(f"must be {RANGE}")
    return day


Day = Annotated[
    dt.date,
    BeforeValidator(_day_text),
    AfterValidator(_day_in_range),
    Field(
        description=f"{DAY_TEXT}, {RANGE}.",
        json_schema_extra={
            "x-formatMinimum": EARLIEST_DAY.isoformat(),
            "x-formatMaximum": LATEST_DAY.isoformat(),
        },
    ),
]


def check_instant(name: str, ts: dt.datetime | None) -> dt.datetime | None:
    """The same rule for values that do not pass through a model (GraphQL arguments)."""
    from service.errors import invalid

    if ts is None:
        return None
    if ts.tzinfo is None:
        raise invalid(name, "give a time zone offset")
    try:
        return _in_range(ts)
    except ValueError as exc:
        raise invalid(name, str(exc)) from exc
