"""Applying a delivery's events: each incident and change mapped to its business service, its
timeline extended, its record rebuilt from the whole timeline and linked (explicitly or by
inference), and commit times kept; all of a delivery or, when a service cannot be mapped,
nothing (the delivery is then kept as unmapped)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field, PrivateAttr

from service.db import Connection
from service.ingest import mapping
from service.ingest.model import Mapped
from service.models.events import ChangeEvent, IncidentEvent
from service.models.sources import Source
from service.models.timeline import build_change, build_incident, retraction
from service.store import deliveries, services, team_scope
from service.store import ingest as store

Status = Literal["applied", "unmapped", "duplicate"]


@dataclass(frozen=True)
class AppliedEvents:
    """What an applied delivery carried, by source: counted by the service's metrics."""

    source: str
    kind: str
    incidents: int
    changes: int
    commits: int


class DeliveryOutcome(BaseModel):
    delivery_id: int
    status: Status
    detail: str | None = None
    incidents: list[int] = Field(default_factory=list, description="Incident ids touched.")
    changes: list[int] = Field(default_factory=list, description="Change ids touched.")
    commits: int = 0
    _applied: AppliedEvents | None = PrivateAttr(default=None)

    @property
    def applied(self) -> AppliedEvents | None:
        """The events applied, when the status is applied (not part of the answer)."""
        return self._applied


class _Unmapped(Exception):
    pass


def applied_events(src: Source, mapped: Mapped) -> AppliedEvents:
    return AppliedEvents(
        src.name, src.kind.value, len(mapped.incidents), len(mapped.changes), len(mapped.commits)
    )


def all_resolved(src: Source, mapped: Mapped, known: Mapping[str, int]) -> bool:
    """Whether every incident and change of the delivery maps to a business service by itself
    (so none can be left unmapped, whatever its record already holds)."""
    return all(
        _resolve(src, events, known) is not None
        for groups in (_grouped(mapped.incidents), _grouped(mapped.changes))
        for events in groups.values()
    )


async def apply_mapped(
    con: Connection, src: Source, delivery_id: int, mapped: Mapped
) -> DeliveryOutcome:
    """Apply everything or, when a service cannot be mapped, nothing (kept as unmapped)."""
    try:
        async with con.transaction():
            outcome = await apply_resolved(con, src, delivery_id, mapped)
    except _Unmapped as exc:
        await deliveries.set_outcome(con, delivery_id, "unmapped", str(exc))
        return DeliveryOutcome(delivery_id=delivery_id, status="unmapped", detail=str(exc))
    if mapped.is_empty():
        detail = "the delivery carried no incident, change or commit"
        await deliveries.set_outcome(con, delivery_id, "unmapped", detail)
        return DeliveryOutcome(delivery_id=delivery_id, status="unmapped", detail=detail)
    await deliveries.set_outcome(con, delivery_id, "applied", None)
    outcome._applied = applied_events(src, mapped)
    return outcome


def service_slugs(src: Source, events: Sequence[IncidentEvent | ChangeEvent]) -> list[str]:
    """The business services the events may map to: the rules' and the tools' own names."""
    slugs = {r.service for r in src.service_rules} | {
        e.service_ref for e in events if e.service_ref
    }
    return sorted(slugs)


async def _service_ids(
    con: Connection, src: Source, events: Sequence[IncidentEvent | ChangeEvent]
) -> dict[str, int]:
    return await services.service_ids_by_slug(con, service_slugs(src, events))


def _resolve(
    src: Source, events: Sequence[IncidentEvent | ChangeEvent], known: Mapping[str, int]
) -> int | None:
    for e in events:
        slug = mapping.match_service(e.service_ref, e.service_labels, src.service_rules, known)
        if slug is not None and slug in known:
            return known[slug]
    return None


def _describe(events: Sequence[IncidentEvent | ChangeEvent]) -> str:
    e = events[0]
    labels = ", ".join(f"{k}={v}" for k, v in sorted(e.service_labels.items()))
    return f"{e.service_ref!r}" + (f" ({labels})" if labels else "")


async def apply_resolved(
    con: Connection, src: Source, delivery_id: int, mapped: Mapped,
    known: Mapping[str, int] | None = None,
) -> DeliveryOutcome:  # fmt: skip
    if known is None:
        known = await _service_ids(con, src, [*mapped.incidents, *mapped.changes])
    team = await _team_services(con, src)
    for commit in mapped.commits:
        await store.save_commit(con, commit)
    change_ids = []
    for external_id, changes in _grouped(mapped.changes).items():
        change_id, service_id, change_timeline = await _record(
            con, src, delivery_id, "change", changes, known, store.record_change_event
        )
        await _check_team(con, src, team, "change", external_id, service_id)
        await save_change(con, src, change_id, external_id, service_id, change_timeline)
        change_ids.append(change_id)
    incident_ids = []
    for external_id, incidents in _grouped(mapped.incidents).items():
        incident_id, service_id, timeline = await _record(
            con, src, delivery_id, "incident", incidents, known, store.record_incident_event
        )
        await _check_team(con, src, team, "incident", external_id, service_id)
        incident_id = await save_incident(
            con, src, incident_id, service_id, timeline, incidents, delivery_id
        )
        incident_ids.append(incident_id)
    return DeliveryOutcome(
        delivery_id=delivery_id, status="applied", incidents=incident_ids, changes=change_ids,
        commits=len(mapped.commits),
    )  # fmt: skip


