"""Typed wrappers over sql/queries/recompute.sql: what `kpi recompute` reads and rewrites."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from service.db import Connection, sql, statements

q = statements("recompute")


@dataclass(frozen=True)
class StoredRecord:
    """An incident or a change as stored: where it came from, and its name there."""

    id: int
    source_id: int
    external_id: str
    service_id: int | None


@dataclass(frozen=True)
class IncidentTimeline(StoredRecord):
    """An incident with its events, in the order they were stored."""

    event_ids: list[int]
    event_keys: list[str]
    events: list[Any]


@dataclass(frozen=True)
class ChangeTimeline(StoredRecord):
    """A change with its events, in the order they were stored."""

    events: list[Any]


@dataclass(frozen=True)
class ApiDelivery:
    """A delivery of the generic API that sent changes with their commits."""

    source_id: int
    body: bytes


@dataclass(frozen=True)
class StoredPeriod:
    """A KPI, cadence and period with stored statuses."""

    kpi_id: int
    cadence: str
    period_start: dt.datetime
    period_end: dt.datetime


async def alertmanager_incidents_to_split(con: Connection) -> list[StoredRecord]:
    """Incidents of Alertmanager sources still named by the alert's fingerprint alone."""
    rows = await con.fetch(q("alertmanager_incidents_to_split"))
    return [StoredRecord(**dict(r.items())) for r in rows]


async def incident_ids(con: Connection) -> list[int]:
    return [r["id"] for r in await con.fetch(q("incident_ids"))]


async def incidents_with_events(con: Connection, ids: Sequence[int]) -> list[IncidentTimeline]:
    rows = await con.fetch(q("incidents_with_events"), list(ids))
    return [IncidentTimeline(**dict(r.items())) for r in rows]


async def change_ids(con: Connection) -> list[int]:
    return [r["id"] for r in await con.fetch(q("change_ids"))]


async def changes_with_events(con: Connection, ids: Sequence[int]) -> list[ChangeTimeline]:
    rows = await con.fetch(q("changes_with_events"), list(ids))
    return [ChangeTimeline(**dict(r.items())) for r in rows]


async def upsert_incident_for_episode(
    con: Connection, source_id: int, external_id: str, service_id: int | None
) -> int:
    """The id of the incident of one firing episode, made if needed."""
    incident_id: int = await con.fetchval(
        q("upsert_incident_for_episode"), source_id, external_id, service_id
    )
    return incident_id


async def move_incident_event(
    con: Connection, event_id: int, incident_id: int, event_key: str
) -> bool:
    """Move the event to the incident under the key; False (and the event deleted, a second
    copy of one fact) when that incident has the key already."""
    return bool(await con.fetchval(q("move_incident_event"), event_id, incident_id, event_key))


async def delete_empty_incident(con: Connection, incident_id: int) -> None:
    await con.execute(q("delete_empty_incident"), incident_id)


async def api_deliveries_with_commits(con: Connection) -> list[ApiDelivery]:
    rows = await con.fetch(q("api_deliveries_with_commits"))
    return [ApiDelivery(source_id=r["source_id"], body=r["body"]) for r in rows]


async def change_id_of(con: Connection, source_id: int, external_id: str) -> int | None:
    change_id: int | None = await con.fetchval(q("change_id_of"), source_id, external_id)
    return change_id


async def link_change_commits(con: Connection, change_id: int, shas: Sequence[str]) -> None:
    """Link the change to the commits it shipped (the ingest pipeline's own statement)."""
    await con.execute(sql("ingest", "insert_change_commits"), change_id, list(shas))


async def delete_unfinished_statuses(con: Connection, now: dt.datetime) -> int:
    """Delete the statuses of periods not ended at `now`; how many there were."""
    deleted: str = await con.execute(q("delete_unfinished_statuses"), now)
    return int(deleted.split()[-1])


async def stored_periods(con: Connection) -> list[StoredPeriod]:
    return [StoredPeriod(**dict(r.items())) for r in await con.fetch(q("stored_periods"))]
