"""Opsgenie alert webhooks: `{"action": "Create" | "Acknowledge" | "Close" | ..., "alert": {...}}`.

Create opens the incident (keyed by `alert.alertId`), Acknowledge and Close move it on, every
other action on an alert (AddNote, AssignOwnership, ...) is an update. Opsgenie gives
`alert.createdAt` in epoch milliseconds and `alert.updatedAt` in epoch nanoseconds.

The webhook carries no event id, so a step is keyed by alert, action and the request that
caused it (`alertFlowContext.requestId`), or the alert's `updatedAt` when there is none.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from pydantic import ValidationError

from service.ingest.model import (
    AdapterOptions,
    Delivery,
    IncidentEvent,
    IncidentStep,
    Mapped,
    PayloadError,
    Unsupported,
)
from service.ingest.timeparse import from_epoch_millis, from_epoch_nanos
from service.models.enums import Severity

KIND = "opsgenie"

Json = Mapping[str, object]

_STEPS = {
    "Create": IncidentStep.TRIGGERED,
    "Acknowledge": IncidentStep.ACKNOWLEDGED,
    "Close": IncidentStep.RESOLVED,
}
_PRIORITY = re.compile(r"^p([1-5])$", re.IGNORECASE)


# --- the adapter contract ------------------------------------------------------------------


def event_type(delivery: Delivery) -> str:
    payload = delivery.payload
    action = payload.get("action") if isinstance(payload, dict) else None
    return action if isinstance(action, str) and action else "unknown"


def delivery_key(delivery: Delivery) -> str | None:
    """The same key as the step's event: alert, action and request (or update time)."""
    payload = delivery.payload
    if not isinstance(payload, dict):
        return None
    alert, action = payload.get("alert"), payload.get("action")
    if not (isinstance(alert, dict) and isinstance(action, str) and action):
        return None
    alert_id = _nonempty(alert.get("alertId"))
    return _event_key(payload, alert, alert_id, action) if alert_id else None


def parse(delivery: Delivery, options: AdapterOptions) -> Mapped:
    payload = _object(delivery.payload, "")
    action = _required_text(payload, "action", "")
    alert = payload.get("alert")
    if not isinstance(alert, dict):
        if action in _STEPS or alert is not None:
            raise PayloadError("/alert", "expected an object")
        raise Unsupported(f"Opsgenie action {action} is not about an alert")
    return Mapped(incidents=[_alert_event(payload, alert, action)])


# --- mapping -------------------------------------------------------------------------------


def _alert_event(payload: Json, alert: Json, action: str) -> IncidentEvent:
    alert_id = _required_text(alert, "alertId", "/alert")
    step = _STEPS.get(action, IncidentStep.UPDATED)
    created_at = _created_at(alert)
    occurred_at = created_at if step is IncidentStep.TRIGGERED else _updated_at(alert)
    if occurred_at is None:
        field = "createdAt" if step is IncidentStep.TRIGGERED else "updatedAt"
        raise PayloadError(f"/alert/{field}", "expected the time of this step")
    event_key = _event_key(payload, alert, alert_id, action)
    if event_key is None:
        raise PayloadError("/alert/updatedAt", "needed to tell this step from others")
    priority = _priority(alert.get("priority"))
    return _event(
        external_id=alert_id,
        event_key=event_key,
        step=step,
        occurred_at=occurred_at,
        detected_at=created_at,
        title=_nonempty(alert.get("message")),
        service_ref=_service_ref(alert),
        service_labels=_labels(alert),
        priority=priority,
        severity=_severity(priority),
        severity_raw=priority,
        text=_join(alert.get("message"), alert.get("description"), alert.get("note")),
    )


def _event_key(payload: Json, alert: Json, alert_id: str, action: str) -> str | None:
    context = payload.get("alertFlowContext")
    request_id = _nonempty(context.get("requestId")) if isinstance(context, dict) else None
    stamp = request_id or _stamp(alert.get("updatedAt")) or _stamp(alert.get("createdAt"))
    return f"{alert_id}:{action}:{stamp}" if stamp else None


def _stamp(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    return str(value) or None


def _created_at(alert: Json) -> dt.datetime | None:
    value = alert.get("createdAt")
    return None if value is None else from_epoch_millis(value, "/alert/createdAt")


def _updated_at(alert: Json) -> dt.datetime | None:
    value = alert.get("updatedAt")
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        # Whole microseconds first: nanoseconds since 1970 do not fit a float exactly.
        value -= value % 1000
    return from_epoch_nanos(value, "/alert/updatedAt")


def _priority(value: object) -> str | None:
    """Opsgenie's P1..P5; a bare number (some payloads send 3) is read as P3."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"P{value}"
    if value is None or isinstance(value, str):
        return _nonempty(value)
    raise PayloadError("/alert/priority", "expected a priority such as P3")


def _severity(priority: str | None) -> Severity | None:
    match = _PRIORITY.match(priority) if priority else None
    return Severity(f"sev{match[1]}") if match else None


def _service_ref(alert: Json) -> str | None:
    teams = alert.get("teams")
    first_team = teams[0] if isinstance(teams, list) and teams else None
    if isinstance(first_team, dict):
        first_team = first_team.get("name")
    return _nonempty(alert.get("entity")) or _nonempty(first_team) or _nonempty(alert.get("source"))


def _labels(alert: Json) -> dict[str, str]:
    tags = alert.get("tags")
    labels = {tag: "true" for tag in tags if _nonempty(tag)} if isinstance(tags, list) else {}
    source = _nonempty(alert.get("source"))
    if source:
        labels["source"] = source
    return labels


# --- JSON helpers --------------------------------------------------------------------------


def _event(**fields: object) -> IncidentEvent:
    """The event, or a PayloadError when a value breaks the model's limits (an id too long)."""
    try:
        return IncidentEvent.model_validate(fields)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise PayloadError("/alert", f"{error['loc'][0]}: {error['msg']}") from exc


def _object(value: object, pointer: str) -> Json:
    if not isinstance(value, dict):
        raise PayloadError(pointer, "expected an object")
    return value


def _required_text(obj: Json, key: str, pointer: str) -> str:
    value = _nonempty(obj.get(key))
    if value is None:
        raise PayloadError(f"{pointer}/{key}", "expected a non-empty string")
    return value


def _nonempty(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _join(*parts: object) -> str | None:
    texts = list(dict.fromkeys(p for p in parts if isinstance(p, str) and p.strip()))
    return "\n".join(texts) or None
