"""kpi-report: the defaults each CI's variables give (read from --dry-run), real sends to the
service in-process, and the exit codes."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import httpx
import pytest
from kpi_client import AsyncClient
from kpi_client.reporter import main

from service import db as dbmod
from tests.clients.catalog_data import make_catalog
from tests.clients.conftest import Headers, token_of
from tests.clients.transports import Flaky, LoopForwardingTransport, Unreachable

SHA = "0123456789abcdef0123456789abcdef01234567"
SECRET = "kpi_do_not_print_me"
BASE = {"KPI_URL": "https://kpi.example", "KPI_TOKEN": SECRET}
GITHUB = {
    **BASE, "GITHUB_ACTIONS": "true", "GITHUB_SHA": SHA, "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "acme/shop", "GITHUB_RUN_ID": "9001", "GITHUB_RUN_ATTEMPT": "2",
    "GITHUB_WORKFLOW": "deploy",
}  # fmt: skip
GITLAB = {
    **BASE, "GITLAB_CI": "true", "CI_COMMIT_SHA": SHA, "CI_PROJECT_PATH": "acme/shop",
    "CI_PIPELINE_ID": "4567", "CI_PIPELINE_URL": "https://gitlab.example/acme/shop/-/pipelines/4567",
    "CI_JOB_URL": "https://gitlab.example/acme/shop/-/jobs/77",
    "CI_PIPELINE_CREATED_AT": "2031-01-10T09:00:00Z", "CI_JOB_STARTED_AT": "2031-01-10T09:03:00Z",
    "CI_COMMIT_TIMESTAMP": "2031-01-09T15:00:00+01:00", "CI_ENVIRONMENT_NAME": "production",
    "CI_COMMIT_TITLE": "Fix the basket",
}  # fmt: skip
JENKINS = {
    **BASE, "JENKINS_URL": "https://jenkins.example/", "GIT_COMMIT": SHA,
    "BUILD_URL": "https://jenkins.example/job/shop-deploy/42/",
    "BUILD_TAG": "jenkins-shop-deploy-42", "JOB_NAME": "shop-deploy", "BUILD_NUMBER": "42",
}  # fmt: skip
CHANGE = ["change", "--service", "checkout", "--env", "production"]

Json = dict[str, Any]


@pytest.fixture(autouse=True)
def no_ambient_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests pass the environment to main(); the process's own must not leak in."""
    for name in ("KPI_URL", "KPI_TOKEN", "GITHUB_ACTIONS", "GITLAB_CI", "JENKINS_URL"):
        monkeypatch.delenv(name, raising=False)


def dry_run(capsys: pytest.CaptureFixture[str], argv: list[str], environ: dict[str, str]) -> Json:
    code = main([*argv, "--dry-run"], environ=environ)
    out, err = capsys.readouterr()
    assert code == 0, err
    assert SECRET not in out and SECRET not in err
    shown: Json = json.loads(out)
    return shown


def when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def test_dry_run_shows_the_request_with_the_token_hidden(
    capsys: pytest.CaptureFixture[str],
) -> None:
    shown = dry_run(capsys, [*CHANGE, "--status", "success"], GITHUB)
    assert (shown["method"], shown["url"]) == ("POST", "https://kpi.example/v1/changes")
    headers = shown["headers"]
    assert headers["authorization"] == "Bearer ***"
    assert headers["content-type"] == "application/json"
    assert len(headers["idempotency-key"]) == 36


def test_github_actions_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    before = dt.datetime.now(dt.UTC)
    body = dry_run(capsys, [*CHANGE, "--status", "failure"], GITHUB)["body"]
    assert body["external_id"] == "github:acme/shop:9001:2:checkout:production"
    assert (body["status"], body["commit_sha"], body["environment"]) == (
        "failed", SHA, "production",
    )  # fmt: skip
    assert body["url"] == "https://github.com/acme/shop/actions/runs/9001"
    assert (body["title"], body["source"], body["kind"]) == ("deploy", "api", "deploy")
    assert "started_at" not in body  # GitHub has no start-time variable
    assert before <= when(body["finished_at"]) <= dt.datetime.now(dt.UTC)
    assert "commits" not in body


def test_gitlab_ci_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["change", "--service", "checkout", "--status", "success"]
    body = dry_run(capsys, argv, GITLAB)["body"]
    assert body["external_id"] == "gitlab:acme/shop:4567:checkout:production"
    assert body["environment"] == "production"
    assert body["url"] == GITLAB["CI_PIPELINE_URL"]
    assert when(body["started_at"]) == dt.datetime(2031, 1, 10, 9, tzinfo=dt.UTC)
    assert [(c["sha"], when(c["committed_at"])) for c in body["commits"]] == [
        (SHA, dt.datetime(2031, 1, 9, 14, tzinfo=dt.UTC))
    ]
    assert body["title"] == "Fix the basket"
    without_pipeline_time = {k: v for k, v in GITLAB.items() if k != "CI_PIPELINE_CREATED_AT"}
    body = dry_run(capsys, argv, without_pipeline_time)["body"]
    assert when(body["started_at"]) == dt.datetime(2031, 1, 10, 9, 3, tzinfo=dt.UTC)


