"""Typed wrappers over sql/queries/ingest.sql: timelines, incidents, changes and commits (the
delivery log is service/store/deliveries.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from service.db import Connection, fetch_grouped, one_found, statements
from service.errors import NotFound
from service.models.events import ChangeEvent, CommitRecord, IncidentEvent
from service.models.incidents import (
    Change,
    ChangeDetail,
    Incident,
    IncidentDetail,
    TimelineEntry,
)
from service.models.timeline import ChangeRecord, IncidentRecord
from service.store.deliveries import LoggedDelivery, stored_key

q = statements("ingest")


@dataclass(frozen=True)
class RevertReasons:
    """Why a change counts as failed (a later revert undid what it shipped first) and as
    rework (it shipped a revert)."""

    reverted_by: str | None = None
    reverts: str | None = None


@dataclass(frozen=True)
class IncidentDelivery:
    """What claim_incident_delivery did: delivery_id is None for a duplicate (nothing else
    done), service_id None when no candidate service exists (only the delivery is logged)."""

    delivery_id: int | None
    service_id: int | None
    incident_id: int
    current_service_id: int | None
    timeline: list[IncidentEvent]


async def claim_incident_delivery(
    con: Connection, delivery: LoggedDelivery, *, candidates: list[str | None],
    event: IncidentEvent,
) -> IncidentDelivery:  # fmt: skip
    """claim_delivery as applied, then, unless it is a duplicate or none of the candidate
    services exists, record_incident_event: in one round trip."""
    d = delivery
    row = await con.fetchrow(
        q("claim_incident_delivery"), d.source_id, stored_key(d.key), d.event_type, d.headers,
        d.body, stored_key(d.signed_key), d.body_sha256, candidates, event.external_id,
        event.event_key, event.step.value, event.occurred_at, event.model_dump(mode="json"),
    )  # fmt: skip
    timeline = [IncidentEvent.model_validate(data) for data in row["timeline"] or ()]
    return IncidentDelivery(
        row["delivery_id"], row["service_id"], row["incident_id"] or 0,
        row["current_service_id"], timeline,
    )  # fmt: skip


async def save_commit(con: Connection, commit: CommitRecord) -> None:
    """The commit's time, the request that merged it and what it reverts."""
    sha = commit.sha.lower()
    await con.execute(q("save_commit"), sha, commit.committed_at, commit.repo)
    if commit.request is not None:
        await save_commit_request(con, sha, commit.request)
    if commit.reverts:
        await save_commit_reverts(con, sha, commit.reverts, commit.revert_reason or "reverted")


async def save_commit_request(con: Connection, sha: str, request: str) -> None:
    await con.execute(q("save_commit_request"), sha, request)


async def save_commit_reverts(con: Connection, sha: str, targets: list[str], reason: str) -> None:
    await con.execute(q("save_commit_reverts"), sha, targets, reason)


async def change_revert_reasons(con: Connection, ids: list[int]) -> dict[int, RevertReasons]:
    """Why each change counts as failed by a revert, and as rework by shipping one (changes
    with neither are absent)."""
    rows = await con.fetch(q("change_revert_reasons"), ids)
    return {r["change_id"]: RevertReasons(r["reverted_by"], r["reverts"]) for r in rows}


async def record_incident_event(
    con: Connection, *, source_id: int, event: IncidentEvent, delivery_id: int | None
) -> tuple[int, int | None, list[IncidentEvent]]:
    """Add the event to its incident's timeline (once); the incident's id, its current
    service and its whole timeline."""
    incident_id, service_id = await upsert_incident(con, source_id, event.external_id)
    timeline = await insert_incident_event_timeline(con, incident_id, event, delivery_id)
    return incident_id, service_id, timeline


async def upsert_incident(
    con: Connection, source_id: int, external_id: str
) -> tuple[int, int | None]:
    """The incident of (source, external id), created if new: its id and current service."""
    row = await con.fetchrow(q("upsert_incident"), source_id, external_id)
    return row["id"], row["service_id"]


async def insert_incident_event_timeline(
    con: Connection, incident_id: int, event: IncidentEvent, delivery_id: int | None
) -> list[IncidentEvent]:
    """Add the event (once, by its key) and read the incident's whole timeline back."""
    rows = await con.fetch(
        q("insert_incident_event_timeline"), incident_id, event.event_key, event.step.value,
        event.occurred_at, event.model_dump(mode="json"), delivery_id,
    )  # fmt: skip
    return [IncidentEvent.model_validate(r["data"]) for r in rows]


