"""The GitLab adapter on every published GitLab fixture, with the fields read off by hand."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from service.ingest.model import AdapterOptions, Delivery, Mapped, PayloadError, Unsupported
from service.ingest.sources.gitlab import adapter as gitlab
from service.ingest.sources.gitlab import replay as gitlab_replay
from service.models.enums import ChangeKind, ChangeStatus
from service.models.events import ChangeEvent, CommitRecord
from tests.ingest.fixtures import fixture, shared_fixtures

UTC = dt.UTC
#: Only the group merge request hook (no merged_at nor updated_at) falls back to it.
RECEIVED = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
DELETE = object()

HOOKS = {
    "deployment": "Deployment Hook",
    "pipeline": "Pipeline Hook",
    "merge_request": "Merge Request Hook",
    "push": "Push Hook",
    "job": "Job Hook",
}
VEDANT = "vedant8600317/test"
ROOT_PROJECT = "root/test-deployment-webhooks"
GITLAB_TEST = "gitlab-org/gitlab-test"


def delivery(hook: str, payload: object, **headers: str) -> Delivery:
    return Delivery(
        headers={"x-gitlab-event": hook, **headers}, payload=payload, received_at=RECEIVED
    )


def parse_fixture(relative: str) -> Mapped:
    hook = HOOKS[relative.split("/")[1]]
    return gitlab.parse(delivery(hook, fixture(relative)), AdapterOptions())


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


def docs_deployment(relative: str) -> tuple[str, ChangeEvent]:
    """GitLab's docs example (two copies): "2021-04-28 21:50:00 +0200", no environment_tier."""
    return relative, ChangeEvent(
        external_id="deployment:15",
        event_key="deployment:15:success",
        status=ChangeStatus.SUCCESS,
        occurred_at=dt.datetime(2021, 4, 28, 19, 50, 0, tzinfo=UTC),
        service_ref=ROOT_PROJECT,
        service_labels={"project": ROOT_PROJECT, "environment": "staging"},
        environment="staging",
        kind=ChangeKind.DEPLOY,
        started_at=None,
        finished_at=dt.datetime(2021, 4, 28, 19, 50, 0, tzinfo=UTC),
        commit_sha="279484c09fbe69ededfced8c1bb6e6d24616b468",
        url="http://10.126.0.2:3000/root/test-deployment-webhooks/-/jobs/796",
    )


def vedant_deployment(
    deployment_id: int, raw: str, status: ChangeStatus, at: dt.datetime, sha: str, job: int
) -> ChangeEvent:
    """The zulip captures from gitlab.com: production, tier production."""
    running = status is ChangeStatus.IN_PROGRESS
    return ChangeEvent(
        external_id=f"deployment:{deployment_id}",
        event_key=f"deployment:{deployment_id}:{raw}",
        status=status,
        occurred_at=at,
        service_ref=VEDANT,
        service_labels={
            "project": VEDANT,
            "environment": "production",
            "environment_tier": "production",
        },
        environment="production",
        started_at=at if running else None,
        finished_at=None if running else at,
        commit_sha=sha,
        url=f"https://gitlab.com/vedant8600317/test/-/jobs/{job}",
    )


def docs_pipeline(relative: str, **fields: Any) -> tuple[str, ChangeEvent]:
    """GitLab's docs pipeline 31 (three variants differing in name and url)."""
    return relative, ChangeEvent(
        external_id="pipeline:31",
        event_key="pipeline:31:success",
        status=ChangeStatus.SUCCESS,
        occurred_at=dt.datetime(2016, 8, 12, 15, 26, 29, tzinfo=UTC),
        service_ref=GITLAB_TEST,
        service_labels={"project": GITLAB_TEST, "branch": "master"},
        environment=None,
        kind=ChangeKind.DEPLOY,
        started_at=dt.datetime(2016, 8, 12, 15, 23, 28, tzinfo=UTC),
        finished_at=dt.datetime(2016, 8, 12, 15, 26, 29, tzinfo=UTC),
        commit_sha="bcbb5ec396a2c0f828686f14fac9b80b780504f2",
        **fields,
    )


