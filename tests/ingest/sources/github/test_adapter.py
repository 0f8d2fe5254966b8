"""The GitHub adapter on every published GitHub fixture, with the fields read off by hand."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from service.ingest.model import AdapterOptions, Delivery, Mapped, PayloadError, Unsupported
from service.ingest.sources.github import adapter as github
from service.ingest.sources.github import replay as github_replay
from service.models.enums import ChangeKind, ChangeStatus
from service.models.events import ChangeEvent, CommitRecord
from tests.ingest.fixtures import fixture, shared_fixtures

UTC = dt.UTC
#: Only the woodpecker deployment (no created_at) falls back to it.
RECEIVED = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
DELETE = object()

HELLO = "Codertocat/Hello-World"
BAXTER = "baxterthehacker/public-repo"
OCTO = "octo-org/octo-repo"


def delivery(event: str, payload: object) -> Delivery:
    headers = {"x-github-event": event, "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958"}
    return Delivery(headers=headers, payload=payload, received_at=RECEIVED)


def parse_fixture(relative: str) -> Mapped:
    event = relative.split("/")[1]
    return github.parse(delivery(event, fixture(relative)), AdapterOptions())


def changed(relative: str, *path: str | int, value: object) -> Any:
    """The fixture's payload with the member at path set to value (or removed: DELETE)."""
    payload = copy.deepcopy(fixture(relative))
    parent = payload
    for key in path[:-1]:
        parent = parent[key]
    if value is DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return payload


def deployment_change(
    deployment_id: int, repo: str, env: str, at: dt.datetime, sha: str, **fields: Any
) -> ChangeEvent:
    """A deployment's 'created' event: the fields every deployment fixture has alike."""
    return ChangeEvent(
        external_id=f"deployment:{deployment_id}",
        event_key=f"deployment:{deployment_id}:created",
        status=ChangeStatus.IN_PROGRESS,
        occurred_at=at,
        service_ref=repo,
        service_labels={"repository": repo, "environment": env},
        environment=env,
        kind=ChangeKind.DEPLOY,
        started_at=at,
        finished_at=None,
        commit_sha=sha,
        url=f"https://api.github.com/repos/{repo}/deployments/{deployment_id}",
        **fields,
    )


def octokit_success(relative: str) -> tuple[str, ChangeEvent]:
    """The octokit success status (three copies with identical fields)."""
    return relative, ChangeEvent(
        external_id="deployment:145988746",
        event_key="deployment_status:209916254",
        status=ChangeStatus.SUCCESS,
        occurred_at=dt.datetime(2019, 5, 15, 15, 20, 55, tzinfo=UTC),
        service_ref=HELLO,
        service_labels={"repository": HELLO, "environment": "production"},
        environment="production",
        started_at=dt.datetime(2019, 5, 15, 15, 20, 53, tzinfo=UTC),
        finished_at=dt.datetime(2019, 5, 15, 15, 20, 55, tzinfo=UTC),
        commit_sha="f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
        # target_url is "" and log_url null: the deployment's API url is all there is.
        url="https://api.github.com/repos/Codertocat/Hello-World/deployments/145988746",
    )


def baxter_status(relative: str, status_id: int, status: ChangeStatus) -> tuple[str, ChangeEvent]:
    """The 2015 docs example status (environment null on the status: the deployment's)."""
    return relative, ChangeEvent(
        external_id="deployment:710692",
        event_key=f"deployment_status:{status_id}",
        status=status,
        occurred_at=dt.datetime(2015, 5, 5, 23, 40, 39, tzinfo=UTC),
        service_ref=BAXTER,
        service_labels={"repository": BAXTER, "environment": "production"},
        environment="production",
        started_at=dt.datetime(2015, 5, 5, 23, 40, 38, tzinfo=UTC),
        finished_at=dt.datetime(2015, 5, 5, 23, 40, 39, tzinfo=UTC),
        commit_sha="9049f1265b7d61be4a8904a9a27120d2064dab3b",
        url="https://api.github.com/repos/baxterthehacker/public-repo/deployments/710692",
    )


