"""How a builtin metric's raw figure (seconds, a share) is expressed in its KPI's unit.

Durations are computed in seconds and reported in the KPI's time unit (seconds, minutes,
hours or days; minutes when the unit names no time). Rates are computed as shares (0..1) and
reported in percent when the unit says so (percent, %, pct), else as shares.
"""

from __future__ import annotations

_SECONDS_PER = {
    "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
    "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0,
    "h": 3600.0, "hr": 3600.0, "hrs": 3600.0, "hour": 3600.0, "hours": 3600.0,
    "d": 86400.0, "day": 86400.0, "days": 86400.0,
}  # fmt: skip

_PERCENT = {"percent", "%", "pct", "per cent"}


def seconds_per_unit(unit: str) -> float:
    return _SECONDS_PER.get(unit.strip().lower(), 60.0)


def duration(seconds: float | None, unit: str) -> float | None:
    return None if seconds is None else seconds / seconds_per_unit(unit)


def is_percent(unit: str) -> bool:
    return unit.strip().lower() in _PERCENT


def rate(share: float | None, unit: str) -> float | None:
    if share is None:
        return None
    return share * 100 if is_percent(unit) else share


def share(value: float, unit: str) -> float:
    """The inverse of `rate`: a value in the KPI's unit as a share."""
    return value / 100 if is_percent(unit) else value