CHANGE_CASES: dict[str, ChangeEvent] = dict(
    [
        docs_deployment("gitlab/deployment/go-gitlab_deployment.json"),
        docs_deployment("gitlab/deployment/go-playground_deployment-event.json"),
        (
            "gitlab/deployment/zulip_deployment_hook__canceled.json",
            vedant_deployment(
                988610373,
                "canceled",
                ChangeStatus.CANCELED,
                dt.datetime(2025, 5, 2, 12, 36, 52, tzinfo=UTC),
                "c3cf29e88c1b0a8a60df37f4687dd5060955d2ae",
                9905830127,
            ),
        ),
        (
            "gitlab/deployment/zulip_deployment_hook__failed.json",
            vedant_deployment(
                988604916,
                "failed",
                ChangeStatus.FAILED,
                dt.datetime(2025, 5, 2, 12, 30, 19, tzinfo=UTC),
                "846d8de0b7b3d694954249d2fd5d87fbe8c84e4c",
                9905759933,
            ),
        ),
        (
            "gitlab/deployment/zulip_deployment_hook__running.json",
            vedant_deployment(
                988572802,
                "running",
                ChangeStatus.IN_PROGRESS,
                dt.datetime(2025, 5, 2, 11, 54, 46, tzinfo=UTC),
                "58793660b22d6ceacbdc23b28a0562bca339702c",
                9905389091,
            ),
        ),
        (
            "gitlab/deployment/zulip_deployment_hook__succeeded.json",
            vedant_deployment(
                988572802,
                "success",
                ChangeStatus.SUCCESS,
                dt.datetime(2025, 5, 2, 11, 55, 16, tzinfo=UTC),
                "58793660b22d6ceacbdc23b28a0562bca339702c",
                9905389091,
            ),
        ),
        docs_pipeline(
            "gitlab/pipeline/drone-go-scm_pipeline_hook.json",
            title="Pipeline for branch: master",
            url="http://example.com/gitlab-org/gitlab-test/-/pipelines/31",
        ),
        docs_pipeline("gitlab/pipeline/go-gitlab_pipeline.json", title=None, url=None),
        docs_pipeline(
            "gitlab/pipeline/go-playground_pipeline-event.json",
            title="pipeline_name",
            url="http://192.168.64.1:3005/gitlab-org/gitlab-test/-/pipelines/31",
        ),
    ]
)

COMMIT_CASES: dict[str, list[CommitRecord]] = {
    "gitlab/merge_request/drone-go-scm_pull_request_merge.json": [
        CommitRecord(
            sha="78a76ee6b4992a6baf64c59fc4c44c7323d60438",
            # updated_at "2017-12-10 17:08:07 UTC": the merge time
            committed_at=dt.datetime(2017, 12, 10, 17, 8, 7, tzinfo=UTC),
            repo="gitlab-org/hello-world",
            request="gitlab-org/hello-world!1",  # object_attributes.iid 1
        ),
        CommitRecord(
            sha="c4c79227ed610f1151f05bbc5be33b4f340d39c8",
            # "2017-12-10T08:28:36-08:00"
            committed_at=dt.datetime(2017, 12, 10, 16, 28, 36, tzinfo=UTC),
            repo="gitlab-org/hello-world",
            request="gitlab-org/hello-world!1",  # object_attributes.iid 1
        ),
    ],
    "gitlab/merge_request/go-gitlab_group_merge_request.json": [
        CommitRecord(
            sha="ac3ca1559bc39abf963586372eff7f8fdded646e",
            committed_at=RECEIVED,  # a group hook sends neither merged_at nor updated_at
            repo="exm-namespace/example-project",
        ),
        CommitRecord(
            sha="61b6a0d35dbaf915760233b637622e383d3cc9ec",
            # "2016-12-01T15:07:53+02:00"
            committed_at=dt.datetime(2016, 12, 1, 13, 7, 53, tzinfo=UTC),
            repo="exm-namespace/example-project",
        ),
    ],
    "gitlab/merge_request/woodpecker_HookPullRequestMerged.json": [
        CommitRecord(
            sha="43411b53d670203e887c4985c4e58e8e6b7c109e",
            committed_at=dt.datetime(2023, 12, 5, 18, 43, 0, tzinfo=UTC),
            repo="anbraten/woodpecker-test",
            request="anbraten/woodpecker-test!4",  # object_attributes.iid 4
        ),
        CommitRecord(
            sha="3e4db3586b65dd401de8c77b3ac343fd24cbf89b",
            committed_at=dt.datetime(2023, 12, 5, 18, 39, 57, tzinfo=UTC),
            repo="anbraten/woodpecker-test",
            request="anbraten/woodpecker-test!4",  # object_attributes.iid 4
        ),
    ],
    "gitlab/push/go-gitlab_push.json": [
        CommitRecord(
            sha="b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327",
            # "2011-12-12T14:27:31+02:00"
            committed_at=dt.datetime(2011, 12, 12, 12, 27, 31, tzinfo=UTC),
            repo="mike/diaspora",
        ),
        CommitRecord(
            sha="da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
            # "2012-01-03T23:36:29+02:00"
            committed_at=dt.datetime(2012, 1, 3, 21, 36, 29, tzinfo=UTC),
            repo="mike/diaspora",
        ),
    ],
    "gitlab/push/woodpecker_HookPush.json": [
        CommitRecord(
            sha="16862e368d8ab812e48833b741dad720d6e2cb7f",
            committed_at=dt.datetime(2021, 9, 27, 4, 46, 14, tzinfo=UTC),
            repo="test/woodpecker",
        )
    ],
}

