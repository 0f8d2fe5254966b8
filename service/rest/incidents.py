"""Incidents and changes for any tool or script: create or update by external id, add lifecycle
steps, and read them back with their timelines."""

from __future__ import annotations

import datetime as dt
import hashlib

import orjson
from pydantic import BaseModel, Field

from service.db import Connection
from service.errors import Conflict, NotFound, field_error, invalid
from service.ingest import pipeline
from service.ingest.model import (
    ChangeEvent,
    ChangeStatus,
    CommitRecord,
    IncidentEvent,
    IncidentStep,
    Mapped,
)
from service.models.catalog import RowId
from service.models.enums import Scope, Severity
from service.models.incidents import (
    Change,
    ChangeDetail,
    ChangeIn,
    Incident,
    IncidentDetail,
    IncidentEventIn,
    IncidentIn,
)
from service.models.instants import Instant
from service.models.sources import Source
from service.rest import idempotency
from service.rest.endpoint import Call, Endpoint, id_param
from service.rest.metrics import events_applied
from service.store import catalog, sources
from service.store import ingest as store


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def incident_events(
    body: IncidentIn, *, now: dt.datetime, current: Incident | None
) -> list[IncidentEvent]:
    """The steps a posted incident record implies, given the incident as it stands.

    Times the body states become steps keyed by those times, so re-posting adds nothing. A
    status without a time is stamped now, but only when the incident is not already there:
    re-posting `resolved` keeps the first resolution time.
    """
    common = {"external_id": body.external_id, "service_ref": body.service}
    events = [
        IncidentEvent(
            step=IncidentStep.UPDATED, occurred_at=now, event_key=f"fields:{now.isoformat()}",
            severity=body.severity, severity_raw=body.severity, priority=body.priority,
            title=body.title, url=body.url, users_affected=body.users_affected,
            cost_estimate=body.cost_estimate, problem_key=body.problem_key,
            caused_by=body.caused_by, impact_start=body.started_at, **common,
        ),
    ]  # fmt: skip
    acked = body.acknowledged_at
    if (
        acked is None
        and body.status == "acknowledged"
        and (current is None or current.acknowledged_at is None)
    ):
        acked = now
    resolved = body.resolved_at
    if (
        resolved is None
        and body.status == "resolved"
        and (current is None or current.status != "resolved")
    ):
        resolved = now
    detected = body.detected_at
    if detected is None and current is None:
        # A new incident is detected when stated, else when its impact started, else at its
        # first stated step, else now.
        detected = body.started_at or min(t for t in (acked, resolved, now) if t is not None)
    if detected is not None:
        events.append(IncidentEvent(
            step=IncidentStep.TRIGGERED, occurred_at=detected, event_key=f"triggered:{detected}",
            detected_at=body.detected_at, **common))  # fmt: skip
    if acked is not None:
        events.append(IncidentEvent(
            step=IncidentStep.ACKNOWLEDGED, occurred_at=acked, event_key=f"acknowledged:{acked}",
            **common))  # fmt: skip
    if resolved is not None:
        events.append(IncidentEvent(
            step=IncidentStep.RESOLVED, occurred_at=resolved, event_key=f"resolved:{resolved}",
            **common))  # fmt: skip
    elif body.status == "open" and current is not None and current.status == "resolved":
        events.append(IncidentEvent(
            step=IncidentStep.REOPENED, occurred_at=now, event_key=f"reopened:{now}",
            **common))  # fmt: skip
    return events


def change_mapped(body: ChangeIn, *, now: dt.datetime) -> Mapped:
    at = (body.finished_at if body.status is not ChangeStatus.IN_PROGRESS else None) or (
        body.started_at or now
    )
    event = ChangeEvent(
        external_id=body.external_id, event_key=f"{body.status}:{at.isoformat()}",
        status=body.status, occurred_at=at, service_ref=body.service,
        environment=body.environment, kind=body.kind, started_at=body.started_at,
        finished_at=body.finished_at, commit_sha=body.commit_sha, title=body.title, url=body.url,
    )  # fmt: skip
    commits = [CommitRecord(sha=c.sha, committed_at=c.committed_at) for c in body.commits]
    return Mapped(changes=[event], commits=commits)