def octo_run(relative: str) -> tuple[str, ChangeEvent]:
    """octokit's completed run: name is "", so the title is the display title."""
    return relative, ChangeEvent(
        external_id="workflow_run:289782451",
        event_key="workflow_run:289782451:1:completed",
        status=ChangeStatus.SUCCESS,
        occurred_at=dt.datetime(2020, 10, 5, 16, 33, 49, tzinfo=UTC),
        service_ref=OCTO,
        service_labels={"repository": OCTO, "branch": "master"},
        environment=None,
        kind=ChangeKind.DEPLOY,
        started_at=dt.datetime(2020, 10, 5, 16, 33, 49, tzinfo=UTC),
        finished_at=dt.datetime(2020, 10, 5, 16, 33, 49, tzinfo=UTC),
        commit_sha="3484a3fb816e0859fd6e1cea078d76385ff50625",
        title="ci(action): update actions/setup-node digest to 8c91899",
        url="https://github.com/octo-org/octo-repo/actions/runs/289782451",
    )


CHANGE_CASES: dict[str, ChangeEvent] = dict(
    [
        (
            "github/deployment/drone-go-scm_deployment_commit.json",
            deployment_change(
                87972451,
                HELLO,
                "production",
                dt.datetime(2018, 5, 30, 20, 18, 45, tzinfo=UTC),
                "a10867b14bb761a232cd80139fbd4c0d33264240",
                title="this is a description",
            ),
        ),
        (
            "github/deployment/go-playground_deployment.json",
            deployment_change(
                710692,
                BAXTER,
                "production",
                dt.datetime(2015, 5, 5, 23, 40, 38, tzinfo=UTC),
                "9049f1265b7d61be4a8904a9a27120d2064dab3b",
            ),
        ),
        (
            "github/deployment/octokit_gh-pages_payload.json",
            deployment_change(
                145988746,
                HELLO,
                "github-pages",
                dt.datetime(2022, 1, 3, 1, 28, 30, tzinfo=UTC),
                "f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
            ),
        ),
        (
            "github/deployment/octokit_payload.json",
            deployment_change(
                145988746,
                HELLO,
                "production",
                dt.datetime(2019, 5, 15, 15, 20, 53, tzinfo=UTC),
                "f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
            ),
        ),
        (
            "github/deployment/octokit_with-installation_payload.json",
            deployment_change(
                145988746,
                HELLO,
                "production",
                dt.datetime(2019, 5, 15, 15, 20, 53, tzinfo=UTC),
                "f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
            ),
        ),
        (
            # Trimmed: no created_at, so the time the delivery was received.
            "github/deployment/woodpecker_HookDeploy.json",
            deployment_change(
                710692, BAXTER, "production", RECEIVED, "9049f1265b7d61be4a8904a9a27120d2064dab3b"
            ),
        ),
        baxter_status(
            "github/deployment_status/go-playground_deployment-status.json",
            1115122,
            ChangeStatus.SUCCESS,
        ),
        octokit_success("github/deployment_status/jx-go-scm_deployment_status.json"),
        (
            "github/deployment_status/octokit_gh-pages_payload.json",
            ChangeEvent(
                external_id="deployment:145988746",
                event_key="deployment_status:209916254",
                status=ChangeStatus.IN_PROGRESS,
                occurred_at=dt.datetime(2022, 1, 3, 1, 28, 40, tzinfo=UTC),
                service_ref=HELLO,
                service_labels={"repository": HELLO, "environment": "github-pages"},
                environment="github-pages",
                started_at=dt.datetime(2022, 1, 3, 1, 28, 30, tzinfo=UTC),
                finished_at=None,
                commit_sha="f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
                url="https://github.com/Codertocat/Hello-World/runs/145988746?check_suite_focus=true",
            ),
        ),
        octokit_success("github/deployment_status/octokit_payload.json"),
        octokit_success("github/deployment_status/octokit_with-installation_payload.json"),
        (
            "github/deployment_status/zulip_deployment_status__error.json",
            ChangeEvent(
                external_id="deployment:3792439815",
                event_key="deployment_status:10787910773",
                status=ChangeStatus.FAILED,
                occurred_at=dt.datetime(2026, 2, 7, 20, 0, 54, tzinfo=UTC),
                service_ref="Pritesh-30/test-repo",
                service_labels={"repository": "Pritesh-30/test-repo", "environment": "production"},
                environment="production",
                started_at=dt.datetime(2026, 2, 7, 19, 58, 47, tzinfo=UTC),
                finished_at=dt.datetime(2026, 2, 7, 20, 0, 54, tzinfo=UTC),
                commit_sha="c308eeb1271af1f4d072cf79e2b4681f2eb88fbb",
                url="https://api.github.com/repos/Pritesh-30/test-repo/deployments/3792439815",
            ),
        ),
        baxter_status(
            "github/deployment_status/zulip_deployment_status__failure.json",
            1115123,
            ChangeStatus.FAILED,
        ),
        (
            # action says in_progress, but workflow_run.status is completed: that decides.
            "github/workflow_run/drone-go-scm_pipeline_hook.json",
            ChangeEvent(
                external_id="workflow_run:14030131450",
                event_key="workflow_run:14030131450:1:completed",
                status=ChangeStatus.SUCCESS,
                occurred_at=dt.datetime(2025, 3, 24, 8, 3, 46, tzinfo=UTC),
                service_ref="shivamnegi94/testrepo",
                service_labels={
                    "repository": "shivamnegi94/testrepo",
                    "workflow": "CI",
                    "branch": "shivamnegi94-patch-27",
                },
                environment=None,
                started_at=dt.datetime(2025, 3, 24, 8, 3, 42, tzinfo=UTC),
                finished_at=dt.datetime(2025, 3, 24, 8, 3, 46, tzinfo=UTC),
                commit_sha="f4229db4b70a8dadeb687f5ccce5fd327c04461a",
                title="CI",
                url="https://github.com/shivamnegi94/testrepo/actions/runs/14030131450",
            ),
        ),
        octo_run("github/workflow_run/octokit_completed_payload.json"),
        octo_run("github/workflow_run/octokit_completed_with-pull-requests_payload.json"),
    ]
)