UNSUPPORTED_CASES: dict[str, str] = {
    "gitlab/job/go-gitlab_job.json": "GitLab event Job Hook is not used",
    "gitlab/merge_request/go-gitlab_merge_request.json": "merge request action open is not used",
    "gitlab/merge_request/go-playground_merge-request-event.json": (
        "merge request action open is not used"
    ),
    "gitlab/merge_request/woodpecker_HookPullRequestClosed.json": (
        "merge request action close is not used"
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


def test_every_gitlab_fixture_is_covered() -> None:
    covered = set(CHANGE_CASES) | set(COMMIT_CASES) | set(UNSUPPORTED_CASES)
    assert covered == {f for f in shared_fixtures() if f.startswith("gitlab/")}


@pytest.mark.parametrize("relative", sorted(CHANGE_CASES) + sorted(COMMIT_CASES))
def test_times_are_aware_utc(relative: str) -> None:
    mapped = parse_fixture(relative)
    times = [c.occurred_at for c in mapped.changes] + [c.committed_at for c in mapped.commits]
    times += [t for c in mapped.changes for t in (c.started_at, c.finished_at) if t is not None]
    assert times
    assert all(t.utcoffset() == dt.timedelta(0) for t in times)


def test_running_then_success_is_one_deployment() -> None:
    running = parse_fixture("gitlab/deployment/zulip_deployment_hook__running.json").changes[0]
    done = parse_fixture("gitlab/deployment/zulip_deployment_hook__succeeded.json").changes[0]
    assert running.external_id == done.external_id == "deployment:988572802"
    assert running.event_key != done.event_key
    assert done.occurred_at - running.occurred_at == dt.timedelta(seconds=30)


def test_event_type_from_header_else_object_kind() -> None:
    assert gitlab.KIND == "gitlab"
    assert gitlab.event_type(delivery("Pipeline Hook", {})) == "Pipeline Hook"
    assert gitlab.event_type(Delivery(headers={}, payload={"object_kind": "push"})) == "push"
    assert gitlab.event_type(Delivery(headers={}, payload=[])) == "unknown"


@pytest.mark.parametrize(
    "payload",
    [None, "push", 7, [], {}, {"object_kind": 5}, {"object_kind": ""}, {"object_kind": ["push"]}],
)
@pytest.mark.parametrize(
    "headers", [{}, {"x-gitlab-event": "", "idempotency-key": "", "x-gitlab-event-uuid": ""}]
)
def test_event_type_and_delivery_key_never_raise(payload: object, headers: dict[str, str]) -> None:
    given = Delivery(headers=headers, payload=payload)
    assert gitlab.event_type(given) == "unknown"
    assert gitlab_replay.delivery_key(given) is None


def test_body_object_kind_decides_without_header() -> None:
    relative = "gitlab/deployment/zulip_deployment_hook__failed.json"
    bare = Delivery(headers={}, payload=fixture(relative), received_at=RECEIVED)
    assert gitlab.parse(bare, AdapterOptions()) == Mapped(changes=[CHANGE_CASES[relative]])


def test_other_hooks_are_unsupported() -> None:
    tag_push = {"object_kind": "tag_push", "ref": "refs/tags/v1.0.0"}
    with pytest.raises(Unsupported, match=r"^GitLab event Tag Push Hook is not used$"):
        gitlab.parse(delivery("Tag Push Hook", tag_push), AdapterOptions())


DEPLOY_FIXTURE = "gitlab/deployment/zulip_deployment_hook__running.json"
PIPELINE_FIXTURE = "gitlab/pipeline/go-playground_pipeline-event.json"
MERGED_FIXTURE = "gitlab/merge_request/woodpecker_HookPullRequestMerged.json"
PUSH_FIXTURE = "gitlab/push/go-gitlab_push.json"


@pytest.mark.parametrize("status", ["created", "blocked", "skipped"])
def test_deployment_statuses_not_used(status: str) -> None:
    payload = changed(DEPLOY_FIXTURE, "status", value=status)
    with pytest.raises(Unsupported, match=rf"^GitLab deployment status {status} is not used$"):
        gitlab.parse(delivery("Deployment Hook", payload), AdapterOptions())


def test_deployment_without_full_sha_in_commit_url_uses_short_sha() -> None:
    payload = changed(DEPLOY_FIXTURE, "commit_url", value=DELETE)
    change = gitlab.parse(delivery("Deployment Hook", payload), AdapterOptions()).changes[0]
    assert change.commit_sha == "58793660"


@pytest.mark.parametrize(
    ("raw", "status"), [("failed", ChangeStatus.FAILED), ("canceled", ChangeStatus.CANCELED)]
)
def test_pipeline_finished_statuses(raw: str, status: ChangeStatus) -> None:
    payload = changed(PIPELINE_FIXTURE, "object_attributes", "status", value=raw)
    change = gitlab.parse(delivery("Pipeline Hook", payload), AdapterOptions()).changes[0]
    assert (change.status, change.event_key) == (status, f"pipeline:31:{raw}")


@pytest.mark.parametrize("raw", ["created", "pending", "running", "skipped", "manual"])
def test_pipeline_unfinished_statuses_are_unsupported(raw: str) -> None:
    payload = changed(PIPELINE_FIXTURE, "object_attributes", "status", value=raw)
    with pytest.raises(Unsupported, match=rf"^GitLab pipeline status {raw} is not used$"):
        gitlab.parse(delivery("Pipeline Hook", payload), AdapterOptions())


def test_tag_pipeline_is_labelled_with_the_tag() -> None:
    payload = changed(PIPELINE_FIXTURE, "object_attributes", "tag", value=True)
    payload["object_attributes"]["ref"] = "v1.2.0"
    change = gitlab.parse(delivery("Pipeline Hook", payload), AdapterOptions()).changes[0]
    assert change.service_labels == {"project": GITLAB_TEST, "tag": "v1.2.0"}


def test_fast_forward_merge_records_the_last_commit_once() -> None:
    payload = changed(MERGED_FIXTURE, "object_attributes", "merge_commit_sha", value=None)
    commits = gitlab.parse(delivery("Merge Request Hook", payload), AdapterOptions()).commits
    assert commits == COMMIT_CASES[MERGED_FIXTURE][1:]


def test_push_without_commits_is_unsupported() -> None:
    payload = changed(PUSH_FIXTURE, "commits", value=[])
    payload["after"] = "0" * 40
    with pytest.raises(Unsupported, match=r"^push without commits \(branch deleted\)$"):
        gitlab.parse(delivery("Push Hook", payload), AdapterOptions())


@pytest.mark.parametrize(
    ("relative", "path", "value", "pointer"),
    [
        (DEPLOY_FIXTURE, ("deployment_id",), DELETE, "#/deployment_id"),
        (DEPLOY_FIXTURE, ("status_changed_at",), "2 May 2025", "#/status_changed_at"),
        (DEPLOY_FIXTURE, ("environment",), None, "#/environment"),
        (
            DEPLOY_FIXTURE,
            ("project", "path_with_namespace"),
            DELETE,
            "#/project/path_with_namespace",
        ),
        (DEPLOY_FIXTURE, ("project",), "test", "#/project"),
        (PIPELINE_FIXTURE, ("object_attributes", "id"), DELETE, "#/object_attributes/id"),
        (PIPELINE_FIXTURE, ("object_attributes", "status"), DELETE, "#/object_attributes/status"),
        (
            PIPELINE_FIXTURE,
            ("object_attributes", "finished_at"),
            "2016-08-12 15:26:29",
            "#/object_attributes/finished_at",
        ),
        (
            MERGED_FIXTURE,
            ("object_attributes", "last_commit"),
            DELETE,
            "#/object_attributes/last_commit",
        ),
        (
            MERGED_FIXTURE,
            ("object_attributes", "merge_commit_sha"),
            42,
            "#/object_attributes/merge_commit_sha",
        ),
        (PUSH_FIXTURE, ("commits", 1, "timestamp"), DELETE, "#/commits/1/timestamp"),
        (PUSH_FIXTURE, ("commits", 0, "id"), "abc", "#/commits/0/id"),
    ],
)
def test_missing_or_malformed_field_names_its_pointer(
    relative: str, path: tuple[str | int, ...], value: object, pointer: str
) -> None:
    hook = HOOKS[relative.split("/")[1]]
    payload = changed(relative, *path, value=value)
    with pytest.raises(PayloadError) as info:
        gitlab.parse(delivery(hook, payload), AdapterOptions())
    assert info.value.pointer == pointer


def test_payload_that_is_not_an_object() -> None:
    with pytest.raises(PayloadError) as info:
        gitlab.parse(delivery("Push Hook", "push"), AdapterOptions())
    assert info.value.pointer == "#"
