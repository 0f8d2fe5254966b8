"""GitLab webhooks: deployments and finished pipelines become changes; pushes and merged merge
requests become commits; issues of type incident become incidents (incidents.py).

X-Gitlab-Event names the hook ("Deployment Hook", "Pipeline Hook" ...); the body's object_kind
says the same and decides, so system and group hooks parse like project hooks. Idempotency-Key
(GitLab 17.4+) is the same on every retry; older GitLab sends only X-Gitlab-Event-UUID. GitLab
writes most times as "2025-05-02 12:30:19 +0000" or "... UTC", which timeparse reads.
A deployment's running and finished hooks share the external id "deployment:<deployment_id>".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from service.ingest.events import ChangeHead
from service.ingest.jsonread import Node, peek_text, without_none
from service.ingest.model import AdapterOptions, Delivery, Mapped, Unsupported
from service.ingest.sources.gitlab import incidents, reverts
from service.ingest.timeparse import as_utc
from service.models.enums import ChangeKind, ChangeStatus
from service.models.events import CommitRecord

KIND = "gitlab"

_EVENT_HEADER = "x-gitlab-event"
_FULL_SHA = re.compile(r"[0-9a-fA-F]{40}|[0-9a-fA-F]{64}")
_NULL_SHA = re.compile(r"0{40}|0{64}")

#: object_kind of each hook named by X-Gitlab-Event, for bodies that lack it.
_HOOK_KINDS: Mapping[str, str] = {
    "Deployment Hook": "deployment",
    "Pipeline Hook": "pipeline",
    "Merge Request Hook": "merge_request",
    "Push Hook": "push",
    "Tag Push Hook": "tag_push",
    "Job Hook": "build",
    "Issue Hook": "issue",
    "Confidential Issue Hook": "issue",
}
_DEPLOYMENT_STATUSES: Mapping[str, ChangeStatus] = {
    "running": ChangeStatus.IN_PROGRESS,
    "success": ChangeStatus.SUCCESS,
    "failed": ChangeStatus.FAILED,
    "canceled": ChangeStatus.CANCELED,
}
_PIPELINE_STATUSES: Mapping[str, ChangeStatus] = {
    "success": ChangeStatus.SUCCESS,
    "failed": ChangeStatus.FAILED,
    "canceled": ChangeStatus.CANCELED,
}


def event_type(delivery: Delivery) -> str:
    return (
        delivery.headers.get(_EVENT_HEADER)
        or peek_text(delivery.payload, "object_kind")
        or "unknown"
    )


def parse(delivery: Delivery, options: AdapterOptions) -> Mapped:
    """Events of one GitLab delivery (a merged merge request with what it reverts, by the
    source's options)."""
    root = Node(delivery.payload)
    kind = root.opt_text("object_kind") or _HOOK_KINDS.get(event_type(delivery))
    handler = _HANDLERS.get(kind or "")
    if handler is None:
        raise Unsupported(f"GitLab event {event_type(delivery)} is not used")
    mapped = handler(root, delivery)
    return reverts.marked(mapped, root, options) if kind == "merge_request" else mapped


def _project(root: Node) -> str:
    return root.obj("project").text("path_with_namespace")


def _status(raw: str, table: Mapping[str, ChangeStatus], what: str) -> ChangeStatus:
    status = table.get(raw)
    if status is None:
        raise Unsupported(f"GitLab {what} status {raw} is not used")
    return status


def _deployment(root: Node, delivery: Delivery) -> Mapped:
    """A Deployment Hook: the deployment's change, at the time its status changed."""
    raw_status = root.text("status")
    status = _status(raw_status, _DEPLOYMENT_STATUSES, "deployment")
    deployment_id = root.ident("deployment_id")
    project = _project(root)
    environment = root.text("environment")
    changed = root.time("status_changed_at")
    running = status is ChangeStatus.IN_PROGRESS
    labels = without_none(
        project=project, environment=environment, environment_tier=root.opt_text("environment_tier")
    )
    head = ChangeHead(
        f"deployment:{deployment_id}", f"deployment:{deployment_id}:{raw_status}", status, changed
    )
    change = head.event(
        service_ref=project,
        service_labels=labels,
        environment=environment,
        kind=ChangeKind.DEPLOY,
        started_at=changed if running else None,
        finished_at=None if running else changed,
        commit_sha=_deployed_sha(root),
        url=root.opt_text("deployable_url"),
    )
    return Mapped(changes=[change])


def _deployed_sha(root: Node) -> str | None:
    """The full sha ending commit_url, else the short sha (GitLab sends no full sha field)."""
    tail = (root.opt_text("commit_url") or "").rstrip("/").rsplit("/", 1)[-1]
    if _FULL_SHA.fullmatch(tail):
        return tail
    return root.opt_sha("short_sha")


def _pipeline(root: Node, delivery: Delivery) -> Mapped:
    """A finished Pipeline Hook; without an environment, as a pipeline is not a deployment."""
    pipeline = root.obj("object_attributes")
    raw_status = pipeline.text("status")
    status = _status(raw_status, _PIPELINE_STATUSES, "pipeline")
    pipeline_id = pipeline.ident("id")
    project = _project(root)
    finished = pipeline.opt_time("finished_at") or as_utc(delivery.received_at)
    ref = pipeline.opt_text("ref")
    is_tag = pipeline.raw("tag") is True
    head = ChangeHead(
        f"pipeline:{pipeline_id}", f"pipeline:{pipeline_id}:{raw_status}", status, finished
    )
    change = head.event(
        service_ref=project,
        service_labels=without_none(
            project=project, tag=ref if is_tag else None, branch=None if is_tag else ref
        ),
        environment=None,
        kind=ChangeKind.DEPLOY,
        started_at=pipeline.opt_time("created_at"),
        finished_at=finished,
        commit_sha=pipeline.opt_sha("sha"),
        title=pipeline.opt_text("name"),
        url=pipeline.opt_text("url"),
    )
    return Mapped(changes=[change])


def _merge_request(root: Node, delivery: Delivery) -> Mapped:
    """A merged merge request: its last commit at its own time, and the merge commit at the
    merge time (merged_at, else updated_at, else when received: group hooks send neither).
    A fast-forward merge has no merge commit: the last commit is what landed."""
    request = root.obj("object_attributes")
    action = request.opt_text("action")
    if action != "merge":
        raise Unsupported(f"merge request action {action or 'missing'} is not used")
    project = _project(root)
    last = _commit(request.obj("last_commit"), project)
    merge_sha = request.opt_sha("merge_commit_sha")
    if merge_sha is None or merge_sha == last.sha:
        return Mapped(commits=[last])
    merged_at = (
        request.opt_time("merged_at")
        or request.opt_time("updated_at")
        or as_utc(delivery.received_at)
    )
    merge = CommitRecord(sha=merge_sha, committed_at=merged_at, repo=project)
    return Mapped(commits=[merge, last])


def _push(root: Node, delivery: Delivery) -> Mapped:
    """The pushed commits (GitLab lists at most 20), each at its own timestamp."""
    project = _project(root)
    commits = [_commit(node, project) for node in root.items("commits")]
    if not commits:
        deleted = _NULL_SHA.fullmatch(root.opt_text("after") or "")
        raise Unsupported(
            "push without commits (branch deleted)" if deleted else "push without commits"
        )
    return Mapped(commits=commits)


def _commit(node: Node, project: str) -> CommitRecord:
    return CommitRecord(sha=node.sha("id"), committed_at=node.time("timestamp"), repo=project)


_HANDLERS: Mapping[str, Callable[[Node, Delivery], Mapped]] = {
    "deployment": _deployment,
    "pipeline": _pipeline,
    "merge_request": _merge_request,
    "push": _push,
    "issue": incidents.issue,
}
