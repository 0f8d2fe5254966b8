"""Calendar quarters named as `2026-Q3`: the period each name covers, in UTC."""

from __future__ import annotations

import datetime as dt
import re

from service.errors import invalid
from service.kpi.periods import Period

_NAME = re.compile(r"^(\d{4})-Q([1-4])$")
#: The years a quarter may be in: every date lies in [1970-01-01, 2200-01-01).
FIRST_YEAR, LAST_YEAR = 1970, 2199
#: The form of a quarter's name, for the OpenAPI document.
PATTERN = r"^[0-9]{4}-[Qq][1-4]$"


def quarter_period(name: str) -> Period:
    """[first day, first day of the next quarter) of `2026-Q3`; a 422 naming `quarter`
    for anything else."""
    found = _NAME.fullmatch(name.strip().upper())
    if found is None:
        raise invalid("quarter", f"{name!r} is not a calendar quarter such as 2026-Q3")
    year, number = int(found[1]), int(found[2])
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise invalid("quarter", f"{name!r}: the year must be between 1970 and 2200")
    start = dt.datetime(year, 3 * number - 2, 1, tzinfo=dt.UTC)
    end = dt.datetime(year + number // 4, 3 * (number % 4) + 1, 1, tzinfo=dt.UTC)
    return Period(start, end)


def ended_quarter(name: str, now: dt.datetime) -> Period:
    """The quarter `name`, which must have ended by `now` (a review reads closed periods
    only); a 422 naming `quarter` otherwise."""
    period = quarter_period(name)
    if period.end > now:
        raise invalid("quarter", f"{name} has not ended yet: a review covers a closed quarter")
    return period


def quarter_name(instant: dt.datetime) -> str:
    """The name of the quarter holding `instant` (UTC)."""
    t = instant.astimezone(dt.UTC)
    return f"{t.year}-Q{(t.month - 1) // 3 + 1}"
