"""The static cost of GraphQL operations, worked out by hand, and the budget applied to it:
refused before execution above KPI_GRAPHQL_MAX_COST, reported in `extensions.cost`, counted
against the token's rate limit."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from graphql import get_introspection_query, parse

from bench.graphql_portal import OUR_QUERY
from service import db as dbmod
from service.config import DEFAULT_GRAPHQL_MAX_COST, Settings
from service.graphql.cost import bucket_count, operation_cost, series_buckets
from service.graphql.limits import cost_schema
from service.graphql.schema import build_schema
from service.models.enums import Grain, Scope
from service.usecases import tokens
from tests.conftest import app_client

Headers = dict[str, str]
#: A Wednesday, noon.
NOW = dt.datetime(2026, 12, 16, 12, 0, tzinfo=dt.UTC)
SCHEMA = cost_schema(build_schema(Settings()))


def cost(query: str, variables: dict[str, Any] | None = None) -> int:
    return operation_cost(SCHEMA, parse(query), None, variables, NOW)


def test_a_flat_page() -> None:
    # teams 1 + nodes 1 + 10 teams x (slug 1 + name 1) + pageInfo 1 + hasNextPage 1 = 24
    assert cost("{ teams(first: 10) { nodes { slug name } pageInfo { hasNextPage } } }") == 24
    # with no `first`, the default page of 50: 1 + 1 + 50 x 1 = 52
    assert cost("{ teams { nodes { slug } } }") == 52
    # edges and nodes are both lists of the page:
    #   teams 1 + (edges 1 + 10 x (cursor + node + slug)) + (nodes 1 + 10 x slug) = 43
    assert cost("{ teams(first: 10) { edges { cursor node { slug } } nodes { slug } } }") == 43


def test_nested_connections_multiply() -> None:
    # services 1 + nodes 1 + 5 x slug + 5 x dependencies 1 + 5 x nodes 1
    #   + 5 x 3 x slug = 1 + 1 + 5 + 5 + 5 + 15 = 32
    query = "{ services(first: 5) { nodes { slug dependencies(first: 3) { nodes { slug } } } } }"
    assert cost(query) == 32
    # one level more: + 5 x 3 x (dependents 1 + nodes 1) + 5 x 3 x 4 x name
    #   = 32 + 15 + 15 + 60 = 122
    deeper = """{ services(first: 5) { nodes { slug dependencies(first: 3) { nodes {
        slug dependents(first: 4) { nodes { name } } } } } } }"""
    assert cost(deeper) == 122


def test_fragments_and_inline_fragments_count_where_spread() -> None:
    # kpis 1 + nodes 1 + 2 x (key + name) + 2 x targets 1 + 2 x nodes 1
    #   + 2 x 4 x (value + warning) = 1 + 1 + 4 + 2 + 2 + 16 = 26
    query = """
      query { kpis(first: 2) { nodes { ...K } } }
      fragment K on Kpi { key name targets(first: 4) { nodes { value ... on Target { warning } } } }
    """
    assert cost(query) == 26
    # a response key selected twice merges, as at execution: 1 + 1 + 10 x (slug + name) = 22
    assert cost("{ teams(first: 10) { nodes { slug } nodes { name } } }") == 22
    # two aliases are two fields: 2 x (1 + 1 + 10 x 1) = 24
    assert cost("{ a: teams(first: 10) { nodes { slug } } b: teams(first: 10) { nodes { slug } } }"
                ) == 24  # fmt: skip


def test_a_series_costs_its_buckets() -> None:
    # one day of hours: 24 buckets. kpi 1 + series 24 + 24 x (bucket + value) = 73
    hours = """{ kpi(key: "x") { series(grain: HOUR, from: "2026-11-01T00:00:00Z",
                                         to: "2026-11-02T00:00:00Z") { bucket value } } }"""
    assert cost(hours) == 73
    # no window: the last 12 months up to now (Jan 2026 .. Dec 2026), as a builtin series:
    # kpi 1 + series 12 + 12 x bucket = 25
    assert cost('{ kpi(key: "x") { series(grain: MONTH) { bucket } } }') == 25
    # weeks start on Monday: Wed 4 Nov to Wed 18 Nov touches the weeks of 2, 9 and 16 Nov
    assert bucket_count(Grain.WEEK, dt.datetime(2026, 11, 4, tzinfo=dt.UTC),
                        dt.datetime(2026, 11, 18, tzinfo=dt.UTC)) == 3  # fmt: skip
    # a quarter from mid-February to the first of July: Q1 and Q2
    assert bucket_count(Grain.QUARTER, dt.datetime(2026, 2, 15, tzinfo=dt.UTC),
                        dt.datetime(2026, 7, 1, tzinfo=dt.UTC)) == 2  # fmt: skip
    # from given, `to` defaulting to now: 1 Dec 00:00 to 16 Dec 12:00 is 15 days and a half,
    # 16 day buckets
    assert series_buckets(Grain.DAY, dt.datetime(2026, 12, 1, tzinfo=dt.UTC), None, NOW) == 16
    # the default span back from `to` is 48 hours counting the hour holding `to`; at 12:00
    # sharp that hour has not begun, so 13:00 two days before up to 12:00: 47 buckets
    assert series_buckets(Grain.HOUR, None, None, NOW) == 47
    assert series_buckets(Grain.HOUR, None, None, NOW + dt.timedelta(minutes=1)) == 48


def test_variables_and_skipped_fields() -> None:
    # $n = 3 KPIs, $g = WEEK from Monday 5 Oct to now (Wed 16 Dec): the weeks of 5, 12, 19,
    # 26 Oct, 2, 9, 16, 23, 30 Nov, 7 and 14 Dec = 11 buckets.
    # kpis 1 + nodes 1 + 3 x key + 3 x series 11 + 3 x 11 x value = 1 + 1 + 3 + 33 + 33 = 71
    query = """query($n: Int!, $g: Grain!, $from: DateTime, $hide: Boolean!) {
      kpis(first: $n) { nodes { key series(grain: $g, from: $from) { value }
                                name @skip(if: $hide) } } }"""
    variables = {"n": 3, "g": "WEEK", "from": "2026-10-05T00:00:00Z", "hide": True}
    assert cost(query, variables) == 71
    # shown: + 3 x name = 74
    assert cost(query, {**variables, "hide": False}) == 74


def test_kept_lists_count_at_their_bound() -> None:
    # kpis 1 + nodes 1 + 2 x escalationPath 1 + 2 x 20 steps x who = 1 + 1 + 2 + 40 = 44
    assert cost("{ kpis(first: 2) { nodes { escalationPath { who } } } }") == 44
    # incidentStats weighs 10; bySeverity is one group per severity (5), byService the
    # service itself (1): service 1 + incidentStats 10 + (bySeverity 1 + 5 x count 1)
    #   + (byService 1 + 1 x count 1) = 1 + 10 + 6 + 2 = 19
    stats = """{ service(slug: "x") { incidentStats(from: "2026-01-01T00:00:00Z") {
        bySeverity { count } byService { count } } } }"""
    assert cost(stats) == 19
    # a report list with no bound counts as a full page of 100: scorecard 50 + items 1
    #   + 100 x kpi = 151
    assert cost("{ scorecard { items { kpi } } }") == 151


def test_the_portal_page_the_readme_and_introspection_fit_the_default_budget() -> None:
    # per KPI: key name unit direction cadence 5 + owners 3 + escalationPath 1 + 20 x 4
    #   + targets 1 + nodes 1 + 10 x 6 + statusHistory 1 + nodes 1 + 1 x 7 = 160;
    # per service: slug name tier 3 + team 4 + kpis 1 + nodes 1 + 50 x (kpi 1 + 160)
    #   + outcomes 1 + nodes 1 + 20 x 2 = 3 + 4 + 8,052 + 42 = 8,101;
    # services 1 + nodes 1 + 100 x 8,101 = 810,102
    portal = cost(OUR_QUERY, {"first": 100})
    assert portal == 810_102
    assert portal < DEFAULT_GRAPHQL_MAX_COST
    readme = """{
      services(first: 10) { nodes {
        slug tier owners { business technology } team { name }
        dependencies(first: 10) { nodes { slug } }
        kpis { nodes { kpi { key targets { nodes { value warning tier } }
                             outcomes { nodes { outcome { slug } weight } } } } }
      } }
      kpi(key: "it_unit_cost") { series(grain: MONTH) { bucket value } }
      scorecard { warnings items { kpi value target status trend businessOwner } }
      service(slug: "checkout") {
        availability(from: "2026-10-01T00:00:00Z", to: "2026-11-01T00:00:00Z") {
          availability errorBudgetRemaining burnRate }
        dora(from: "2026-10-01T00:00:00Z") { changeFailureRate { value band } }
      }
    }"""
    assert cost(readme) < DEFAULT_GRAPHQL_MAX_COST
    assert cost(get_introspection_query()) < DEFAULT_GRAPHQL_MAX_COST


# Through the app ----------


async def test_the_cost_is_in_the_answer(client: httpx.AsyncClient, reader: Headers) -> None:
    r = await client.post("/graphql", headers=reader,
                          json={"query": "{ teams(first: 10) { nodes { slug name } "
                                         "pageInfo { hasNextPage } } }"})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["extensions"] == {
        "cost": {"requested": 24, "limit": DEFAULT_GRAPHQL_MAX_COST, "requests": 1}
    }


async def _statements(con: dbmod.Connection, client: httpx.AsyncClient, headers: Headers,
                      query: str) -> tuple[httpx.Response, list[str]]:  # fmt: skip
    seen: list[str] = []

    def log(record: Any) -> None:
        seen.append(record.query)

    con.add_query_logger(log)
    try:
        r = await client.post("/graphql", json={"query": query}, headers=headers)
        # the driver calls its loggers back once a statement is done, soon after: one more
        # statement makes sure every statement of the request has been seen
        await con.fetchval("select 1")
    finally:
        con.remove_query_logger(log)
    return r, seen


def _refused_before_execution(r: httpx.Response, seen: list[str], expected: int) -> None:
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"] == {
        "code": "COST_LIMIT_EXCEEDED", "cost": expected, "limit": DEFAULT_GRAPHQL_MAX_COST,
    }  # fmt: skip
    assert f"{expected:,}" in error["message"]
    assert f"{DEFAULT_GRAPHQL_MAX_COST:,}" in error["message"]
    # the request at the door is all it counted against the rate limit
    assert body["extensions"]["cost"] == {
        "requested": expected, "limit": DEFAULT_GRAPHQL_MAX_COST, "requests": 1,
    }  # fmt: skip
    # The token check is the only statement: no resolver ran.
    assert len(seen) == 1, seen
    assert "from api_token" in seen[0]


async def test_the_nested_query_of_the_issue_is_refused_before_execution(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, reader: Headers
) -> None:
    # 27 services x 22 KPIs, every KPI applying to every service.
    for i in range(27):
        r = await client.post("/v1/services", headers=admin,
                              json={"slug": f"s{i:02d}", "name": f"S{i}", "tier": 2})  # fmt: skip
        assert r.status_code == 201, r.text
    for i in range(22):
        r = await client.post("/v1/kpis", headers=admin, json={
            "key": f"k{i:02d}", "name": f"K{i}", "unit": "n", "direction": "higher_is_better",
            "aggregation": "sum"})  # fmt: skip
        assert r.status_code == 201, r.text
    await con.execute("insert into kpi_service (kpi_id, service_id) "
                      "select k.id, s.id from kpi k cross join business_service s")  # fmt: skip
    # The issue's shape (services, their KPIs, those KPIs' services, theirs ...), every page
    # at 100, within the depth limit and without an alias. From the inside out: a KPI edge
    # (kpi, key) 2 x 100 = 200, + inner service (slug, kpis, nodes) 3 = 203; x 100 services
    # = 20,300 + the KPI above it (kpi, key, services, nodes) 4 = 20,304; x 100 = 2,030,400
    # + the first service (slug, kpis, nodes) 3 = 2,030,403; + services, nodes 2 = 2,030,405.
    query = """{ services(first: 1) { nodes { slug kpis(first: 100) { nodes { kpi { key
        services(first: 100) { nodes { slug kpis(first: 100) { nodes { kpi { key } } } } }
        } } } } } }"""
    r, seen = await _statements(con, client, reader, query)
    _refused_before_execution(r, seen, 2_030_405)


async def test_thirty_aliases_of_hourly_series_are_refused_before_execution(
    client: httpx.AsyncClient, con: dbmod.Connection, reader: Headers
) -> None:
    # November 2026 in hours: 720 buckets. Per alias: kpis 1 + nodes 1
    #   + 100 x (series 720 + 720 x (bucket + value)) = 2 + 216,000 = 216,002;
    # 30 aliases: 6,480,060
    alias = (
        "a{i}: kpis(first: 100) { nodes { series(grain: HOUR, "
        'from: "2026-11-01T00:00:00Z", to: "2026-12-01T00:00:00Z") { bucket value } } }'
    )
    query = "{ " + " ".join(alias.replace("{i}", str(i)) for i in range(30)) + " }"
    r, seen = await _statements(con, client, reader, query)
    _refused_before_execution(r, seen, 6_480_060)


async def test_a_costly_query_spends_more_of_the_rate_limit(
    con: dbmod.Connection, settings: Settings
) -> None:
    limited = settings.model_copy(update={
        "rate_limit_per_second": 0.5, "rate_limit_burst": 5, "graphql_cost_per_request": 10,
    })  # fmt: skip
    token = await tokens.create_token(con, name="portal", scopes=[Scope.READ])
    headers = {"Authorization": f"Bearer {token.token}"}
    query = {"query": "{ teams(first: 10) { nodes { slug name } pageInfo { hasNextPage } } }"}
    async with app_client(con, limited) as client:
        # cost 24 at 10 a request: ceil(24 / 10) = 3 requests; the bucket of 5 keeps 2
        first = await client.post("/graphql", json=query, headers=headers)
        assert first.status_code == 200, first.text
        assert first.json()["extensions"]["cost"]["requests"] == 3
        # again: the door takes 1 (1 left), the cost wants 2 more: refused, nothing run
        second = await client.post("/graphql", json=query, headers=headers)
        assert second.status_code == 429, second.text
        assert second.headers["retry-after"] == "2"  # one missing request at 0.5 a second
        body = second.json()
        assert body["data"] is None
        assert body["errors"][0]["extensions"] == {
            "code": "RATE_LIMITED", "cost": 24, "requests": 3, "retryAfter": 2,
        }  # fmt: skip
        # the refused query spent only its door's request: one REST read still fits, and
        # then the bucket is empty
        assert (await client.get("/v1/teams", headers=headers)).status_code == 200
        assert (await client.get("/v1/teams", headers=headers)).status_code == 429


@pytest.mark.parametrize("limit", [23, 24])
async def test_the_budget_is_a_setting(
    con: dbmod.Connection, settings: Settings, reader: Headers, limit: int
) -> None:
    tight = settings.model_copy(update={"graphql_max_cost": limit})
    query = {"query": "{ teams(first: 10) { nodes { slug name } pageInfo { hasNextPage } } }"}
    async with app_client(con, tight) as client:
        r = await client.post("/graphql", json=query, headers=reader)
    body = r.json()
    if limit >= 24:
        assert "errors" not in body, body
        assert body["extensions"]["cost"] == {"requested": 24, "limit": limit, "requests": 1}
    else:
        assert body["errors"][0]["extensions"]["code"] == "COST_LIMIT_EXCEEDED"
        assert body["errors"][0]["extensions"]["limit"] == limit
