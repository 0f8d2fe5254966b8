"""Team-scoped tokens: a token limited to a team writes only for the services of the team and
of the teams under it (every ingestion route refuses any other with a 403 naming it), and,
with read_scope team, reads only them; a token without a team is unchanged.

The tree used throughout (parents set in SQL, as the hierarchy has no REST field here):

    org ─┬─ payments ── cards        checkout: payments, card-auth: cards
         └─ search                   search-api: search, loose: no team
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from service import db as dbmod
from service.app import all_endpoints
from service.models.enums import Scope
from service.models.tokens import ReadScope
from service.usecases import tokens

Headers = dict[str, str]
Json = dict[str, Any]

TEAMS = [("org", None), ("payments", "org"), ("cards", "payments"), ("search", "org")]
SERVICES = [
    ("checkout", "payments"),
    ("card-auth", "cards"),
    ("search-api", "search"),
    ("loose", None),
]


async def build_tree(client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers) -> None:
    for slug, parent in TEAMS:
        resp = await client.post(
            "/v1/teams", json={"slug": slug, "name": slug.title()}, headers=admin
        )
        assert resp.status_code == 201, resp.text
        if parent is not None:
            await con.execute(
                "update team set parent_id = (select id from team where slug = $2) where slug = $1",
                slug,
                parent,
            )
    for slug, team in SERVICES:
        body = {"slug": slug, "name": slug.title(), "tier": 2, "team": team}
        resp = await client.post("/v1/services", json=body, headers=admin)
        assert resp.status_code == 201, resp.text
    kpi = {
        "key": "queue_depth", "name": "Queue depth", "unit": "count",
        "direction": "lower_is_better", "aggregation": "avg", "kind": "observed",
    }  # fmt: skip
    resp = await client.post("/v1/kpis", json=kpi, headers=admin)
    assert resp.status_code == 201, resp.text


async def team_token(
    con: dbmod.Connection, team: str | None, *scopes: Scope, reads: ReadScope = ReadScope.ALL
) -> Headers:
    made = await tokens.create_token(
        con, name=f"{team}-token", scopes=list(scopes), team=team, read_scope=reads
    )
    return {"Authorization": f"Bearer {made.token}"}


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


# One request per ingestion route, for a given service ------------------------------------------

Send = Callable[[httpx.AsyncClient, Headers, str, Headers], Awaitable[httpx.Response]]


async def send_observations(
    client: httpx.AsyncClient, headers: Headers, service: str, admin: Headers
) -> httpx.Response:
    # The foreign point is the second of the batch: the whole batch is refused.
    points = [
        {"kpi": "queue_depth", "service": "checkout", "ts": now_iso(), "value": 3},
        {"kpi": "queue_depth", "service": service, "ts": now_iso(), "value": 4},
    ]
    return await client.post("/v1/observations", json=points, headers=headers)


async def send_costs(
    client: httpx.AsyncClient, headers: Headers, service: str, admin: Headers
) -> httpx.Response:
    records = [
        {"service": "checkout", "category": "cloud", "period_start": "2026-10-01",
         "period_end": "2026-11-01", "amount": 100.0, "currency": "EUR"},
        {"service": service, "category": "cloud", "period_start": "2026-10-01",
         "period_end": "2026-11-01", "amount": 200.0, "currency": "EUR"},
    ]  # fmt: skip
    return await client.post("/v1/costs", json=records, headers=headers)


async def send_budgets(
    client: httpx.AsyncClient, headers: Headers, service: str, admin: Headers
) -> httpx.Response:
    records = [
        {"service": "checkout", "category": "cloud", "period_start": "2026-10-01",
         "period_end": "2026-11-01", "amount": 100.0, "currency": "EUR"},
        {"service": service, "category": "cloud", "period_start": "2026-10-01",
         "period_end": "2026-11-01", "amount": 200.0, "currency": "EUR"},
    ]  # fmt: skip
    return await client.post("/v1/budgets", json=records, headers=headers)


def incident_body(service: str, external_id: str = "INC-1") -> Json:
    return {
        "source": "api", "external_id": external_id, "service": service, "severity": "sev2",
        "status": "open", "title": "Slow", "started_at": "2026-10-19T02:20:00Z",
    }  # fmt: skip


async def send_incident(
    client: httpx.AsyncClient, headers: Headers, service: str, admin: Headers
) -> httpx.Response:
    return await client.post("/v1/incidents", json=incident_body(service), headers=headers)


async def send_incident_event(
    client: httpx.AsyncClient, headers: Headers, service: str, admin: Headers
) -> httpx.Response:
    # The incident is recorded by a token without a team; the step is the scoped token's.
    made = await client.post("/v1/incidents", json=incident_body(service, "INC-2"), headers=admin)
    assert made.status_code == 200, made.text
    step = {"step": "acknowledged", "occurred_at": "2026-10-19T02:40:06Z"}
    return await client.post(
        f"/v1/incidents/{made.json()['id']}/events", json=step, headers=headers
    )


async def send_change(
    client: httpx.AsyncClient, headers: Headers, service: str, admin: Headers
) -> httpx.Response:
    body = {
        "source": "api", "external_id": f"deploy-{service}", "service": service,
        "environment": "production", "kind": "deploy", "status": "success",
        "started_at": "2026-10-18T14:52:28Z", "finished_at": "2026-10-18T15:04:28Z",
    }  # fmt: skip
    return await client.post("/v1/changes", json=body, headers=headers)


async def send_gate_override(
    client: httpx.AsyncClient, headers: Headers, service: str, admin: Headers
) -> httpx.Response:
    body = {"reason": "CVE fix", "change_type": "deploy"}
    return await client.post(
        f"/v1/services/{service}/deploy-gate/overrides", json=body, headers=headers
    )


#: Every ingestion route (operation id) -> its request, and the field its refusal names.
INGEST_ROUTES: dict[str, tuple[Send, str]] = {
    "ingest_observations": (send_observations, "1.service"),
    "ingest_costs": (send_costs, "1.service"),
    "ingest_budgets": (send_budgets, "1.service"),
    "upsert_incident": (send_incident, "service"),
    "add_incident_event": (send_incident_event, "service"),
    "upsert_change": (send_change, "service"),
    "override_deploy_gate": (send_gate_override, "slug"),
}

#: What each route stored, counted in SQL: a refused request stores nothing.
STORED = {
    "ingest_observations": "select count(*) from observation",
    "ingest_costs": "select count(*) from cost_record",
    "ingest_budgets": "select count(*) from budget",
    "upsert_incident": "select count(*) from incident",
    "add_incident_event": "select count(*) from incident_event where step = 'acknowledged'",
    "upsert_change": "select count(*) from change",
    "override_deploy_gate": "select count(*) from change_annotation",
}


def test_every_ingestion_route_is_covered() -> None:
    """A write an ingest token may call, added without a case here, fails this test."""
    writes = {
        e.operation_id for e in all_endpoints() if e.scope is Scope.INGEST and e.method != "GET"
    }
    assert writes == set(INGEST_ROUTES) == set(STORED)


#: (route, service): another team's, one of no team, and (but for a step, which needs an
#: incident recorded first) one that does not exist, refused alike so as to reveal nothing.
REFUSALS = [
    (route, foreign)
    for route in sorted(INGEST_ROUTES)
    for foreign in ("search-api", "loose", "no-such-service")
    if (route, foreign) != ("add_incident_event", "no-such-service")
]


@pytest.mark.parametrize(("route", "foreign"), REFUSALS)
async def test_a_team_token_is_refused_for_another_teams_service(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, route: str, foreign: str
) -> None:
    await build_tree(client, con, admin)
    send, field = INGEST_ROUTES[route]
    scoped = await team_token(con, "payments", Scope.INGEST)
    before = await con.fetchval(STORED[route])
    resp = await send(client, scoped, foreign, admin)
    assert resp.status_code == 403, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    problem = resp.json()
    detail = (
        f"service {foreign!r} is not one of the services of team 'payments' or of a team "
        "under it, to which this token is limited"
    )
    assert problem["detail"] == f"{field}: {detail}"
    assert problem["errors"] == [
        {"pointer": "#/" + field.replace(".", "/"), "field": field, "detail": detail}
    ]
    assert (problem["service"], problem["team"]) == (foreign, "payments")
    # Nothing of the request was stored, not even its rows for the team's own service.
    assert await con.fetchval(STORED[route]) == before


@pytest.mark.parametrize("route", sorted(INGEST_ROUTES))
@pytest.mark.parametrize("own", ["checkout", "card-auth"])
async def test_a_team_token_writes_for_its_team_and_the_teams_under_it(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, route: str, own: str
) -> None:
    """card-auth belongs to cards, a team under payments: a payments token writes for it."""
    await build_tree(client, con, admin)
    send, _ = INGEST_ROUTES[route]
    before = await con.fetchval(STORED[route])
    resp = await send(client, await team_token(con, "payments", Scope.INGEST), own, admin)
    assert resp.status_code in (200, 201), resp.text
    # Batches carry a checkout row and an `own` row: two when they differ, one otherwise
    # (the same key twice, the last wins); the other routes store one row.
    batch = route in ("ingest_observations", "ingest_costs", "ingest_budgets")
    added = (2 if own != "checkout" else 1) if batch else 1
    assert await con.fetchval(STORED[route]) == before + added


@pytest.mark.parametrize("route", sorted(INGEST_ROUTES))
async def test_a_token_of_the_top_team_writes_for_every_team_below_and_a_sub_team_not_above(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, route: str
) -> None:
    await build_tree(client, con, admin)
    send, field = INGEST_ROUTES[route]
    org = await team_token(con, "org", Scope.INGEST)
    resp = await send(client, org, "search-api", admin)
    assert resp.status_code in (200, 201), resp.text
    cards = await team_token(con, "cards", Scope.INGEST)
    # The batches' first row is checkout (payments, above cards): refused at index 0.
    refused = await send(client, cards, "card-auth", admin)
    batch = route in ("ingest_observations", "ingest_costs", "ingest_budgets")
    if batch:
        assert refused.status_code == 403, refused.text
        assert refused.json()["errors"][0]["field"] == "0.service"
        assert refused.json()["service"] == "checkout"
    else:
        assert refused.status_code in (200, 201), refused.text
        refused = await send(client, cards, "checkout", admin)
        assert refused.status_code == 403, refused.text
        assert refused.json()["errors"][0]["field"] == field


@pytest.mark.parametrize("route", sorted(INGEST_ROUTES))
async def test_a_token_without_a_team_writes_for_any_service(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, route: str
) -> None:
    await build_tree(client, con, admin)
    send, _ = INGEST_ROUTES[route]
    resp = await send(client, await team_token(con, None, Scope.INGEST), "loose", admin)
    assert resp.status_code in (200, 201), resp.text


async def test_a_record_without_a_service_is_refused_to_a_team_token(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers
) -> None:
    """A point of no service, or a cost of the whole estate, is no team's."""
    await build_tree(client, con, admin)
    scoped = await team_token(con, "payments", Scope.INGEST)
    point = [{"kpi": "queue_depth", "ts": now_iso(), "value": 1}]
    resp = await client.post("/v1/observations", json=point, headers=scoped)
    assert resp.status_code == 403, resp.text
    assert resp.json()["errors"][0]["field"] == "0.service"
    assert resp.json()["service"] is None
    assert resp.json()["detail"].startswith("0.service: a record without a service is not")
    cost = [{"category": "cloud", "period_start": "2026-10-01", "period_end": "2026-11-01",
             "amount": 1.0, "currency": "EUR"}]  # fmt: skip
    resp = await client.post("/v1/costs", json=cost, headers=scoped)
    assert resp.status_code == 403, resp.text
    assert await con.fetchval("select count(*) from cost_record") == 0


