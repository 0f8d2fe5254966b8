"""Incidents and changes through the generic endpoints."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Unpack

from kpi_client.api.collection import EditableCollection
from kpi_client.models import (
    Change,
    ChangeDetail,
    ChangeIn,
    Incident,
    IncidentDetail,
    IncidentEventIn,
    IncidentIn,
)
from kpi_client.operation import Body, Operation, Page, answer, encode, query, validated

INCIDENTS = EditableCollection("/v1/incidents", Incident, list[Incident], IncidentIn)
CHANGES = EditableCollection("/v1/changes", Change, list[Change], ChangeIn)


def upsert_incident(
    incident: Body[IncidentIn], *, idempotency_key: str | None = None
) -> Operation[Incident]:
    """Creates or updates an incident by (source, external_id); status `open` on a resolved
    incident reopens it."""
    return INCIDENTS.create(incident, idempotency_key)


def add_incident_event(
    incident_id: int,
    event: Body[IncidentEventIn],
    *,
    idempotency_key: str | None = None,
) -> Operation[IncidentDetail]:
    """Adds a lifecycle step (acknowledged, resolved, reopened ...) to an incident."""
    body = encode(validated(IncidentEventIn, event))
    path = f"{INCIDENTS.member(incident_id)}/events"
    return Operation(
        "POST", path, answer(IncidentDetail), body=body, idempotency_key=idempotency_key
    )


class TimelineFilters(Page, total=False):
    """What lists of incidents and of changes are filtered by alike: a business service, the
    window [from_, to) and statuses (one or several)."""

    service: str | None
    from_: dt.datetime | None
    to: dt.datetime | None
    status: str | Sequence[str] | None


def list_incidents(
    *, severity: str | Sequence[str] | None = None, **filters: Unpack[TimelineFilters]
) -> Operation[list[Incident]]:
    """Incidents, newest first; `before` (an id) pages."""
    return INCIDENTS.list_all(query(severity=severity, **filters))


def get_incident(incident_id: int) -> Operation[IncidentDetail]:
    """An incident with its timeline."""
    return Operation("GET", INCIDENTS.member(incident_id), answer(IncidentDetail))


def upsert_change(
    change: Body[ChangeIn], *, idempotency_key: str | None = None
) -> Operation[Change]:
    """Creates or updates a change by (source, external_id)."""
    return CHANGES.create(change, idempotency_key)


def list_changes(
    *, environment: str | Sequence[str] | None = None, **filters: Unpack[TimelineFilters]
) -> Operation[list[Change]]:
    """Changes, newest first; `before` (an id) pages."""
    return CHANGES.list_all(query(environment=environment, **filters))


def get_change(change_id: int) -> Operation[ChangeDetail]:
    """A change with its timeline and the incidents it caused."""
    return Operation("GET", CHANGES.member(change_id), answer(ChangeDetail))
