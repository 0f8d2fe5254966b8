"""GitHub webhooks: deployments, deployment statuses and workflow runs become changes; pushes
and merged pull requests become commits.

The X-GitHub-Event header names the event and X-GitHub-Delivery is the delivery's GUID, which
GitHub keeps when it redelivers. Neither header is signed (X-Hub-Signature-256 covers the body
alone): a body whose shape is not that of the event the header names is refused, and a body
received before is a duplicate by its digest, whatever GUID it comes with.

A deployment and all its statuses share the external id "deployment:<deployment id>", so the
change is rebuilt from them in whatever order they come.
A workflow run is reported only once it has completed, without an environment: it is a
pipeline, and the pipeline's mapping rules decide whether it counts as a production change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from service.ingest.events import ChangeHead
from service.ingest.jsonread import Node, without_none
from service.ingest.model import AdapterOptions, Delivery, Mapped, PayloadError, Unsupported
from service.ingest.sources.github import reverts
from service.ingest.timeparse import as_utc
from service.models.enums import ChangeKind, ChangeStatus
from service.models.events import CommitRecord

KIND = "github"

_EVENT_HEADER = "x-github-event"

_DEPLOYMENT_STATES: Mapping[str, ChangeStatus] = {
    "success": ChangeStatus.SUCCESS,
    "failure": ChangeStatus.FAILED,
    "error": ChangeStatus.FAILED,
    "in_progress": ChangeStatus.IN_PROGRESS,
    "queued": ChangeStatus.IN_PROGRESS,
    "pending": ChangeStatus.IN_PROGRESS,
}
_RUN_CONCLUSIONS: Mapping[str, ChangeStatus] = {
    "success": ChangeStatus.SUCCESS,
    "failure": ChangeStatus.FAILED,
    "timed_out": ChangeStatus.FAILED,
    "startup_failure": ChangeStatus.FAILED,
    "cancelled": ChangeStatus.CANCELED,
}


def event_type(delivery: Delivery) -> str:
    return delivery.headers.get(_EVENT_HEADER) or "unknown"


def parse(delivery: Delivery, options: AdapterOptions) -> Mapped:
    """Events of one GitHub delivery (a merged pull request with what it reverts, by the
    source's options). X-GitHub-Event is not signed, so the body must have the shape of the
    event it names."""
    name = delivery.headers.get(_EVENT_HEADER)
    if not name:
        raise Unsupported("GitHub delivery without an X-GitHub-Event header")
    event = _EVENTS.get(name)
    if event is None:
        raise Unsupported(f"GitHub event {name} is not used")
    root = Node(delivery.payload)
    event.shape.check(name, root)
    mapped = event.handler(root, delivery)
    return reverts.marked(mapped, root, options) if name == "pull_request" else mapped


@dataclass(frozen=True)
class _Shape:
    """The top-level members that tell one event's body from another's."""

    #: Each entry: one of these members must be present (with any value, null included).
    required: tuple[tuple[str, ...], ...]
    #: Members only the body of another event carries.
    foreign: tuple[str, ...] = ()

    def check(self, name: str, root: Node) -> None:
        said = f"X-GitHub-Event: {name}"
        for members in self.required:
            if not any(root.has(member) for member in members):
                raise PayloadError(
                    root.at(members[0]),
                    f"required by {said}: the body has no {' or '.join(members)} member",
                    header="X-GitHub-Event",
                )  # fmt: skip
        for member in self.foreign:
            if root.has(member):
                raise PayloadError(
                    root.at(member),
                    f"the body carries {member}, which a {name} event has not: it is not "
                    f"the event {said} names",
                    header="X-GitHub-Event",
                )  # fmt: skip


def _sha(node: Node, key: str) -> str:
    """A required commit sha; a missing one is reported as any missing string is here."""
    return node.sha(key, missing="required string is missing")


def _repository(root: Node) -> str:
    return root.obj("repository").text("full_name")


def _deployment_status(root: Node, delivery: Delivery) -> Mapped:
    """A status of a deployment: the deployment's change, at the time of the status."""
    report, deployment = root.obj("deployment_status"), root.obj("deployment")
    status = _deployment_state(report)
    repo = _repository(root)
    occurred = report.opt_time("updated_at") or report.time("created_at")
    environment = report.opt_text("environment") or deployment.opt_text("environment")
    url = report.opt_text("target_url") or report.opt_text("log_url") or deployment.opt_text("url")
    head = ChangeHead(
        f"deployment:{deployment.ident('id')}", f"deployment_status:{report.ident('id')}",
        status, occurred,
    )  # fmt: skip
    return _deployment_change(
        head, deployment, repo, environment,
        started_at=deployment.opt_time("created_at"),
        finished_at=None if status is ChangeStatus.IN_PROGRESS else occurred,
        url=url,
    )  # fmt: skip


def _deployment_state(report: Node) -> ChangeStatus:
    state = report.text("state")
    if state == "inactive":
        raise Unsupported("deployment_status state inactive (superseded by a newer deployment)")
    status = _DEPLOYMENT_STATES.get(state)
    if status is None:
        raise Unsupported(f"deployment_status state {state} is not used")
    return status


def _deployment(root: Node, delivery: Delivery) -> Mapped:
    """A deployment was created: its change starts, in progress until a status says more.
    Older or trimmed payloads have no action, and some no created_at (then: received)."""
    action = root.opt_text("action")
    if action not in (None, "created"):
        raise Unsupported(f"deployment action {action} is not used")
    deployment = root.obj("deployment")
    deployment_id = deployment.ident("id")
    repo = _repository(root)
    created = deployment.opt_time("created_at") or as_utc(delivery.received_at)
    environment = deployment.opt_text("environment")
    head = ChangeHead(
        f"deployment:{deployment_id}", f"deployment:{deployment_id}:created",
        ChangeStatus.IN_PROGRESS, created,
    )  # fmt: skip
    return _deployment_change(
        head, deployment, repo, environment, started_at=created, url=deployment.opt_text("url")
    )


def _deployment_change(
    head: ChangeHead, deployment: Node, repo: str, environment: str | None, **told: Any
) -> Mapped:
    """The deployment's change as one report of it tells (its creation or a status): the
    repository, environment, commit and description are the deployment's in every report."""
    change = head.event(
        service_ref=repo,
        service_labels=without_none(repository=repo, environment=environment),
        environment=environment,
        kind=ChangeKind.DEPLOY,
        commit_sha=deployment.opt_text("sha"),
        title=deployment.opt_text("description"),
        **told,
    )
    return Mapped(changes=[change])


def _workflow_run(root: Node, delivery: Delivery) -> Mapped:
    """A completed workflow run, whatever the action says (copies exist with action
    in_progress and status completed). It has no environment: it is a pipeline."""
    run = root.obj("workflow_run")
    status = _run_outcome(run)
    run_id = run.ident("id")
    attempt = run.ident("run_attempt") if run.raw("run_attempt") is not None else "1"
    repo = _repository(root)
    finished = run.time("updated_at")
    workflow = run.opt_text("name")
    head = ChangeHead(
        f"workflow_run:{run_id}", f"workflow_run:{run_id}:{attempt}:completed", status, finished
    )
    change = head.event(
        service_ref=repo,
        service_labels=without_none(
            repository=repo, workflow=workflow, branch=run.opt_text("head_branch")
        ),
        environment=None,
        kind=ChangeKind.DEPLOY,
        started_at=run.opt_time("run_started_at"),
        finished_at=finished,
        commit_sha=run.opt_text("head_sha"),
        title=workflow or run.opt_text("display_title"),
        url=run.opt_text("html_url"),
    )
    return Mapped(changes=[change])


def _run_outcome(run: Node) -> ChangeStatus:
    state = run.opt_text("status")
    if state != "completed":
        raise Unsupported(f"workflow_run is {state or 'without a status'}, not completed")
    conclusion = run.opt_text("conclusion")
    status = _RUN_CONCLUSIONS.get(conclusion or "")
    if status is None:
        raise Unsupported(
            f"workflow_run conclusion {conclusion or 'missing'} is neither a success, "
            "a failure nor a cancellation"
        )
    return status


def _push(root: Node, delivery: Delivery) -> Mapped:
    """The pushed commits, each at its own timestamp, and the head commit if not among them
    (a new branch at an existing commit lists no commits but has a head commit)."""
    repo = _repository(root)
    commits = [_commit(node, repo) for node in root.items("commits")]
    head = root.opt_obj("head_commit")
    if head is not None and _sha(head, "id") not in {commit.sha for commit in commits}:
        commits.append(_commit(head, repo))
    if not commits:
        raise Unsupported(_empty_push_reason(root))
    return Mapped(commits=commits)


def _empty_push_reason(root: Node) -> str:
    ref = root.opt_text("ref") or ""
    if ref.startswith("refs/tags/"):
        return "push without commits (tag deleted)"
    if root.raw("deleted") is True:
        return "push without commits (branch deleted)"
    return "push without commits"


def _commit(node: Node, repo: str) -> CommitRecord:
    return CommitRecord(sha=_sha(node, "id"), committed_at=node.time("timestamp"), repo=repo)


def _pull_request(root: Node, delivery: Delivery) -> Mapped:
    """A merged pull request: its merge commit at the merge time.

    Lead time starts at a change's first commit, which this payload does not list; pushes
    record commits at their own times. The merge time stands in for the merge commit's time
    only where no push gave it.
    """
    action = root.opt_text("action")
    if action != "closed":
        raise Unsupported(f"pull_request action {action or 'missing'} is not used")
    pull = root.obj("pull_request")
    if pull.raw("merged") is not True:
        raise Unsupported("pull request closed without merging")
    commit = CommitRecord(
        sha=_sha(pull, "merge_commit_sha"),
        committed_at=pull.time("merged_at"),
        repo=_repository(root),
    )
    return Mapped(commits=[commit])


@dataclass(frozen=True)
class _Event:
    handler: Callable[[Node, Delivery], Mapped]
    shape: _Shape


#: The events used, with the shape of their bodies (from GitHub's webhook payload reference).
#: A deployment_status body also carries its deployment, and deployment and deployment_status
#: bodies may carry the workflow_run that made them: hence what each must not carry.
_EVENTS: Mapping[str, _Event] = {
    "deployment_status": _Event(
        _deployment_status, _Shape((("deployment_status",), ("deployment",)))
    ),
    "deployment": _Event(_deployment, _Shape((("deployment",),), ("deployment_status",))),
    "workflow_run": _Event(
        _workflow_run, _Shape((("workflow_run",),), ("deployment", "deployment_status"))
    ),
    "push": _Event(_push, _Shape((("ref",), ("commits", "head_commit")))),
    "pull_request": _Event(_pull_request, _Shape((("pull_request",), ("action",)))),
}
