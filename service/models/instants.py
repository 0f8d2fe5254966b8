"""Instants the API accepts: with a zone, between 1970 and 2200, kept in UTC."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime

#: Instants outside this range are refused: they are typos (and each month of observations
#: gets a partition).
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)


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


Instant = Annotated[AwareDatetime, AfterValidator(_in_range)]


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


def rfc3339(ts: dt.datetime) -> str:
    """An instant as every interface writes it: RFC 3339 in UTC with `Z`, e.g.
    2026-12-05T20:35:00Z (fractions of a second only when there are some)."""
    return ts.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
