"""PagerDuty incident webhooks: v3 (one `event` per delivery) and legacy v2 (`messages`).

v3 sends `{"event": {"id", "event_type", "resource_type", "occurred_at", "data"}}`; `data` is
the incident itself for most incident events, and an object pointing at the incident
(`data.incident`) for notes, status updates, responders and conference bridges. v2 sends
`{"messages": [{"id", "event", "created_on", "incident"}]}`, possibly several per delivery.

The status follows what PagerDuty says: the incident object of every event carries its
status as of that event (`triggered`, `acknowledged`, `resolved`), and events are ordered by
PagerDuty's own time (`occurred_at`, `created_on`), never by arrival. A reassigned or
unacknowledged incident is back to triggered; its first acknowledgement is kept for MTTA.

Severity comes from the incident's priority when it is named P1..P5, else from its urgency
(high -> sev2, low -> sev4); `severity_raw` keeps whichever name was used, so a source's
severity map can override it.
"""

from __future__ import annotations

import datetime as dt

from service.ingest.events import IncidentHead, named_severity, priority_severity
from service.ingest.jsonread import (
    Json,
    child,
    join_texts,
    list_at,
    nonempty,
    object_at,
    optional_object_at,
    peek,
    required_text,
    without_none,
)
from service.ingest.model import AdapterOptions, Delivery, Mapped, PayloadError, Unsupported
from service.ingest.timeparse import parse_optional_time, parse_time
from service.models.enums import IncidentStatus, IncidentStep, Severity
from service.models.events import IncidentEvent

KIND = "pagerduty"

#: v3 events that change fields; any `incident.responder.*` too. Their incident object says
#: its status all the same, and that status is followed (a reassigned incident goes back to
#: triggered until the new assignee acknowledges it).
_V3_UPDATES = (
    "priority_updated annotated escalated reassigned delegated status_update_published "
    "service_updated conference_bridge.updated"
).split()
_V3_STEPS: dict[str, IncidentStep] = {
    "incident.triggered": IncidentStep.TRIGGERED,
    "incident.acknowledged": IncidentStep.ACKNOWLEDGED,
    "incident.unacknowledged": IncidentStep.UNACKNOWLEDGED,
    "incident.resolved": IncidentStep.RESOLVED,
    "incident.reopened": IncidentStep.REOPENED,
    **{f"incident.{name}": IncidentStep.UPDATED for name in _V3_UPDATES},
}
_V2_STEPS: dict[str, IncidentStep] = {
    "incident.trigger": IncidentStep.TRIGGERED,
    "incident.acknowledge": IncidentStep.ACKNOWLEDGED,
    "incident.unacknowledge": IncidentStep.UNACKNOWLEDGED,
    "incident.resolve": IncidentStep.RESOLVED,
    **{
        f"incident.{name}": IncidentStep.UPDATED
        for name in ("assign", "escalate", "delegate", "annotate")
    },
}
#: PagerDuty's incident statuses, as the service names them.
_STATUS: dict[str, IncidentStatus] = {
    "triggered": "open",
    "acknowledged": "acknowledged",
    "resolved": "resolved",
}
_URGENCY = {"high": Severity.SEV2, "low": Severity.SEV4}


# --- the adapter contract ------------------------------------------------------------------


def event_type(delivery: Delivery) -> str:
    payload = delivery.payload
    if not isinstance(payload, dict):
        return "unknown"
    event = payload.get("event")
    if isinstance(event, dict) and isinstance(event.get("event_type"), str):
        return str(event["event_type"]) or "unknown"
    names = [m.get("event") for m in v2_messages(payload) if isinstance(m.get("event"), str)]
    return ",".join(dict.fromkeys(str(n) for n in names)) or "unknown"


def parse(delivery: Delivery, options: AdapterOptions) -> Mapped:
    payload = object_at(delivery.payload, "")
    if "event" in payload:
        return Mapped(incidents=[_v3_event(object_at(payload["event"], "/event"))])
    if "messages" in payload:
        return Mapped(incidents=_v2_events(payload["messages"]))
    raise PayloadError("", "expected a v3 'event' or a v2 'messages' list")


# --- v3 ------------------------------------------------------------------------------------


def _v3_event(event: Json) -> IncidentEvent:
    name = required_text(event, "event_type", "/event")
    step = _v3_step(name, event.get("resource_type", "incident"))
    event_key = required_text(event, "id", "/event")
    occurred_at = parse_time(event.get("occurred_at"), "/event/occurred_at")
    data = object_at(event.get("data"), "/event/data")
    reference = data.get("incident")
    if data.get("type") != "incident" and isinstance(reference, dict):
        return _v3_about_incident(data, reference, event_key, step, occurred_at)
    return _incident_event(data, "/event/data", event_key, step, occurred_at)


