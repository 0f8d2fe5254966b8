"""Opsgenie alert webhooks: `{"action": "Create" | "Acknowledge" | "Close" | ..., "alert": {...}}`.

Create opens the incident (keyed by `alert.alertId`), Acknowledge, UnAcknowledge and Close
move it on, every other action on an alert (AddNote, AssignOwnership, ...) is an update.
Opsgenie gives `alert.createdAt` in epoch milliseconds and `alert.updatedAt` in epoch
nanoseconds.

The webhook carries no event id, so a step is keyed by alert, action and the request that
caused it (`alertFlowContext.requestId`), or the alert's `updatedAt` when there is none.
"""

from __future__ import annotations

import datetime as dt

from service.ingest.events import IncidentHead, priority_severity
from service.ingest.jsonread import (
    Json,
    is_int,
    join_texts,
    nonempty,
    object_at,
    peek,
    peek_text,
    required_text,
)
from service.ingest.model import AdapterOptions, Delivery, Mapped, PayloadError, Unsupported
from service.ingest.timeparse import from_epoch_millis, from_epoch_nanos
from service.models.enums import IncidentStep
from service.models.events import IncidentEvent

KIND = "opsgenie"

_STEPS = {
    "Create": IncidentStep.TRIGGERED,
    "Acknowledge": IncidentStep.ACKNOWLEDGED,
    "UnAcknowledge": IncidentStep.UNACKNOWLEDGED,
    "Close": IncidentStep.RESOLVED,
}


# --- the adapter contract ------------------------------------------------------------------


def event_type(delivery: Delivery) -> str:
    return peek_text(delivery.payload, "action") or "unknown"


def parse(delivery: Delivery, options: AdapterOptions) -> Mapped:
    payload = object_at(delivery.payload, "")
    action = required_text(payload, "action", "")
    alert = payload.get("alert")
    if not isinstance(alert, dict):
        if action in _STEPS or alert is not None:
            raise PayloadError("/alert", "expected an object")
        raise Unsupported(f"Opsgenie action {action} is not about an alert")
    return Mapped(incidents=[_alert_event(payload, alert, action)])


# --- mapping -------------------------------------------------------------------------------


def _alert_event(payload: Json, alert: Json, action: str) -> IncidentEvent:
    alert_id = required_text(alert, "alertId", "/alert")
    step = _STEPS.get(action, IncidentStep.UPDATED)
    created_at = _created_at(alert)
    occurred_at = created_at if step is IncidentStep.TRIGGERED else _updated_at(alert)
    if occurred_at is None:
        field = "createdAt" if step is IncidentStep.TRIGGERED else "updatedAt"
        raise PayloadError(f"/alert/{field}", "expected the time of this step")
    event_key = step_key(payload, alert, alert_id, action)
    if event_key is None:
        raise PayloadError("/alert/updatedAt", "needed to tell this step from others")
    priority = _priority(alert.get("priority"))
    return IncidentHead(alert_id, event_key, step, occurred_at).event(
        "/alert",
        detected_at=created_at,
        title=nonempty(alert.get("message")),
        service_ref=_service_ref(alert),
        service_labels=_labels(alert),
        priority=priority,
        severity=priority_severity(priority),
        severity_raw=priority,
        text=join_texts(alert.get("message"), alert.get("description"), alert.get("note")),
    )


def step_key(payload: Json, alert: Json, alert_id: str, action: str) -> str | None:
    request_id = nonempty(peek(payload.get("alertFlowContext"), "requestId"))
    stamp = request_id or _stamp(alert.get("updatedAt")) or _stamp(alert.get("createdAt"))
    return f"{alert_id}:{action}:{stamp}" if stamp else None


def _stamp(value: object) -> str | None:
    if not (is_int(value) or isinstance(value, str)):
        return None
    return str(value) or None


def _created_at(alert: Json) -> dt.datetime | None:
    value = alert.get("createdAt")
    return None if value is None else from_epoch_millis(value, "/alert/createdAt")


def _updated_at(alert: Json) -> dt.datetime | None:
    value = alert.get("updatedAt")
    return None if value is None else from_epoch_nanos(value, "/alert/updatedAt")


def _priority(value: object) -> str | None:
    """Opsgenie's P1..P5; a bare number (some payloads send 3) is read as P3."""
    if is_int(value):
        return f"P{value}"
    if value is None or isinstance(value, str):
        return nonempty(value)
    raise PayloadError("/alert/priority", "expected a priority such as P3")


def _service_ref(alert: Json) -> str | None:
    teams = alert.get("teams")
    first_team = teams[0] if isinstance(teams, list) and teams else None
    if isinstance(first_team, dict):
        first_team = first_team.get("name")
    return nonempty(alert.get("entity")) or nonempty(first_team) or nonempty(alert.get("source"))


def _labels(alert: Json) -> dict[str, str]:
    tags = alert.get("tags")
    labels = {tag: "true" for tag in tags if nonempty(tag)} if isinstance(tags, list) else {}
    source = nonempty(alert.get("source"))
    if source:
        labels["source"] = source
    return labels
