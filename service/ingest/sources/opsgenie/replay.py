"""Opsgenie's replay identifiers: alert, action and request, read from the (unsigned) body."""

from __future__ import annotations

from service.ingest.freshness import SignedTime
from service.ingest.jsonread import nonempty, peek, peek_text
from service.ingest.model import Delivery
from service.ingest.sources.opsgenie.adapter import step_key


def delivery_key(delivery: Delivery) -> str | None:
    """The same key as the step's event: alert, action and request (or update time)."""
    payload = delivery.payload
    alert, action = peek(payload, "alert"), peek_text(payload, "action")
    if not (isinstance(payload, dict) and isinstance(alert, dict) and action):
        return None
    alert_id = nonempty(alert.get("alertId"))
    return step_key(payload, alert, alert_id, action) if alert_id else None


def signed_key(delivery: Delivery) -> str | None:
    """None: Opsgenie signs nothing (bearer token, basic auth or ?token=). The delivery key is
    read from the body already (alert, action, request), so a body sent again is a duplicate
    by it."""
    return None


def signed_times(delivery: Delivery) -> list[SignedTime]:
    """Nothing: Opsgenie signs no time."""
    return []
