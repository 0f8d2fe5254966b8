"""`kpi recompute`: rebuild what earlier versions stored from what the tools said.

Earlier versions kept every firing of an Alertmanager alert in one incident, counted a
reopened incident as down from its start to its final resolution, stamped steps of the
generic API with keys in two formats (so one step could be stored twice), did not follow the
status PagerDuty states with each event, inferred links only for incidents posted after
their deploy, did not keep the commits a change shipped, and stored statuses of periods
still under way. Everything needed to rebuild is kept (timelines, deliveries), so:

1. Alertmanager incidents named by a fingerprint alone are split into one incident per
   firing episode (fingerprint and `startsAt`), their steps moved to it.
2. Steps of the generic API are keyed as today (`<step>:<RFC 3339 time>`); a second copy of
   a step is dropped.
3. The commits generic-API changes were sent with are linked to them.
4. Every change, then every incident, is rebuilt from its timeline (status, times, outage
   stretches, explicit and inferred links).
5. Statuses of unfinished periods are deleted, and every stored closed period is evaluated
   again (replacing the stored statuses, without escalating: escalations and notifications
   of the past stay as they were), except periods reaching back before the observations'
   retention horizon (`keep_before`): their points may be gone, so their statuses stay.

It runs in one transaction: all of it or nothing. `dry_run` rolls it back after counting.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson

from service.clock import rfc3339
from service.db import Connection
from service.kpi.periods import Period, previous
from service.models.enums import Cadence
from service.models.events import ChangeEvent, IncidentEvent
from service.models.sources import Source
from service.store import kpis as kpi_store
from service.store import recompute as store
from service.store import sources
from service.store.recompute import IncidentTimeline
from service.usecases import calendars, evaluation
from service.usecases import ingestion_pipeline as pipeline

#: Incidents or changes rebuilt per read.
BATCH = 500
#: Steps whose key earlier versions wrote as `<step>:<time>` in another time format.
_STEPS = tuple(f"{s}:" for s in ("triggered", "acknowledged", "resolved", "reopened"))


@dataclass
class RecomputeReport:
    episodes_split: int = 0
    episodes_made: int = 0
    steps_rekeyed: int = 0
    steps_dropped: int = 0
    commits_linked: int = 0
    changes: int = 0
    incidents: int = 0
    unfinished_statuses_deleted: int = 0
    statuses: int = 0
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [
            f"alertmanager incidents split into episodes: {self.episodes_split} "
            f"(into {self.episodes_made})",
            f"generic-API steps keyed again: {self.steps_rekeyed}, second copies dropped: "
            f"{self.steps_dropped}",
            f"commits linked to the changes that shipped them: {self.commits_linked}",
            f"changes rebuilt: {self.changes}",
            f"incidents rebuilt: {self.incidents}",
            f"statuses of unfinished periods deleted: {self.unfinished_statuses_deleted}",
            f"statuses evaluated again: {self.statuses}",
            *self.notes,
        ]


class _DryRun(Exception):
    pass


async def recompute(
    con: Connection, now: dt.datetime, *, dry_run: bool = False,
    progress: Callable[[str], None] = lambda _: None, keep_before: dt.datetime | None = None,
) -> RecomputeReport:  # fmt: skip
    """Rebuild incidents, changes, links and statuses (see the module docstring)."""
    report = RecomputeReport()
    try:
        async with con.transaction():
            by_id = {s.id: s for s in await sources.list_sources(con)}
            progress("splitting Alertmanager incidents into episodes")
            await _split_episodes(con, report)
            progress("linking changes to their commits")
            await _link_commits(con, report)
            progress("rebuilding changes")
            await _rebuild_changes(con, by_id, report)
            progress("rebuilding incidents")
            await _rebuild_incidents(con, by_id, report)
            progress("evaluating stored periods again")
            await _statuses(con, now, report, keep_before)
            if dry_run:
                raise _DryRun
    except _DryRun:
        report.notes.append("dry run: nothing was changed")
    return report


def _event_key(e: IncidentEvent) -> str:
    return f"{e.step}:{rfc3339(e.occurred_at)}"


async def _split_episodes(con: Connection, report: RecomputeReport) -> None:
    """One incident per firing episode: the steps of each `startsAt` move to its own."""
    for row in await store.alertmanager_incidents_to_split(con):
        (found,) = await store.incidents_with_events(con, [row.id])
        episodes: dict[dt.datetime | None, list[tuple[int, IncidentEvent]]] = {}
        for event_id, data in zip(found.event_ids, found.events, strict=True):
            event = IncidentEvent.model_validate(data)
            episodes.setdefault(event.impact_start, []).append((event_id, event))
        for start, events in episodes.items():
            name = row.external_id
            if start is not None:
                name = f"{name}@{rfc3339(start)}"
            new_id = await store.upsert_incident_for_episode(
                con, row.source_id, name, row.service_id
            )
            for event_id, event in events:
                await store.move_incident_event(con, event_id, new_id, _event_key(event))
            report.episodes_made += 1
        await store.delete_empty_incident(con, row.id)
        report.episodes_split += 1


async def _link_commits(con: Connection, report: RecomputeReport) -> None:
    for row in await store.api_deliveries_with_commits(con):
        body = orjson.loads(row.body)
        shas = sorted({str(c["sha"]).lower() for c in body.get("commits") or ()})
        for change in body.get("changes") or ():
            change_id = await store.change_id_of(con, row.source_id, change["external_id"])
            if change_id is not None and shas:
                await store.link_change_commits(con, change_id, shas)
                report.commits_linked += len(shas)


def _batches(ids: list[int]) -> list[list[int]]:
    return [ids[i : i + BATCH] for i in range(0, len(ids), BATCH)]


async def _rebuild_changes(
    con: Connection, by_id: dict[int, Source], report: RecomputeReport
) -> None:
    for batch in _batches(await store.change_ids(con)):
        for row in await store.changes_with_events(con, batch):
            timeline = [ChangeEvent.model_validate(d) for d in row.events]
            if not timeline:
                continue
            await pipeline.save_change(con, by_id[row.source_id], row.id,
                                       row.external_id, row.service_id, timeline)  # fmt: skip
            report.changes += 1


async def _rebuild_incidents(
    con: Connection, by_id: dict[int, Source], report: RecomputeReport
) -> None:
    for batch in _batches(await store.incident_ids(con)):
        for row in await store.incidents_with_events(con, batch):
            src = by_id[row.source_id]
            timeline = await _rekeyed(con, row, src, report)
            if not timeline:
                continue
            await pipeline.save_incident(con, src, row.id, row.service_id, timeline)
            report.incidents += 1


async def _rekeyed(
    con: Connection, row: IncidentTimeline, src: Source, report: RecomputeReport
) -> list[IncidentEvent]:
    """The incident's timeline, with generic-API steps keyed as today (one copy each)."""
    kept: list[IncidentEvent] = []
    for event_id, key, data in zip(row.event_ids, row.event_keys, row.events, strict=True):
        event = IncidentEvent.model_validate(data)
        new_key = _event_key(event)
        if src.kind.value == "api" and key.startswith(_STEPS) and key != new_key:
            if await store.move_incident_event(con, event_id, row.id, new_key):
                report.steps_rekeyed += 1
            else:
                report.steps_dropped += 1
                continue
        kept.append(event)
    return kept


async def _statuses(
    con: Connection, now: dt.datetime, report: RecomputeReport, keep_before: dt.datetime | None
) -> None:
    report.unfinished_statuses_deleted = await store.delete_unfinished_statuses(con, now)
    periods = await store.stored_periods(con)
    ids = sorted({r.kpi_id for r in periods})
    kpis = {k.id: k for k in await kpi_store.list_kpis(con, ids=ids)}
    kept = 0
    for r in periods:
        period = Period(r.period_start, r.period_end)
        cal = calendars.of_kpi(kpis[r.kpi_id])
        if keep_before is not None and (
            previous(Cadence(r.cadence), period, cal).start < keep_before
        ):
            kept += 1  # it or the period before it reaches into expired observations
            continue
        stored = await evaluation.evaluate_kpi(
            con, kpis[r.kpi_id], cadence=Cadence(r.cadence), period=period, now=now,
            replace=True, escalate=False,
        )  # fmt: skip
        report.statuses += len(stored)
    if kept:
        report.notes.append(
            f"periods kept as stored (reaching back before the observations' retention "
            f"horizon, {rfc3339(keep_before) if keep_before else ''}): {kept}"
        )
