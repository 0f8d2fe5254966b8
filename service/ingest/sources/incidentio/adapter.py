"""incident.io webhooks for public incidents: `public_incident.incident_created_v2`,
`public_incident.incident_updated_v2` and `public_incident.incident_status_updated_v2`.

Each sends `{"event_type": NAME, NAME: ...}`: the incident itself for created and updated, and
`{"incident", "new_status", "previous_status"}` for a status change. Every incident carries its
status with its category, and that status is followed (as PagerDuty's is): `triage` is open,
`live` and `paused` are acknowledged (someone accepted it and works on it), and `learning`,
`closed`, `declined`, `merged` and `canceled` are resolved. The step of a status change comes
from the two categories (into a resolved one: resolved; out of one: reopened; out of triage:
acknowledged); a creation is a trigger, an update an update.

Times: `created_at` is when the incident was detected and the time of its creation step; the
other steps happen at `updated_at`. The incident timestamp named as the source's
`impact_started_timestamp` option (default "Impact started") is the impact start.

Severity is the incident.io severity's name: Critical, Major and Minor (incident.io's defaults)
are sev1, sev2 and sev3, names such as "SEV2" or "P2" their number; `severity_raw` keeps the
name, so a source's severity map can say otherwise. The affected service is the first value
of the custom field the `service_field_id` option names (else the field named
`service_field_name`, default "Affected services"); every value is a label `service:<name>`.

A private incident's events carry only its id, and test and tutorial incidents are not
incidents: both are kept as unmapped, as are events about follow-ups, actions and alerts.
"""

from __future__ import annotations

import datetime as dt
import re

from service.clock import rfc3339
from service.ingest import jsonread
from service.ingest.events import IncidentHead, named_severity
from service.ingest.jsonread import Json, child, nonempty, object_at, peek
from service.ingest.model import AdapterOptions, Delivery, Mapped, PayloadError, Unsupported
from service.ingest.sources.incidentio.options import Options
from service.ingest.timeparse import parse_optional_time, parse_time
from service.models.enums import IncidentStatus, IncidentStep, Severity
from service.models.events import IncidentEvent

KIND = "incidentio"

_CREATED = "public_incident.incident_created_v2"
_UPDATED = "public_incident.incident_updated_v2"
_STATUS_UPDATED = "public_incident.incident_status_updated_v2"

#: The service's status for each incident.io status category.
_CATEGORY_STATUS: dict[str, IncidentStatus] = {
    "triage": "open",
    "live": "acknowledged",
    "paused": "acknowledged",
    **dict.fromkeys(("learning", "closed", "declined", "merged", "canceled"), "resolved"),
}
_SEVERITY_NAMES = {"critical": Severity.SEV1, "major": Severity.SEV2, "minor": Severity.SEV3}
_NUMBERED = re.compile(r"^(?:sev|p)\s*-?\s*([1-5])$", re.IGNORECASE)
_NOT_INCIDENTS = frozenset({"test", "tutorial"})


# --- the adapter contract ------------------------------------------------------------------


def event_type(delivery: Delivery) -> str:
    return jsonread.peek_text(delivery.payload, "event_type") or "unknown"


def parse(delivery: Delivery, options: AdapterOptions) -> Mapped:
    payload = object_at(delivery.payload, "")
    name = jsonread.required_text(payload, "event_type", "")
    if name.startswith("private_incident."):
        raise Unsupported(
            f"incident.io sends only the id of a private incident ({name}): not mapped"
        )
    if name not in (_CREATED, _UPDATED, _STATUS_UPDATED):
        raise Unsupported(f"incident.io event {name} is not used")
    pointer = child("", name)
    data = object_at(payload.get(name), pointer)
    step = IncidentStep.TRIGGERED if name == _CREATED else IncidentStep.UPDATED
    if name == _STATUS_UPDATED:
        step = _status_step(data, pointer)
        pointer = child(pointer, "incident")
        data = object_at(data.get("incident"), pointer)
    settings = Options.model_validate(options.kind_options)
    return Mapped(incidents=[_incident_event(data, pointer, name, step, settings)])


# --- the incident ----------------------------------------------------------------------------