async def test_an_ndjson_stream_is_refused_whole_at_its_first_foreign_line(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers
) -> None:
    await build_tree(client, con, admin)
    scoped = await team_token(con, "payments", Scope.INGEST)
    lines = [
        f'{{"kpi": "queue_depth", "service": "checkout", "ts": "{now_iso()}", "value": 1}}',
        "",
        f'{{"kpi": "queue_depth", "service": "card-auth", "ts": "{now_iso()}", "value": 2}}',
        f'{{"kpi": "queue_depth", "service": "search-api", "ts": "{now_iso()}", "value": 3}}',
    ]
    resp = await client.post(
        "/v1/observations", content="\n".join(lines).encode(),
        headers={**scoped, "Content-Type": "application/x-ndjson"},
    )  # fmt: skip
    assert resp.status_code == 403, resp.text
    # Line 4 (index 3; the blank line counts).
    assert resp.json()["errors"][0]["field"] == "3.service"
    assert await con.fetchval("select count(*) from observation") == 0
    good = "\n".join(lines[:3]).encode()
    resp = await client.post(
        "/v1/observations", content=good,
        headers={**scoped, "Content-Type": "application/x-ndjson"},
    )  # fmt: skip
    assert resp.status_code == 200, resp.text
    assert resp.json()["points"] == 2


