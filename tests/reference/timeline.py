"""Incident and change records folded from what the tools stated.

Steps are taken once each (the same step at the same instant is one fact) and in the order of
the tool's time, never in the order they arrived. The incident's status is its last
status-changing step: triggered, reopened and unacknowledged make it open, acknowledged makes
it acknowledged (unless it is resolved), resolved makes it resolved. Its outage intervals run
from impact start to the first resolution, then from each reopening to the next resolution;
the last one is open-ended (None) while the incident is not resolved.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tests.reference.history import (
    PRODUCTION_ENVIRONMENTS,
    Change,
    ChangeReport,
    Incident,
    Step,
)

#: Order of steps stated at the same instant (the histories checked never rely on it for
#: status-changing steps: it only makes the fold a function of the set of steps).
_SAME_INSTANT = {
    "triggered": 0,
    "updated": 1,
    "acknowledged": 2,
    "unacknowledged": 3,
    "resolved": 4,
    "reopened": 5,
}
_OPENING = ("triggered", "reopened", "unacknowledged")

Interval = tuple[dt.datetime, dt.datetime | None]


@dataclass(frozen=True)
class IncidentRecord:
    status: str  # open, acknowledged, resolved
    started_at: dt.datetime
    detected_at: dt.datetime
    acknowledged_at: dt.datetime | None
    resolved_at: dt.datetime | None
    outages: tuple[Interval, ...]


def distinct_steps(incident: Incident) -> list[Step]:
    """Each step once, in the tool's time order."""
    return sorted(set(incident.steps), key=lambda s: (s.at, _SAME_INSTANT[s.kind]))


def fold_incident(incident: Incident) -> IncidentRecord:
    steps = distinct_steps(incident)
    detections = [s.at for s in steps if s.kind == "triggered"]
    if incident.detected_at is not None:
        detections.append(incident.detected_at)
    if not detections:
        raise ValueError(f"incident {incident.external_id!r} states no detection")
    detected = min(detections)
    started = incident.started_at if incident.started_at is not None else detected
    status = "open"
    acknowledged: dt.datetime | None = None
    resolved: dt.datetime | None = None
    outages: list[Interval] = []
    down_since = started
    for step in steps:
        if step.kind in _OPENING:
            if status == "resolved":
                down_since = step.at  # a reopening: down again from here
            status = "open"
        elif step.kind == "acknowledged":
            if acknowledged is None:
                acknowledged = step.at  # the first one, kept for MTTA
            if status != "resolved":
                status = "acknowledged"
        elif step.kind == "resolved":
            if status != "resolved":
                outages.append((down_since, step.at))
            status, resolved = "resolved", step.at
    if status != "resolved":
        outages.append((down_since, None))
        resolved = None
    return IncidentRecord(
        status=status,
        started_at=started,
        detected_at=detected,
        acknowledged_at=acknowledged,
        resolved_at=resolved,
        outages=tuple(outages),
    )


@dataclass(frozen=True)
class ChangeRecord:
    status: str
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    is_production: bool


def _report_order(report: ChangeReport) -> tuple[dt.datetime, bool]:
    # A final report outranks a running one stated at the same instant.
    return report.at, report.status != "in_progress"


def fold_change(change: Change) -> ChangeRecord:
    reports = sorted(set(change.reports), key=_report_order)
    if not reports:
        raise ValueError(f"change {change.external_id!r} has no report")
    last = reports[-1]
    starts = [r.at for r in reports if r.status == "in_progress"]
    if change.started_at is not None:
        starts.append(change.started_at)
    return ChangeRecord(
        status=last.status,
        started_at=min(starts) if starts else None,
        finished_at=None if last.status == "in_progress" else last.at,
        is_production=change.environment in PRODUCTION_ENVIRONMENTS,
    )
