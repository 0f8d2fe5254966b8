"""Jira's replay identifiers: issue, webhook event and timestamp, read from the (unsigned) body."""

from __future__ import annotations

from service.ingest.freshness import SignedTime
from service.ingest.jsonread import is_int, nonempty, peek
from service.ingest.model import Delivery


def delivery_key(delivery: Delivery) -> str | None:
    """Jira sends no delivery id: issue id, webhook event and timestamp stand in for one."""
    payload = delivery.payload
    name, stamp = peek(payload, "webhookEvent"), peek(payload, "timestamp")
    issue_id = peek(peek(payload, "issue"), "id")
    if not (nonempty(issue_id) and nonempty(name) and is_int(stamp)):
        return None
    return f"{issue_id}:{name}:{stamp}"


def signed_key(delivery: Delivery) -> str | None:
    """None: Jira signs nothing (bearer token, basic auth or ?token=). The delivery key is read
    from the body already (issue, event, timestamp), so a body sent again is a duplicate by
    it."""
    return None


def signed_times(delivery: Delivery) -> list[SignedTime]:
    """Nothing: Jira signs no time."""
    return []
