"""Argo CD's replay identifiers, read from the (unsigned) body the template renders."""

from __future__ import annotations

from service.ingest.freshness import SignedTime
from service.ingest.model import Delivery
from service.ingest.sources.argocd.adapter import operation_key, rendered


def delivery_key(delivery: Delivery) -> str | None:
    """The sync operation (application + revision + operation start) and what the
    notification reports on it (phase, health): Argo CD retries a notification it could not
    deliver with the same body, and a later health report on the same operation is not a
    duplicate of the first."""
    payload = delivery.payload
    if not isinstance(payload, dict):
        return None
    operation = operation_key(payload)
    if operation is None:
        return None
    phase, health = rendered(payload.get("phase")), rendered(payload.get("health"))
    return f"{operation}:{phase or 'unknown'}:{health or 'unknown'}"


def signed_key(delivery: Delivery) -> str | None:
    """None: Argo CD signs nothing (bearer, basic auth or ?token=); the key above is read from
    the body already."""
    return None


def signed_times(delivery: Delivery) -> list[SignedTime]:
    """Nothing: Argo CD signs no time."""
    return []