# Token administration ---------------------------------------------------------------------------


async def test_tokens_are_created_with_a_team_and_listed_with_it(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers
) -> None:
    await build_tree(client, con, admin)
    body = {"name": "payments-ci", "scopes": ["ingest", "read"], "team": "payments",
            "read_scope": "team"}  # fmt: skip
    resp = await client.post("/v1/tokens", json=body, headers=admin)
    assert resp.status_code == 201, resp.text
    made = resp.json()
    assert (made["team"], made["read_scope"], made["scopes"]) == (
        "payments",
        "team",
        ["ingest", "read"],
    )
    listed = (await client.get("/v1/tokens", headers=admin)).json()
    mine = next(t for t in listed if t["id"] == made["id"])
    assert (mine["team"], mine["read_scope"]) == ("payments", "team")
    plain = next(t for t in listed if t["id"] != made["id"])
    assert (plain["team"], plain["read_scope"]) == (None, "all")


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"scopes": ["admin"], "team": "payments"}, "team", 422),
        ({"scopes": ["read"], "read_scope": "team"}, "read_scope", 422),
        ({"scopes": ["ingest"], "team": "nobody"}, "team", 422),
    ],
)
async def test_token_limits_that_cannot_hold_are_refused(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, body: Json, field: str,
    status: int,
) -> None:  # fmt: skip
    await build_tree(client, con, admin)
    before = await con.fetchval("select count(*) from api_token")
    resp = await client.post("/v1/tokens", json={"name": "x", **body}, headers=admin)
    assert resp.status_code == status, resp.text
    assert [e["field"] for e in resp.json()["errors"]] == [field]
    assert await con.fetchval("select count(*) from api_token") == before


