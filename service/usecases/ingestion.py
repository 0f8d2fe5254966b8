"""Ingestion of incidents and changes: a webhook delivery received, verified, deduplicated,
stored and applied (or refused), a record of the generic endpoints logged and applied the same
way, and kept deliveries replayed. REST, the CLI and the demo call these; the caller holds the
connection (and, for the generic records, the transaction)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import orjson

from service.db import Connection
from service.errors import Conflict, Forbidden, NotFound, field_error, invalid
from service.ingest import generic
from service.ingest.model import Mapped
from service.models.incidents import (
    Change,
    ChangeIn,
    Incident,
    IncidentDetail,
    IncidentEventIn,
    IncidentIn,
)
from service.models.sources import Source, SourceKind, SourceSecret
from service.store import deliveries, services, sources
from service.store import ingest as store
from service.usecases import audit
from service.usecases import ingestion_pipeline as pipeline
from service.usecases.ingestion_apply import DeliveryOutcome, apply_mapped
from service.usecases.ingestion_pipeline import Received
from service.usecases.ingestion_rejections import Rejections


def webhook_source(source: SourceSecret | None, name: str) -> SourceSecret:
    """The source a webhook URL names, as read with its secret (None: there is none): a 404
    when there is none, a 409 for the generic API's (they have no webhooks)."""
    if source is None:
        raise NotFound(f"no source {name!r}")
    if source.source.kind is SourceKind.API:
        raise Conflict(f"source {name!r} is the generic API: use /v1/incidents, /v1/changes")
    return source


async def receive_webhook(
    con: Connection, source: SourceSecret, received: Received, rejections: Rejections, *,
    signed_time_tolerance: dt.timedelta,
) -> DeliveryOutcome:  # fmt: skip
    """Verify, log, dedupe and apply one delivery of the source (refused: recorded, then
    Unauthorized, LateDelivery or ValidationFailed); a connection outside any transaction."""
    return await pipeline.receive(
        con, source, received, rejections, signed_time_tolerance=signed_time_tolerance
    )


async def replay_delivery(con: Connection, delivery_id: int) -> DeliveryOutcome:
    """Process an unmapped delivery again (after a service rule or a catalog entry was added)."""
    return await pipeline.replay(con, delivery_id)


async def discard_delivery(con: Connection, delivery_id: int) -> None:
    """Discard an unmapped delivery nobody will map: its payload goes, the delivery stays
    logged as `discarded` with its keys (a retry of it is still a duplicate), and the audit
    trail records who discarded it. 404 unknown, 409 not unmapped."""
    async with audit.atomic(con):
        before = (await deliveries.delivery_body(con, delivery_id)).row
        who = audit.current().actor.name
        if not await deliveries.discard_delivery(
            con, delivery_id, detail=f"discarded by {who}; was: {before.detail or 'unmapped'}"
        ):
            raise Conflict(f"delivery {delivery_id} is {before.status}; only unmapped ones "
                           "are discarded")  # fmt: skip
        after = (await deliveries.delivery_body(con, delivery_id)).row
        await audit.record(con, "delivery", str(delivery_id), before, after)


async def unmapped_delivery_ids(con: Connection, *, source: str | None) -> list[int]:
    """The deliveries waiting for a replay (of one source), oldest first."""
    return await deliveries.unmapped_delivery_ids(con, source=source)


async def load_record(
    con: Connection, src: Source, *, key: str, event_type: str, mapped: Mapped
) -> DeliveryOutcome | None:
    """Log a record of a loader (the demo) as a delivery under `key`, and apply it; None when
    a delivery of that key was logged before, so loading twice applies once."""
    body = orjson.dumps(mapped.model_dump(mode="json"))
    log = deliveries.LoggedDelivery(src.id, key, event_type, {}, body)
    delivery_id = await deliveries.claim_delivery(con, log, status="applied")
    if delivery_id is None:
        return None
    return await apply_mapped(con, src, delivery_id, mapped)


@dataclass(frozen=True)
class ApiRequest:
    """A request of the generic endpoints, as its delivery is logged: its Idempotency-Key, and
    what makes it the same request (a key sent again with another request is refused)."""

    key: str | None
    fingerprint: str


