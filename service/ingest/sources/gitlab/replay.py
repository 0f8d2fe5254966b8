"""GitLab's replay identifiers: Idempotency-Key, else X-Gitlab-Event-UUID; it signs nothing."""

from __future__ import annotations

from service.ingest.freshness import SignedTime
from service.ingest.model import Delivery

_KEY_HEADERS = ("idempotency-key", "x-gitlab-event-uuid")


def delivery_key(delivery: Delivery) -> str | None:
    for header in _KEY_HEADERS:
        value = delivery.headers.get(header)
        if value:
            return value
    return None


def signed_key(delivery: Delivery) -> str | None:
    """None: GitLab signs nothing. X-Gitlab-Token is the shared secret itself, so a body
    proves only that its sender holds the token; retries are known by Idempotency-Key or
    X-Gitlab-Event-UUID, and each step of a deployment or pipeline is kept once by its key."""
    return None


def signed_times(delivery: Delivery) -> list[SignedTime]:
    """Nothing: GitLab signs no time."""
    return []