def test_jenkins_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    before = dt.datetime.now(dt.UTC)
    body = dry_run(capsys, [*CHANGE, "--status", "running"], JENKINS)["body"]
    assert body["external_id"] == "jenkins:jenkins-shop-deploy-42:checkout:production"
    assert (body["status"], body["commit_sha"]) == ("in_progress", SHA)
    assert (body["url"], body["title"]) == (JENKINS["BUILD_URL"], "shop-deploy #42")
    # No start-time variable in Jenkins: in progress means started now ...
    assert before <= when(body["started_at"]) <= dt.datetime.now(dt.UTC)
    assert "finished_at" not in body
    # ... or pass currentBuild.startTimeInMillis.
    start = dt.datetime(2031, 1, 1, 7, tzinfo=dt.UTC)
    millis = str(int(start.timestamp()) * 1000)
    argv = [*CHANGE, "--status", "SUCCESS", "--started", millis]
    body = dry_run(capsys, argv, JENKINS)["body"]
    assert when(body["started_at"]) == start
    assert body["status"] == "success" and "finished_at" in body


def test_no_ci_needs_an_external_id(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*CHANGE, "--status", "success", "--dry-run"], environ=BASE) == 2
    assert "--external-id" in capsys.readouterr().err
    argv = [
        *CHANGE, "--status", "success", "--external-id", "rel-7", "--commit", SHA,
        "--commit-time", "2031-01-09T15:00:00Z", "--started", "2031-01-10T09:00:00+01:00",
        "--finished", "2031-01-10T08:30:00Z", "--kind", "hotfix", "--title", "Release 7",
        "--link", "https://ci.example/7", "--source", "releases",
    ]  # fmt: skip
    body = dry_run(capsys, argv, BASE)["body"]
    assert body == {
        "source": "releases", "external_id": "rel-7", "service": "checkout",
        "environment": "production", "kind": "hotfix", "status": "success",
        "started_at": "2031-01-10T09:00:00+01:00", "finished_at": "2031-01-10T08:30:00Z",
        "commit_sha": SHA, "title": "Release 7", "url": "https://ci.example/7",
        "commits": [{"sha": SHA, "committed_at": "2031-01-09T15:00:00Z"}],
    }  # fmt: skip


def test_incident_and_observation_requests(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["incident", "--service", "checkout", "--severity", "sev2", "--title", "Smoke failed",
            "--started", "2031-01-10T09:00:00Z", "--caused-by", SHA]  # fmt: skip
    shown = dry_run(capsys, argv, GITLAB)
    assert shown["url"] == "https://kpi.example/v1/incidents"
    assert shown["body"] == {
        "source": "api", "external_id": "gitlab:acme/shop:4567:checkout", "service": "checkout",
        "status": "open", "severity": "sev2", "title": "Smoke failed",
        "url": GITLAB["CI_PIPELINE_URL"], "started_at": "2031-01-10T09:00:00Z", "caused_by": SHA,
    }  # fmt: skip
    argv = ["observation", "--kpi", "build_minutes", "--value", "12.5", "--service", "checkout",
            "--dimension", "runner=linux", "--ts", "2031-01-10T09:00:00Z"]  # fmt: skip
    shown = dry_run(capsys, argv, GITHUB)
    assert shown["url"] == "https://kpi.example/v1/observations"
    assert shown["body"] == [{
        "kpi": "build_minutes", "service": "checkout", "ts": "2031-01-10T09:00:00Z",
        "value": 12.5, "dimensions": {"runner": "linux"}, "source": "github-actions",
    }]  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "environ", "message"),
    [
        ([*CHANGE, "--status", "done"], GITHUB, "unknown status"),
        ([*CHANGE, "--status", "success", "--started", "yesterday"], GITHUB, "ISO 8601"),
        ([*CHANGE, "--status", "success", "--started", "2031-01-10T09:00:00"], GITHUB, "offset"),
        ([*CHANGE, "--status", "success"], {"GITHUB_ACTIONS": "true"}, "KPI_URL"),
        ([*CHANGE, "--status", "success"], {**GITHUB, "KPI_TOKEN": ""}, "KPI_TOKEN"),
        (["observation", "--kpi", "k", "--value", "1", "--dimension", "x"], BASE, "NAME=VALUE"),
        (["observation", "--kpi", "k", "--value", "lots"], BASE, "invalid float"),
        (["change", "--status", "success"], GITHUB, "--service"),
        ([], GITHUB, "COMMAND"),
    ],
)
def test_usage_errors_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], environ: dict[str, str], message: str
) -> None:
    assert main(argv, environ=environ) == 2
    assert message in capsys.readouterr().err