HELLO_COMMIT = CommitRecord(
    sha="6113728f27ae82c7b1a177c8d03f9e96e0adf246",
    committed_at=dt.datetime(2019, 5, 15, 15, 19, 25, tzinfo=UTC),
    repo=HELLO,
)
COMMIT_CASES: dict[str, list[CommitRecord]] = {
    "github/push/octokit_with-new-branch_payload.json": [HELLO_COMMIT],
    "github/push/octokit_with-no-username-committer_payload.json": [HELLO_COMMIT],
    "github/push/woodpecker_HookPush.json": [
        CommitRecord(
            sha="366701fde727cb7a9e7f21eb88264f59f6f9b89c",
            # "2022-01-16T22:57:37+01:00"
            committed_at=dt.datetime(2022, 1, 16, 21, 57, 37, tzinfo=UTC),
            repo="woodpecker-ci/woodpecker",
        )
    ],
    "github/pull_request/woodpecker_HookPullRequestMerged.json": [
        CommitRecord(
            sha="473d70eb7c50a54ae62bf9b124efa1c3eb245be8",
            committed_at=dt.datetime(2023, 12, 5, 18, 34, 19, tzinfo=UTC),
            repo="anbraten/test-ready-release-go",
            request="anbraten/test-ready-release-go#62",  # number 62
        )
    ],
}

UNSUPPORTED_CASES: dict[str, str] = {
    "github/pull_request/octokit_closed_payload.json": "pull request closed without merging",
    "github/pull_request/octokit_closed_with-organization_payload.json": (
        "pull request closed without merging"
    ),
    "github/pull_request/woodpecker_HookPullRequestClosed.json": (
        "pull request closed without merging"
    ),
    # Both octokit "branch delete" examples delete the tag refs/tags/simple-tag.
    "github/push/octokit_payload.json": "push without commits (tag deleted)",
    "github/push/octokit_with-organization_payload.json": "push without commits (tag deleted)",
    "github/workflow_run/octokit_requested_with-conclusion_payload.json": (
        "workflow_run conclusion action_required is neither a success, a failure nor a cancellation"
    ),
}


@pytest.mark.parametrize("relative", sorted(CHANGE_CASES))
def test_change_fixture(relative: str) -> None:
    assert parse_fixture(relative) == Mapped(changes=[CHANGE_CASES[relative]])


