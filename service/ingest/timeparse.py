"""Timestamps as the tools send them, to aware datetimes in UTC."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from service.ingest.model import PayloadError
from service.models.instants import EARLIEST, LATEST

_GITLAB = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)\s*(UTC|Z|[+-]\d{2}:?\d{2})$"
)
#: Alertmanager's "zero time": an alert that has not ended.
ZERO_TIME_YEAR = 1


def parse_time(value: object, pointer: str) -> dt.datetime:
    """ISO 8601 with a zone, or GitLab's '2025-05-02 12:30:19 +0000' / '... UTC', to UTC,
    between 1970 and 2200 as every instant the service keeps."""
    return _in_range(_parse(value, pointer), value, pointer)


def _in_range(parsed: dt.datetime, value: object, pointer: str) -> dt.datetime:
    if not EARLIEST <= parsed < LATEST:
        raise PayloadError(
            pointer, f"timestamp out of range {EARLIEST.year}-{LATEST.year}: {value!r}"
        )
    return parsed


def _parse(value: object, pointer: str) -> dt.datetime:
    if not isinstance(value, str) or not value:
        raise PayloadError(pointer, "expected a timestamp string")
    text = value.strip()
    match = _GITLAB.match(text)
    if match:
        day, clock, zone = match.groups()
        if zone in ("UTC", "Z"):
            zone = "+00:00"
        elif ":" not in zone:
            zone = f"{zone[:3]}:{zone[3:]}"
        text = f"{day}T{clock}{zone}"
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise PayloadError(pointer, f"not a timestamp: {value!r}") from exc
    if parsed.tzinfo is None:
        raise PayloadError(pointer, f"timestamp without a zone: {value!r}")
    try:
        return parsed.astimezone(dt.UTC)
    except OverflowError as exc:  # e.g. 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        raise PayloadError(pointer, f"timestamp out of range: {value!r}") from exc


def parse_optional_time(value: object, pointer: str) -> dt.datetime | None:
    """Like parse_time, but None, "" and Alertmanager's 0001-01-01 zero time mean 'not yet'."""
    if value is None or value == "":
        return None
    parsed = _parse(value, pointer)
    return None if parsed.year == ZERO_TIME_YEAR else _in_range(parsed, value, pointer)


def from_epoch_millis(value: object, pointer: str) -> dt.datetime:
    """Epoch milliseconds (an integer or a float), to UTC."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadError(pointer, "expected epoch milliseconds")
    return _checked(lambda: dt.datetime.fromtimestamp(value / 1000, dt.UTC), value, pointer)


def from_epoch_nanos(value: object, pointer: str) -> dt.datetime:
    """Epoch nanoseconds, to UTC.

    An integer is converted exactly, cut to whole microseconds (datetime's resolution): today's
    nanoseconds since 1970 do not fit a float, so value / 1e9 would be off by up to a few
    hundred nanoseconds and could land in the wrong microsecond. A float, inexact already, is
    divided as it is (to the nearest microsecond).
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadError(pointer, "expected epoch nanoseconds")
    if isinstance(value, float):
        return _checked(lambda: dt.datetime.fromtimestamp(value / 1e9, dt.UTC), value, pointer)
    seconds, nanos = divmod(value, 10**9)
    return _checked(
        lambda: (
            dt.datetime.fromtimestamp(seconds, dt.UTC) + dt.timedelta(microseconds=nanos // 1000)
        ),
        value,
        pointer,
    )


def _checked(convert: Callable[[], dt.datetime], value: object, pointer: str) -> dt.datetime:
    """A conversion whose input may be far outside datetime's years 1-9999: a PayloadError,
    as is an instant outside 1970-2200."""
    try:
        converted = convert()
    except (OverflowError, ValueError, OSError) as exc:
        raise PayloadError(pointer, f"epoch time out of range: {value!r}") from exc
    return _in_range(converted, value, pointer)


def as_utc(value: dt.datetime) -> dt.datetime:
    """An aware datetime in UTC; a naive one is taken to be in UTC already."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)
