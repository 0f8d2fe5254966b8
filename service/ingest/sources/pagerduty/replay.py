"""PagerDuty's replay identifiers: X-Webhook-Id (unsigned), the event or message ids inside the
signed body, and the event times it signs (checked against the arrival)."""

from __future__ import annotations

from service.ingest.freshness import SignedTime
from service.ingest.jsonread import Json, nonempty
from service.ingest.model import Delivery, PayloadError
from service.ingest.sources.pagerduty.adapter import v2_messages
from service.ingest.timeparse import parse_time


def delivery_key(delivery: Delivery) -> str | None:
    """`X-Webhook-Id` (repeated on every retry), else the v3 event id or first v2 message id.
    The header is not signed: `signed_key` and the body's digest dedupe what it cannot."""
    header = delivery.headers.get("x-webhook-id")
    if header:
        return header
    event, messages = _event_or_messages(delivery)
    if event is not None:
        return nonempty(event.get("id"))
    return nonempty(messages[0].get("id")) if messages else None


def signed_key(delivery: Delivery) -> str | None:
    """The v3 event id, or the v2 message ids (sorted, comma-separated): they are in the
    signed body, so a captured delivery sent again under a fresh X-Webhook-Id is known by
    them. None when the body has none (it is then refused as malformed)."""
    event, messages = _event_or_messages(delivery)
    if event is not None:
        return nonempty(event.get("id"))
    ids = sorted({i for m in messages if (i := nonempty(m.get("id")))})
    return ",".join(ids) or None


def _event_or_messages(delivery: Delivery) -> tuple[Json | None, list[Json]]:
    """The body's v3 event, else its v2 messages (neither when the body is not an object)."""
    payload = delivery.payload
    if not isinstance(payload, dict):
        return None, []
    event = payload.get("event")
    if isinstance(event, dict):
        return event, []
    return None, v2_messages(payload)


def signed_times(delivery: Delivery) -> list[SignedTime]:
    """When each event of the delivery happened by PagerDuty's clock (v3 `occurred_at`, v2
    `created_on`): signed with the body, and sent within minutes of it, retries included."""
    payload = delivery.payload
    if not isinstance(payload, dict):
        return []
    event = payload.get("event")
    if isinstance(event, dict):
        found = [("#/event/occurred_at", event.get("occurred_at"))]
    else:
        messages = payload.get("messages")
        found = [
            (f"#/messages/{index}/created_on", message.get("created_on"))
            for index, message in enumerate(messages if isinstance(messages, list) else [])
            if isinstance(message, dict)
        ]
    times = []
    for pointer, value in found:
        try:
            times.append(SignedTime(pointer, parse_time(value, pointer)))
        except PayloadError:
            continue  # parse() reports it
    return times
