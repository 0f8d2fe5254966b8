"""GitHub's replay identifiers: X-GitHub-Delivery (unsigned, kept on redeliveries); no id or
time in the signed body, whose digest stands in for a signed key (the source signs the body)."""

from __future__ import annotations

from service.ingest.freshness import SignedTime
from service.ingest.model import Delivery

_DELIVERY_HEADER = "x-github-delivery"


def delivery_key(delivery: Delivery) -> str | None:
    return delivery.headers.get(_DELIVERY_HEADER) or None


def signed_key(delivery: Delivery) -> str | None:
    """None: GitHub puts no id in the signed body (X-GitHub-Delivery is a header); the body's
    digest stands in for one."""
    return None


def signed_times(delivery: Delivery) -> list[SignedTime]:
    """Nothing: GitHub signs no time (the body's times are those of the objects it describes)."""
    return []
