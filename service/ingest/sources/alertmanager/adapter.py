"""Prometheus Alertmanager notifications (webhook payload version 4): one event per alert.

A notification is a group: `status`, `groupKey`, `commonLabels` and `alerts[]`, each alert
with its own `status`, `labels`, `annotations`, `startsAt`, `endsAt` and `fingerprint`. An
alert fires at `startsAt` and resolves at `endsAt`; `endsAt` of 0001-01-01 means it has not
ended (a firing alert otherwise carries the time it would end if not refreshed).

Identity: one incident per firing episode, the alert's `fingerprint` (a hash Alertmanager
computes from the label set) and its `startsAt`: an alert that fires, resolves and fires
again later is two incidents, each with its own outage. Older Alertmanagers and trimmed
payloads send no fingerprint; the adapter then derives its own stable one, "labels-" + the
first 16 hex digits of SHA-256 over the alert's sorted labels (as compact JSON).

Alertmanager has no delivery id and re-sends a firing group unchanged on `repeat_interval`;
it also retracts a resolution by sending the alert firing again with its original
`startsAt` (when the alert's source refreshed it after Alertmanager had timed it out). So no
notification is dropped as a duplicate: each is applied, its steps are kept once each (the
firing of an episode once, each resolution once), and a firing alert of a resolved episode
whose `endsAt` lies after the resolution reopens it from the resolution on (see the
pipeline: `firing_until`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping

from service.clock import rfc3339
from service.ingest.events import IncidentHead, named_severity
from service.ingest.jsonread import (
    Json,
    child,
    join_texts,
    list_at,
    nonempty,
    object_at,
    peek_text,
    strings_at,
)
from service.ingest.model import AdapterOptions, Delivery, Mapped, PayloadError, Unsupported
from service.ingest.timeparse import parse_optional_time, parse_time
from service.models.enums import IncidentStep, Severity
from service.models.events import IncidentEvent

KIND = "alertmanager"

#: The end of a firing alert that states none.
FOREVER = dt.datetime.max.replace(tzinfo=dt.UTC)

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
    firing = step is IncidentStep.TRIGGERED
    occurred_at = starts_at if firing else _ends_at(alert, pointer)
    fingerprint = nonempty(alert.get("fingerprint")) or _label_id(labels)
    external_id = f"{fingerprint}@{rfc3339(starts_at)}"
    raw_severity = labels.get("severity")
    head = IncidentHead(external_id, f"{step}:{rfc3339(occurred_at)}", step, occurred_at)
    return head.event(
        pointer,
        firing_until=_firing_until(alert, pointer) if firing else None,
        impact_start=starts_at,
        # Alertmanager fires when the rule's condition starts holding: that is the detection.
        detected_at=starts_at,
        title=annotations.get("summary") or labels.get("alertname"),
        url=nonempty(alert.get("generatorURL")),
        severity=named_severity(raw_severity, _SEVERITY),
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


def _firing_until(alert: Json, pointer: str) -> dt.datetime:
    """Until when a firing alert holds unless refreshed; for ever when it has no end."""
    ends_at = parse_optional_time(alert.get("endsAt"), child(pointer, "endsAt"))
    return ends_at or FOREVER


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
