"""Incidents and changes for any tool or script: create or update by external id, add lifecycle
steps, and read them back with their timelines."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping

import orjson
from pydantic import BaseModel, Field

from service.clock import rfc3339
from service.db import Connection
from service.errors import Conflict, Forbidden, NotFound, field_error, invalid
from service.ingest import pipeline
from service.ingest.model import Mapped
from service.models.catalog import RowId
from service.models.enums import ChangeStatus, IncidentStep, Scope, Severity
from service.models.events import ChangeEvent, CommitRecord, IncidentEvent
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
from service.models.sources import Source, SourceKind
from service.rest import idempotency
from service.rest.endpoint import Call, Endpoint, id_param
from service.rest.prometheus import events_applied
from service.store import ingest as store
from service.store import services, sources


def fields_event(external_id: str, at: dt.datetime, **fields: object) -> IncidentEvent | None:
    """What a request says about an incident's fields as of `at`: one event keyed by its
    content, so the same fields sent again are one fact, and fields sent with a step never
    collide with the step itself. None when it says nothing."""
    stated = {k: v for k, v in fields.items() if v is not None}
    if not stated:
        return None
    content = orjson.dumps(stated, default=str, option=orjson.OPT_SORT_KEYS)
    digest = hashlib.sha256(content).hexdigest()[:16]
    return IncidentEvent.model_validate({
        "external_id": external_id, "step": IncidentStep.UPDATED, "occurred_at": at,
        "event_key": f"fields:{rfc3339(at)}:{digest}", **stated,
    })  # fmt: skip


def step_event(external_id: str, step: IncidentStep, at: dt.datetime, **extra: object) -> (
    IncidentEvent
):  # fmt: skip
    """A lifecycle step, keyed by what it is and when: the same step sent through any
    endpoint, or again, is one step of the timeline."""
    return IncidentEvent.model_validate({
        "external_id": external_id, "step": step, "occurred_at": at,
        "event_key": f"{step}:{rfc3339(at)}", **extra,
    })  # fmt: skip


def incident_events(
    body: IncidentIn, *, now: dt.datetime, current: Incident | None
) -> list[IncidentEvent]:
    """The steps a posted incident record implies, given the incident as it stands.

    Each time the body states is a step at that time, so a record sent again (or late,
    after later steps) changes nothing. A status without its time is stamped now, but only
    when the incident is not in it already: re-posting `resolved` keeps the first resolution
    time. `status: open` reopens a resolved incident (and un-acknowledges an acknowledged
    one) at `reopened_at`, or now when the body states no time at all; a record with older
    times saying open is the incident as it was then. The fields (severity, title ...) are
    a step of their own: as of the latest time a new incident's record states, and now for
    an existing incident whose fields they change.
    """
    xid = body.external_id
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
    steps: list[IncidentEvent] = []
    if detected is not None:
        steps.append(step_event(xid, IncidentStep.TRIGGERED, detected,
                                detected_at=body.detected_at))  # fmt: skip
    if acked is not None:
        steps.append(step_event(xid, IncidentStep.ACKNOWLEDGED, acked))
    if resolved is not None:
        steps.append(step_event(xid, IncidentStep.RESOLVED, resolved))
    stated = [body.started_at, body.detected_at, body.acknowledged_at, body.resolved_at,
              body.reopened_at]  # fmt: skip
    if body.reopened_at is not None:
        steps.append(step_event(xid, IncidentStep.REOPENED, body.reopened_at))
    elif body.status == "open" and current is not None and not any(stated):
        if current.status == "resolved":
            steps.append(step_event(xid, IncidentStep.REOPENED, now))
        elif current.status == "acknowledged":
            steps.append(step_event(xid, IncidentStep.UNACKNOWLEDGED, now))
    fields = {
        "service_ref": body.service, "severity": body.severity, "severity_raw": body.severity,
        "priority": body.priority, "title": body.title, "url": body.url,
        "users_affected": body.users_affected, "cost_estimate": body.cost_estimate,
        "problem_key": body.problem_key, "caused_by": body.caused_by,
        "impact_start": body.started_at,
    }  # fmt: skip
    if current is None:
        times = [t for t in stated if t is not None] + [e.occurred_at for e in steps]
        update = fields_event(xid, max(times, default=now), **fields)
    elif _changes(current, fields):
        update = fields_event(xid, now, **fields)
    else:
        update = None
    return steps + ([update] if update is not None else [])


#: The incident's attribute each field of fields_event is read back as.
_READ_BACK = {"service_ref": "service", "impact_start": "started_at"}


def _changes(current: Incident, fields: Mapping[str, object]) -> bool:
    """Whether any field given differs from the incident as it stands."""
    for name, value in fields.items():
        if value is None or name == "severity_raw":
            continue
        if getattr(current, _READ_BACK.get(name, name)) != value:
            return True
    return False


def event_events(external_id: str, body: IncidentEventIn) -> list[IncidentEvent]:
    """The step of POST /v1/incidents/{id}/events, and the fields sent with it (if any)."""
    at = body.occurred_at
    events = []
    if body.step is not IncidentStep.UPDATED:
        events.append(step_event(external_id, body.step, at))
    fields = fields_event(
        external_id, at, severity=body.severity, severity_raw=body.severity,
        priority=body.priority, title=body.title, users_affected=body.users_affected,
        cost_estimate=body.cost_estimate, problem_key=body.problem_key,
        caused_by=body.caused_by, text=body.note,
    )  # fmt: skip
    if fields is not None:
        events.append(fields)
    elif body.step is IncidentStep.UPDATED:
        events.append(step_event(external_id, body.step, at))
    return events


def change_mapped(body: ChangeIn, *, now: dt.datetime) -> Mapped:
    at = (body.finished_at if body.status is not ChangeStatus.IN_PROGRESS else None) or (
        body.started_at or now
    )
    event = ChangeEvent(
        external_id=body.external_id, event_key=f"{body.status}:{rfc3339(at)}",
        status=body.status, occurred_at=at, service_ref=body.service,
        environment=body.environment, kind=body.kind, started_at=body.started_at,
        finished_at=body.finished_at, commit_sha=body.commit_sha, title=body.title, url=body.url,
        commits=[c.sha for c in body.commits],
    )  # fmt: skip
    commits = [CommitRecord(sha=c.sha, committed_at=c.committed_at) for c in body.commits]
    return Mapped(changes=[event], commits=commits)


async def _source(con: Connection, name: str) -> Source:
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
    await services.service_ids(con, [slug], field="service")


async def upsert_incident(call: Call) -> Incident:
    """Create or update an incident by (source, external_id); answered after commit."""
    body: IncidentIn = call.body
    async with call.transaction() as con:
        src = await _source(con, body.source)
        await _check_service(con, body.service)
        current = await _incident_by_external_id(con, src.id, body.external_id)
        events = incident_events(body, now=call.now(), current=current)
        if not events:
            # The record says nothing the incident does not hold already.
            assert current is not None
            return current
        outcome = await _submit(call, con, src, Mapped(incidents=events))
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
        src = await sources.get_source(con, name=ref["source"])
        if not _open(src):
            raise Forbidden(
                f"incident {incident_id} belongs to source {_closed(src)}", source=src.name
            )
        events = event_events(ref["external_id"], body)
        outcome = await _submit(call, con, src, Mapped(incidents=events))
        detail = await store.get_incident(con, incident_id)
    events_applied(call, outcome)
    return detail


async def upsert_change(call: Call) -> Change:
    """Create or update a change by (source, external_id); answered after commit."""
    body: ChangeIn = call.body
    async with call.transaction() as con:
        src = await _source(con, body.source)
        await _check_service(con, body.service)
        outcome = await _submit(call, con, src, change_mapped(body, now=call.now()))
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
    return await services.service_ids(con, [slug], field="service")


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


OPEN_SOURCES_DOC = (
    "`source` must be a source of kind api (`api` by default) or one an admin opened to the "
    "generic endpoints (open_to_api: true); any other is a 403 naming `source`, since an "
    "ingest token must not rewrite what a tool reported through its signed deliveries."
)

ENDPOINTS = [
    Endpoint("POST", "/v1/incidents", upsert_incident, Scope.INGEST,
             "Create or update an incident by external id", "incidents", body=IncidentIn,
             response=Incident, errors=(413, 415, 422), idempotency="delivery",
             description="Send Idempotency-Key to make retries safe. status=open on a resolved "
             "incident reopens it. " + OPEN_SOURCES_DOC),
    Endpoint("POST", "/v1/incidents/{id:int}/events", add_incident_event, Scope.INGEST,
             "Add a lifecycle step to an incident", "incidents", body=IncidentEventIn,
             response=IncidentDetail, errors=(404, 413, 415, 422), idempotency="delivery",
             description="The incident's source must be open to the generic endpoints: "
             "of kind api, or opened by an admin (open_to_api); otherwise 403."),
    Endpoint("GET", "/v1/incidents", list_incidents, Scope.READ, "List incidents", "incidents",
             response=list[Incident], query=IncidentQuery),
    Endpoint("GET", "/v1/incidents/{id:int}", get_incident, Scope.READ,
             "An incident with its timeline", "incidents", response=IncidentDetail,
             errors=(404,)),
    Endpoint("POST", "/v1/changes", upsert_change, Scope.INGEST,
             "Create or update a change by external id", "changes", body=ChangeIn,
             response=Change, errors=(413, 415, 422), idempotency="delivery",
             description=OPEN_SOURCES_DOC),
    Endpoint("GET", "/v1/changes", list_changes, Scope.READ, "List changes", "changes",
             response=list[Change], query=ChangeQuery),
    Endpoint("GET", "/v1/changes/{id:int}", get_change, Scope.READ,
             "A change with its timeline and the incidents it caused", "changes",
             response=ChangeDetail, errors=(404,)),
]  # fmt: skip
