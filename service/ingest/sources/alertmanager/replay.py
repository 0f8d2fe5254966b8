"""Alertmanager's replay identifiers: none (the same body sent again says something again)."""

from __future__ import annotations

from service.ingest.freshness import SignedTime
from service.ingest.model import Delivery


def delivery_key(delivery: Delivery) -> str | None:
    """None: no notification is a duplicate of another (see the module docstring)."""
    return None


def signed_key(delivery: Delivery) -> str | None:
    """None: Alertmanager signs nothing, and the same body sent again says something again (an
    alert still firing on repeat_interval, a resolution retracted: see the module docstring).
    Every notification is applied; its steps are kept once each."""
    return None


def signed_times(delivery: Delivery) -> list[SignedTime]:
    """Nothing: Alertmanager signs no time."""
    return []