def _v3_step(name: str, resource: object) -> IncidentStep:
    if resource != "incident":
        raise Unsupported(f"PagerDuty {resource} events are not incidents ({name})")
    step = _V3_STEPS.get(name)
    if step is None and name.startswith("incident.responder."):
        step = IncidentStep.UPDATED
    if step is None:
        raise Unsupported(f"PagerDuty event {name} is not used")
    return step


def _v3_about_incident(
    data: Json, reference: Json, event_key: str, step: IncidentStep, occurred_at: dt.datetime
) -> IncidentEvent:
    """A note, status update, responder request ...: it names the incident, and its own text
    (a note's content, a status update's message) may say what caused it."""
    external_id = required_text(reference, "id", "/event/data/incident")
    return IncidentHead(external_id, event_key, step, occurred_at).event(
        "/event/data",
        url=nonempty(reference.get("html_url")),
        text=join_texts(data.get("content"), data.get("message")),
    )


# --- v2 ------------------------------------------------------------------------------------


def v2_messages(payload: Json) -> list[Json]:
    messages = payload.get("messages")
    if not isinstance(messages, list):
        return []
    return [m for m in messages if isinstance(m, dict)]


def _v2_events(messages: object) -> list[IncidentEvent]:
    events: list[IncidentEvent] = []
    skipped: list[str] = []
    for index, value in enumerate(list_at(messages, "/messages")):
        pointer = child("/messages", index)
        message = object_at(value, pointer)
        name = required_text(message, "event", pointer)
        step = _V2_STEPS.get(name)
        if step is None:
            skipped.append(name)
            continue
        events.append(_v2_event(message, pointer, step))
    if not events:
        raise Unsupported(f"no PagerDuty v2 message this service uses ({', '.join(skipped)})")
    return events


def _v2_event(message: Json, pointer: str, step: IncidentStep) -> IncidentEvent:
    event_key = required_text(message, "id", pointer)
    occurred_at = parse_time(message.get("created_on"), child(pointer, "created_on"))
    at = child(pointer, "incident")
    incident = object_at(message.get("incident"), at)
    return _incident_event(incident, at, event_key, step, occurred_at)


# --- the incident object (v3 data, v2 incident) --------------------------------------------


def _incident_event(
    incident: Json, pointer: str, event_key: str, step: IncidentStep, occurred_at: dt.datetime
) -> IncidentEvent:
    external_id = required_text(incident, "id", pointer)
    service = optional_object_at(incident.get("service"), child(pointer, "service"))
    priority = optional_object_at(incident.get("priority"), child(pointer, "priority"))
    priority_name = nonempty(priority.get("summary")) or nonempty(priority.get("name"))
    urgency = nonempty(incident.get("urgency"))
    created_at = incident.get("created_at", incident.get("created_on"))
    detected_at = parse_optional_time(created_at, child(pointer, "created_at"))
    if detected_at is None and step is IncidentStep.TRIGGERED:
        detected_at = occurred_at
    title = nonempty(incident.get("title")) or _v2_subject(incident)
    return IncidentHead(external_id, event_key, step, occurred_at).event(
        pointer,
        title=title,
        url=nonempty(incident.get("html_url")),
        service_ref=_service_name(service),
        service_labels=_service_labels(service),
        priority=priority_name,
        severity=priority_severity(priority_name) or named_severity(urgency, _URGENCY),
        severity_raw=priority_name or urgency,
        detected_at=detected_at,
        status=_status(incident.get("status"), child(pointer, "status")),
        text=join_texts(title, incident.get("description"), _body_details(incident)),
    )


def _status(value: object, pointer: str) -> IncidentStatus | None:
    """The incident's status as of the event, which every incident event carries."""
    if value is None:
        return None
    status = _STATUS.get(value) if isinstance(value, str) else None
    if status is None:
        raise PayloadError(pointer, f"expected one of {', '.join(_STATUS)}")
    return status


def _v2_subject(incident: Json) -> str | None:
    return nonempty(peek(incident.get("trigger_summary_data"), "subject"))


def _body_details(incident: Json) -> object:
    return peek(incident.get("body"), "details")


def _service_name(service: Json) -> str | None:
    return nonempty(service.get("summary")) or nonempty(service.get("name"))


def _service_labels(service: Json) -> dict[str, str]:
    return without_none(service_id=nonempty(service.get("id")), service_name=_service_name(service))
