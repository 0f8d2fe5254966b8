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

from service.ingest.jsonread import (
    Json,
    child,
    join_texts,
    list_at,
    nonempty,
    object_at,
    peek_text,
    strings_at,
    validated,
)
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
    return peek_text(delivery.payload, "status") or "unknown"


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
    group_key, status = nonempty(payload.get("groupKey")), nonempty(payload.get("status"))
    if group_key is None or status is None:
        return None
    try:
        events = _events(payload)
    except (PayloadError, Unsupported):
        return None
    keys = ",".join(sorted(e.event_key for e in events))
    return f"{group_key}:{status}:{hashlib.sha256(keys.encode()).hexdigest()[:32]}"


def parse(delivery: Delivery, options: AdapterOptions) -> Mapped:
    return Mapped(incidents=_events(object_at(delivery.payload, "")))


# --- mapping -------------------------------------------------------------------------------


def _events(payload: Json) -> list[IncidentEvent]:
    alerts = list_at(payload.get("alerts"), "/alerts")
    if not alerts:
        raise Unsupported("Alertmanager notification without alerts")
    common = strings_at(payload.get("commonLabels"), "/commonLabels")
    group_status = nonempty(payload.get("status"))
    return [
        _alert_event(alert, child("/alerts", i), group_status, common)
        for i, alert in enumerate(alerts)
    ]


def _alert_event(
    value: object, pointer: str, group_status: str | None, common: dict[str, str]
) -> IncidentEvent:
    alert = object_at(value, pointer)
    labels = {**common, **strings_at(alert.get("labels"), child(pointer, "labels"))}
    annotations = strings_at(alert.get("annotations"), child(pointer, "annotations"))
    step = _step(alert, pointer, group_status)
    starts_at = parse_time(alert.get("startsAt"), child(pointer, "startsAt"))
    occurred_at = starts_at if step is IncidentStep.TRIGGERED else _ends_at(alert, pointer)
    external_id = nonempty(alert.get("fingerprint")) or _label_id(labels)
    raw_severity = labels.get("severity")
    return validated(
        IncidentEvent,
        pointer,
        external_id=external_id,
        event_key=f"{external_id}:{step}:{occurred_at.isoformat()}",
        step=step,
        occurred_at=occurred_at,
        impact_start=starts_at,
        # Alertmanager fires when the rule's condition starts holding: that is the detection.
        detected_at=starts_at,
        title=annotations.get("summary") or labels.get("alertname"),
        url=nonempty(alert.get("generatorURL")),
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
        raise PayloadError(child(pointer, "status"), "expected 'firing' or 'resolved'")
    return step


def _ends_at(alert: Json, pointer: str) -> dt.datetime:
    at = child(pointer, "endsAt")
    ends_at = parse_optional_time(alert.get("endsAt"), at)
    if ends_at is None:
        raise PayloadError(at, "a resolved alert needs the time it ended")
    return ends_at


def _label_id(labels: Mapping[str, str]) -> str:
    """Our own fingerprint for alerts that come without one (see the module docstring)."""
    canonical = json.dumps(sorted(labels.items()), separators=(",", ":"), ensure_ascii=False)
    return "labels-" + hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _text(annotations: Mapping[str, str]) -> str | None:
    return join_texts(*(annotations.get(k) for k in ("summary", "description", "message")))
