"""Rebuild an incident or a change from its timeline of events, whatever order they came in.

Events are sorted by when they happened in the tool (then by a fixed rank of steps, then by
key), and folded; so the same set of events always gives the same record.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from service.ingest.model import ChangeEvent, ChangeKind, ChangeStatus, IncidentEvent, IncidentStep
from service.models.enums import Severity

_STEP_RANK = {
    IncidentStep.TRIGGERED: 0,
    IncidentStep.UPDATED: 1,
    IncidentStep.ACKNOWLEDGED: 2,
    IncidentStep.RESOLVED: 3,
    IncidentStep.REOPENED: 4,
}
_ROOT_CAUSE = re.compile(r"root[ _-]?cause\s*:\s*([0-9a-f]{7,40})\b", re.IGNORECASE)
_CAUSED_BY = re.compile(
    r"caused[ _-]?by\s*:\s*([A-Za-z0-9][A-Za-z0-9_.:/#-]{0,199})", re.IGNORECASE
)


@dataclass
class IncidentRecord:
    status: str = "open"
    severity: Severity | None = None
    severity_raw: str | None = None
    priority: str | None = None
    title: str | None = None
    url: str | None = None
    started_at: dt.datetime | None = None
    detected_at: dt.datetime | None = None
    acknowledged_at: dt.datetime | None = None
    resolved_at: dt.datetime | None = None
    users_affected: int | None = None
    cost_estimate: float | None = None
    problem_key: str | None = None
    caused_by: str | None = None
    service_ref: str | None = None
    service_labels: dict[str, str] = field(default_factory=dict)


def caused_by_in_text(text: str | None) -> str | None:
    """'root cause: <sha>' or 'caused by: <change id>' written in an incident, as teams do."""
    if not text:
        return None
    match = _ROOT_CAUSE.search(text) or _CAUSED_BY.search(text)
    return match[1] if match else None


def _ordered_incident(events: Iterable[IncidentEvent]) -> list[IncidentEvent]:
    return sorted(events, key=lambda e: (e.occurred_at, _STEP_RANK[e.step], e.event_key))


def build_incident(events: Iterable[IncidentEvent]) -> IncidentRecord:
    ordered = _ordered_incident(events)
    if not ordered:
        raise ValueError("an incident needs at least one event")
    rec = IncidentRecord()
    detected: list[dt.datetime] = []
    for e in ordered:
        if e.step in (IncidentStep.TRIGGERED, IncidentStep.REOPENED):
            rec.status, rec.resolved_at = "open", None
            if e.step is IncidentStep.TRIGGERED:
                detected.append(e.occurred_at)
        elif e.step is IncidentStep.ACKNOWLEDGED:
            if rec.status != "resolved":
                rec.status = "acknowledged"
            if rec.acknowledged_at is None:
                rec.acknowledged_at = e.occurred_at
        elif e.step is IncidentStep.RESOLVED:
            rec.status, rec.resolved_at = "resolved", e.occurred_at
        if e.detected_at is not None:
            detected.append(e.detected_at)
        if e.impact_start is not None:
            rec.started_at = min(filter(None, (rec.started_at, e.impact_start)))
        for name in ("severity", "severity_raw", "priority", "title", "url", "users_affected",
                     "cost_estimate", "problem_key", "caused_by", "service_ref"):  # fmt: skip
            value = getattr(e, name)
            if value is not None:
                setattr(rec, name, value)
        rec.service_labels.update(e.service_labels)
        if rec.caused_by is None:
            rec.caused_by = caused_by_in_text(e.text) or caused_by_in_text(e.title)
    rec.detected_at = min(detected) if detected else ordered[0].occurred_at
    if rec.started_at is None:
        # Without a stated impact start, impact is taken to start when it was detected.
        rec.started_at = rec.detected_at
    return rec


@dataclass
class ChangeRecord:
    status: ChangeStatus = ChangeStatus.IN_PROGRESS
    kind: ChangeKind = ChangeKind.DEPLOY
    environment: str | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    commit_sha: str | None = None
    title: str | None = None
    url: str | None = None
    service_ref: str | None = None
    service_labels: dict[str, str] = field(default_factory=dict)


def build_change(events: Iterable[ChangeEvent]) -> ChangeRecord:
    # A terminal report outranks a running one at the same instant: GitLab may send both.
    ordered = sorted(
        events,
        key=lambda e: (e.occurred_at, e.status is not ChangeStatus.IN_PROGRESS, e.event_key),
    )
    if not ordered:
        raise ValueError("a change needs at least one event")
    rec = ChangeRecord()
    for e in ordered:
        rec.status = e.status
        rec.kind = e.kind
        starts = [t for t in (rec.started_at, e.started_at) if t is not None]
        if e.status is ChangeStatus.IN_PROGRESS:
            starts.append(e.occurred_at)
        rec.started_at = min(starts) if starts else None
        if e.status is ChangeStatus.IN_PROGRESS:
            rec.finished_at = None
        else:
            rec.finished_at = e.finished_at or e.occurred_at
        for name in ("environment", "commit_sha", "title", "url", "service_ref"):
            value = getattr(e, name)
            if value is not None:
                setattr(rec, name, value)
        rec.service_labels.update(e.service_labels)
    return rec