@pytest.mark.parametrize("relative", sorted(COMMIT_CASES))
def test_commit_fixture(relative: str) -> None:
    assert parse_fixture(relative) == Mapped(commits=COMMIT_CASES[relative])


@pytest.mark.parametrize("relative", sorted(UNSUPPORTED_CASES))
def test_unsupported_fixture(relative: str) -> None:
    with pytest.raises(Unsupported) as info:
        parse_fixture(relative)
    assert str(info.value) == UNSUPPORTED_CASES[relative]


def test_every_github_fixture_is_covered() -> None:
    covered = set(CHANGE_CASES) | set(COMMIT_CASES) | set(UNSUPPORTED_CASES)
    assert covered == {f for f in shared_fixtures() if f.startswith("github/")}


@pytest.mark.parametrize("relative", sorted(CHANGE_CASES) + sorted(COMMIT_CASES))
def test_times_are_aware_utc(relative: str) -> None:
    mapped = parse_fixture(relative)
    times = [c.occurred_at for c in mapped.changes] + [c.committed_at for c in mapped.commits]
    times += [t for c in mapped.changes for t in (c.started_at, c.finished_at) if t is not None]
    assert times
    assert all(t.utcoffset() == dt.timedelta(0) for t in times)


def test_a_deployment_and_its_statuses_share_the_external_id() -> None:
    created = parse_fixture("github/deployment/octokit_payload.json").changes[0]
    status = parse_fixture("github/deployment_status/octokit_payload.json").changes[0]
    assert created.external_id == status.external_id == "deployment:145988746"
    assert created.event_key != status.event_key


def test_headers() -> None:
    given = delivery("deployment_status", {})
    assert github.KIND == "github"
    assert github.event_type(given) == "deployment_status"
    assert github_replay.delivery_key(given) == "72d3162e-cc78-11e3-81ab-4c9367dc0958"
    bare = Delivery(headers={}, payload={})
    assert github.event_type(bare) == "unknown"
    assert github_replay.delivery_key(bare) is None


@pytest.mark.parametrize("payload", [None, "push", 7, [], {"zen": 1}])
@pytest.mark.parametrize("headers", [{}, {"x-github-event": "", "x-github-delivery": ""}])
def test_event_type_and_delivery_key_never_raise(payload: object, headers: dict[str, str]) -> None:
    given = Delivery(headers=headers, payload=payload)
    assert github.event_type(given) == "unknown"
    assert github_replay.delivery_key(given) is None


def test_other_event_types_are_unsupported() -> None:
    with pytest.raises(Unsupported, match=r"^GitHub event ping is not used$"):
        github.parse(delivery("ping", {"zen": "Keep it logically awesome."}), AdapterOptions())
    bare = Delivery(headers={}, payload={})
    with pytest.raises(Unsupported, match="without an X-GitHub-Event header"):
        github.parse(bare, AdapterOptions())


STATUS_FIXTURE = "github/deployment_status/octokit_payload.json"
RUN_FIXTURE = "github/workflow_run/octokit_completed_payload.json"
PUSH_FIXTURE = "github/push/octokit_with-new-branch_payload.json"
MERGED_FIXTURE = "github/pull_request/woodpecker_HookPullRequestMerged.json"