def test_help_exits_0_and_documents_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["change", "--help"]) == 0
    out = capsys.readouterr().out
    assert "4  service unavailable" in out and "--fail-open" in out


def test_unreachable_service_exits_4_or_0_with_fail_open(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = [*CHANGE, "--status", "success", "--max-attempts", "2"]
    nowhere = Unreachable()
    assert main(argv, environ=GITHUB, transport=nowhere) == 4
    assert nowhere.calls == 2
    assert "unavailable" in capsys.readouterr().err
    assert main([*argv, "--fail-open"], environ=GITHUB, transport=Unreachable()) == 0
    captured = capsys.readouterr()
    assert "warning" in captured.err and captured.out == ""


def environ_for(token_headers: Headers, base: dict[str, str]) -> dict[str, str]:
    return {**base, "KPI_URL": "http://kpi.test", "KPI_TOKEN": token_of(token_headers)}


def ago(minutes: int) -> dt.datetime:
    """A recent instant: the service orders a record's steps by their times, and stamps the
    ones not given with its wall clock."""
    return (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)).replace(microsecond=0)


async def run(argv: list[str], environ: dict[str, str], transport: Any) -> int:
    code: int = await asyncio.to_thread(main, argv, environ=environ, transport=transport)
    return code


async def test_reporting_a_deployment_twice_in_a_run_updates_one_change(
    kpi: AsyncClient,
    ingester: Headers,
    forwarding: LoopForwardingTransport,
    con: dbmod.Connection,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await make_catalog(kpi)
    committed, created = ago(90), ago(10)
    env = environ_for(ingester, GITLAB)
    env["CI_COMMIT_TIMESTAMP"] = committed.isoformat()
    env["CI_PIPELINE_CREATED_AT"] = created.isoformat()
    assert await run([*CHANGE, "--status", "in_progress"], env, forwarding) == 0
    first = json.loads(capsys.readouterr().out)
    assert await run([*CHANGE, "--status", "success"], env, forwarding) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["id"] == first["id"]
    assert (second["status"], second["is_production"], second["commit_sha"]) == (
        "success", True, SHA,
    )  # fmt: skip
    assert (when(second["commit_time"]), when(second["started_at"])) == (committed, created)
    row = await con.fetchrow("select count(*) as n, max(external_id) as id from change")
    assert (row["n"], row["id"]) == (1, "gitlab:acme/shop:4567:checkout:production")


async def test_reporting_an_incident_and_an_observation(
    kpi: AsyncClient,
    ingester: Headers,
    forwarding: LoopForwardingTransport,
    con: dbmod.Connection,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await make_catalog(kpi)
    env = environ_for(ingester, JENKINS)
    opened = ["incident", "--service", "checkout", "--severity", "sev2",
              "--started", ago(60).isoformat()]  # fmt: skip
    assert await run(opened, env, forwarding) == 0
    assert await run([*opened, "--status", "resolved"], env, forwarding) == 0
    (incident,) = await kpi.list_incidents()
    assert (incident.external_id, incident.status, incident.url) == (
        "jenkins:jenkins-shop-deploy-42:checkout", "resolved", JENKINS["BUILD_URL"],
    )  # fmt: skip
    point = ["observation", "--kpi", "orders", "--value", "3", "--ts", "2031-01-10T09:00:00Z"]
    assert await run(point, env, Flaky(forwarding, ["connect-after"])) == 0
    out = capsys.readouterr().out.splitlines()
    assert json.loads(out[-1])["points"] == 1
    assert await con.fetchval("select count(*) from observation") == 1
    assert await con.fetchval("select source from observation") == "jenkins"


async def test_rejected_requests_exit_3(
    kpi: AsyncClient,
    ingester: Headers,
    forwarding: LoopForwardingTransport,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await make_catalog(kpi)
    env = environ_for(ingester, GITHUB)
    unknown = ["change", "--service", "nowhere", "--status", "success"]
    assert await run(unknown, env, forwarding) == 3
    err = capsys.readouterr().err
    assert "422" in err and "service:" in err and "request id" in err
    bad_token = {**env, "KPI_TOKEN": "kpi_wrong"}
    assert await run([*CHANGE, "--status", "success"], bad_token, forwarding) == 3
    assert "401" in capsys.readouterr().err


async def test_service_errors_exit_4(
    kpi: AsyncClient, ingester: Headers, forwarding: LoopForwardingTransport
) -> None:
    await make_catalog(kpi)
    env = environ_for(ingester, GITHUB)
    always_503 = Flaky(forwarding, ["503-before"] * 3)
    argv = [*CHANGE, "--status", "success", "--max-attempts", "3"]
    assert await run(argv, env, always_503) == 4
    assert always_503.plan.calls == 3


def test_an_answer_that_is_not_the_service_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    portal = httpx.MockTransport(lambda request: httpx.Response(200, text="<html>login</html>"))
    assert main([*CHANGE, "--status", "success"], environ=GITHUB, transport=portal) == 3
    assert "KPI_URL" in capsys.readouterr().err