async def _source(con: Connection, name: str) -> Source:
    try:
        return await sources.get_source(con, name=name)
    except NotFound as exc:
        raise invalid("source", f"unknown source {name!r}") from exc


async def _submit(
    call: Call, con: Connection, src: Source, mapped: Mapped
) -> pipeline.DeliveryOutcome | None:
    """Log the request as a delivery of its source and apply it. A retry with the same
    Idempotency-Key is logged once and applied once; the key sent with another request is
    refused."""
    key = idempotency.key_of(call.request)
    fingerprint = hashlib.sha256(
        f"{call.request.url.path}\n".encode() + call.body.model_dump_json().encode()
    ).hexdigest()
    delivery_id = await store.claim_delivery(
        con, source_id=src.id, key=key, event_type="api",
        headers={"request-sha256": fingerprint},
        body=orjson.dumps(mapped.model_dump(mode="json")), status="applied",
    )  # fmt: skip
    if delivery_id is None:
        assert key is not None
        first = await store.delivery_by_key(con, source_id=src.id, key=key)
        if (first["headers"] or {}).get("request-sha256") != fingerprint:
            raise Conflict(
                "this Idempotency-Key was already used for another request",
                errors=[field_error("Idempotency-Key", "reused for a different request")],
            )
        return None
    outcome = await pipeline.apply_mapped(con, src, delivery_id, mapped)
    if outcome.status != "applied":
        raise invalid("service", outcome.detail or "could not be applied")
    return outcome


async def _check_service(con: Connection, slug: str) -> None:
    await catalog.service_ids(con, [slug], field="service")


async def upsert_incident(call: Call) -> Incident:
    """Create or update an incident by (source, external_id); answered after commit."""
    body: IncidentIn = call.body
    async with call.transaction() as con:
        src = await _source(con, body.source)
        await _check_service(con, body.service)
        current = await _incident_by_external_id(con, src.id, body.external_id)
        mapped = Mapped(incidents=incident_events(body, now=_now(), current=current))
        outcome = await _submit(call, con, src, mapped)
        found = await _incident_by_external_id(con, src.id, body.external_id)
        assert found is not None
    events_applied(call, outcome)
    return found


async def _incident_by_external_id(
    con: Connection, source_id: int, external_id: str
) -> Incident | None:
    incident_id = await con.fetchval(store.q("incident_id_by_external_id"), source_id, external_id)
    if incident_id is None:
        return None
    return (await store.list_incidents(con, ids=[incident_id]))[0]


async def add_incident_event(call: Call) -> IncidentDetail:
    """Add one lifecycle step (acknowledged, resolved, reopened ...) to an incident."""
    body: IncidentEventIn = call.body
    incident_id = id_param(call)
    async with call.transaction() as con:
        ref = await store.incident_ref(con, incident_id)
        src = await _source(con, ref["source"])
        event = IncidentEvent(
            external_id=ref["external_id"], step=body.step, occurred_at=body.occurred_at,
            event_key=body.event_id or f"{body.step}:{body.occurred_at.isoformat()}",
            severity=body.severity, severity_raw=body.severity, priority=body.priority,
            title=body.title, users_affected=body.users_affected,
            cost_estimate=body.cost_estimate, problem_key=body.problem_key,
            caused_by=body.caused_by, text=body.note,
        )  # fmt: skip
        outcome = await _submit(call, con, src, Mapped(incidents=[event]))
        detail = await store.get_incident(con, incident_id)
    events_applied(call, outcome)
    return detail


async def upsert_change(call: Call) -> Change:
    """Create or update a change by (source, external_id); answered after commit."""
    body: ChangeIn = call.body
    async with call.transaction() as con:
        src = await _source(con, body.source)
        await _check_service(con, body.service)
        outcome = await _submit(call, con, src, change_mapped(body, now=_now()))
        change_id = await con.fetchval(
            store.q("change_id_by_external_id"), src.id, body.external_id
        )
        change = (await store.list_changes(con, ids=[change_id]))[0]
    events_applied(call, outcome)
    return change