async def record_change_event(
    con: Connection, *, source_id: int, event: ChangeEvent, delivery_id: int | None
) -> tuple[int, int | None, list[ChangeEvent]]:
    change_id, service_id = await upsert_change(con, source_id, event.external_id)
    timeline = await insert_change_event_timeline(con, change_id, event, delivery_id)
    return change_id, service_id, timeline


async def upsert_change(
    con: Connection, source_id: int, external_id: str
) -> tuple[int, int | None]:
    """The change of (source, external id), created if new: its id and current service."""
    row = await con.fetchrow(q("upsert_change"), source_id, external_id)
    return row["id"], row["service_id"]


async def insert_change_event_timeline(
    con: Connection, change_id: int, event: ChangeEvent, delivery_id: int | None
) -> list[ChangeEvent]:
    """Add the event (once, by its key) and read the change's whole timeline back."""
    rows = await con.fetch(
        q("insert_change_event_timeline"), change_id, event.event_key, event.status.value,
        event.occurred_at, event.model_dump(mode="json"), delivery_id,
    )  # fmt: skip
    return [ChangeEvent.model_validate(r["data"]) for r in rows]


async def save_incident(
    con: Connection,
    incident_id: int,
    rec: IncidentRecord,
    *,
    service_id: int | None,
    severity: str | None,
    change_id: int | None,
    link_kind: str | None,
) -> None:
    await con.execute(
        q("save_incident"), incident_id, service_id, severity, rec.priority, rec.status,
        rec.title, rec.url, rec.started_at, rec.detected_at, rec.acknowledged_at,
        rec.resolved_at, rec.users_affected, rec.cost_estimate, rec.problem_key, rec.caused_by,
        change_id, link_kind, *_outage_arrays(rec),
    )  # fmt: skip


async def save_incident_inferring_change(
    con: Connection,
    incident_id: int,
    rec: IncidentRecord,
    *,
    service_id: int,
    severity: str | None,
    window_minutes: int,
) -> None:
    """save_incident, linked to the last successful production change of its service within
    `window_minutes` before its impact start (which it must have), in one round trip."""
    assert rec.started_at is not None
    await con.execute(
        q("save_incident_inferring_change"), incident_id, service_id, severity, rec.priority,
        rec.status, rec.title, rec.url, rec.started_at, rec.detected_at, rec.acknowledged_at,
        rec.resolved_at, rec.users_affected, rec.cost_estimate, rec.problem_key, rec.caused_by,
        window_minutes, *_outage_arrays(rec),
    )  # fmt: skip


def _outage_arrays(rec: IncidentRecord) -> tuple[list[dt.datetime], list[dt.datetime | None]]:
    """The outage stretches as the parallel arrays of starts and ends the SQL takes."""
    return [start for start, _ in rec.outages], [end for _, end in rec.outages]


async def relink_inferred_around_change(con: Connection, change_id: int) -> None:
    """Link again the incidents whose inferred cause a saved change may have changed."""
    await con.execute(q("relink_inferred_around_change"), change_id)


async def save_change(
    con: Connection, change_id: int, rec: ChangeRecord, *, service_id: int | None, production: bool
) -> None:
    await update_change(con, change_id, rec, service_id=service_id, production=production)
    if rec.commits:
        await insert_change_commits(con, change_id, sorted(rec.commits))


async def update_change(
    con: Connection, change_id: int, rec: ChangeRecord, *, service_id: int | None, production: bool
) -> None:
    """The change's row as its timeline folds to."""
    await con.execute(
        q("update_change"), change_id, service_id, rec.environment, production, rec.kind.value,
        rec.status.value, rec.started_at, rec.finished_at,
        rec.commit_sha.lower() if rec.commit_sha else None, rec.title, rec.url,
        rec.rolls_back_previous, rec.labels,
    )  # fmt: skip


async def relink_rollbacks_around_change(con: Connection, change_id: int) -> None:
    """Link again the rollbacks naming no deploy that a saved change may concern (those of
    its service and environment) to the deploy each undid, marked inferred."""
    await con.execute(q("relink_rollbacks_around_change"), change_id)


async def insert_change_commits(con: Connection, change_id: int, shas: list[str]) -> None:
    """The commits a change shipped (each once)."""
    await con.execute(q("insert_change_commits"), change_id, shas)


async def change_by_ref(con: Connection, ref: str) -> int | None:
    found: int | None = await con.fetchval(q("change_by_ref"), ref)
    return found


async def link_waiting_incidents(
    con: Connection, *, change_id: int, external_id: str, sha: str | None
) -> None:
    await con.execute(
        q("link_waiting_incidents"), change_id, external_id, sha.lower() if sha else None
    )