@pytest.mark.parametrize(
    ("relative", "path", "value", "pointer"),
    [
        (STATUS_FIXTURE, ("deployment", "id"), DELETE, "#/deployment/id"),
        (STATUS_FIXTURE, ("deployment",), DELETE, "#/deployment"),
        (STATUS_FIXTURE, ("deployment_status", "state"), DELETE, "#/deployment_status/state"),
        (STATUS_FIXTURE, ("deployment_status", "id"), True, "#/deployment_status/id"),
        (STATUS_FIXTURE, ("repository", "full_name"), 7, "#/repository/full_name"),
        (
            STATUS_FIXTURE,
            ("deployment_status", "updated_at"),
            "yesterday",
            "#/deployment_status/updated_at",
        ),
        ("github/deployment/octokit_payload.json", ("deployment", "id"), None, "#/deployment/id"),
        (RUN_FIXTURE, ("workflow_run", "updated_at"), DELETE, "#/workflow_run/updated_at"),
        (RUN_FIXTURE, ("workflow_run", "id"), DELETE, "#/workflow_run/id"),
        (PUSH_FIXTURE, ("commits", 0, "timestamp"), None, "#/commits/0/timestamp"),
        (PUSH_FIXTURE, ("commits", 0, "id"), "not-a-sha", "#/commits/0/id"),
        (PUSH_FIXTURE, ("commits",), {}, "#/commits"),
        (
            MERGED_FIXTURE,
            ("pull_request", "merge_commit_sha"),
            None,
            "#/pull_request/merge_commit_sha",
        ),
        (MERGED_FIXTURE, ("pull_request", "merged_at"), DELETE, "#/pull_request/merged_at"),
    ],
)
def test_missing_or_malformed_field_names_its_pointer(
    relative: str, path: tuple[str | int, ...], value: object, pointer: str
) -> None:
    event = relative.split("/")[1]
    payload = changed(relative, *path, value=value)
    with pytest.raises(PayloadError) as info:
        github.parse(delivery(event, payload), AdapterOptions())
    assert info.value.pointer == pointer


DEPLOYMENT_FIXTURE = "github/deployment/octokit_payload.json"


@pytest.mark.parametrize(
    ("body", "header", "pointer", "detail"),
    [
        # X-GitHub-Event is not signed: a body under another event's name is refused, naming
        # the header and the member the body lacks (or carries, of another event).
        (PUSH_FIXTURE, "deployment_status", "#/deployment_status",
         "required by X-GitHub-Event: deployment_status: the body has no deployment_status "
         "member"),
        (PUSH_FIXTURE, "workflow_run", "#/workflow_run",
         "required by X-GitHub-Event: workflow_run: the body has no workflow_run member"),
        (PUSH_FIXTURE, "pull_request", "#/pull_request",
         "required by X-GitHub-Event: pull_request: the body has no pull_request member"),
        (MERGED_FIXTURE, "push", "#/ref",
         "required by X-GitHub-Event: push: the body has no ref member"),
        (RUN_FIXTURE, "deployment", "#/deployment",
         "required by X-GitHub-Event: deployment: the body has no deployment member"),
        (STATUS_FIXTURE, "deployment", "#/deployment_status",
         "the body carries deployment_status, which a deployment event has not: it is not the "
         "event X-GitHub-Event: deployment names"),
        (DEPLOYMENT_FIXTURE, "workflow_run", "#/deployment",
         "the body carries deployment, which a workflow_run event has not: it is not the "
         "event X-GitHub-Event: workflow_run names"),
    ],
)  # fmt: skip
def test_a_body_of_another_event_is_refused_naming_the_header(
    body: str, header: str, pointer: str, detail: str
) -> None:
    with pytest.raises(PayloadError) as info:
        github.parse(delivery(header, fixture(body)), AdapterOptions())
    assert (info.value.pointer, info.value.detail, info.value.header) == (
        pointer, detail, "X-GitHub-Event"
    )  # fmt: skip


def test_a_push_needs_its_ref_and_commits_or_head_commit() -> None:
    """Either list may be empty or null (a deleted branch): present is what counts."""
    without_both = changed(PUSH_FIXTURE, "commits", value=DELETE)
    del without_both["head_commit"]
    with pytest.raises(PayloadError) as info:
        github.parse(delivery("push", without_both), AdapterOptions())
    assert info.value.pointer == "#/commits"
    assert info.value.detail.endswith("the body has no commits or head_commit member")
    head_only = changed(PUSH_FIXTURE, "commits", value=DELETE)
    assert [c.sha for c in github.parse(delivery("push", head_only), AdapterOptions()).commits]


def test_payload_that_is_not_an_object() -> None:
    with pytest.raises(PayloadError) as info:
        github.parse(delivery("push", []), AdapterOptions())
    assert info.value.pointer == "#"


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("queued", ChangeStatus.IN_PROGRESS),
        ("pending", ChangeStatus.IN_PROGRESS),
        ("in_progress", ChangeStatus.IN_PROGRESS),
        ("failure", ChangeStatus.FAILED),
        ("error", ChangeStatus.FAILED),
    ],
)
def test_deployment_states(state: str, status: ChangeStatus) -> None:
    payload = changed(STATUS_FIXTURE, "deployment_status", "state", value=state)
    change = github.parse(delivery("deployment_status", payload), AdapterOptions()).changes[0]
    assert change.status is status
    running = status is ChangeStatus.IN_PROGRESS
    assert change.finished_at == (None if running else change.occurred_at)


