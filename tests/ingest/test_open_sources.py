"""The generic endpoints write only to sources of kind api, or to a source an admin opened to
them: an ingest token cannot rewrite what a tool reported through its signed deliveries."""

from __future__ import annotations

from typing import Any

import httpx

from service import db as dbmod
from tests.ingest.fixtures import fixture_bytes
from tests.ingest.test_pipeline import (
    PD_VECTOR,
    assert_applied,
    create_service,
    create_source,
    pagerduty_source,
    post_pagerduty,
    rule,
)

Headers = dict[str, str]
PROBLEM = "application/problem+json"
#: The incident of the PagerDuty vector, as the tool reported it (signed).
PD_INCIDENT = "PGR0VU2"


async def incident_state(con: dbmod.Connection, external_id: str) -> dict[str, Any]:
    row = await con.fetchrow(
        "select i.status, i.severity, i.resolved_at,"
        " (select count(*) from incident_event e where e.incident_id = i.id) as events,"
        " (select count(*) from delivery) as deliveries"
        " from incident i where i.external_id = $1",
        external_id,
    )
    assert row is not None
    return dict(row.items())


def assert_closed_source(answer: httpx.Response, source: str, *, named: bool) -> dict[str, Any]:
    assert answer.status_code == 403, answer.text
    assert answer.headers["content-type"] == PROBLEM
    problem: dict[str, Any] = answer.json()
    assert problem["type"] == "https://kpi.example/problems/forbidden"
    assert problem["source"] == source
    assert f"'{source}' is a pagerduty source" in problem["detail"]
    assert "open_to_api" in problem["detail"]
    if named:
        assert [e["field"] for e in problem["errors"]] == ["source"]
    return problem


async def test_an_ingest_token_cannot_rewrite_a_signed_incident(
    client: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers,
    con: dbmod.Connection,
) -> None:  # fmt: skip
    await pagerduty_source(client, admin)
    applied = assert_applied(await post_pagerduty(client, fixture_bytes(PD_VECTOR)))
    [incident_id] = applied["incidents"]
    before = await incident_state(con, PD_INCIDENT)
    assert before["status"] != "resolved"

    # The attack of the report: resolve it as sev5 through the generic endpoint.
    attack = {"source": "pd", "external_id": PD_INCIDENT, "service": "api",
              "status": "resolved", "severity": "sev5"}  # fmt: skip
    answer = await client.post("/v1/incidents", json=attack, headers=ingester)
    assert_closed_source(answer, "pd", named=True)
    # Or by a step on its timeline.
    step = {"step": "resolved", "occurred_at": "2026-01-01T00:00:00Z"}
    answer = await client.post(f"/v1/incidents/{incident_id}/events", json=step, headers=ingester)
    problem = assert_closed_source(answer, "pd", named=False)
    assert problem["detail"].startswith(f"incident {incident_id} belongs to source 'pd'")
    # Nothing changed, and nothing was logged.
    assert await incident_state(con, PD_INCIDENT) == before

    # Reads are not affected.
    listed = await client.get("/v1/incidents", headers=reader)
    assert [i["external_id"] for i in listed.json()] == [PD_INCIDENT]
    assert (await client.get(f"/v1/incidents/{incident_id}", headers=reader)).status_code == 200


async def test_changes_of_a_tool_source_are_refused_and_api_sources_are_open(
    client: httpx.AsyncClient, admin: Headers, ingester: Headers, con: dbmod.Connection
) -> None:
    await create_service(client, admin, "hello")
    await create_source(client, admin, "gh", "github", "gh-secret")
    change = {"external_id": "deployment:1", "service": "hello", "status": "failed",
              "environment": "production", "finished_at": "2026-01-02T10:00:00Z"}  # fmt: skip
    answer = await client.post("/v1/changes", json={**change, "source": "gh"}, headers=ingester)
    assert answer.status_code == 403, answer.text
    assert answer.json()["errors"][0]["field"] == "source"
    assert "'gh' is a github source" in answer.json()["detail"]
    assert await con.fetchval("select count(*) from change") == 0

    # The built-in `api` source, and any other source of kind api, take it.
    await create_source(client, admin, "scripts", "api")
    for source in ("api", "scripts"):
        answer = await client.post(
            "/v1/changes", json={**change, "source": source}, headers=ingester
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["source"] == source


async def test_an_admin_may_open_a_tool_source_to_the_generic_endpoints(
    client: httpx.AsyncClient, admin: Headers, ingester: Headers, con: dbmod.Connection
) -> None:
    await pagerduty_source(client, admin)
    assert_applied(await post_pagerduty(client, fixture_bytes(PD_VECTOR)))
    source = (await client.get("/v1/sources/pd", headers=admin)).json()
    assert source["open_to_api"] is False

    opened = await client.put(
        "/v1/sources/pd", headers=admin,
        json={"name": "pd", "kind": "pagerduty", "open_to_api": True,
              "service_rules": [rule("API Service", "api")]},
    )  # fmt: skip
    assert opened.status_code == 200, opened.text
    assert opened.json()["open_to_api"] is True
    update = {"source": "pd", "external_id": PD_INCIDENT, "service": "api",
              "status": "resolved", "resolved_at": "2026-01-01T00:00:00Z"}  # fmt: skip
    answer = await client.post("/v1/incidents", json=update, headers=ingester)
    assert answer.status_code == 200, answer.text
    assert (await incident_state(con, PD_INCIDENT))["status"] == "resolved"


async def test_the_catalog_file_opens_a_source(
    client: httpx.AsyncClient, admin: Headers, ingester: Headers
) -> None:
    await create_service(client, admin, "hello")
    catalog = {"sources": [{"name": "gl", "kind": "gitlab", "secret": "gl-token",
                            "open_to_api": True}]}  # fmt: skip
    applied = await client.post("/v1/catalog/apply", json=catalog, headers=admin)
    assert applied.status_code == 200, applied.text
    assert (await client.get("/v1/sources/gl", headers=admin)).json()["open_to_api"] is True
    # Closing it again is a change the dry run reports.
    closed = {"sources": [{**catalog["sources"][0], "open_to_api": False}]}
    dry = await client.post("/v1/catalog/apply?dry_run=true", json=closed, headers=admin)
    assert dry.status_code == 200, dry.text
    [change] = dry.json()["changes"]
    assert (change["action"], change["key"]) == ("update", "gl")
    assert change["fields"]["open_to_api"] == [True, False]
    change_body = {"source": "gl", "external_id": "1", "service": "hello", "status": "success"}
    answer = await client.post("/v1/changes", json=change_body, headers=ingester)
    assert answer.status_code == 200, answer.text