async def test_a_team_a_token_is_limited_to_cannot_be_deleted(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers
) -> None:
    """Deleting it would lift the limit; the 409 says it is in use."""
    await build_tree(client, con, admin)
    resp = await client.post("/v1/teams", json={"slug": "tiny", "name": "Tiny"}, headers=admin)
    assert resp.status_code == 201
    await team_token(con, "tiny", Scope.INGEST)
    resp = await client.delete("/v1/teams/tiny", headers=admin)
    assert resp.status_code == 409, resp.text


# Reads limited to the team ---------------------------------------------------------------------


async def test_reads_limited_to_the_team_filter_lists_and_hide_other_services(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers
) -> None:
    await build_tree(client, con, admin)
    for service, external_id in (("checkout", "A"), ("card-auth", "B"), ("search-api", "C")):
        resp = await client.post(
            "/v1/incidents", json=incident_body(service, external_id), headers=admin
        )
        assert resp.status_code == 200, resp.text
    ids = dict(await con.fetch("select s.slug, i.id from incident i "
                               "join business_service s on s.id = i.service_id"))  # fmt: skip
    limited = await team_token(con, "payments", Scope.READ, reads=ReadScope.TEAM)
    unlimited = await team_token(con, "payments", Scope.READ)

    listed = (await client.get("/v1/services", headers=limited)).json()
    assert sorted(s["slug"] for s in listed) == ["card-auth", "checkout"]
    listed = (await client.get("/v1/services", headers=unlimited)).json()
    assert sorted(s["slug"] for s in listed) == ["card-auth", "checkout", "loose", "search-api"]

    assert (await client.get("/v1/services/checkout", headers=limited)).status_code == 200
    assert (await client.get("/v1/services/search-api", headers=limited)).status_code == 404
    window = "?from=2026-10-01T00:00:00Z"
    report = await client.get(f"/v1/services/search-api/report{window}", headers=limited)
    assert report.status_code == 404
    report = await client.get(f"/v1/services/card-auth/report{window}", headers=limited)
    assert report.status_code == 200, report.text

    incidents = (await client.get("/v1/incidents", headers=limited)).json()
    assert sorted(i["service"] for i in incidents) == ["card-auth", "checkout"]
    by_service = await client.get("/v1/incidents?service=search-api", headers=limited)
    assert by_service.status_code == 404
    foreign = await client.get(f"/v1/incidents/{ids['search-api']}", headers=limited)
    assert foreign.status_code == 404
    own = await client.get(f"/v1/incidents/{ids['card-auth']}", headers=limited)
    assert own.status_code == 200

    series = "/v1/kpis/queue_depth/series"
    assert (await client.get(f"{series}?service=checkout", headers=limited)).status_code == 200
    assert (await client.get(f"{series}?team=cards", headers=limited)).status_code == 200
    assert (await client.get(f"{series}?service=search-api", headers=limited)).status_code == 404
    assert (await client.get(f"{series}?team=search", headers=limited)).status_code == 404
    assert (await client.get(series, headers=limited)).status_code == 403
    assert (await client.get(series, headers=unlimited)).status_code == 200


