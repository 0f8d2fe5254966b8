"""incident.io's replay identifiers: `webhook-id` (the same on every retry, and signed), and the
signed `webhook-timestamp`, checked against the arrival."""

from __future__ import annotations

from service.ingest.freshness import SignedTime
from service.ingest.model import Delivery, PayloadError
from service.ingest.timeparse import from_epoch_millis

TIMESTAMP_HEADER = "webhook-timestamp"


def delivery_key(delivery: Delivery) -> str | None:
    """`webhook-id`: the message's id, kept on every retry of it."""
    return delivery.headers.get("webhook-id") or None


def signed_key(delivery: Delivery) -> str | None:
    """None: the delivery id is signed already (with the body), so a captured body cannot be
    sent again under a fresh one."""
    return None


def signed_times(delivery: Delivery) -> list[SignedTime]:
    """`webhook-timestamp` (epoch seconds), signed with the body and set anew on each retry."""
    stamp = delivery.headers.get(TIMESTAMP_HEADER, "")
    if not (stamp.isascii() and stamp.isdigit()):
        return []
    try:
        at = from_epoch_millis(int(stamp) * 1000, TIMESTAMP_HEADER)
    except PayloadError:
        return []
    return [SignedTime(TIMESTAMP_HEADER, at)]
