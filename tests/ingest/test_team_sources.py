"""Webhook sources limited to a team: a real delivery of each of the six tools whose service
maps outside the team is kept as unmapped with the reason and answered 202 (never dropped),
applies once the source's team owns the service (replayed), and a source of the owning team,
or of a team above it, applies at once.

The fixtures and their outcomes are those of tests/ingest/test_webhook_fixtures.py: the first
of each tool's deliveries that records an incident or a change there."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from service import db as dbmod
from service.config import Settings
from tests.conftest import app_client
from tests.ingest.sources.argocd import test_webhooks as argocd
from tests.ingest.test_webhook_fixtures import CASES, SOURCES, deliver, register

Headers = dict[str, str]
Json = dict[str, Any]

#: The folder of each tool's fixtures to choose from: PagerDuty's webhooks of version 3.
KINDS = {
    "github": "github/", "gitlab": "gitlab/", "pagerduty": "pagerduty/v3/",
    "opsgenie": "opsgenie/", "alertmanager": "alertmanager/", "jira": "jira/",
}  # fmt: skip


def first_applied(kind: str) -> tuple[str, str, int]:
    """The tool's first fixture that records incidents of one service or a change, its
    service, and how many records it makes."""
    for case in CASES:
        if not case["fixture"].startswith(KINDS[kind]):
            continue
        if "incidents" in case and len({i["service"] for i in case["incidents"]}) == 1:
            return case["fixture"], case["incidents"][0]["service"], len(case["incidents"])
        if "change" in case:
            return case["fixture"], case["change"]["service"], 1
    raise AssertionError(f"no applied fixture of {kind}")


CHOSEN = {kind: first_applied(kind) for kind in KINDS}


def test_each_tool_has_a_fixture_that_records_something() -> None:
    assert set(CHOSEN) == set(KINDS)
    assert all(service and records >= 1 for _, service, records in CHOSEN.values())


async def setup(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, kind: str,
    source_team: str,
) -> str:  # fmt: skip
    """Teams org > ops (owning the fixture's service) and org > other; the tool's source,
    limited to `source_team`. Returns the service the fixture maps to."""
    _, service, _ = CHOSEN[kind]
    for slug in ("org", "ops", "other"):
        resp = await client.post("/v1/teams", json={"slug": slug, "name": slug}, headers=admin)
        assert resp.status_code == 201, resp.text
    await con.execute(
        "update team set parent_id = (select id from team where slug = 'org') "
        "where slug in ('ops', 'other')"
    )
    source = SOURCES[kind]
    original = dict(source)
    try:
        SOURCES[kind] = {**source, "team": source_team}
        await register(client, admin, kind)
    finally:
        SOURCES[kind] = original
    await con.execute(
        "update business_service set team_id = (select id from team where slug = 'ops') "
        "where slug = $1",
        service,
    )
    return service


async def stored(con: dbmod.Connection) -> int:
    return int(await con.fetchval("select (select count(*) from incident) + "
                                  "(select count(*) from change)"))  # fmt: skip


@pytest.mark.parametrize("kind", sorted(KINDS))
async def test_a_delivery_for_another_teams_service_is_kept_unmapped_with_the_reason(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, kind: str
) -> None:
    service = await setup(client, con, admin, kind, source_team="other")
    relative, _, records = CHOSEN[kind]
    resp = await deliver(client, relative)
    assert resp.status_code == 202, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    problem = resp.json()
    name = SOURCES[kind]["name"]
    assert problem["type"] == "https://kpi.example/problems/unmapped"
    detail = problem["detail"]
    assert f"maps to service {service!r}, which is not a service of team 'other'" in detail
    assert f"to which source {name!r} is limited" in detail
    # Kept, with its body and the reason; nothing of it applied.
    row = await con.fetchrow(
        "select status, detail, length(body) as size from delivery where id = $1",
        problem["delivery_id"],
    )
    assert (row["status"], row["detail"]) == ("unmapped", detail)
    assert row["size"] > 0
    assert await stored(con) == 0
    listed = await client.get(f"/v1/deliveries?source={name}", headers=admin)
    assert [d["status"] for d in listed.json()] == ["unmapped"]

    # The source moved to the owning team: the replay applies the kept delivery.
    current = (await client.get(f"/v1/sources/{name}", headers=admin)).json()
    body = {k: v for k, v in current.items() if k not in ("id", "has_secret", "webhook_path")}
    resp = await client.put(f"/v1/sources/{name}", json={**body, "team": "ops"}, headers=admin)
    assert resp.status_code == 200, resp.text
    assert resp.json()["team"] == "ops"
    replayed = await client.post(f"/v1/deliveries/{problem['delivery_id']}/replay", headers=admin)
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["status"] == "applied"
    assert await stored(con) == records


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("team", ["ops", "org"])
async def test_a_source_of_the_owning_team_or_a_team_above_applies_at_once(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, kind: str, team: str
) -> None:
    await setup(client, con, admin, kind, source_team=team)
    relative, _, records = CHOSEN[kind]
    resp = await deliver(client, relative)
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "applied"
    assert await stored(con) == records


async def test_a_source_limited_to_an_unknown_team_is_refused(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    body = {**SOURCES["jira"], "name": "jira-x", "service_rules": [], "team": "nobody"}
    resp = await client.post("/v1/sources", json=body, headers=admin)
    assert resp.status_code == 422, resp.text
    assert [e["field"] for e in resp.json()["errors"]] == ["team"]


async def test_an_argocd_source_limited_to_a_team_keeps_another_teams_sync_unmapped(
    con: dbmod.Connection, settings: Settings, admin: Headers
) -> None:
    """The same rule for a source kind beyond the six: Argo CD, at the time of its fixture."""
    async with app_client(con, settings, clock=lambda: argocd.NOW) as client:
        for slug in ("shop", "other"):
            made = await client.post("/v1/teams", json={"slug": slug, "name": slug},
                                     headers=admin)  # fmt: skip
            assert made.status_code == 201, made.text
        body = {"slug": "checkout", "name": "Checkout", "tier": 1, "team": "shop"}
        assert (await client.post("/v1/services", json=body, headers=admin)).status_code == 201
        source = argocd.SOURCE | {"team": "other"}
        assert (await client.post("/v1/sources", json=source, headers=admin)).status_code == 201
        resp = await argocd.post(client, argocd.SUCCEEDED)
        assert resp.status_code == 202, resp.text
        kept = resp.json()["delivery_id"]
        assert (
            "maps to service 'checkout', which is not a service of team 'other'"
            in (resp.json()["detail"])
        )
        assert await stored(con) == 0
        name = argocd.SOURCE["name"]
        resp = await client.put(f"/v1/sources/{name}", json=source | {"team": "shop"},
                                headers=admin)  # fmt: skip
        assert resp.status_code == 200, resp.text
        replayed = await client.post(f"/v1/deliveries/{kept}/replay", headers=admin)
        assert replayed.status_code == 200, replayed.text
        assert replayed.json()["status"] == "applied"
        assert await stored(con) == 1
