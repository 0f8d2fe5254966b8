"""The time the service reads: the UTC wall clock, replaceable where a fixed instant is needed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def rfc3339(ts: dt.datetime) -> str:
    """An instant as every interface writes it: RFC 3339 in UTC with `Z`, e.g.
    2026-12-05T20:35:00Z (fractions of a second only when there are some)."""
    return ts.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