def test_inactive_deployment_status_is_unsupported() -> None:
    payload = changed(STATUS_FIXTURE, "deployment_status", "state", value="inactive")
    with pytest.raises(Unsupported, match="state inactive"):
        github.parse(delivery("deployment_status", payload), AdapterOptions())


def test_status_without_updated_at_uses_created_at_and_falls_back_to_log_url() -> None:
    payload = changed(STATUS_FIXTURE, "deployment_status", "updated_at", value=DELETE)
    payload["deployment_status"]["created_at"] = "2019-05-15T17:20:56+02:00"
    payload["deployment_status"]["log_url"] = "https://example.com/log"
    change = github.parse(delivery("deployment_status", payload), AdapterOptions()).changes[0]
    assert change.occurred_at == dt.datetime(2019, 5, 15, 15, 20, 56, tzinfo=UTC)
    assert change.url == "https://example.com/log"


@pytest.mark.parametrize(
    ("conclusion", "status"),
    [
        ("failure", ChangeStatus.FAILED),
        ("timed_out", ChangeStatus.FAILED),
        ("startup_failure", ChangeStatus.FAILED),
        ("cancelled", ChangeStatus.CANCELED),
    ],
)
def test_run_conclusions(conclusion: str, status: ChangeStatus) -> None:
    payload = changed(RUN_FIXTURE, "workflow_run", "conclusion", value=conclusion)
    change = github.parse(delivery("workflow_run", payload), AdapterOptions()).changes[0]
    assert change.status is status


@pytest.mark.parametrize("conclusion", ["neutral", "skipped", "stale", None])
def test_run_conclusions_that_are_no_outcome(conclusion: str | None) -> None:
    payload = changed(RUN_FIXTURE, "workflow_run", "conclusion", value=conclusion)
    with pytest.raises(Unsupported, match=f"conclusion {conclusion or 'missing'} "):
        github.parse(delivery("workflow_run", payload), AdapterOptions())


def test_run_not_completed_is_unsupported() -> None:
    payload = changed(RUN_FIXTURE, "workflow_run", "status", value="in_progress")
    with pytest.raises(Unsupported, match=r"^workflow_run is in_progress, not completed$"):
        github.parse(delivery("workflow_run", payload), AdapterOptions())


def test_rerun_attempt_is_a_new_event_of_the_same_run() -> None:
    payload = changed(RUN_FIXTURE, "workflow_run", "run_attempt", value=2)
    change = github.parse(delivery("workflow_run", payload), AdapterOptions()).changes[0]
    assert change.external_id == "workflow_run:289782451"
    assert change.event_key == "workflow_run:289782451:2:completed"


def test_head_commit_not_among_commits_is_added() -> None:
    payload = changed(PUSH_FIXTURE, "commits", value=[])
    payload["ref"] = "refs/heads/topic"  # a new branch at an existing commit lists none
    assert github.parse(delivery("push", payload), AdapterOptions()).commits == [HELLO_COMMIT]


def test_branch_deletion_is_unsupported() -> None:
    payload = changed("github/push/octokit_payload.json", "ref", value="refs/heads/topic")
    with pytest.raises(Unsupported, match=r"^push without commits \(branch deleted\)$"):
        github.parse(delivery("push", payload), AdapterOptions())


def test_pull_request_actions_other_than_closed_are_unsupported() -> None:
    payload = changed(MERGED_FIXTURE, "action", value="opened")
    with pytest.raises(Unsupported, match=r"^pull_request action opened is not used$"):
        github.parse(delivery("pull_request", payload), AdapterOptions())


def test_deployment_actions_other_than_created_are_unsupported() -> None:
    payload = changed("github/deployment/octokit_payload.json", "action", value="deleted")
    with pytest.raises(Unsupported, match=r"^deployment action deleted is not used$"):
        github.parse(delivery("deployment", payload), AdapterOptions())