async def record_incident(
    con: Connection, body: IncidentIn, request: ApiRequest, *, now: dt.datetime
) -> tuple[Incident, DeliveryOutcome | None]:
    """Create or update an incident by (source, external_id): the incident, and the outcome
    (None when nothing was applied: a retry, or a record saying nothing new)."""
    src = await _open_source(con, body.source)
    await services.service_ids(con, [body.service], field="service")
    current = await _incident_by_external_id(con, src.id, body.external_id)
    events = generic.incident_events(body, now=now, current=current)
    if not events:
        # The record says nothing the incident does not hold already.
        assert current is not None
        return current, None
    outcome = await _submit(con, src, request, Mapped(incidents=events))
    found = await _incident_by_external_id(con, src.id, body.external_id)
    assert found is not None
    return found, outcome


async def add_incident_step(
    con: Connection, incident_id: int, body: IncidentEventIn, request: ApiRequest
) -> tuple[IncidentDetail, DeliveryOutcome | None]:
    """Add one lifecycle step (acknowledged, resolved, reopened ...) to an incident."""
    ref = await store.incident_ref(con, incident_id)
    src = await sources.get_source(con, name=ref.source)
    if not _open(src):
        raise Forbidden(f"incident {incident_id} belongs to source {_closed(src)}", source=src.name)
    events = generic.event_events(ref.external_id, body)
    outcome = await _submit(con, src, request, Mapped(incidents=events))
    return await store.get_incident(con, incident_id), outcome


async def record_change(
    con: Connection, body: ChangeIn, request: ApiRequest, *, now: dt.datetime
) -> tuple[Change, DeliveryOutcome | None]:
    """Create or update a change by (source, external_id)."""
    src = await _open_source(con, body.source)
    await services.service_ids(con, [body.service], field="service")
    mapped = generic.change_mapped(body, now=now)
    outcome = await _submit(con, src, request, mapped)
    change_id = await store.change_id_by_external_id(
        con, source_id=src.id, external_id=body.external_id
    )
    assert change_id is not None
    return (await store.list_changes(con, ids=[change_id]))[0], outcome


async def _open_source(con: Connection, name: str) -> Source:
    """The source named in the body, if the generic endpoints may write to it."""
    try:
        src = await sources.get_source(con, name=name)
    except NotFound as exc:
        raise invalid("source", f"unknown source {name!r}") from exc
    if not _open(src):
        why = _closed(src)
        raise Forbidden(f"source: {why}", errors=[field_error("source", why)], source=src.name)
    return src


def _open(src: Source) -> bool:
    """Whether the generic endpoints may write to the source: api sources, and any other an
    admin opened to them (open_to_api), since an ingest token must not rewrite what a tool
    reported through its signed deliveries."""
    return src.kind is SourceKind.API or src.open_to_api


def _closed(src: Source) -> str:
    return (
        f"{src.name!r} is a {src.kind.value} source, written only by its signed webhook "
        "deliveries; the generic endpoints write to sources of kind api, or to a source an "
        "admin opened to them (open_to_api: true)"
    )


async def _incident_by_external_id(
    con: Connection, source_id: int, external_id: str
) -> Incident | None:
    incident_id = await store.incident_id_by_external_id(
        con, source_id=source_id, external_id=external_id
    )
    if incident_id is None:
        return None
    return (await store.list_incidents(con, ids=[incident_id]))[0]


async def _submit(
    con: Connection, src: Source, request: ApiRequest, mapped: Mapped
) -> DeliveryOutcome | None:
    """Log the request as a delivery of its source and apply it. A retry with the same
    Idempotency-Key is logged once and applied once (None); the key sent with another request
    is refused."""
    headers = {"request-sha256": request.fingerprint}
    body = orjson.dumps(mapped.model_dump(mode="json"))
    log = deliveries.LoggedDelivery(src.id, request.key, "api", headers, body)
    delivery_id = await deliveries.claim_delivery(con, log, status="applied")
    if delivery_id is None:
        assert request.key is not None
        first = await deliveries.delivery_by_key(con, source_id=src.id, key=request.key)
        if first is None or first.headers.get("request-sha256") != request.fingerprint:
            raise Conflict(
                "this Idempotency-Key was already used for another request",
                errors=[field_error("Idempotency-Key", "reused for a different request")],
            )
        return None
    outcome = await apply_mapped(con, src, delivery_id, mapped)
    if outcome.status != "applied":
        raise invalid("service", outcome.detail or "could not be applied")
    return outcome
