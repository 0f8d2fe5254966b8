"""Jira issue webhooks (`jira:issue_created`, `jira:issue_updated`), for issues of the types the
source names as incidents (`AdapterOptions.incident_issue_types`, case-insensitive).

The step comes from the changelog: a resolution set or a move into a done status resolves the
incident, a resolution cleared or a move out of a done status reopens it, anything else is an
update. Whether a status is done is read from the issue's current status category when the
move ends there, else from common names (Done, Resolved, Closed ...), since changelog items
carry only the status names.

Jira Service Management incidents are such issues too: service_management.py reads JSM's
incident type, priority scheme and Affected services field.

Times: `timestamp` (epoch ms) is when the change happened; a resolved step takes
`fields.resolutiondate` when Jira sends it. `fields.created` is when the incident was detected.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote, urlsplit

from service.ingest.events import IncidentHead
from service.ingest.jsonread import (
    Json,
    child,
    is_int,
    join_texts,
    list_at,
    nonempty,
    object_at,
    peek,
    peek_text,
    required_text,
)
from service.ingest.model import AdapterOptions, Delivery, Mapped, PayloadError, Unsupported
from service.ingest.sources.jira import service_management as jsm
from service.ingest.sources.jira.options import Options
from service.ingest.timeparse import from_epoch_millis, parse_optional_time
from service.models.enums import IncidentStep
from service.models.events import IncidentEvent

KIND = "jira"

_CREATED, _UPDATED = "jira:issue_created", "jira:issue_updated"
#: Status names taken as done when the issue's status category does not say.
_DONE_NAMES = frozenset(
    {"done", "resolved", "closed", "complete", "completed", "cancelled", "canceled"}
)


# --- the adapter contract ------------------------------------------------------------------


def event_type(delivery: Delivery) -> str:
    return peek_text(delivery.payload, "webhookEvent") or "unknown"


def parse(delivery: Delivery, options: AdapterOptions) -> Mapped:
    payload = object_at(delivery.payload, "")
    name = required_text(payload, "webhookEvent", "")
    if name not in (_CREATED, _UPDATED):
        raise Unsupported(f"Jira event {name} is not used")
    issue = object_at(payload.get("issue"), "/issue")
    fields = object_at(issue.get("fields"), "/issue/fields")
    _check_incident_type(fields, options.incident_issue_types)
    step = IncidentStep.TRIGGERED if name == _CREATED else _update_step(payload, fields)
    field_id = Options.model_validate(options.kind_options).affected_services_field
    services = jsm.affected_services(fields, field_id)
    return Mapped(incidents=[_issue_event(payload, issue, fields, step, services)])


# --- mapping -------------------------------------------------------------------------------


def _check_incident_type(fields: Json, incident_types: Sequence[str]) -> None:
    issue_type = object_at(fields.get("issuetype"), "/issue/fields/issuetype")
    type_name = required_text(issue_type, "name", "/issue/fields/issuetype")
    if jsm.issue_type_name(type_name) not in {jsm.issue_type_name(t) for t in incident_types}:
        raise Unsupported(
            f"issue type {type_name} is not an incident type (configure incident_issue_types)"
        )


def _issue_event(
    payload: Json, issue: Json, fields: Json, step: IncidentStep, services: list[str]
) -> IncidentEvent:
    """The issue's step; its service is the first affected service (JSM), else its project."""
    if not is_int(payload.get("timestamp")):
        raise PayloadError("/timestamp", "expected epoch milliseconds")
    stamp = payload["timestamp"]
    occurred_at = from_epoch_millis(stamp, "/timestamp")
    if step is IncidentStep.RESOLVED:
        resolved = parse_optional_time(fields.get("resolutiondate"), "/issue/fields/resolutiondate")
        occurred_at = resolved or occurred_at
    issue_id = required_text(issue, "id", "/issue")
    key = required_text(issue, "key", "/issue")
    priority = _name(fields.get("priority"))
    summary = nonempty(fields.get("summary"))
    head = IncidentHead(key, f"{issue_id}:{payload['webhookEvent']}:{stamp}", step, occurred_at)
    return head.event(
        "/issue",
        detected_at=parse_optional_time(fields.get("created"), "/issue/fields/created"),
        title=summary,
        url=_browse_url(issue.get("self"), key),
        priority=priority,
        severity=jsm.priority_severity(priority),
        severity_raw=priority,
        service_ref=services[0] if services else nonempty(peek(fields.get("project"), "key")),
        service_labels=_labels(fields) | jsm.service_labels(services),
        text=join_texts(summary, fields.get("description")),
    )


def _browse_url(api_url: object, key: str) -> str | None:
    """The issue's page for people, derived from its REST address (`issue.self`): the
    scheme and host of https://acme.atlassian.net/rest/api/2/issue/10040, then /browse/KEY-1.

    A Jira Server's context path (https://host/jira/rest/...) is kept, credentials in the
    address are not. None if `issue.self` is not an http(s) address.
    """
    text = nonempty(api_url)
    if text is None:
        return None
    try:
        parts = urlsplit(text)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return None
    host = parts.netloc.rpartition("@")[2]
    if parts.scheme not in ("http", "https") or not host:
        return None
    context, rest, _ = parts.path.partition("/rest/")
    base = f"{parts.scheme}://{host}{context if rest else ''}"
    return f"{base}/browse/{quote(key, safe='')}"


def _labels(fields: Json) -> dict[str, str]:
    labels: dict[str, str] = {}
    project = nonempty(peek(fields.get("project"), "key"))
    if project:
        labels["project"] = project
    for component in _list(fields.get("components")):
        name = _name(component)
        if name:
            labels[f"component:{name}"] = "true"
    for label in _list(fields.get("labels")):
        if nonempty(label):
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
    items = list_at(object_at(changelog, "/changelog").get("items", []), "/changelog/items")
    return [object_at(item, child("/changelog/items", i)) for i, item in enumerate(items)]


def _is_done(status_id: object, status_name: object, fields: Json) -> bool:
    """Done by the issue's status category when the move ends at its current status."""
    current = fields.get("status")
    is_current = status_id is not None and status_id == peek(current, "id")
    is_current |= status_name is not None and status_name == peek(current, "name")
    category = peek(peek(current, "statusCategory"), "key")
    if is_current and isinstance(category, str):
        return category == "done"
    return isinstance(status_name, str) and status_name.casefold() in _DONE_NAMES


# --- lenient reads: what is malformed is left out -----------------------------------------


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _name(value: object) -> str | None:
    return nonempty(peek(value, "name"))
