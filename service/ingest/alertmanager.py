"""Prometheus Alertmanager notifications (webhook payload version 4): one event per alert.

A notification is a group: `status`, `groupKey`, `commonLabels` and `alerts[]`, each alert
with its own `status`, `labels`, `annotations`, `startsAt`, `endsAt` and `fingerprint`. An
alert is an incident: it opens when it fires (at `startsAt`) and closes when it resolves (at
`endsAt`); `endsAt` of 0001-01-01 means it has not ended.

Identity: the alert's `fingerprint` (a hash Alertmanager computes from the label set). Older
Alertmanagers and trimmed payloads send none; the adapter then derives its own stable id,
"labels-" + the first 16 hex digits of SHA-256 over the alert's sorted labels (as compact
JSON), so every notification about the same label set names the same incident.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
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
from service.ingest.timeparse import parse_optional_time, parse_time
from service.models.enums import Severity

KIND = "alertmanager"

Json = Mapping[str, object]

_STEPS = {"firing": IncidentStep.TRIGGERED, "resolved": IncidentStep.RESOLVED}
_SEVERITY: dict[str, Severity | None] = {
    "critical": Severity.SEV1,
    "error": Severity.SEV2,
    "high": Severity.SEV2,
    "major": Severity.SEV2,
    "warning": Severity.SEV3,
    "minor": Severity.SEV3,
    "info": Severity.SEV4,
    "low": Severity.SEV4,
    "none": None,
}


# --- the adapter contract ------------------------------------------------------------------


def event_type(delivery: Delivery) -> str:
    payload = delivery.payload
    status = payload.get("status") if isinstance(payload, dict) else None
    return status if isinstance(status, str) and status else "unknown"


def delivery_key(delivery: Delivery) -> str | None:
    """`groupKey:status:` + a digest of the alerts' event keys.

    Alertmanager repeats a notification unchanged (same alerts, same times) until it is
    resolved; those repeats share this key. The digest covers each alert's id, step and time,
    so an alert that fires again after resolving, or resolves inside a still-firing group,
    gives a new key. A digest rather than the ids themselves keeps the key short for big
    groups.
    """
    payload = delivery.payload
    if not isinstance(payload, dict):
        return None
    group_key, status = _nonempty(payload.get("groupKey")), _nonempty(payload.get("status"))
    if group_key is None or status is None:
        return None
    try:
        events = _events(payload)
    except (PayloadError, Unsupported):
        return None
    keys = ",".join(sorted(e.event_key for e in events))
    return f"{group_key}:{status}:{hashlib.sha256(keys.encode()).hexdigest()[:32]}"


def parse(delivery: Delivery, options: AdapterOptions) -> Mapped:
    return Mapped(incidents=_events(_object(delivery.payload, "")))


# --- mapping -------------------------------------------------------------------------------


def _events(payload: Json) -> list[IncidentEvent]:
    alerts = payload.get("alerts")
    if not isinstance(alerts, list):
        raise PayloadError("/alerts", "expected a list")
    if not alerts:
        raise Unsupported("Alertmanager notification without alerts")
    common = _strings(payload.get("commonLabels"), "/commonLabels")
    group_status = _nonempty(payload.get("status"))
    return [
        _alert_event(_object(alert, f"/alerts/{i}"), f"/alerts/{i}", group_status, common)
        for i, alert in enumerate(alerts)
    ]


def _alert_event(
    alert: Json, pointer: str, group_status: str | None, common: dict[str, str]
) -> IncidentEvent:
    labels = {**common, **_strings(alert.get("labels"), f"{pointer}/labels")}
    annotations = _strings(alert.get("annotations"), f"{pointer}/annotations")
    step = _step(alert, pointer, group_status)
    starts_at = parse_time(alert.get("startsAt"), f"{pointer}/startsAt")
    occurred_at = starts_at if step is IncidentStep.TRIGGERED else _ends_at(alert, pointer)
    external_id = _nonempty(alert.get("fingerprint")) or _label_id(labels)
    raw_severity = labels.get("severity")
    return _event(
        pointer,
        external_id=external_id,
        event_key=f"{external_id}:{step}:{occurred_at.isoformat()}",
        step=step,
        occurred_at=occurred_at,
        impact_start=starts_at,
        title=annotations.get("summary") or labels.get("alertname"),
        url=_nonempty(alert.get("generatorURL")),
        severity=_SEVERITY.get(raw_severity.lower()) if raw_severity else None,
        severity_raw=raw_severity,
        service_ref=labels.get("service") or labels.get("job") or labels.get("alertname"),
        service_labels=labels,
        problem_key=labels.get("alertname"),
        text=_text(annotations),
    )


def _step(alert: Json, pointer: str, group_status: str | None) -> IncidentStep:
    status = alert.get("status")
    if status is None:
        status, pointer = group_status, ""
    step = _STEPS.get(status) if isinstance(status, str) else None
    if step is None:
        raise PayloadError(f"{pointer}/status", "expected 'firing' or 'resolved'")
    return step


def _ends_at(alert: Json, pointer: str) -> dt.datetime:
    ends_at = parse_optional_time(alert.get("endsAt"), f"{pointer}/endsAt")
    if ends_at is None:
        raise PayloadError(f"{pointer}/endsAt", "a resolved alert needs the time it ended")
    return ends_at


def _label_id(labels: Mapping[str, str]) -> str:
    """Our own fingerprint for alerts that come without one (see the module docstring)."""
    canonical = json.dumps(sorted(labels.items()), separators=(",", ":"), ensure_ascii=False)
    return "labels-" + hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _text(annotations: Mapping[str, str]) -> str | None:
    parts = (annotations.get(k) for k in ("summary", "description", "message"))
    texts = list(dict.fromkeys(p for p in parts if p and p.strip()))
    return "\n".join(texts) or None


# --- JSON helpers --------------------------------------------------------------------------


def _event(pointer: str, **fields: object) -> IncidentEvent:
    """The event, or a PayloadError when a value breaks the model's limits (an id too long)."""
    try:
        return IncidentEvent.model_validate(fields)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise PayloadError(pointer, f"{error['loc'][0]}: {error['msg']}") from exc


def _object(value: object, pointer: str) -> Json:
    if not isinstance(value, dict):
        raise PayloadError(pointer, "expected an object")
    return value


def _strings(value: object, pointer: str) -> dict[str, str]:
    """A label or annotation set: absent is empty, anything but strings is an error."""
    if value is None:
        return {}
    obj = _object(value, pointer)
    if not all(isinstance(v, str) for v in obj.values()):
        raise PayloadError(pointer, "expected an object of strings")
    return {str(k): str(v) for k, v in obj.items()}


def _nonempty(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None