async def _team_services(con: Connection, src: Source) -> frozenset[int] | None:
    """The ids of the services a source limited to a team may write for (None: any)."""
    if src.team is None:
        return None
    return frozenset((await team_scope.team_tree_services(con, src.team)).values())


async def _check_team(
    con: Connection, src: Source, team: frozenset[int] | None, noun: str, external_id: str,
    service_id: int,
) -> None:  # fmt: skip
    """Leave the delivery unmapped (nothing of it applied) when a record maps to a service
    outside the team the source is limited to."""
    if team is None or service_id in team:
        return
    slug = await team_scope.service_slug_by_id(con, service_id)
    raise _Unmapped(
        f"{noun} {external_id!r} maps to service {slug!r}, which is not a service of team "
        f"{src.team!r} or of a team under it, to which source {src.name!r} is limited: "
        "move the service to the team or change the source's team, then replay"
    )


def _grouped(events: Sequence[Any]) -> dict[str, list[Any]]:
    groups: dict[str, list[Any]] = defaultdict(list)
    for e in events:
        groups[e.external_id].append(e)
    return groups


E = TypeVar("E", IncidentEvent, ChangeEvent)


async def _record(
    con: Connection, src: Source, delivery_id: int, noun: str, events: list[E],
    known: Mapping[str, int],
    record: Callable[..., Awaitable[tuple[int, int | None, list[E]]]],
) -> tuple[int, int, list[E]]:  # fmt: skip
    """Add the events to their record's timeline; the record's id, its business service (from
    these events, else as already known) and its whole timeline."""
    row_id, current_service = 0, None
    timeline: list[E] = []
    for event in events:
        row_id, current_service, timeline = await record(
            con, source_id=src.id, event=event, delivery_id=delivery_id
        )
    service_id = _resolve(src, events, known) or current_service
    if service_id is None:
        raise _Unmapped(
            f"no business service for {noun} {events[0].external_id!r} from "
            f"{_describe(events)}: add a service rule to source {src.name!r}, then replay"
        )
    return row_id, service_id, timeline


async def save_change(
    con: Connection, src: Source, change_id: int, external_id: str, service_id: int | None,
    timeline: list[ChangeEvent],
) -> None:  # fmt: skip
    """Rebuild the change from its whole timeline and save it; link the incidents that name
    it, and link again the incidents whose inferred cause it may have changed."""
    rec = build_change(timeline)
    production = mapping.is_production(rec.environment, src.production_envs)
    await store.save_change(con, change_id, rec, service_id=service_id, production=production)
    await store.link_waiting_incidents(
        con, change_id=change_id, external_id=external_id, sha=rec.commit_sha
    )
    await store.relink_inferred_around_change(con, change_id)
    await store.relink_rollbacks_around_change(con, change_id)


async def save_incident(
    con: Connection, src: Source, incident_id: int, service_id: int | None,
    timeline: list[IncidentEvent], arrived: Sequence[IncidentEvent] = (),
    delivery_id: int | None = None,
) -> int:  # fmt: skip
    """Rebuild the incident from its whole timeline, link it to its cause, and save it.

    `arrived` are the events of this delivery: an alert they say is still firing after the
    incident's resolution retracts that resolution (recorded as a reopening at it)."""
    rec = build_incident(timeline)
    retracted = retraction(rec, arrived)
    if retracted is not None:
        _, _, timeline = await store.record_incident_event(
            con, source_id=src.id, event=retracted, delivery_id=delivery_id
        )
        rec = build_incident(timeline)
    sev = mapping.severity(rec.severity, rec.severity_raw, src.severity_map)
    change_id, link_kind = None, None
    if rec.caused_by:
        change_id = await store.change_by_ref(con, rec.caused_by)
        link_kind = "explicit" if change_id else None
    elif src.infer_links and rec.started_at is not None and service_id is not None:
        await store.save_incident_inferring_change(
            con, incident_id, rec, service_id=service_id, severity=sev.value if sev else None,
            window_minutes=src.infer_window_minutes,
        )  # fmt: skip
        return incident_id
    await store.save_incident(
        con, incident_id, rec, service_id=service_id, severity=sev.value if sev else None,
        change_id=change_id, link_kind=link_kind,
    )  # fmt: skip
    return incident_id
