"""Jira issue webhooks (`jira:issue_created`, `jira:issue_updated`), for issues of the types the
source names as incidents (`AdapterOptions.incident_issue_types`, case-insensitive).

The step comes from the changelog: a resolution set or a move into a done status resolves the
incident, a resolution cleared or a move out of a done status reopens it, anything else is an
update. Whether a status is done is read from the issue's current status category when the
move ends there, else from common names (Done, Resolved, Closed ...), since changelog items
carry only the status names.

Times: `timestamp` (epoch ms) is when the change happened; a resolved step takes
`fields.resolutiondate` when Jira sends it. `fields.created` is when the incident was detected.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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
from service.ingest.timeparse import from_epoch_millis, parse_optional_time
from service.models.enums import Severity

KIND = "jira"

Json = Mapping[str, object]

_CREATED, _UPDATED = "jira:issue_created", "jira:issue_updated"
_SEVERITY = {
    "highest": Severity.SEV1,
    "high": Severity.SEV2,
    "medium": Severity.SEV3,
    "low": Severity.SEV4,
    "lowest": Severity.SEV5,
}
#: Status names taken as done when the issue's status category does not say.
_DONE_NAMES = frozenset(
    {"done", "resolved", "closed", "complete", "completed", "cancelled", "canceled"}
)


# --- the adapter contract ------------------------------------------------------------------


def event_type(delivery: Delivery) -> str:
    payload = delivery.payload
    name = payload.get("webhookEvent") if isinstance(payload, dict) else None
    return name if isinstance(name, str) and name else "unknown"


def delivery_key(delivery: Delivery) -> str | None:
    """Jira sends no delivery id: issue id, webhook event and timestamp stand in for one."""
    payload = delivery.payload
    if not isinstance(payload, dict):
        return None
    issue = payload.get("issue")
    name, stamp = payload.get("webhookEvent"), payload.get("timestamp")
    issue_id = issue.get("id") if isinstance(issue, dict) else None
    if not (_nonempty(issue_id) and _nonempty(name) and _is_int(stamp)):
        return None
    return f"{issue_id}:{name}:{stamp}"


def parse(delivery: Delivery, options: AdapterOptions) -> Mapped:
    payload = _object(delivery.payload, "")
    name = _required_text(payload, "webhookEvent", "")
    if name not in (_CREATED, _UPDATED):
        raise Unsupported(f"Jira event {name} is not used")
    issue = _object(payload.get("issue"), "/issue")
    fields = _object(issue.get("fields"), "/issue/fields")
    _check_incident_type(fields, options.incident_issue_types)
    step = IncidentStep.TRIGGERED if name == _CREATED else _update_step(payload, fields)
    return Mapped(incidents=[_issue_event(payload, issue, fields, step)])


# --- mapping -------------------------------------------------------------------------------


def _check_incident_type(fields: Json, incident_types: Sequence[str]) -> None:
    issue_type = _object(fields.get("issuetype"), "/issue/fields/issuetype")
    type_name = _required_text(issue_type, "name", "/issue/fields/issuetype")
    if type_name.casefold() not in {t.casefold() for t in incident_types}:
        raise Unsupported(
            f"issue type {type_name} is not an incident type (configure incident_issue_types)"
        )


def _issue_event(payload: Json, issue: Json, fields: Json, step: IncidentStep) -> IncidentEvent:
    if not _is_int(payload.get("timestamp")):
        raise PayloadError("/timestamp", "expected epoch milliseconds")
    stamp = payload["timestamp"]
    occurred_at = from_epoch_millis(stamp, "/timestamp")
    if step is IncidentStep.RESOLVED:
        resolved = parse_optional_time(fields.get("resolutiondate"), "/issue/fields/resolutiondate")
        occurred_at = resolved or occurred_at
    issue_id = _required_text(issue, "id", "/issue")
    priority = _name(fields.get("priority"))
    summary = _nonempty(fields.get("summary"))
    return _event(
        external_id=_required_text(issue, "key", "/issue"),
        event_key=f"{issue_id}:{payload['webhookEvent']}:{stamp}",
        step=step,
        occurred_at=occurred_at,
        detected_at=parse_optional_time(fields.get("created"), "/issue/fields/created"),
        title=summary,
        url=_nonempty(issue.get("self")),
        priority=priority,
        severity=_SEVERITY.get(priority.lower()) if priority else None,
        severity_raw=priority,
        service_ref=_nonempty(_mapping(fields.get("project")).get("key")),
        service_labels=_labels(fields),
        text=_join(summary, fields.get("description")),
    )


def _labels(fields: Json) -> dict[str, str]:
    labels: dict[str, str] = {}
    project = _nonempty(_mapping(fields.get("project")).get("key"))
    if project:
        labels["project"] = project
    for component in _list(fields.get("components")):
        name = _name(component)
        if name:
            labels[f"component:{name}"] = "true"
    for label in _list(fields.get("labels")):
        if _nonempty(label):
            labels[f"label:{label}"] = "true"
    return labels


# --- the step of an update -----------------------------------------------------------------


def _update_step(payload: Json, fields: Json) -> IncidentStep:
    resolved = reopened = False
    for item in _changelog_items(payload):
        field = str(item.get("fieldId") or item.get("field") or "").lower()
        if field == "resolution":
            resolved |= item.get("to") is not None or item.get("toString") is not None
            reopened |= item.get("from") is not None and item.get("to") is None
        elif field == "status":
            into_done = _is_done(item.get("to"), item.get("toString"), fields)
            resolved |= into_done
            reopened |= not into_done and _is_done(item.get("from"), item.get("fromString"), {})
    if resolved:
        return IncidentStep.RESOLVED
    return IncidentStep.REOPENED if reopened else IncidentStep.UPDATED


def _changelog_items(payload: Json) -> list[Json]:
    changelog = payload.get("changelog")
    if changelog is None:
        return []
    items = _object(changelog, "/changelog").get("items", [])
    if not isinstance(items, list):
        raise PayloadError("/changelog/items", "expected a list")
    return [_object(item, f"/changelog/items/{i}") for i, item in enumerate(items)]


def _is_done(status_id: object, status_name: object, fields: Json) -> bool:
    """Done by the issue's status category when the move ends at its current status."""
    current = _mapping(fields.get("status"))
    is_current = status_id is not None and status_id == current.get("id")
    is_current |= status_name is not None and status_name == current.get("name")
    category = _mapping(current.get("statusCategory")).get("key")
    if is_current and isinstance(category, str):
        return category == "done"
    return isinstance(status_name, str) and status_name.casefold() in _DONE_NAMES


# --- JSON helpers --------------------------------------------------------------------------


def _event(**fields: object) -> IncidentEvent:
    """The event, or a PayloadError when a value breaks the model's limits (a key too long)."""
    try:
        return IncidentEvent.model_validate(fields)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise PayloadError("/issue", f"{error['loc'][0]}: {error['msg']}") from exc


def _object(value: object, pointer: str) -> Json:
    if not isinstance(value, dict):
        raise PayloadError(pointer, "expected an object")
    return value


def _mapping(value: object) -> Json:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _name(value: object) -> str | None:
    return _nonempty(_mapping(value).get("name"))


def _required_text(obj: Json, key: str, pointer: str) -> str:
    value = _nonempty(obj.get(key))
    if value is None:
        raise PayloadError(f"{pointer}/{key}", "expected a non-empty string")
    return value


def _nonempty(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _join(*parts: object) -> str | None:
    texts = list(dict.fromkeys(p for p in parts if isinstance(p, str) and p.strip()))
    return "\n".join(texts) or None
