"""GitLab incidents: Issue Hook deliveries (object_kind "issue") for issues of type incident.

GitLab names the work item type twice: `object_attributes.issue_type` ("incident") and, since
GitLab 17.2, `object_attributes.type` ("Incident"); an issue labelled `incident` (the label
GitLab's alert integration puts on the incidents it opens) counts too. Anything else is an
ordinary issue and kept as unmapped.

The step is the hook's `action`: open, close, reopen, update. An update that moves
`escalation_status` to acknowledged is an acknowledgement. Severity is GitLab's incident
severity (critical, high, medium, low; "unknown" is none). Times: `created_at` is when the
incident was detected and opened, `closed_at` when it was resolved, `updated_at` when any
other step happened (and, with the action, what makes a step unique).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from service.ingest.jsonread import Node, join_texts
from service.ingest.model import Delivery, Mapped, Unsupported
from service.models.enums import IncidentStep, Severity
from service.models.events import IncidentEvent

#: GitLab's incident severities, most severe first: critical is sev1 ... low is sev4.
_SEVERITY: Mapping[str, Severity] = dict(
    zip(("critical", "high", "medium", "low"), Severity, strict=False)
)
_STEPS: Mapping[str, IncidentStep] = {
    "open": IncidentStep.TRIGGERED,
    "close": IncidentStep.RESOLVED,
    "reopen": IncidentStep.REOPENED,
    "update": IncidentStep.UPDATED,
}
#: The label GitLab puts on the incidents its alert integration opens.
INCIDENT_LABEL = "incident"


def issue(root: Node, delivery: Delivery) -> Mapped:
    """An Issue Hook: one step of an incident, or unmapped for any other issue."""
    attributes = root.obj("object_attributes")
    labels = _label_titles(root, attributes)
    if not _is_incident(attributes, labels):
        kind = attributes.opt_text("type") or attributes.opt_text("issue_type") or "issue"
        raise Unsupported(f"GitLab {kind} is not an incident (issue_type incident)")
    action = attributes.opt_text("action")
    step = _STEPS.get(action or "")
    if step is None:
        raise Unsupported(f"GitLab issue action {action or 'missing'} is not used")
    if step is IncidentStep.UPDATED and _acknowledged(root, attributes):
        step = IncidentStep.ACKNOWLEDGED
    return Mapped(incidents=[_incident(root, attributes, labels, step)])


def _incident(root: Node, attributes: Node, labels: list[str], step: IncidentStep) -> IncidentEvent:
    project = root.obj("project").text("path_with_namespace")
    issue_id = attributes.ident("id")
    created = attributes.time("created_at")
    updated = attributes.opt_time("updated_at") or created
    raw_severity = attributes.opt_text("severity")
    title = attributes.opt_text("title")
    service_labels = {"project": project} | {f"label:{name}": "true" for name in labels}
    return IncidentEvent(
        external_id=f"{project}#{attributes.ident('iid')}",
        event_key=f"issue:{issue_id}:{attributes.text('action')}:{_stamp(updated)}",
        step=step,
        occurred_at=_occurred(attributes, step, created, updated),
        detected_at=created,
        impact_start=created,
        title=title,
        url=attributes.opt_text("url"),
        severity=_SEVERITY.get((raw_severity or "").casefold()),
        severity_raw=None if raw_severity == "unknown" else raw_severity,
        service_ref=project,
        service_labels=service_labels,
        text=join_texts(title, attributes.raw("description")),
    )


def _occurred(
    attributes: Node, step: IncidentStep, created: dt.datetime, updated: dt.datetime
) -> dt.datetime:
    if step is IncidentStep.TRIGGERED:
        return created
    if step is IncidentStep.RESOLVED:
        return attributes.opt_time("closed_at") or updated
    return updated


def _stamp(at: dt.datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _is_incident(attributes: Node, labels: list[str]) -> bool:
    kinds = {attributes.opt_text("issue_type"), attributes.opt_text("type")}
    if "incident" in {k.casefold() for k in kinds if k}:
        return True
    return INCIDENT_LABEL in {name.casefold() for name in labels}


def _label_titles(root: Node, attributes: Node) -> list[str]:
    """The issue's label titles (the hook sends them at the top and in object_attributes)."""
    nodes = root.items("labels") or attributes.items("labels")
    titles = (node.opt_text("title") for node in nodes)
    return list(dict.fromkeys(t for t in titles if t))


def _acknowledged(root: Node, attributes: Node) -> bool:
    """Whether this update moved the escalation status to acknowledged."""
    changes = root.opt_obj("changes")
    change = changes.opt_obj("escalation_status") if changes else None
    if change is None:
        return False
    return change.opt_text("current") == "acknowledged"
