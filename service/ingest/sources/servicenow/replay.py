"""ServiceNow's replay identifiers: the record's sys_id with its update count (`sys_mod_count`,
else `sys_updated_on`), read from the body the business rule posts. Nothing is signed."""

from __future__ import annotations

from service.ingest.freshness import SignedTime
from service.ingest.jsonread import nonempty, peek
from service.ingest.model import Delivery


def version(payload: object) -> str | None:
    """Which update of the record this is: `sys_mod_count`, else `sys_updated_on`."""
    count = peek(payload, "sys_mod_count")
    if isinstance(count, int) and not isinstance(count, bool):
        return str(count)
    text = nonempty(count)
    if text is not None and text.isascii() and text.isdigit():
        return text
    updated = nonempty(peek(payload, "sys_updated_on"))
    return f"@{updated}" if updated is not None else None


def delivery_key(delivery: Delivery) -> str | None:
    """sys_id and the record's update: the same update posted again is a duplicate."""
    sys_id, seen = nonempty(peek(delivery.payload, "sys_id")), version(delivery.payload)
    return f"{sys_id}:{seen}" if sys_id is not None and seen is not None else None


def signed_key(delivery: Delivery) -> str | None:
    """None: ServiceNow signs nothing (bearer token or basic auth); the key is read from the
    body already."""
    return None


def signed_times(delivery: Delivery) -> list[SignedTime]:
    """Nothing: ServiceNow signs no time."""
    return []
