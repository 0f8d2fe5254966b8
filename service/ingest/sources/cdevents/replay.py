"""CDEvents' replay identifiers: the CloudEvent `source` + `id`, which the CloudEvents spec
makes an event's identity (nothing is signed)."""

from __future__ import annotations

import hashlib

from service.ingest.freshness import SignedTime
from service.ingest.jsonread import nonempty
from service.ingest.model import Delivery
from service.ingest.sources.cdevents import cloudevent


def delivery_key(delivery: Delivery) -> str | None:
    """`<id>@<source>` of a single event; for a batch, a digest of its events' identities
    (sorted), so the same batch sent again is a duplicate. An event once sent alone and then
    in a batch is applied once all the same: its change or incident step is keyed by it."""
    keys = []
    for source, event_id, _ in cloudevent.attributes(delivery.headers, delivery.payload):
        if not (nonempty(source) and nonempty(event_id)):
            return None
        keys.append(cloudevent.identity(str(source), str(event_id)))
    if not cloudevent.is_batch(delivery.headers):
        return keys[0] if keys else None
    digest = hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()
    return f"batch:{digest}" if keys else None


def signed_key(delivery: Delivery) -> str | None:
    """None: CloudEvents over HTTP are not signed (bearer, basic auth or ?token=)."""
    return None


def signed_times(delivery: Delivery) -> list[SignedTime]:
    """Nothing: no time is signed."""
    return []
