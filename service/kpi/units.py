"""How a builtin metric's raw figure (seconds, a share, a count) is expressed in its KPI's
unit, and which units each metric takes.

Durations are computed in seconds and reported in the KPI's time unit (seconds, minutes,
hours or days). Rates are computed as shares (0..1) and reported in percent when the unit
says so (percent, %, pct), else as shares (share, ratio, fraction). Deployment frequency is a
count of deployments per bucket (`deploys`), or a rate per day or per week (`deploys/day`,
`deploys/week`) over the part of the bucket measured. Spend is in one currency, its ISO 4217
code. A unit a metric does not take is refused when the KPI is defined (it is never guessed).
"""

from __future__ import annotations

import re
from enum import StrEnum

_SECONDS_PER = {
    "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
    "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0,
    "h": 3600.0, "hr": 3600.0, "hrs": 3600.0, "hour": 3600.0, "hours": 3600.0,
    "d": 86400.0, "day": 86400.0, "days": 86400.0,
}  # fmt: skip

_PERCENT = {"percent", "%", "pct", "per cent"}
_SHARE = {"share", "ratio", "fraction"}
#: Deployment frequency: seconds of the rate's period, or None for a count per bucket.
_DEPLOYS_PER: dict[str, float | None] = {
    "deploys": None, "deployments": None, "count": None,
    "deploys/day": 86400.0, "deployments/day": 86400.0,
    "deploys/week": 7 * 86400.0, "deployments/week": 7 * 86400.0,
}  # fmt: skip
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")


class UnitFamily(StrEnum):
    DURATION = "duration"
    RATE = "rate"
    DEPLOYS = "deploys"
    CURRENCY = "currency"
    #: Counts and sums (incidents, users, money lost): any unit names what is counted.
    COUNT = "count"


_ALLOWED = {
    UnitFamily.DURATION: "a time unit (seconds, minutes, hours or days)",
    UnitFamily.RATE: "percent (or %, pct) or a share (share, ratio, fraction)",
    UnitFamily.DEPLOYS: "deploys (per bucket), deploys/day or deploys/week",
    UnitFamily.CURRENCY: "a currency code such as EUR",
}


def _norm(unit: str) -> str:
    return unit.strip().lower()


def unit_problem(family: UnitFamily, unit: str) -> str | None:
    """Why `unit` is not one of the family's, or None when it is."""
    u = _norm(unit)
    ok = {
        UnitFamily.DURATION: u in _SECONDS_PER,
        UnitFamily.RATE: u in _PERCENT or u in _SHARE,
        UnitFamily.DEPLOYS: u in _DEPLOYS_PER,
        UnitFamily.CURRENCY: bool(_CURRENCY.match(u)),
        UnitFamily.COUNT: True,
    }[family]
    if ok:
        return None
    return f"reported in {_ALLOWED[family]}, not {unit!r}"


def seconds_per_unit(unit: str) -> float:
    return _SECONDS_PER[_norm(unit)]


def duration(seconds: float | None, unit: str) -> float | None:
    return None if seconds is None else seconds / seconds_per_unit(unit)


def is_percent(unit: str) -> bool:
    return _norm(unit) in _PERCENT


def rate(share: float | None, unit: str) -> float | None:
    if share is None:
        return None
    return share * 100 if is_percent(unit) else share


def as_share(value: float, unit: str) -> float:
    """The inverse of `rate`: a value in the KPI's unit as a share."""
    return value / 100 if is_percent(unit) else value


def deploys(count: int, measured_seconds: float, unit: str) -> float | None:
    """Deployment frequency in the KPI's unit: the count of the bucket, or that count per day
    or per week of the bucket's measured part (None when nothing of it is measured)."""
    period = _DEPLOYS_PER[_norm(unit)]
    if period is None:
        return float(count)
    if measured_seconds <= 0:
        return None
    return count / (measured_seconds / period)
