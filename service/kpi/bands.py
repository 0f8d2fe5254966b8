"""DORA 2023 performance bands for the four keys (elite / high / medium / low).

Thresholds as the DORA 2023 report states them: change failure rate 5 / 10 / 15 %; lead time
for changes under a day / a week / a month; failed-deployment recovery time under an hour / a
day / a week; deployment frequency on demand (at least daily) / weekly / monthly. A value on
a threshold belongs to the better band for rates (<=) and to the worse band for durations (<).
"""

from __future__ import annotations

import datetime as dt

from service.models.enums import Band

DAY = dt.timedelta(days=1)
WEEK = dt.timedelta(days=7)
MONTH = dt.timedelta(days=30)
HOUR = dt.timedelta(hours=1)


def change_failure_rate_band(rate: float) -> Band:
    """`rate` as a share (0.07 for 7 %)."""
    if rate <= 0.05:
        return Band.ELITE
    if rate <= 0.10:
        return Band.HIGH
    if rate <= 0.15:
        return Band.MEDIUM
    return Band.LOW


def _duration_band(value: dt.timedelta, elite: dt.timedelta, high: dt.timedelta,
                   medium: dt.timedelta) -> Band:  # fmt: skip
    if value < elite:
        return Band.ELITE
    if value < high:
        return Band.HIGH
    if value < medium:
        return Band.MEDIUM
    return Band.LOW


def lead_time_band(lead_time: dt.timedelta) -> Band:
    return _duration_band(lead_time, DAY, WEEK, MONTH)


def recovery_time_band(recovery: dt.timedelta) -> Band:
    return _duration_band(recovery, HOUR, DAY, WEEK)


def deployment_frequency_band(deploys: int, period: dt.timedelta) -> Band:
    """From the number of production deployments in a period."""
    if period <= dt.timedelta(0):
        raise ValueError("the period must be positive")
    per_day = deploys / (period / DAY)
    if per_day >= 1:
        return Band.ELITE
    if per_day >= 1 / 7:
        return Band.HIGH
    if per_day >= 1 / 30:
        return Band.MEDIUM
    return Band.LOW