async def test_changes_read_with_a_team_limit(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers
) -> None:
    await build_tree(client, con, admin)
    for service in ("checkout", "search-api"):
        resp = await send_change(client, admin, service, admin)
        assert resp.status_code == 200, resp.text
    ids = dict(await con.fetch("select s.slug, c.id from change c "
                               "join business_service s on s.id = c.service_id"))  # fmt: skip
    limited = await team_token(con, "payments", Scope.READ, reads=ReadScope.TEAM)
    resp = await client.get("/v1/changes", headers=limited)
    assert resp.status_code == 200, resp.text
    assert [c["service"] for c in resp.json()] == ["checkout"]
    assert (await client.get(f"/v1/changes/{ids['checkout']}", headers=limited)).status_code == 200
    assert (
        await client.get(f"/v1/changes/{ids['search-api']}", headers=limited)
    ).status_code == 404


TEAM_READS = {
    "list_services", "get_service", "service_report", "list_incidents", "get_incident",
    "list_changes", "get_change", "kpi_series",
}  # fmt: skip


def test_the_reads_that_honour_a_team_limit_are_these() -> None:
    """Every other read refuses a token whose reads are limited (next test)."""
    honoured = {e.operation_id for e in all_endpoints() if e.team_reads}
    assert honoured == TEAM_READS


@pytest.mark.parametrize(
    "endpoint",
    [e for e in all_endpoints() if e.scope is Scope.READ and not e.team_reads],
    ids=lambda e: f"{e.method} {e.path}",
)
async def test_any_other_read_refuses_a_token_whose_reads_are_limited(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, endpoint: Any
) -> None:
    made = await client.post("/v1/teams", json={"slug": "payments-only", "name": "P"},
                             headers=admin)  # fmt: skip
    assert made.status_code == 201, made.text
    limited = await team_token(con, "payments-only", Scope.READ, reads=ReadScope.TEAM)
    path = endpoint.path.replace("{id:int}", "1")
    for name in ("slug", "key", "quarter"):
        path = path.replace("{" + name + "}", "x")
    resp = await client.get(path, headers=limited)
    assert resp.status_code == 403, resp.text
    assert resp.json()["team"] == "payments-only"


async def test_the_graph_refuses_a_token_whose_reads_are_limited(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers
) -> None:
    await build_tree(client, con, admin)
    query = {"query": "{ __typename }"}
    limited = await team_token(con, "payments", Scope.READ, reads=ReadScope.TEAM)
    resp = await client.post("/graphql", json=query, headers=limited)
    assert resp.status_code == 403, resp.text
    unlimited = await team_token(con, "payments", Scope.READ)
    resp = await client.post("/graphql", json=query, headers=unlimited)
    assert resp.status_code == 200, resp.text
