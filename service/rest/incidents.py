"""Incidents and changes for any tool or script: create or update by external id, add lifecycle
steps (service/usecases/ingestion.py), and read them back with their timelines."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel, Field

from service.db import Connection
from service.models.catalog import RowId
from service.models.enums import ChangeStatus, Scope, Severity
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
from service.rest import csv_tables, idempotency
from service.rest.endpoint import Call, Endpoint, id_param
from service.rest.prometheus import events_applied
from service.rest.team_reads import check_service, read_limit
from service.store import ingest as store
from service.store import services
from service.usecases import ingestion, team_scope
from service.usecases.ingestion import ApiRequest
from service.usecases.ingestion_apply import DeliveryOutcome

R = TypeVar("R")


def _request(call: Call) -> ApiRequest:
    """The request as its delivery is logged: its Idempotency-Key, and a digest of its path and
    body (what makes a retry the same request)."""
    fingerprint = hashlib.sha256(
        f"{call.request.url.path}\n".encode() + call.body.model_dump_json().encode()
    ).hexdigest()
    return ApiRequest(idempotency.key_of(call.request), fingerprint)


async def _recorded(
    call: Call, record: Callable[..., Awaitable[tuple[R, DeliveryOutcome | None]]], *args: Any,
    **named: Any,
) -> R:  # fmt: skip
    """What `record(con, *args, request, **named)` recorded, in the call's transaction with the
    request as its delivery is logged; the events it applied counted once committed."""
    async with call.transaction() as con:
        result, outcome = await record(con, *args, _request(call), **named)
    events_applied(call, outcome)
    return result


async def _check_team(call: Call, service: str | None) -> None:
    """A 403 naming `service` when the token is limited to a team that does not own it."""
    async with call.connection() as con:
        limit = await team_scope.write_limit(con, call.principal)
    if limit is not None:
        limit.check(service, "service")


async def upsert_incident(call: Call) -> Incident:
    """Create or update an incident by (source, external_id); answered after commit."""
    await _check_team(call, call.body.service)
    return await _recorded(call, ingestion.record_incident, call.body, now=call.now())


async def add_incident_event(call: Call) -> IncidentDetail:
    """Add one lifecycle step (acknowledged, resolved, reopened ...) to an incident."""
    if call.principal is not None and call.principal.team is not None:
        async with call.connection() as con:
            found = await store.list_incidents(con, ids=[id_param(call)])
        if found:
            await _check_team(call, found[0].service)
    return await _recorded(call, ingestion.add_incident_step, id_param(call), call.body)


async def upsert_change(call: Call) -> Change:
    """Create or update a change by (source, external_id); answered after commit."""
    await _check_team(call, call.body.service)
    return await _recorded(call, ingestion.record_change, call.body, now=call.now())


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


#: Rows read per statement while a CSV list streams.
CSV_PAGE = 250

Row = TypeVar("Row", Incident, Change)
#: Reads a page: (connection, service ids or None, below this id, at most this many).
PageReader = Callable[[Connection, list[int] | None, int | None, int], Awaitable[list[Row]]]


async def _pages(
    call: Call, read: PageReader[Row], service_ids: list[int] | None, before: int | None,
    limit: int,
) -> AsyncIterator[list[Row]]:  # fmt: skip
    """The list in pages of CSV_PAGE, down by id, each read on a connection of its own: none is
    held while the client reads."""
    while limit > 0:
        size = min(CSV_PAGE, limit)
        async with call.connection() as con:
            page = await read(con, service_ids, before, size)
        if page:
            yield page
        if len(page) < size:
            return
        limit -= size
        before = page[-1].id


async def _listed(
    call: Call, service: str | None, read: PageReader[Row], before: int | None, limit: int
) -> list[Row] | AsyncIterator[list[Row]]:
    """The list asked for, or its pages for a CSV answer (a service unknown is a 404 first);
    for a token whose reads are limited to a team, only its team's services'."""
    if service is not None:
        await check_service(call, service)
    team = await read_limit(call)
    async with call.connection() as con:
        service_ids = await _service_filter(con, service)
        if team is not None and service_ids is None:
            service_ids = team.ids
        if not call.wants_csv:
            return await read(con, service_ids, before, limit)
    return _pages(call, read, service_ids, before, limit)


async def list_incidents(call: Call) -> list[Incident] | AsyncIterator[list[Incident]]:
    query: IncidentQuery = call.query

    async def read(
        con: Connection, service_ids: list[int] | None, before: int | None, limit: int
    ) -> list[Incident]:
        return await store.list_incidents(
            con, service_ids=service_ids, start=query.from_, end=query.to,
            severities=_as_list(query.severity), statuses=_as_list(query.status),
            before_id=before, limit=limit,
        )  # fmt: skip

    return await _listed(call, query.service, read, query.before, query.limit)


async def get_incident(call: Call) -> IncidentDetail:
    async with call.connection() as con:
        found = await store.get_incident(con, id_param(call))
    await check_service(call, found.service, "incident of service")
    return found


async def list_changes(call: Call) -> list[Change] | AsyncIterator[list[Change]]:
    query: ChangeQuery = call.query

    async def read(
        con: Connection, service_ids: list[int] | None, before: int | None, limit: int
    ) -> list[Change]:
        return await store.list_changes(
            con, service_ids=service_ids, start=query.from_, end=query.to,
            environments=_as_list(query.environment), statuses=_as_list(query.status),
            before_id=before, limit=limit,
        )  # fmt: skip

    return await _listed(call, query.service, read, query.before, query.limit)


async def get_change(call: Call) -> ChangeDetail:
    async with call.connection() as con:
        found = await store.get_change(con, id_param(call))
    await check_service(call, found.service, "change of service")
    return found


OPEN_SOURCES_DOC = (
    "`source` must be a source of kind api (`api` by default) or one an admin opened to the "
    "generic endpoints (open_to_api: true); any other is a 403 naming `source`, since an "
    "ingest token must not rewrite what a tool reported through its signed deliveries. "
    "A token limited to a team writes only for its team's services: any other `service` is a "
    "403 naming it."
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
             "of kind api, or opened by an admin (open_to_api); otherwise 403. A token limited "
             "to a team adds steps only to incidents of its team's services (403 naming the "
             "incident's `service` otherwise)."),
    Endpoint("GET", "/v1/incidents", list_incidents, Scope.READ, "List incidents", "incidents",
             response=list[Incident], query=IncidentQuery, csv=csv_tables.INCIDENTS,
             team_reads=True, replica_reads=True),
    Endpoint("GET", "/v1/incidents/{id:int}", get_incident, Scope.READ,
             "An incident with its timeline", "incidents", response=IncidentDetail,
             errors=(404,), team_reads=True, replica_reads=True),
    Endpoint("POST", "/v1/changes", upsert_change, Scope.INGEST,
             "Create or update a change by external id", "changes", body=ChangeIn,
             response=Change, errors=(413, 415, 422), idempotency="delivery",
             description=OPEN_SOURCES_DOC),
    Endpoint("GET", "/v1/changes", list_changes, Scope.READ, "List changes", "changes",
             response=list[Change], query=ChangeQuery, csv=csv_tables.CHANGES,
             team_reads=True, replica_reads=True),
    Endpoint("GET", "/v1/changes/{id:int}", get_change, Scope.READ,
             "A change with its timeline and the incidents it caused", "changes",
             response=ChangeDetail, errors=(404,), team_reads=True, replica_reads=True),
]  # fmt: skip
