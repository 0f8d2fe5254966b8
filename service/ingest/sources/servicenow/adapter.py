"""ServiceNow incidents, as the business rule of this package's setup.md posts them: the
incident record's fields as one JSON object, on every insert and update.

Values are what `getValue()` gives (strings; numbers are accepted too): `number` and `sys_id`,
`state` (1 New, 2 In Progress, 3 On Hold, 6 Resolved, 7 Closed, 8 Canceled), `priority` 1-5,
and the times `opened_at`, `resolved_at`, `closed_at` and `sys_updated_on` as
"yyyy-MM-dd HH:mm:ss" in UTC (getValue's form; display values would be in the user's zone).
`business_service` and `cmdb_ci` are display values (getDisplayValue): the business service
is the service rules' `ref`, else the configuration item.

Every post is the record as of that update, and its state is followed: New is open, In
Progress and On Hold are acknowledged, Resolved, Closed and Canceled are resolved (a record
moved out of them is reopened). The step happens at `sys_updated_on`, a resolution at
`resolved_at` (else `closed_at`); `opened_at` is when the incident was detected. Priority 1-5
is severity sev1-sev5.
"""

from __future__ import annotations

import datetime as dt
import re

from service.ingest import jsonread
from service.ingest.events import IncidentHead
from service.ingest.jsonread import Json, child, nonempty, object_at
from service.ingest.model import AdapterOptions, Delivery, Mapped, PayloadError, Unsupported
from service.ingest.sources.servicenow.replay import version
from service.ingest.timeparse import parse_optional_time
from service.models.enums import IncidentStatus, IncidentStep, Severity

KIND = "servicenow"

#: ServiceNow's incident states: (name, the status it means, the step moving into it).
_STATES: dict[int, tuple[str, IncidentStatus, IncidentStep]] = {
    1: ("New", "open", IncidentStep.TRIGGERED),
    2: ("In Progress", "acknowledged", IncidentStep.ACKNOWLEDGED),
    3: ("On Hold", "acknowledged", IncidentStep.ACKNOWLEDGED),
    6: ("Resolved", "resolved", IncidentStep.RESOLVED),
    7: ("Closed", "resolved", IncidentStep.RESOLVED),
    8: ("Canceled", "resolved", IncidentStep.RESOLVED),
}
_GLIDE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
_GLIDE_FORM = "yyyy-MM-dd HH:mm:ss (UTC, as getValue gives it)"


# --- the adapter contract ------------------------------------------------------------------


def event_type(delivery: Delivery) -> str:
    state = _number(jsonread.peek(delivery.payload, "state"))
    known = _STATES.get(state) if state is not None else None
    return f"incident {known[0]}" if known is not None else "unknown"


def parse(delivery: Delivery, options: AdapterOptions) -> Mapped:
    record = object_at(delivery.payload, "")
    number = jsonread.required_text(record, "number", "")
    sys_id = jsonread.required_text(record, "sys_id", "")
    _, status, step = _state(record)
    seen = version(record)
    if seen is None:
        raise PayloadError(
            "/sys_mod_count", "expected the record's update count (or sys_updated_on)"
        )
    updated_at = _time(record, "sys_updated_on")
    if updated_at is None:
        raise PayloadError("/sys_updated_on", f"expected {_GLIDE_FORM}")
    occurred_at = updated_at
    if status == "resolved":
        occurred_at = _time(record, "resolved_at") or _time(record, "closed_at") or updated_at
    elif step is IncidentStep.TRIGGERED and seen != "0":
        step = IncidentStep.UPDATED  # still New, but not the insert: some field changed
    priority = _priority(record)
    title = nonempty(record.get("short_description"))
    event = IncidentHead(number, f"{sys_id}:{seen}", step, occurred_at).event(
        "",
        status=status,
        detected_at=_time(record, "opened_at"),
        title=title,
        url=nonempty(record.get("url")),
        priority=str(priority) if priority is not None else None,
        severity=Severity(f"sev{priority}") if priority is not None else None,
        severity_raw=str(priority) if priority is not None else None,
        service_ref=nonempty(record.get("business_service")) or nonempty(record.get("cmdb_ci")),
        service_labels=_labels(record, sys_id),
        text=jsonread.join_texts(title, record.get("description"), record.get("close_notes")),
    )
    return Mapped(incidents=[event])


# --- fields ----------------------------------------------------------------------------------


def _number(value: object) -> int | None:
    """An integer field as getValue gives it (a string of digits), or as a JSON number."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = nonempty(value)
    digits = text is not None and text.isascii() and text.isdigit() and len(text) <= 9
    return int(text) if digits and text is not None else None


def _state(record: Json) -> tuple[str, IncidentStatus, IncidentStep]:
    state = _number(record.get("state"))
    if state is None:
        raise PayloadError("/state", "expected an incident state code (1, 2, 3, 6, 7 or 8)")
    known = _STATES.get(state)
    if known is None:
        raise Unsupported(
            f"ServiceNow incident state {state} is none of New, In Progress, On Hold, Resolved, "
            "Closed, Canceled (1, 2, 3, 6, 7, 8): not mapped"
        )
    return known


def _priority(record: Json) -> int | None:
    value = record.get("priority")
    if value is None or value == "":
        return None
    priority = _number(value)
    if priority is None or not 1 <= priority <= 5:
        raise PayloadError("/priority", "expected a priority from 1 to 5")
    return priority


def _time(record: Json, key: str) -> dt.datetime | None:
    """A GlideDateTime as getValue gives it, "yyyy-MM-dd HH:mm:ss" in UTC; empty is none."""
    value = record.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _GLIDE_TIME.match(value):
        raise PayloadError(
            child("", key), "expected yyyy-MM-dd HH:mm:ss (UTC, as getValue gives it)"
        )
    return parse_optional_time(f"{value} UTC", child("", key))


def _labels(record: Json, sys_id: str) -> dict[str, str]:
    labels = {"sys_id": sys_id}
    for key in ("business_service", "cmdb_ci", "assignment_group", "category"):
        value = nonempty(record.get(key))
        if value is not None:
            labels[key] = value
    return labels
