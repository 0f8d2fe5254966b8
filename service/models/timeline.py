"""Rebuild an incident or a change from its timeline of events, whatever order they came in.

Events are sorted by when they happened in the tool (then by a fixed rank of steps, then by
key), and folded; so the same set of events always gives the same record.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from service.clock import rfc3339
from service.models.enums import ChangeKind, ChangeStatus, IncidentStatus, IncidentStep, Severity
from service.models.events import ChangeEvent, IncidentEvent

_STEP_RANK = {
    IncidentStep.TRIGGERED: 0,
    IncidentStep.UPDATED: 1,
    IncidentStep.ACKNOWLEDGED: 2,
    IncidentStep.UNACKNOWLEDGED: 3,
    IncidentStep.RESOLVED: 4,
    IncidentStep.REOPENED: 5,
}
#: The status a step leads to when the event does not state one (None: unchanged).
_STEP_STATUS: dict[IncidentStep, IncidentStatus | None] = {
    IncidentStep.TRIGGERED: "open",
    IncidentStep.UNACKNOWLEDGED: "open",
    IncidentStep.REOPENED: "open",
    IncidentStep.ACKNOWLEDGED: "acknowledged",
    IncidentStep.RESOLVED: "resolved",
    IncidentStep.UPDATED: None,
}
_ROOT_CAUSE = re.compile(r"root[ _-]?cause\s*:\s*([0-9a-f]{7,40})\b", re.IGNORECASE)
_CAUSED_BY = re.compile(
    r"caused[ _-]?by\s*:\s*([A-Za-z0-9][A-Za-z0-9_.:/#-]{0,199})", re.IGNORECASE
)

#: An outage interval: from its start to its end, or open (None) while the incident is.
Interval = tuple[dt.datetime, dt.datetime | None]


@dataclass
class IncidentRecord:
    status: IncidentStatus = "open"
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
    #: When the service was down because of it: from impact start to the first resolution,
    #: then from each reopening to the next resolution; the last one open while it is.
    outages: list[Interval] = field(default_factory=list)


def caused_by_in_text(text: str | None) -> str | None:
    """'root cause: <sha>' or 'caused by: <change id>' written in an incident, as teams do."""
    if not text:
        return None
    match = _ROOT_CAUSE.search(text) or _CAUSED_BY.search(text)
    return match[1] if match else None


def ordered_incident(events: Iterable[IncidentEvent]) -> list[IncidentEvent]:
    """The events in the order they happened in the tool: by its time, then by a fixed rank
    of steps (a trigger before an acknowledgement before a resolution at the same instant),
    then by key, so that arrival order never matters."""
    return sorted(events, key=lambda e: (e.occurred_at, _STEP_RANK[e.step], e.event_key))


def status_after(current: IncidentStatus, event: IncidentEvent) -> IncidentStatus:
    """The status after `event`: the one the tool states, else the one its step leads to. An
    acknowledgement does not reopen a resolved incident."""
    if event.status is not None:
        return event.status
    implied = _STEP_STATUS[event.step]
    if implied is None or (implied == "acknowledged" and current == "resolved"):
        return current
    return implied


_FIELDS = ("severity", "severity_raw", "priority", "title", "url", "users_affected",
           "cost_estimate", "problem_key", "caused_by", "service_ref")  # fmt: skip


def build_incident(events: Iterable[IncidentEvent]) -> IncidentRecord:
    """The incident as its whole timeline says, whatever order the events came in.

    The status follows the events in the tool's order; the first acknowledgement is kept
    (for MTTA) through unacknowledgements and reopenings; `resolved_at` is the final
    resolution, and each stretch between a resolution and a reopening is up time."""
    ordered = ordered_incident(events)
    if not ordered:
        raise ValueError("an incident needs at least one event")
    rec = IncidentRecord()
    detected: list[dt.datetime] = []
    # (time, resolved afterwards) at each change between resolved and not resolved.
    turns: list[tuple[dt.datetime, bool]] = []
    for e in ordered:
        before, rec.status = rec.status, status_after(rec.status, e)
        if (before == "resolved") != (rec.status == "resolved"):
            turns.append((e.occurred_at, rec.status == "resolved"))
        if rec.acknowledged_at is None and (
            rec.status == "acknowledged" or e.step is IncidentStep.ACKNOWLEDGED
        ):
            rec.acknowledged_at = e.occurred_at
        detected += _detections(e)
        _take_fields(rec, e)
    rec.detected_at = min(detected) if detected else ordered[0].occurred_at
    # Without a stated impact start, impact is taken to start when it was detected.
    rec.started_at = rec.started_at or rec.detected_at
    if rec.status == "resolved":
        rec.resolved_at = turns[-1][0] if turns else ordered[-1].occurred_at
    rec.outages = outage_intervals(rec.started_at, turns)
    return rec


def _detections(e: IncidentEvent) -> list[dt.datetime]:
    """When the event says the incident was detected: at a trigger, and at a stated time."""
    found = [e.occurred_at] if e.step is IncidentStep.TRIGGERED else []
    return found + ([e.detected_at] if e.detected_at is not None else [])


def _take_fields(rec: IncidentRecord, e: IncidentEvent) -> None:
    """The fields the event tells, over those told before; the earliest impact start."""
    if e.impact_start is not None:
        rec.started_at = min(filter(None, (rec.started_at, e.impact_start)))
    for name in _FIELDS:
        value = getattr(e, name)
        if value is not None:
            setattr(rec, name, value)
    rec.service_labels.update(e.service_labels)
    if rec.caused_by is None:
        rec.caused_by = caused_by_in_text(e.text) or caused_by_in_text(e.title)


def retraction(rec: IncidentRecord, arrived: Sequence[IncidentEvent]) -> IncidentEvent | None:
    """The step a resolution's retraction adds: when an alert of this delivery is firing
    until after the incident's resolution, that resolution no longer holds, and the incident
    is open again from it (so its outage goes on without a gap). None otherwise."""
    if rec.status != "resolved" or rec.resolved_at is None:
        return None
    at = rec.resolved_at
    for e in arrived:
        if e.firing_until is not None and e.firing_until > at:
            return IncidentEvent(
                external_id=e.external_id, event_key=f"retracted:{rfc3339(at)}",
                step=IncidentStep.REOPENED, occurred_at=at,
                text="the alert fired again with its original start: the resolution was "
                "retracted",
            )  # fmt: skip
    return None


def outage_intervals(
    started_at: dt.datetime, turns: Sequence[tuple[dt.datetime, bool]]
) -> list[Interval]:
    """Down from impact start until resolved, up until reopened, and so on; an interval that
    would end before it starts (a resolution stated before the impact start) is empty and
    left out."""
    intervals: list[Interval] = []
    start: dt.datetime | None = started_at
    for at, resolved in turns:
        if resolved and start is not None:
            if at > start:
                intervals.append((start, at))
            start = None
        elif not resolved and start is None:
            start = max(at, started_at)
    if start is not None:
        intervals.append((start, None))
    return intervals


@dataclass
class ChangeRecord:
    status: ChangeStatus = ChangeStatus.IN_PROGRESS
    kind: ChangeKind = ChangeKind.DEPLOY
    environment: str | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    commit_sha: str | None = None
    #: Every commit any report said the change shipped (lower-case shas).
    commits: set[str] = field(default_factory=set)
    title: str | None = None
    url: str | None = None
    service_ref: str | None = None
    service_labels: dict[str, str] = field(default_factory=dict)
    #: The change's own labels, for grouping (a later report's value of a name wins).
    labels: dict[str, str] = field(default_factory=dict)
    #: Whether any report said the change rolls back the deploy before it (ChangeEvent).
    rolls_back_previous: bool = False


#: Of reports at the same instant, the later in this rank wins: a terminal one over a running
#: one (GitLab may send both), and a worse outcome over a better one (a deploy corrected to
#: failed at its finish time stays failed whichever report arrived last).
_CHANGE_RANK = {
    ChangeStatus.IN_PROGRESS: 0,
    ChangeStatus.CANCELED: 1,
    ChangeStatus.SUCCESS: 2,
    ChangeStatus.FAILED: 3,
    ChangeStatus.ROLLED_BACK: 4,
}


def build_change(events: Iterable[ChangeEvent]) -> ChangeRecord:
    ordered = sorted(events, key=lambda e: (e.occurred_at, _CHANGE_RANK[e.status], e.event_key))
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
        rec.labels.update(e.labels)
        rec.commits.update(sha.lower() for sha in e.commits)
        rec.rolls_back_previous |= e.rolls_back_previous
    return rec