# Reads ---------------------------------------------------------------------------------------


async def list_incidents(
    con: Connection,
    *,
    ids: list[int] | None = None,
    service_ids: list[int] | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    severities: list[str] | None = None,
    statuses: list[str] | None = None,
    before_id: int | None = None,
    limit: int | None = None,
) -> list[Incident]:
    rows = await con.fetch(
        q("list_incidents"), ids, service_ids, start, end, severities, statuses, before_id, limit
    )
    return [Incident(**r) for r in rows]


async def list_changes(
    con: Connection,
    *,
    ids: list[int] | None = None,
    service_ids: list[int] | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    environments: list[str] | None = None,
    statuses: list[str] | None = None,
    before_id: int | None = None,
    limit: int | None = None,
) -> list[Change]:
    rows = await con.fetch(
        q("list_changes"), ids, service_ids, start, end, environments, statuses, before_id, limit
    )
    return [Change(**r) for r in rows]


async def incident_pages_by_service(
    con: Connection, service_ids: list[int], *, start: dt.datetime | None,
    end: dt.datetime | None, severities: list[str] | None, statuses: list[str] | None,
    before_id: int | None, limit: int,
) -> list[Incident]:  # fmt: skip
    """`list_incidents` of each service, newest first, at most `limit` each."""
    rows = await con.fetch(q("incident_pages_by_service"), service_ids, start, end, severities,
                           statuses, before_id, limit)  # fmt: skip
    return [Incident(**r) for r in rows]


async def change_pages_by_service(
    con: Connection, service_ids: list[int], *, start: dt.datetime | None,
    end: dt.datetime | None, environments: list[str] | None, statuses: list[str] | None,
    before_id: int | None, limit: int,
) -> list[Change]:  # fmt: skip
    """`list_changes` of each service, newest first, at most `limit` each."""
    rows = await con.fetch(q("change_pages_by_service"), service_ids, start, end,
                           environments, statuses, before_id, limit)  # fmt: skip
    return [Change(**r) for r in rows]


async def incident_timeline(con: Connection, ids: list[int]) -> dict[int, list[TimelineEntry]]:
    """Each incident's timeline, oldest step first."""
    return await fetch_grouped(con, q("incident_timeline"), ids, lambda row: TimelineEntry(**row))


async def change_timeline(con: Connection, ids: list[int]) -> dict[int, list[TimelineEntry]]:
    """Each change's timeline, oldest step first."""
    return await fetch_grouped(con, q("change_timeline"), ids, lambda row: TimelineEntry(**row))


async def incidents_caused_by(con: Connection, change_ids: list[int]) -> dict[int, list[int]]:
    return await fetch_grouped(con, q("incidents_caused_by"), change_ids, lambda row: row["id"])


async def get_incident(con: Connection, incident_id: int) -> IncidentDetail:
    found = one_found(await list_incidents(con, ids=[incident_id]), f"no incident {incident_id}")
    timeline = await incident_timeline(con, [incident_id])
    return IncidentDetail(**found.model_dump(), timeline=timeline[incident_id])


async def get_change(con: Connection, change_id: int) -> ChangeDetail:
    found = one_found(await list_changes(con, ids=[change_id]), f"no change {change_id}")
    timeline = await change_timeline(con, [change_id])
    caused = await incidents_caused_by(con, [change_id])
    reasons = (await change_revert_reasons(con, [change_id])).get(change_id, RevertReasons())
    return ChangeDetail(
        **found.model_dump(), timeline=timeline[change_id], incidents=caused[change_id],
        reverted_by=reasons.reverted_by, reverts=reasons.reverts,
    )  # fmt: skip


@dataclass(frozen=True)
class IncidentRef:
    """What names an incident outside the service: its source and the tool's id."""

    id: int
    source: str
    external_id: str


async def incident_ref(con: Connection, incident_id: int) -> IncidentRef:
    row = await con.fetchrow(q("incident_ref"), incident_id)
    if row is None:
        raise NotFound(f"no incident {incident_id}")
    return IncidentRef(row["id"], row["source"], row["external_id"])


async def incident_id_by_external_id(
    con: Connection, *, source_id: int, external_id: str
) -> int | None:
    found: int | None = await con.fetchval(q("incident_id_by_external_id"), source_id, external_id)
    return found


async def change_id_by_external_id(
    con: Connection, *, source_id: int, external_id: str
) -> int | None:
    found: int | None = await con.fetchval(q("change_id_by_external_id"), source_id, external_id)
    return found
