"""Argo CD Notifications: what the webhook template of setup.md renders, for each sync
operation of an application and each health report after it.

One sync operation (application, revision, operation start) is one change; each notification
is a report on it. The operation phase gives the status: Running and Terminating in progress,
Succeeded success, Error and Failed failed. Health `Degraded` is kept and shown on the change
(its title), and a succeeded sync reported Degraded within the source's
`degraded_window_minutes` of its finish counts as failed: the report is placed at its arrival,
after the finish, so the change stays failed whatever order the reports come in.

The environment is the destination cluster's name, else its namespace; the application is the
service. Argo CD renders a missing value as "" or "<no value>": both mean absent.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from service.ingest.jsonread import Node, validated, without_none
from service.ingest.model import AdapterOptions, Delivery, Mapped, PayloadError, Unsupported
from service.ingest.sources.argocd.options import Options
from service.ingest.timeparse import as_utc
from service.models.enums import ChangeKind, ChangeStatus
from service.models.events import ChangeEvent

KIND = "argocd"

#: What Go's text/template writes for a member the application does not have.
NO_VALUE = "<no value>"
DEGRADED = "Degraded"
#: The sync operation's phase, and the status of the change it is.
_PHASES: Mapping[str, ChangeStatus] = {
    **dict.fromkeys(("Running", "Terminating"), ChangeStatus.IN_PROGRESS),
    "Succeeded": ChangeStatus.SUCCESS,
    **dict.fromkeys(("Failed", "Error"), ChangeStatus.FAILED),
}
_SHA = re.compile(r"[0-9a-f]{7,64}")


def event_type(delivery: Delivery) -> str:
    payload = delivery.payload
    if not isinstance(payload, dict):
        return "unknown"
    parts = [rendered(payload.get(name)) for name in ("phase", "health")]
    return "/".join(p for p in parts if p) or "unknown"


def rendered(value: object) -> str | None:
    """A rendered template value, None when Argo CD had none to render."""
    if not isinstance(value, str) or not value.strip() or value == NO_VALUE:
        return None
    return value


def operation_key(payload: Mapping[str, object]) -> str | None:
    """Application, revision and operation start: the sync operation, hence the change."""
    parts = [rendered(payload.get(name)) for name in ("application", "revision", "startedAt")]
    return ":".join(p for p in parts if p) if all(parts) else None


def parse(delivery: Delivery, options: AdapterOptions) -> Mapped:
    window = dt.timedelta(
        minutes=Options.model_validate(options.kind_options).degraded_window_minutes
    )
    root = Node(delivery.payload)
    phase = _text(root, "phase")
    if phase is None:
        raise Unsupported("Argo CD notification without a sync operation (no phase)")
    status = _PHASES.get(phase)
    if status is None:
        raise PayloadError(root.at("phase"), f"expected one of {', '.join(_PHASES)}")
    application, revision = _required(root, "application"), _required(root, "revision")
    started = root.time("startedAt")
    finished = root.time("finishedAt") if _text(root, "finishedAt") else None
    health = _text(root, "health")
    occurred = started if status is ChangeStatus.IN_PROGRESS else finished or started
    if health == DEGRADED and status is ChangeStatus.SUCCESS:
        occurred = as_utc(delivery.received_at)
        within = finished is not None and occurred - finished <= window
        status = ChangeStatus.FAILED if within and window else ChangeStatus.SUCCESS
    change = validated(
        ChangeEvent,
        "#",
        external_id=f"{application}:{revision}:{root.raw('startedAt')}",
        event_key=f"{phase}:{health or 'unknown'}",
        status=status,
        occurred_at=occurred,
        service_ref=application,
        service_labels=_labels(root, application),
        environment=_environment(root),
        kind=ChangeKind.DEPLOY,
        started_at=started,
        finished_at=None if status is ChangeStatus.IN_PROGRESS else finished or occurred,
        commit_sha=revision if _SHA.fullmatch(revision) else None,
        title=_title(root, application, revision, phase, health),
        url=_text(root, "url"),
    )
    return Mapped(changes=[change])


def _text(node: Node, key: str) -> str | None:
    value = node.opt_text(key)
    return None if value == NO_VALUE else value


def _required(node: Node, key: str) -> str:
    value = _text(node, key)
    if value is None:
        raise PayloadError(node.at(key), "required string is missing")
    return value


def _destination(root: Node) -> Node:
    return root.opt_obj("destination") or Node({}, root.at("destination"))


def _environment(root: Node) -> str | None:
    destination = _destination(root)
    return _text(destination, "name") or _text(destination, "namespace")


def _labels(root: Node, application: str) -> dict[str, str]:
    destination = _destination(root)
    return without_none(
        application=application,
        project=_text(root, "project"),
        repository=_text(root, "repoURL"),
        destination=_text(destination, "name"),
        server=_text(destination, "server"),
        namespace=_text(destination, "namespace"),
    )


def _title(root: Node, application: str, revision: str, phase: str, health: str | None) -> str:
    """What the change shows: the operation's outcome, sync status and health as reported."""
    sync = _text(root, "syncStatus")
    said = ", ".join(p for p in (f"sync {phase}", sync, health and f"health {health}") if p)
    return f"{application} {revision[:12]}: {said}"
