"""The generic endpoints' records as timeline events: what a posted incident, lifecycle step or
change says, keyed so that the same fact sent again (through any endpoint) is one event."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping

import orjson

from service.clock import rfc3339
from service.ingest.model import Mapped
from service.models.enums import ChangeStatus, IncidentStep
from service.models.events import ChangeEvent, CommitRecord, IncidentEvent
from service.models.incidents import ChangeIn, Incident, IncidentEventIn, IncidentIn


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
    steps = _step_events(body, now=now, current=current)
    update = _fields_event(body, steps, now=now, current=current)
    return steps + ([update] if update is not None else [])


def _stated(body: IncidentIn) -> list[dt.datetime | None]:
    return [body.started_at, body.detected_at, body.acknowledged_at, body.resolved_at,
            body.reopened_at]  # fmt: skip


def _stamped_now(body: IncidentIn, *, now: dt.datetime, current: Incident | None) -> tuple[
    dt.datetime | None, dt.datetime | None
]:  # fmt: skip
    """The acknowledgement and resolution times: as stated, else now for a status the
    incident is not in already."""
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
    return acked, resolved


def _step_events(
    body: IncidentIn, *, now: dt.datetime, current: Incident | None
) -> list[IncidentEvent]:
    xid = body.external_id
    acked, resolved = _stamped_now(body, now=now, current=current)
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
    steps.extend(_reopening(body, now=now, current=current))
    return steps


def _reopening(
    body: IncidentIn, *, now: dt.datetime, current: Incident | None
) -> list[IncidentEvent]:
    """`status: open` reopens a resolved incident (un-acknowledges an acknowledged one) at
    `reopened_at`, or now when the body states no time at all."""
    xid = body.external_id
    if body.reopened_at is not None:
        return [step_event(xid, IncidentStep.REOPENED, body.reopened_at)]
    if body.status != "open" or current is None or any(_stated(body)):
        return []
    if current.status == "resolved":
        return [step_event(xid, IncidentStep.REOPENED, now)]
    if current.status == "acknowledged":
        return [step_event(xid, IncidentStep.UNACKNOWLEDGED, now)]
    return []


def _fields_event(
    body: IncidentIn, steps: list[IncidentEvent], *, now: dt.datetime, current: Incident | None
) -> IncidentEvent | None:
    """The fields' step: as of the latest time a new incident's record states, and now for an
    existing incident whose fields they change."""
    xid = body.external_id
    fields = {
        "service_ref": body.service, "severity": body.severity, "severity_raw": body.severity,
        "priority": body.priority, "title": body.title, "url": body.url,
        "users_affected": body.users_affected, "cost_estimate": body.cost_estimate,
        "problem_key": body.problem_key, "caused_by": body.caused_by,
        "impact_start": body.started_at,
    }  # fmt: skip
    if current is None:
        times = [t for t in _stated(body) if t is not None] + [e.occurred_at for e in steps]
        return fields_event(xid, max(times, default=now), **fields)
    if _changes(current, fields):
        return fields_event(xid, now, **fields)
    return None


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
        commits=[c.sha for c in body.commits], labels=body.labels,
    )  # fmt: skip
    commits = [CommitRecord(sha=c.sha, committed_at=c.committed_at) for c in body.commits]
    return Mapped(changes=[event], commits=commits)