class IncidentQuery(BaseModel):
    service: str | None = Field(default=None, description="A service slug.")
    from_: Instant | None = Field(
        default=None, alias="from", description="Incidents still open at or after this."
    )
    to: Instant | None = Field(default=None, description="Incidents started before this.")
    severity: list[Severity] | Severity | None = None
    status: list[str] | str | None = None
    before: RowId | None = Field(default=None, description="Page: ids below this.")
    limit: int = Field(default=100, ge=1, le=1000)


class ChangeQuery(BaseModel):
    service: str | None = None
    from_: Instant | None = Field(default=None, alias="from")
    to: Instant | None = None
    environment: list[str] | str | None = None
    status: list[ChangeStatus] | ChangeStatus | None = None
    before: RowId | None = None
    limit: int = Field(default=100, ge=1, le=1000)


def _as_list(value: object) -> list[str] | None:
    if value is None:
        return None
    items = value if isinstance(value, list) else [value]
    return [str(getattr(v, "value", v)) for v in items]


async def _service_filter(con: Connection, slug: str | None) -> list[int] | None:
    if slug is None:
        return None
    return await catalog.service_ids(con, [slug], field="service")


async def list_incidents(call: Call) -> list[Incident]:
    query: IncidentQuery = call.query
    async with call.connection() as con:
        return await store.list_incidents(
            con, service_ids=await _service_filter(con, query.service), start=query.from_,
            end=query.to, severities=_as_list(query.severity), statuses=_as_list(query.status),
            before_id=query.before, limit=query.limit,
        )  # fmt: skip


async def get_incident(call: Call) -> IncidentDetail:
    async with call.connection() as con:
        return await store.get_incident(con, id_param(call))


async def list_changes(call: Call) -> list[Change]:
    query: ChangeQuery = call.query
    async with call.connection() as con:
        return await store.list_changes(
            con, service_ids=await _service_filter(con, query.service), start=query.from_,
            end=query.to, environments=_as_list(query.environment),
            statuses=_as_list(query.status), before_id=query.before, limit=query.limit,
        )  # fmt: skip


async def get_change(call: Call) -> ChangeDetail:
    async with call.connection() as con:
        return await store.get_change(con, id_param(call))


ENDPOINTS = [
    Endpoint("POST", "/v1/incidents", upsert_incident, Scope.INGEST,
             "Create or update an incident by external id", "incidents", body=IncidentIn,
             response=Incident, errors=(413, 415, 422), idempotency="delivery",
             description="Send Idempotency-Key to make retries safe. status=open on a resolved "
             "incident reopens it."),
    Endpoint("POST", "/v1/incidents/{id:int}/events", add_incident_event, Scope.INGEST,
             "Add a lifecycle step to an incident", "incidents", body=IncidentEventIn,
             response=IncidentDetail, errors=(404, 413, 415, 422), idempotency="delivery"),
    Endpoint("GET", "/v1/incidents", list_incidents, Scope.READ, "List incidents", "incidents",
             response=list[Incident], query=IncidentQuery),
    Endpoint("GET", "/v1/incidents/{id:int}", get_incident, Scope.READ,
             "An incident with its timeline", "incidents", response=IncidentDetail,
             errors=(404,)),
    Endpoint("POST", "/v1/changes", upsert_change, Scope.INGEST,
             "Create or update a change by external id", "changes", body=ChangeIn,
             response=Change, errors=(413, 415, 422), idempotency="delivery"),
    Endpoint("GET", "/v1/changes", list_changes, Scope.READ, "List changes", "changes",
             response=list[Change], query=ChangeQuery),
    Endpoint("GET", "/v1/changes/{id:int}", get_change, Scope.READ,
             "A change with its timeline and the incidents it caused", "changes",
             response=ChangeDetail, errors=(404,)),
]  # fmt: skip
