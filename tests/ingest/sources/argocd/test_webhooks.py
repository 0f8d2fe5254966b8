"""Argo CD Notifications deliveries (tests/fixtures/webhooks/argocd/, rendered by the template
of service/ingest/sources/argocd/setup.md) through POST /v1/webhooks/{source}, with the change
each gives written out.

The app's clock stands at NOW, 18 min 25 s after the succeeded sync's finish (10:01:35): a
Degraded report arriving then is within the default window of 30 minutes.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from service import db as dbmod
from service.config import Settings
from tests.conftest import app_client
from tests.ingest.fixtures import all_fixtures, fixture, fixture_bytes

Json = dict[str, Any]
Headers = dict[str, str]

SECRET = "argocd-bearer-token"
#: Production is the cluster prod-eu; the application checkout is the service checkout.
SOURCE: Json = {
    "name": "argocd-prod", "kind": "argocd", "secret": SECRET, "username": "argocd",
    "production_envs": ["prod-eu"],
    "service_rules": [{"match": {"ref": "checkout"}, "service": "checkout"}],
}  # fmt: skip
URL = f"/v1/webhooks/{SOURCE['name']}"
AUTH = {"Authorization": f"Bearer {SECRET}", "Content-Type": "application/json"}
NOW = dt.datetime(2026, 3, 2, 10, 20, tzinfo=dt.UTC)

RUNNING = "argocd/sync_running/checkout_running.json"
SUCCEEDED = "argocd/sync_succeeded/checkout_succeeded.json"
DEGRADED = "argocd/health_degraded/checkout_degraded.json"
FAILED = "argocd/sync_failed/checkout_failed.json"
ERROR = "argocd/sync_error/checkout_error.json"
NO_OPERATION = "argocd/no_operation/checkout_no_operation.json"

SHA = "9f2c1e7a4b5d6c8e0f1a2b3c4d5e6f7a8b9c0d1e"
OTHER_SHA = "4e8d2b6a0c1f3e5d7b9a8c6e4f2d0b1a3c5e7f9d"
APP_URL = "https://argocd.example.net/applications/checkout"


def change(**fields: Any) -> Json:
    """The sync of 9f2c1e7 to prod-eu (production) started at 10:00:05, as the API shows it."""
    return {
        "external_id": f"checkout:{SHA}:2026-03-02T10:00:05Z", "service": "checkout",
        "environment": "prod-eu", "is_production": True, "kind": "deploy",
        "started_at": "2026-03-02T10:00:05Z", "commit_sha": SHA, "url": APP_URL,
    } | fields  # fmt: skip


def other(started: str, finished: str, phase: str) -> Json:
    """The sync of 4e8d2b6, which Argo CD reports failed."""
    return change(
        external_id=f"checkout:{OTHER_SHA}:{started}", started_at=started, commit_sha=OTHER_SHA,
        status="failed", finished_at=finished,
        title=f"checkout 4e8d2b6a0c1f: sync {phase}, OutOfSync, health Healthy",
        timeline=[(finished, "failed")],
    )  # fmt: skip


def sync(status: str, at: str, health: str, finished: str | None = "2026-03-02T10:01:35Z") -> Json:
    """The sync of 9f2c1e7 as of one report: its status, at `at`, with the health shown."""
    phase = {"in_progress": "Running, OutOfSync", "success": "Succeeded, Synced"}
    said = phase.get(status, "Succeeded, Synced")
    return change(
        status=status, finished_at=finished,
        title=f"checkout 9f2c1e7a4b5d: sync {said}, health {health}", timeline=[(at, status)],
    )  # fmt: skip


CASES: dict[str, Json] = {
    RUNNING: sync("in_progress", "2026-03-02T10:00:05Z", "Progressing", finished=None),
    SUCCEEDED: sync("success", "2026-03-02T10:01:35Z", "Healthy"),
    # Degraded 18 min 25 s after the finish: failed, as of its arrival (NOW).
    DEGRADED: sync("failed", "2026-03-02T10:20:00Z", "Degraded"),
    FAILED: other("2026-03-02T11:00:00Z", "2026-03-02T11:00:42Z", "Failed"),
    ERROR: other("2026-03-02T11:05:00Z", "2026-03-02T11:05:03Z", "Error"),
    NO_OPERATION: {"unmapped": "Argo CD notification without a sync operation (no phase)"},
}
FIELDS = (
    "external_id", "service", "environment", "is_production", "kind", "status", "started_at",
    "finished_at", "commit_sha", "title", "url",
)  # fmt: skip


@pytest.fixture
async def argocd(con: dbmod.Connection, settings: Settings, admin: Headers) -> Callable[..., Any]:
    """Opens a client of the app at a given time (NOW unless said) with the source
    registered (its options as given)."""

    async def open_client(
        at: dt.datetime = NOW, options: Json | None = None
    ) -> AsyncIterator[httpx.AsyncClient]:
        async with app_client(con, settings, clock=lambda: at) as client:
            body = {"slug": "checkout", "name": "Checkout", "tier": 1}
            assert (await client.post("/v1/services", json=body, headers=admin)).status_code == 201
            source = SOURCE | ({"options": options} if options is not None else {})
            resp = await client.post("/v1/sources", json=source, headers=admin)
            assert resp.status_code == 201, resp.text
            yield client

    return open_client


async def post(client: httpx.AsyncClient, relative: str, auth: Headers = AUTH) -> httpx.Response:
    return await client.post(URL, content=fixture_bytes(relative), headers=auth)


async def view(client: httpx.AsyncClient, reader: Headers, change_id: int) -> Json:
    resp = await client.get(f"/v1/changes/{change_id}", headers=reader)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    got = {name: body[name] for name in FIELDS}
    got["timeline"] = [(entry["at"], entry["what"]) for entry in body["timeline"]]
    return got


def test_every_argocd_fixture_is_covered() -> None:
    assert sorted(CASES) == [f for f in all_fixtures() if f.startswith("argocd/")]


@pytest.mark.parametrize("relative", sorted(CASES))
async def test_fixture_through_the_webhook_endpoint(
    argocd: Callable[..., Any], reader: Headers, relative: str
) -> None:
    async for client in argocd():
        resp = await post(client, relative)
        expected = CASES[relative]
        if "unmapped" in expected:
            assert resp.status_code == 202, resp.text
            assert resp.json()["detail"] == expected["unmapped"]
            continue
        assert resp.status_code == 200, resp.text
        [change_id] = resp.json()["changes"]
        assert await view(client, reader, change_id) == expected


@pytest.mark.parametrize(
    "order",
    [
        (RUNNING, SUCCEEDED, DEGRADED),
        (DEGRADED, SUCCEEDED, RUNNING),
        (SUCCEEDED, DEGRADED, RUNNING),
    ],
    ids=["in-order", "reversed", "shuffled"],
)
async def test_a_sync_turning_degraded_within_the_window_is_one_failed_change(
    argocd: Callable[..., Any], reader: Headers, order: tuple[str, ...]
) -> None:
    async for client in argocd():
        ids = set()
        for relative in order:
            resp = await post(client, relative)
            assert resp.status_code == 200, resp.text
            ids.update(resp.json()["changes"])
        [change_id] = ids
        assert await view(client, reader, change_id) == change(
            status="failed", finished_at="2026-03-02T10:01:35Z",
            title="checkout 9f2c1e7a4b5d: sync Succeeded, Synced, health Degraded",
            timeline=[("2026-03-02T10:00:05Z", "in_progress"),
                      ("2026-03-02T10:01:35Z", "success"), ("2026-03-02T10:20:00Z", "failed")],
        )  # fmt: skip


@pytest.mark.parametrize(
    ("at", "options"),
    [(dt.datetime(2026, 3, 2, 10, 45, tzinfo=dt.UTC), None),
     (NOW, {"degraded_window_minutes": 0}),
     (NOW, {"degraded_window_minutes": 15})],
    ids=["43-min-after-default-30", "window-off", "18-min-after-15"],
)  # fmt: skip
async def test_a_degraded_health_outside_the_window_is_shown_but_does_not_fail(
    argocd: Callable[..., Any], reader: Headers, at: dt.datetime, options: Json | None
) -> None:
    async for client in argocd(at, options):
        for relative in (SUCCEEDED, DEGRADED):
            resp = await post(client, relative)
            assert resp.status_code == 200, resp.text
        got = await view(client, reader, resp.json()["changes"][0])
        assert (got["status"], got["title"], got["timeline"]) == (
            "success", "checkout 9f2c1e7a4b5d: sync Succeeded, Synced, health Degraded",
            [("2026-03-02T10:01:35Z", "success"), (at.isoformat().replace("+00:00", "Z"),
                                                   "success")],
        )  # fmt: skip


async def test_a_notification_sent_again_is_a_duplicate(argocd: Callable[..., Any]) -> None:
    async for client in argocd():
        first = await post(client, SUCCEEDED)
        again = await post(client, SUCCEEDED)
        assert (again.json()["status"], again.json()["delivery_id"]) == (
            "duplicate", first.json()["delivery_id"],
        )  # fmt: skip


async def test_basic_auth_is_accepted_and_a_token_one_byte_off_refused(
    argocd: Callable[..., Any], con: dbmod.Connection
) -> None:
    basic = base64.b64encode(f"argocd:{SECRET}".encode()).decode()
    async for client in argocd():
        wrong = {"Authorization": f"Bearer {SECRET[:-1]}N"}
        assert (await post(client, SUCCEEDED, wrong)).status_code == 401
        assert await con.fetchval("select count(*) from delivery") == 0
        resp = await post(client, SUCCEEDED, {"Authorization": f"Basic {basic}"})
        assert resp.status_code == 200, resp.text


@pytest.mark.parametrize(
    ("member", "value", "pointer"),
    [("phase", "Syncing", "#/phase"), ("startedAt", "yesterday", "#/startedAt"),
     ("application", "", "#/application"), ("revision", 7, "#/revision")],
)  # fmt: skip
async def test_a_malformed_notification_is_a_422_naming_the_field(
    argocd: Callable[..., Any], con: dbmod.Connection, member: str, value: object, pointer: str
) -> None:
    body = fixture(SUCCEEDED) | {member: value}
    async for client in argocd():
        resp = await client.post(URL, content=json.dumps(body), headers=AUTH)
        assert resp.status_code == 422, resp.text
        assert [e["pointer"] for e in resp.json()["errors"]] == [pointer]
        assert await con.fetchval("select status from delivery") == "invalid"


async def test_an_option_out_of_range_is_refused_naming_it(
    con: dbmod.Connection, settings: Settings, admin: Headers
) -> None:
    async with app_client(con, settings) as client:
        source = SOURCE | {"options": {"degraded_window_minutes": -1}}
        resp = await client.post("/v1/sources", json=source, headers=admin)
        assert resp.status_code == 422, resp.text
        assert [e["field"] for e in resp.json()["errors"]] == ["options.degraded_window_minutes"]


# The template in setup.md ----------------------------------------------------------------------

SETUP = Path(__file__).resolve().parents[4] / "service/ingest/sources/argocd/setup.md"
#: What Argo CD has for each expression of the template, for the succeeded sync.
APPLICATION = {
    ".app.metadata.name": "checkout", ".app.spec.project": "shop",
    ".app.status.sync.revision": SHA, ".app.status.sync.status": "Synced",
    ".app.status.operationState.phase": "Succeeded", ".app.status.health.status": "Healthy",
    ".app.status.operationState.startedAt": "2026-03-02T10:00:05Z",
    ".app.status.operationState.finishedAt": "2026-03-02T10:01:35Z",
    ".app.spec.destination.name": "prod-eu",
    ".app.spec.destination.server": "https://prod-eu.k8s.example.net",
    ".app.spec.destination.namespace": "checkout",
    ".app.spec.source.repoURL": "https://git.example.net/shop/deploy.git",
    ".context.argocdUrl": "https://argocd.example.net",
}  # fmt: skip


def test_the_setup_template_renders_the_fixture_the_adapter_reads() -> None:
    """The body of setup.md's template, its expressions replaced as Argo CD would, is JSON
    and is the succeeded-sync fixture."""
    text = SETUP.read_text()
    body = text.split("        body: |\n", 1)[1].split("\n  trigger.", 1)[0]
    rendered = re.sub(r"\{\{(\.[\w.]+)\}\}", lambda m: APPLICATION[m[1]], body)
    assert json.loads(rendered) == fixture(SUCCEEDED)
