"""Times a tool signs, checked against the time a delivery arrives: a captured delivery
replayed long after it was sent is refused, whatever delivery id it is sent under.

A tool signs a time either inside the signed body (PagerDuty's event time) or in a signed
header (Standard Webhooks' `webhook-timestamp`). Either way the check is the same: the signed
time must lie within a tolerance of the arrival, in either direction (a time ahead of the
clock is a skewed clock or a forged one). The tolerance must cover the tool's retry horizon,
so that a genuine late retry still gets in.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from service.errors import FieldError, LateDelivery


@dataclass(frozen=True)
class SignedTime:
    """A time the tool signed, and where it was: a JSON pointer into the body ("#/event/
    occurred_at") or, for a signed header, the header's name."""

    where: str
    at: dt.datetime


def outside_tolerance(
    signed_at: dt.datetime, tolerance: dt.timedelta, now: dt.datetime
) -> dt.timedelta | None:
    """How far `signed_at` lies beyond `now` ± `tolerance` (None: within it); a tolerance of
    zero or less turns the check off."""
    if tolerance <= dt.timedelta(0):
        return None
    drift = abs(now - signed_at)
    return drift - tolerance if drift > tolerance else None


def stale_problem(signed: SignedTime, tolerance: dt.timedelta, setting: str) -> LateDelivery:
    """The 422 for a signed time outside the tolerance: it names the field and the limit."""
    seconds = int(tolerance.total_seconds())
    when = signed.at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    detail = (
        f"signed time {when} is more than {seconds} s ({setting}) away from the time the "
        "delivery arrived: a delivery replayed late is refused"
    )
    if signed.where.startswith("#"):
        error = FieldError(signed.where, detail)
        return LateDelivery(
            f"{error.field}: {detail}", errors=[error], limit="signed_time_tolerance",
            tolerance_seconds=seconds,
        )  # fmt: skip
    return LateDelivery(
        f"{signed.where}: {detail}", header=signed.where, limit="signed_time_tolerance",
        tolerance_seconds=seconds,
    )  # fmt: skip