def _incident_event(
    incident: Json, pointer: str, name: str, step: IncidentStep, settings: Options
) -> IncidentEvent:
    mode = nonempty(incident.get("mode"))
    if mode in _NOT_INCIDENTS:
        raise Unsupported(f"incident.io {mode} incidents are not counted")
    created_at = parse_time(incident.get("created_at"), child(pointer, "created_at"))
    occurred_at = created_at
    if step is not IncidentStep.TRIGGERED:
        occurred_at = parse_time(incident.get("updated_at"), child(pointer, "updated_at"))
    status_at = child(pointer, "incident_status")
    category = _category(incident.get("incident_status"), status_at)
    severity_name = nonempty(peek(incident.get("severity"), "name"))
    services = _service_values(incident, pointer, settings)
    title = nonempty(incident.get("name"))
    external_id = jsonread.required_text(incident, "id", pointer)
    key = f"{name.rpartition('.')[2]}:{rfc3339(occurred_at)}"
    return IncidentHead(external_id, key, step, occurred_at).event(
        pointer,
        status=_CATEGORY_STATUS[category],
        title=title,
        url=nonempty(incident.get("permalink")),
        service_ref=services[0] if services else None,
        service_labels=_labels(incident, category, services),
        severity=_severity(severity_name),
        severity_raw=severity_name,
        detected_at=created_at,
        impact_start=_impact_start(incident, pointer, settings.impact_started_timestamp),
        text=jsonread.join_texts(title, incident.get("summary")),
    )


def _category(status: object, pointer: str) -> str:
    category = peek(object_at(status, pointer), "category")
    if not isinstance(category, str) or category not in _CATEGORY_STATUS:
        raise PayloadError(
            child(pointer, "category"), f"expected one of {', '.join(_CATEGORY_STATUS)}"
        )
    return category


def _status_step(data: Json, pointer: str) -> IncidentStep:
    """Resolved when the status moves into a resolved category, reopened out of one,
    acknowledged out of triage into work; else an update."""
    before, after = (
        _CATEGORY_STATUS[_category(data.get(key), child(pointer, key))]
        for key in ("previous_status", "new_status")
    )
    if after == "resolved" and before != "resolved":
        return IncidentStep.RESOLVED
    if before == "resolved" and after != "resolved":
        return IncidentStep.REOPENED
    if before == "open" and after == "acknowledged":
        return IncidentStep.ACKNOWLEDGED
    return IncidentStep.UPDATED


def _severity(name: str | None) -> Severity | None:
    match = _NUMBERED.match(name.strip()) if name else None
    if match:
        return Severity(f"sev{match[1]}")
    return named_severity(name.strip() if name else None, _SEVERITY_NAMES)


# --- custom fields and timestamps --------------------------------------------------------------


def _service_values(incident: Json, pointer: str, settings: Options) -> list[str]:
    """The names the service field holds: catalog entries, options or text, in order."""
    entries_at = child(pointer, "custom_field_entries")
    for index, value in enumerate(_optional_list(incident, "custom_field_entries", entries_at)):
        entry = object_at(value, child(entries_at, index))
        field = jsonread.optional_object_at(entry.get("custom_field"), child(entries_at, index))
        if _is_service_field(field, settings):
            values_at = child(child(entries_at, index), "values")
            return [
                name for item in _optional_list(entry, "values", values_at)
                if (name := _value_name(item)) is not None
            ]  # fmt: skip
    return []


def _is_service_field(field: Json, settings: Options) -> bool:
    if settings.service_field_id is not None:
        return field.get("id") == settings.service_field_id
    name = nonempty(field.get("name"))
    return name is not None and name.casefold() == settings.service_field_name.casefold()


def _value_name(value: object) -> str | None:
    return (
        nonempty(peek(peek(value, "value_catalog_entry"), "name"))
        or nonempty(peek(peek(value, "value_option"), "value"))
        or nonempty(peek(value, "value_text"))
    )


def _labels(incident: Json, category: str, services: list[str]) -> dict[str, str]:
    labels = {"status_category": category}
    incident_type = nonempty(peek(incident.get("incident_type"), "name"))
    if incident_type is not None:
        labels["incident_type"] = incident_type
    for name in services:
        labels[f"service:{name}"] = "true"
    return labels


def _impact_start(incident: Json, pointer: str, name: str) -> dt.datetime | None:
    values_at = child(pointer, "incident_timestamp_values")
    for index, value in enumerate(_optional_list(incident, "incident_timestamp_values", values_at)):
        stamp = nonempty(peek(peek(value, "incident_timestamp"), "name"))
        if stamp is not None and stamp.casefold() == name.casefold():
            at = child(child(values_at, index), "value")
            return parse_optional_time(peek(peek(value, "value"), "value"), child(at, "value"))
    return None


def _optional_list(container: Json, key: str, pointer: str) -> list[object]:
    """Member `key`, a list; missing or null is empty."""
    value = container.get(key)
    return [] if value is None else jsonread.list_at(value, pointer)
