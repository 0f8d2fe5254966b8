"""The GraphQL graph: catalog queries and edges, pagination, DataLoaders, limits, mutations,
scopes and the drift of the checked-in schema files."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from service import db as dbmod
from service.cli.common import REPO_ROOT
from service.cli.export import exported_files
from service.config import Settings
from service.graphql.schema import build_schema
from service.ingest.sources.generated import generated_files
from service.models.enums import Scope
from service.usecases import tokens

Headers = dict[str, str]


async def gql(
    client: httpx.AsyncClient,
    headers: Headers,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    status: int = 200,
) -> dict[str, Any]:
    """POST a GraphQL request; check the HTTP status and return the JSON body."""
    payload: dict[str, Any] = {"query": query}
    if variables is not None:
        payload["variables"] = variables
    r = await client.post("/graphql", json=payload, headers=headers)
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    return body


async def gql_data(
    client: httpx.AsyncClient,
    headers: Headers,
    query: str,
    variables: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body = await gql(client, headers, query, variables)
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def rest(
    client: httpx.AsyncClient,
    headers: Headers,
    method: str,
    path: str,
    body: Any = None,
    status: int = 201,
) -> Any:
    r = await client.request(method, path, json=body, headers=headers)
    assert r.status_code == status, f"{method} {path}: {r.status_code} {r.text}"
    return r.json() if r.content else None


# The catalog, created through REST ----------


async def make_catalog(client: httpx.AsyncClient, admin: Headers) -> None:
    post = rest
    await post(
        client,
        admin,
        "POST",
        "/v1/teams",
        {"slug": "payments", "name": "Payments", "email": "payments@example.com"},
    )
    await post(client, admin, "POST", "/v1/teams", {"slug": "platform", "name": "Platform"})
    await post(
        client,
        admin,
        "POST",
        "/v1/services",
        {
            "slug": "db",
            "name": "Database",
            "tier": 1,
            "team": "platform",
            "business_owner": "cto@example.com",
            "technology_owner": "dba@example.com",
            "revenue_per_hour": 1250.5,
            "users": 1000,
            "outage_threshold": "sev1",
        },
    )
    await post(
        client,
        admin,
        "POST",
        "/v1/services",
        {
            "slug": "api",
            "name": "Public API",
            "tier": 2,
            "team": "payments",
            "depends_on": ["db"],
        },
    )
    await post(
        client,
        admin,
        "POST",
        "/v1/services",
        {
            "slug": "web",
            "name": "Web shop",
            "tier": 3,
            "team": "payments",
            "depends_on": ["api", "db"],
        },
    )
    await post(
        client,
        admin,
        "POST",
        "/v1/outcomes",
        {
            "slug": "protect-revenue",
            "name": "Protect revenue",
            "description": "Keep the money coming in",
            "owner": "cfo@example.com",
        },
    )
    await post(
        client, admin, "POST", "/v1/outcomes", {"slug": "delight-users", "name": "Delight users"}
    )
    await post(
        client,
        admin,
        "POST",
        "/v1/kpis",
        {
            "key": "orders",
            "name": "Orders",
            "strategic_question": "Are we selling?",
            "business_impact": "Revenue",
            "unit": "count",
            "direction": "higher_is_better",
            "aggregation": "sum",
            "cadence": "monthly",
            "business_owner": "sales@example.com",
            "technology_owner": "shop@example.com",
            "board_level": True,
            "tags": ["sales", "core"],
            "escalation_path": [
                {"who": "oncall@example.com", "channel": "email", "address": "oncall@example.com"},
                {
                    "who": "ops",
                    "channel": "webhook",
                    "address": "https://hooks.example/ops",
                    "after_breached_periods": 2,
                    "after_unacknowledged_minutes": 30,
                },
            ],
        },
    )
    await post(
        client,
        admin,
        "POST",
        "/v1/kpis",
        {
            "key": "failed_orders",
            "name": "Failed orders",
            "unit": "count",
            "direction": "lower_is_better",
            "aggregation": "sum",
        },
    )
    await post(
        client,
        admin,
        "POST",
        "/v1/kpis",
        {
            "key": "failure_rate",
            "name": "Order failure rate",
            "unit": "ratio",
            "direction": "lower_is_better",
            "aggregation": "avg",
            "kind": "ratio",
            "numerator": "failed_orders",
            "denominator": "orders",
        },
    )
    await post(
        client,
        admin,
        "POST",
        "/v1/targets",
        {"kpi": "orders", "value": 100, "warning": 120, "effective_from": "2024-01-01"},
    )
    await post(
        client,
        admin,
        "POST",
        "/v1/targets",
        {
            "kpi": "orders",
            "service": "api",
            "value": 50,
            "effective_from": "2024-01-01",
            "effective_to": "2025-01-01",
        },
    )
    await post(
        client,
        admin,
        "POST",
        "/v1/targets",
        {
            "kpi": "failure_rate",
            "tier": 1,
            "value": 0.05,
            "warning": 0.02,
            "effective_from": "2024-06-01",
        },
    )
    for kpi, outcome, link in (
        ("orders", "protect-revenue", {"weight": 2, "rationale": "more orders, more revenue"}),
        ("failure_rate", "protect-revenue", {}),
        ("failure_rate", "delight-users", {"weight": 0.5}),
    ):
        await rest(client, admin, "PUT", f"/v1/kpis/{kpi}/outcomes/{outcome}", link, status=200)
    for kpi, service in (("orders", "api"), ("orders", "web"), ("failure_rate", "api")):
        await rest(client, admin, "PUT", f"/v1/kpis/{kpi}/services/{service}", status=200)
    points = [
        {"kpi": "orders", "service": "api", "ts": "2024-01-05T10:00:00Z", "value": 10},
        {"kpi": "orders", "service": "api", "ts": "2024-01-20T10:00:00Z", "value": 5},
        {"kpi": "orders", "service": "api", "ts": "2024-02-03T10:00:00Z", "value": 7},
        {"kpi": "orders", "service": "web", "ts": "2024-02-04T10:00:00Z", "value": 3},
        {"kpi": "failed_orders", "service": "api", "ts": "2024-01-10T10:00:00Z", "value": 1},
        {"kpi": "failed_orders", "service": "api", "ts": "2024-02-10T10:00:00Z", "value": 2},
    ]
    result = await rest(client, admin, "POST", "/v1/observations", points, status=200)
    assert result == {"points": 6, "inserted": 6, "updated": 0, "unchanged": 0}


@pytest.fixture
async def catalog(client: httpx.AsyncClient, admin: Headers) -> None:
    await make_catalog(client, admin)


def slugs(items: list[dict[str, Any]], key: str = "slug") -> list[str]:
    return sorted(i[key] for i in items)


def unwrap(data: dict[str, Any]) -> Any:
    """The answer with each connection below the root fields that is asked only for its
    `nodes` read as that list."""
    return {
        root: {k: _nodes(v) for k, v in value.items()} if isinstance(value, dict) else value
        for root, value in data.items()
    }


def _nodes(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"nodes"}:
            return [_nodes(v) for v in value["nodes"]]
        return {k: _nodes(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nodes(v) for v in value]
    return value


SERVICE_FIELDS = """
    slug name tier revenuePerHour users outageThreshold owners { business technology }
    team { slug name email }
    dependencies { nodes { slug } }
    dependents { nodes { slug } }
    kpis { nodes { kpi { key } } }
    outcomes { nodes { slug } }
"""


async def test_services_with_their_edges(
    client: httpx.AsyncClient, reader: Headers, catalog: None
) -> None:
    data = unwrap(
        await gql_data(
            client, reader, f"{{ services {{ nodes {{ {SERVICE_FIELDS} }} edges {{ cursor }} }} }}"
        )
    )
    nodes = data["services"]["nodes"]
    assert [n["slug"] for n in nodes] == ["db", "api", "web"]  # in creation order
    db, api, web = nodes
    assert {k: v for k, v in db.items() if k not in ("dependencies", "dependents")} == {
        "slug": "db",
        "name": "Database",
        "tier": 1,
        "revenuePerHour": 1250.5,
        "users": 1000,
        "outageThreshold": "SEV1",
        "owners": {"business": "cto@example.com", "technology": "dba@example.com"},
        "team": {"slug": "platform", "name": "Platform", "email": None},
        "kpis": [],
        "outcomes": [],
    }
    assert db["dependencies"] == []
    assert slugs(db["dependents"]) == ["api", "web"]
    assert api["team"] == {"slug": "payments", "name": "Payments", "email": "payments@example.com"}
    assert (api["tier"], api["revenuePerHour"], api["users"]) == (2, None, None)
    assert api["outageThreshold"] == "SEV2"
    assert api["owners"] == {"business": None, "technology": None}
    assert api["dependencies"] == [{"slug": "db"}]
    assert api["dependents"] == [{"slug": "web"}]
    assert slugs([n["kpi"] for n in api["kpis"]], "key") == ["failure_rate", "orders"]
    assert slugs(api["outcomes"]) == ["delight-users", "protect-revenue"]
    assert web["team"]["slug"] == "payments"
    assert slugs(web["dependencies"]) == ["api", "db"]
    assert web["dependents"] == []
    assert web["kpis"] == [{"kpi": {"key": "orders"}}]
    assert web["outcomes"] == [{"slug": "protect-revenue"}]
    assert len({e["cursor"] for e in data["services"]["edges"]}) == 3


async def test_service_by_slug(client: httpx.AsyncClient, reader: Headers, catalog: None) -> None:
    data = unwrap(
        await gql_data(
            client,
            reader,
            f'{{ web: service(slug: "web") {{ {SERVICE_FIELDS} }} '
            f'missing: service(slug: "nope") {{ slug }} }}',
        )
    )
    web = data["web"]
    assert web["name"] == "Web shop"
    assert web["tier"] == 3
    assert web["team"] == {"slug": "payments", "name": "Payments", "email": "payments@example.com"}
    assert slugs(web["dependencies"]) == ["api", "db"]
    assert web["kpis"] == [{"kpi": {"key": "orders"}}]
    assert data["missing"] is None


KPI_FIELDS = """
    key name strategicQuestion businessImpact unit direction aggregation kind metric cadence
    boardLevel tags owners { business technology }
    escalationPath { position who channel address afterBreachedPeriods afterUnacknowledgedMinutes }
    numerator { key }
    denominator { key }
    targets { nodes { id service tier value warning effectiveFrom effectiveTo } }
    outcomes { nodes { outcome { slug name } weight rationale } }
    services { nodes { slug } }
"""


async def test_kpi_by_key_with_edges_and_series(
    client: httpx.AsyncClient, reader: Headers, catalog: None
) -> None:
    data = unwrap(
        await gql_data(
            client,
            reader,
            f"""{{
          orders: kpi(key: "orders") {{
            {KPI_FIELDS}
            series(grain: MONTH) {{ bucket value count }}
            apiSeries: series(grain: MONTH, service: "api", from: "2024-01-01T00:00:00Z",
                              to: "2024-02-01T00:00:00Z") {{ bucket value count }}
          }}
          rate: kpi(key: "failure_rate") {{
            {KPI_FIELDS}
            series(grain: MONTH, service: "api") {{ bucket value count }}
          }}
          missing: kpi(key: "nope") {{ key }}
        }}""",
        )
    )
    orders = data["orders"]
    targets = orders.pop("targets")
    services = orders.pop("services")
    assert orders == {
        "key": "orders",
        "name": "Orders",
        "strategicQuestion": "Are we selling?",
        "businessImpact": "Revenue",
        "unit": "count",
        "direction": "HIGHER_IS_BETTER",
        "aggregation": "SUM",
        "kind": "OBSERVED",
        "metric": None,
        "cadence": "MONTHLY",
        "boardLevel": True,
        "tags": ["sales", "core"],
        "owners": {"business": "sales@example.com", "technology": "shop@example.com"},
        "escalationPath": [
            {
                "position": 1,
                "who": "oncall@example.com",
                "channel": "EMAIL",
                "address": "oncall@example.com",
                "afterBreachedPeriods": 1,
                "afterUnacknowledgedMinutes": None,
            },
            {
                "position": 2,
                "who": "ops",
                "channel": "WEBHOOK",
                "address": "hooks.example",  # a read token sees the webhook's host only
                "afterBreachedPeriods": 2,
                "afterUnacknowledgedMinutes": 30,
            },
        ],
        "numerator": None,
        "denominator": None,
        "outcomes": [
            {
                "outcome": {"slug": "protect-revenue", "name": "Protect revenue"},
                "weight": 2.0,
                "rationale": "more orders, more revenue",
            },
        ],
        "series": [
            {"bucket": "2024-01-01T00:00:00Z", "value": 15.0, "count": 2},
            {"bucket": "2024-02-01T00:00:00Z", "value": 10.0, "count": 2},
        ],
        "apiSeries": [{"bucket": "2024-01-01T00:00:00Z", "value": 15.0, "count": 2}],
    }
    assert [{k: v for k, v in t.items() if k != "id"} for t in targets] == [
        {
            "service": None,
            "tier": None,
            "value": 100.0,
            "warning": 120.0,
            "effectiveFrom": "2024-01-01",
            "effectiveTo": None,
        },
        {
            "service": "api",
            "tier": None,
            "value": 50.0,
            "warning": None,
            "effectiveFrom": "2024-01-01",
            "effectiveTo": "2025-01-01",
        },
    ]
    assert all(isinstance(t["id"], int) for t in targets)
    assert slugs(services) == ["api", "web"]

    rate = data["rate"]
    assert rate["kind"] == "RATIO"
    assert rate["direction"] == "LOWER_IS_BETTER"
    assert rate["numerator"] == {"key": "failed_orders"}
    assert rate["denominator"] == {"key": "orders"}
    assert rate["escalationPath"] == []
    assert rate["owners"] == {"business": None, "technology": None}
    assert sorted(
        (o["outcome"]["slug"], o["weight"], o["rationale"]) for o in rate["outcomes"]
    ) == [("delight-users", 0.5, None), ("protect-revenue", 1.0, None)]
    assert rate["services"] == [{"slug": "api"}]
    assert [{k: v for k, v in t.items() if k != "id"} for t in rate["targets"]] == [
        {
            "service": None,
            "tier": 1,
            "value": 0.05,
            "warning": 0.02,
            "effectiveFrom": "2024-06-01",
            "effectiveTo": None,
        },
    ]
    # numerator and denominator are each summed per month, then divided
    assert rate["series"] == [
        {"bucket": "2024-01-01T00:00:00Z", "value": pytest.approx(1 / 15), "count": 3},
        {"bucket": "2024-02-01T00:00:00Z", "value": pytest.approx(2 / 7), "count": 2},
    ]
    assert data["missing"] is None


async def test_series_range_is_checked(
    client: httpx.AsyncClient, reader: Headers, catalog: None
) -> None:
    """As in REST (GET /v1/kpis/{key}/series answers 422 "to: must be after from")."""
    params = {"from": "2024-03-01T00:00:00Z", "to": "2024-01-01T00:00:00Z", "grain": "month"}
    r = await client.get("/v1/kpis/orders/series", params=params, headers=reader)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["to"]

    naive = await gql(
        client, reader, '{ kpi(key: "orders") { series(from: "2024-01-01T00:00:00") { value } } }'
    )
    assert [e["message"] for e in naive["errors"]] == ["from: give a time zone offset"]
    reversed_range = await gql(
        client,
        reader,
        '{ kpi(key: "orders") { series(grain: MONTH, '
        'from: "2024-03-01T00:00:00Z", to: "2024-01-01T00:00:00Z") '
        "{ value } } }",
    )
    assert reversed_range.get("data") == {"kpi": None}, reversed_range
    assert [e["path"] for e in reversed_range["errors"]] == [["kpi", "series"]]
    assert "to" in reversed_range["errors"][0]["message"]


async def test_kpis_list(client: httpx.AsyncClient, reader: Headers, catalog: None) -> None:
    data = await gql_data(
        client,
        reader,
        "{ all: kpis { nodes { key } pageInfo { hasNextPage } } "
        "  board: kpis(boardLevel: true) { nodes { key } } }",
    )
    assert data["all"] == {
        "nodes": [{"key": "orders"}, {"key": "failed_orders"}, {"key": "failure_rate"}],
        "pageInfo": {"hasNextPage": False},
    }
    assert data["board"] == {"nodes": [{"key": "orders"}]}


async def test_outcomes_with_their_edges(
    client: httpx.AsyncClient, reader: Headers, catalog: None
) -> None:
    fields = (
        "slug name description owner kpis { nodes { kpi { key } weight rationale } } "
        "services { nodes { slug } }"
    )
    data = unwrap(
        await gql_data(
            client,
            reader,
            f"{{ outcomes {{ nodes {{ {fields} }} pageInfo {{ hasNextPage }} }} "
            f'one: outcome(slug: "delight-users") {{ {fields} }} '
            f'missing: outcome(slug: "nope") {{ slug }} }}',
        )
    )
    nodes = data["outcomes"]["nodes"]
    assert [n["slug"] for n in nodes] == ["protect-revenue", "delight-users"]  # creation order
    protect, delight = nodes
    assert (protect["name"], protect["description"], protect["owner"]) == (
        "Protect revenue",
        "Keep the money coming in",
        "cfo@example.com",
    )
    assert sorted((k["kpi"]["key"], k["weight"], k["rationale"]) for k in protect["kpis"]) == [
        ("failure_rate", 1.0, None),
        ("orders", 2.0, "more orders, more revenue"),
    ]
    assert slugs(protect["services"]) == ["api", "web"]
    assert delight == {
        "slug": "delight-users",
        "name": "Delight users",
        "description": None,
        "owner": None,
        "kpis": [{"kpi": {"key": "failure_rate"}, "weight": 0.5, "rationale": None}],
        "services": [{"slug": "api"}],
    }
    assert data["one"] == delight
    assert data["outcomes"]["pageInfo"] == {"hasNextPage": False}
    assert data["missing"] is None


async def test_teams_with_their_services(
    client: httpx.AsyncClient, reader: Headers, catalog: None
) -> None:
    data = await gql_data(
        client, reader, "{ teams { nodes { slug name email services { nodes { slug tier } } } } }"
    )
    data = unwrap(data)
    assert data["teams"]["nodes"] == [
        {
            "slug": "payments",
            "name": "Payments",
            "email": "payments@example.com",
            "services": [{"slug": "api", "tier": 2}, {"slug": "web", "tier": 3}],
        },
        {
            "slug": "platform",
            "name": "Platform",
            "email": None,
            "services": [{"slug": "db", "tier": 1}],
        },
    ]


async def test_services_filters(client: httpx.AsyncClient, reader: Headers, catalog: None) -> None:
    data = await gql_data(
        client,
        reader,
        "{ t1: services(tier: 1) { nodes { slug } } "
        'pay: services(team: "payments") { nodes { slug } } }',
    )
    assert data == {
        "t1": {"nodes": [{"slug": "db"}]},
        "pay": {"nodes": [{"slug": "api"}, {"slug": "web"}]},
    }


# Pagination ----------


PAGE = """query($after: String) {
  services(first: 2, after: $after) {
    edges { cursor node { slug } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def test_cursor_pagination_visits_each_service_once(
    client: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    created = [f"svc-{i}" for i in range(5)]
    for slug in created:
        await rest(client, admin, "POST", "/v1/services", {"slug": slug, "name": slug, "tier": 2})
    seen: list[str] = []
    pages = []
    after = None
    for _ in range(4):
        page = (await gql_data(client, reader, PAGE, {"after": after}))["services"]
        pages.append(page)
        seen += [e["node"]["slug"] for e in page["edges"]]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
    assert [len(p["edges"]) for p in pages] == [2, 2, 1]
    assert [p["pageInfo"]["hasNextPage"] for p in pages] == [True, True, False]
    assert seen == created
    assert [p["pageInfo"]["endCursor"] for p in pages] == [p["edges"][-1]["cursor"] for p in pages]
    # after the last cursor: an empty page
    last = (await gql_data(client, reader, PAGE, {"after": after}))["services"]
    assert last == {"edges": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}


@pytest.mark.parametrize(
    ("root", "path", "body"),
    [
        ("teams", "/v1/teams", lambda i: {"slug": f"team-{i}", "name": f"T{i}"}),
        ("outcomes", "/v1/outcomes", lambda i: {"slug": f"out-{i}", "name": f"O{i}"}),
    ],
)
async def test_teams_and_outcomes_page_in_creation_order(
    client: httpx.AsyncClient, admin: Headers, reader: Headers, root: str, path: str,
    body: Any,
) -> None:  # fmt: skip
    # Created in an order unlike their slugs' order: pages follow creation.
    for i in (3, 1, 4, 0, 2):
        await rest(client, admin, "POST", path, body(i))
    query = f"""query($after: String) {{ {root}(first: 2, after: $after) {{
        nodes {{ slug }} pageInfo {{ hasNextPage endCursor }} }} }}"""
    seen, after, more = [], None, True
    while more:
        page = (await gql_data(client, reader, query, {"after": after}))[root]
        seen.append([n["slug"] for n in page["nodes"]])
        after, more = page["pageInfo"]["endCursor"], page["pageInfo"]["hasNextPage"]
    prefix = path.rsplit("/", 1)[1][:-1].replace("outcome", "out")
    assert seen == [[f"{prefix}-3", f"{prefix}-1"], [f"{prefix}-4", f"{prefix}-0"], [f"{prefix}-2"]]


@pytest.mark.parametrize("first", [0, -1, 101])
async def test_page_size_out_of_range_is_an_error(
    client: httpx.AsyncClient, reader: Headers, first: int
) -> None:
    body = await gql(client, reader, f"{{ services(first: {first}) {{ nodes {{ slug }} }} }}")
    assert body["data"] is None
    assert [e["message"] for e in body["errors"]] == ["first must be between 1 and 100"]
    assert body["errors"][0]["path"] == ["services"]


async def test_invalid_cursor_is_an_error(client: httpx.AsyncClient, reader: Headers) -> None:
    body = await gql(client, reader, '{ services(after: "bm9wZQ==") { nodes { slug } } }')
    assert body["data"] is None
    assert body["errors"][0]["message"] == "invalid cursor 'bm9wZQ=='"


async def test_a_nul_character_is_the_clients_error_before_anything_runs(
    client: httpx.AsyncClient, reader: Headers
) -> None:
    """A NUL character in an argument used to reach Postgres, which refused it (first masked
    as 'Unexpected error.', then reported as REST reports it); it is now refused before the
    query runs, naming the argument."""
    body = await gql(client, reader, '{ service(slug: "a\\u0000b") { slug } }')
    assert body["data"] is None
    assert [e["message"] for e in body["errors"]] == [
        "slug: must not contain the NUL character (U+0000)"
    ]


async def test_a_nul_character_in_a_mutation_is_refused_before_it_runs(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    body = await gql(client, admin, 'mutation { deleteService(slug: "a\\u0000b") { __typename } }')
    assert body["data"] is None
    assert [e["extensions"]["field"] for e in body["errors"]] == ["slug"]


# DataLoaders ----------


async def seed_services(client: httpx.AsyncClient, admin: Headers, start: int, stop: int) -> None:
    """Services start..stop-1: each with a team, a dependency on the previous one, both KPIs."""
    for i in range(start, stop):
        body: dict[str, Any] = {
            "slug": f"s{i}",
            "name": f"Service {i}",
            "tier": 1 + i % 4,
            "team": f"team-{i % 3}",
        }
        if i > 0:
            body["depends_on"] = [f"s{i - 1}"]
        await rest(client, admin, "POST", "/v1/services", body)
        for kpi in ("k_a", "k_b"):
            await rest(client, admin, "PUT", f"/v1/kpis/{kpi}/services/s{i}", status=200)
        await rest(
            client,
            admin,
            "POST",
            "/v1/targets",
            {"kpi": "k_a", "service": f"s{i}", "value": i, "effective_from": "2024-01-01"},
        )


LOADER_QUERY = """{
  services(first: 100) {
    nodes {
      slug
      team { slug }
      dependencies { nodes { slug } }
      dependents { nodes { slug } }
      kpis { nodes { kpi { key targets(first: 10) { nodes { value } }
                            outcomes { nodes { outcome { slug } } } } } }
      outcomes { nodes { slug } }
      availability(from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z") {
        availability targetScope
      }
    }
  }
}"""


async def count_statements(
    con: dbmod.Connection, client: httpx.AsyncClient, headers: Headers
) -> tuple[int, dict[str, Any]]:
    statements: list[str] = []

    def log(record: Any) -> None:
        statements.append(record.query)

    con.add_query_logger(log)
    try:
        data = unwrap(await gql_data(client, headers, LOADER_QUERY))
    finally:
        con.remove_query_logger(log)
    return len(statements), data


async def test_dataloaders_make_statement_count_independent_of_size(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, reader: Headers
) -> None:
    for i in range(3):
        await rest(client, admin, "POST", "/v1/teams", {"slug": f"team-{i}", "name": f"T{i}"})
    await rest(client, admin, "POST", "/v1/outcomes", {"slug": "o-1", "name": "O1"})
    await rest(client, admin, "POST", "/v1/outcomes", {"slug": "o-2", "name": "O2"})
    for key in ("k_a", "k_b"):
        await rest(
            client,
            admin,
            "POST",
            "/v1/kpis",
            {
                "key": key,
                "name": key,
                "unit": "n",
                "direction": "higher_is_better",
                "aggregation": "sum",
            },
        )
        await rest(
            client,
            admin,
            "POST",
            "/v1/targets",
            {"kpi": key, "value": 1, "effective_from": "2024-01-01"},
        )
        await rest(client, admin, "PUT", f"/v1/kpis/{key}/outcomes/o-1", {}, status=200)
    await rest(client, admin, "PUT", "/v1/kpis/k_b/outcomes/o-2", {}, status=200)

    await seed_services(client, admin, 0, 3)
    # A first run lets the driver learn the array and row types it has not met yet (its
    # introspection statements would count once, on whichever run came first).
    await count_statements(con, client, reader)
    small, data = await count_statements(con, client, reader)
    nodes = data["services"]["nodes"]
    assert [n["slug"] for n in nodes] == ["s0", "s1", "s2"]
    assert nodes[1]["team"] == {"slug": "team-1"}
    assert nodes[1]["dependencies"] == [{"slug": "s0"}]
    assert nodes[1]["dependents"] == [{"slug": "s2"}]
    assert slugs(nodes[1]["outcomes"]) == ["o-1", "o-2"]
    kpis = sorted((n["kpi"] for n in nodes[1]["kpis"]), key=lambda k: k["key"])
    assert [k["key"] for k in kpis] == ["k_a", "k_b"]
    assert sorted(t["value"] for t in kpis[0]["targets"]) == [0.0, 1.0, 1.0, 2.0]
    assert slugs([o["outcome"] for o in kpis[1]["outcomes"]]) == ["o-1", "o-2"]
    # No incidents: fully available against the tier default (no availability KPI targets).
    assert nodes[1]["availability"] == {"availability": 100.0, "targetScope": "DEFAULT"}

    await seed_services(client, admin, 3, 30)
    large, data = await count_statements(con, client, reader)
    assert [n["slug"] for n in data["services"]["nodes"]] == [f"s{i}" for i in range(30)]
    assert data["services"]["nodes"][29]["dependencies"] == [{"slug": "s28"}]

    print(f"SQL statements for one services query: 3 services -> {small}, 30 -> {large}")
    assert small == large


RATIO_QUERY = "{ kpis(first: 100) { nodes { key numerator { key } denominator { key } } } }"


async def test_ratio_sides_are_loaded_in_batches(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, reader: Headers
) -> None:
    """Kpi.numerator/denominator too: the statement count does not grow with the KPIs."""
    for key in ("num", "den"):
        await rest(
            client,
            admin,
            "POST",
            "/v1/kpis",
            {
                "key": key,
                "name": key,
                "unit": "n",
                "direction": "higher_is_better",
                "aggregation": "sum",
            },
        )

    async def add_ratios(start: int, stop: int) -> None:
        for i in range(start, stop):
            await rest(
                client,
                admin,
                "POST",
                "/v1/kpis",
                {
                    "key": f"r{i}",
                    "name": f"R{i}",
                    "unit": "%",
                    "direction": "higher_is_better",
                    "aggregation": "avg",
                    "kind": "ratio",
                    "numerator": "num",
                    "denominator": "den",
                },
            )

    async def count() -> tuple[int, list[dict[str, Any]]]:
        statements: list[str] = []

        def log(record: Any) -> None:
            statements.append(record.query)

        con.add_query_logger(log)
        try:
            data = await gql_data(client, reader, RATIO_QUERY)
        finally:
            con.remove_query_logger(log)
        nodes: list[dict[str, Any]] = data["kpis"]["nodes"]
        return len(statements), nodes

    await add_ratios(0, 1)
    small, nodes = await count()
    assert nodes[2] == {"key": "r0", "numerator": {"key": "num"}, "denominator": {"key": "den"}}
    await add_ratios(1, 10)
    large, nodes = await count()
    assert [n["key"] for n in nodes] == ["num", "den", *(f"r{i}" for i in range(10))]
    assert all(n["numerator"] == {"key": "num"} for n in nodes[2:])
    print(f"SQL statements for kpis with numerator/denominator: 1 ratio -> {small}, 10 -> {large}")
    assert small == large


# Limits ----------


def nested(levels: int) -> str:
    """A query `levels` fields deep, the leaf included: services > nodes > team > services >
    nodes > team ... (pages of one, so its cost stays small)."""
    for prefix in (["services(first: 1)", "nodes"], ['service(slug: "none")']):
        for tail in (["slug"], ["team", "slug"]):
            cycles, left = divmod(levels - len(prefix) - len(tail), 3)
            if cycles >= 0 and left == 0:
                names = [*prefix, *["team", "services(first: 1)", "nodes"] * cycles, *tail]
                inner = names[-1]
                for name in reversed(names[:-1]):
                    inner = f"{name} {{ {inner} }}"
                return f"{{ {inner} }}"
    raise ValueError(levels)


async def test_depth_limit(client: httpx.AsyncClient, reader: Headers) -> None:
    max_depth = Settings().graphql_max_depth
    assert max_depth == 10
    # depth counts the levels below the root field: 11 fields in a chain are depth 10
    ok = await gql(client, reader, nested(max_depth + 1))
    assert "errors" not in ok, ok
    refused = await gql(client, reader, nested(max_depth + 2))
    assert refused.get("data") is None
    assert len(refused["errors"]) == 1
    assert "depth" in refused["errors"][0]["message"]
    assert str(max_depth) in refused["errors"][0]["message"]


async def test_alias_limit(client: httpx.AsyncClient, reader: Headers) -> None:
    def aliases(n: int) -> str:
        return "{ " + " ".join(f"a{i}: teams {{ nodes {{ slug }} }}" for i in range(n)) + " }"

    ok = await gql(client, reader, aliases(30))
    assert "errors" not in ok, ok
    assert len(ok["data"]) == 30
    refused = await gql(client, reader, aliases(31))
    assert refused.get("data") is None
    assert len(refused["errors"]) == 1
    assert "alias" in refused["errors"][0]["message"]


async def test_batched_requests_are_refused(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers
) -> None:
    batch = [
        {"query": "{ teams { nodes { slug } } }"},
        {"query": 'mutation { upsertTeam(input: {slug: "batched", name: "B"}) { __typename } }'},
    ]
    r = await client.post("/graphql", json=batch, headers=admin)
    assert r.status_code != 200 or "errors" in r.json(), r.text
    assert 400 <= r.status_code < 500, r.text
    assert await con.fetchval("select count(*) from team where slug = 'batched'") == 0


# Mutations ----------


UPSERT_TEAM = """mutation($input: TeamInput!) {
  upsertTeam(input: $input) {
    __typename
    ... on Team { slug name email }
    ... on Problem { status title detail errors { field pointer detail } }
  }
}"""
UPSERT_SERVICE = """mutation($input: ServiceInput!) {
  upsertService(input: $input) {
    __typename
    ... on Service { slug name tier team { slug } dependencies { nodes { slug } }
                     outageThreshold }
    ... on Problem { status title detail errors { field pointer detail } }
  }
}"""
UPSERT_OUTCOME = """mutation($input: OutcomeInput!) {
  upsertOutcome(input: $input) {
    __typename
    ... on Outcome { slug name description owner }
    ... on Problem { status errors { field detail } }
  }
}"""
UPSERT_KPI = """mutation($input: KpiInput!) {
  upsertKpi(input: $input) {
    __typename
    ... on Kpi { key name unit kind direction aggregation tags numerator { key }
                 denominator { key } escalationPath { position who channel address } }
    ... on Problem { status title detail errors { field pointer detail } }
  }
}"""
CREATE_TARGET = """mutation($input: TargetInput!) {
  createTarget(input: $input) {
    __typename
    ... on Target { id service tier value warning effectiveFrom effectiveTo }
    ... on Problem { status errors { field detail } }
  }
}"""
DELETE_RESULT = """
    __typename
    ... on Deleted { ok }
    ... on Problem { status title detail errors { field detail } }
"""


async def mutate(
    client: httpx.AsyncClient, admin: Headers, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    data = unwrap(await gql_data(client, admin, query, variables))
    (result,) = data.values()
    assert isinstance(result, dict)
    return result


async def test_upsert_team_creates_then_replaces(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers
) -> None:
    created = await mutate(client, admin, UPSERT_TEAM, {"input": {"slug": "ops", "name": "Ops"}})
    assert created == {"__typename": "Team", "slug": "ops", "name": "Ops", "email": None}
    updated = await mutate(
        client,
        admin,
        UPSERT_TEAM,
        {"input": {"slug": "ops", "name": "Operations", "email": "ops@x.io"}},
    )
    assert updated == {
        "__typename": "Team",
        "slug": "ops",
        "name": "Operations",
        "email": "ops@x.io",
    }
    rows = await con.fetch("select slug, name, email from team where slug = 'ops'")
    assert [tuple(r) for r in rows] == [("ops", "Operations", "ops@x.io")]
    bad = await mutate(client, admin, UPSERT_TEAM, {"input": {"slug": "Bad Slug", "name": "x"}})
    assert bad["__typename"] == "Problem"
    assert bad["status"] == 422
    assert [e["field"] for e in bad["errors"]] == ["slug"]


async def test_upsert_service_and_validation_problems(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers
) -> None:
    await mutate(client, admin, UPSERT_TEAM, {"input": {"slug": "ops", "name": "Ops"}})
    a = await mutate(
        client,
        admin,
        UPSERT_SERVICE,
        {"input": {"slug": "a", "name": "A", "tier": 1, "team": "ops"}},
    )
    assert a == {
        "__typename": "Service",
        "slug": "a",
        "name": "A",
        "tier": 1,
        "team": {"slug": "ops"},
        "dependencies": [],
        "outageThreshold": "SEV2",
    }
    b = await mutate(
        client,
        admin,
        UPSERT_SERVICE,
        {
            "input": {
                "slug": "b",
                "name": "B",
                "tier": 2,
                "dependsOn": ["a"],
                "outageThreshold": "SEV3",
            }
        },
    )
    assert b == {
        "__typename": "Service",
        "slug": "b",
        "name": "B",
        "tier": 2,
        "team": None,
        "dependencies": [{"slug": "a"}],
        "outageThreshold": "SEV3",
    }
    # replace: same slug, new tier and name
    b2 = await mutate(
        client,
        admin,
        UPSERT_SERVICE,
        {"input": {"slug": "b", "name": "B two", "tier": 4, "dependsOn": ["a"]}},
    )
    assert (b2["name"], b2["tier"], b2["dependencies"]) == ("B two", 4, [{"slug": "a"}])
    assert await con.fetchval("select count(*) from business_service where slug = 'b'") == 1

    tier = await mutate(
        client, admin, UPSERT_SERVICE, {"input": {"slug": "c", "name": "C", "tier": 9}}
    )
    assert tier["__typename"] == "Problem"
    assert tier["status"] == 422
    assert [e["field"] for e in tier["errors"]] == ["tier"]
    assert tier["errors"][0]["pointer"] == "#/tier"

    team = await mutate(
        client,
        admin,
        UPSERT_SERVICE,
        {"input": {"slug": "c", "name": "C", "tier": 1, "team": "nope"}},
    )
    assert team["__typename"] == "Problem"
    assert team["status"] == 422
    assert [e["field"] for e in team["errors"]] == ["team"]
    assert "nope" in team["errors"][0]["detail"]

    unknown_dep = await mutate(
        client,
        admin,
        UPSERT_SERVICE,
        {"input": {"slug": "c", "name": "C", "tier": 1, "dependsOn": ["a", "ghost"]}},
    )
    assert unknown_dep["__typename"] == "Problem"
    assert [e["field"] for e in unknown_dep["errors"]] == ["dependsOn.1"]

    cycle = await mutate(
        client,
        admin,
        UPSERT_SERVICE,
        {"input": {"slug": "a", "name": "A", "tier": 1, "dependsOn": ["b"]}},
    )
    assert cycle["__typename"] == "Problem"
    assert cycle["status"] == 422
    assert [e["field"] for e in cycle["errors"]] == ["dependsOn.0"]
    assert "cycle" in cycle["errors"][0]["detail"]

    self_dep = await mutate(
        client,
        admin,
        UPSERT_SERVICE,
        {"input": {"slug": "a", "name": "A", "tier": 1, "dependsOn": ["a"]}},
    )
    assert self_dep["__typename"] == "Problem"
    assert [e["field"] for e in self_dep["errors"]] == ["dependsOn.0"]

    # nothing of the refused writes stuck: no service c, a unchanged with no dependencies
    assert await con.fetchval("select count(*) from business_service where slug = 'c'") == 0
    rows = await con.fetch(
        "select d.slug from service_dependency sd join business_service s on s.id = sd.service_id"
        " join business_service d on d.id = sd.depends_on_id where s.slug = 'a'"
    )
    assert rows == []


async def test_upsert_outcome(client: httpx.AsyncClient, admin: Headers) -> None:
    created = await mutate(
        client, admin, UPSERT_OUTCOME, {"input": {"slug": "grow", "name": "Grow"}}
    )
    assert created == {
        "__typename": "Outcome",
        "slug": "grow",
        "name": "Grow",
        "description": None,
        "owner": None,
    }
    updated = await mutate(
        client,
        admin,
        UPSERT_OUTCOME,
        {"input": {"slug": "grow", "name": "Grow more", "description": "d", "owner": "ceo@x.io"}},
    )
    assert updated == {
        "__typename": "Outcome",
        "slug": "grow",
        "name": "Grow more",
        "description": "d",
        "owner": "ceo@x.io",
    }
    bad = await mutate(client, admin, UPSERT_OUTCOME, {"input": {"slug": "grow", "name": ""}})
    assert bad["__typename"] == "Problem"
    assert [e["field"] for e in bad["errors"]] == ["name"]


KPI_BASE = {"unit": "n", "direction": "HIGHER_IS_BETTER", "aggregation": "SUM"}


async def test_upsert_kpi_and_ratio_problems(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers
) -> None:
    made = await mutate(
        client,
        admin,
        UPSERT_KPI,
        {
            "input": {
                **KPI_BASE,
                "key": "sales",
                "name": "Sales",
                "tags": ["x"],
                "escalationPath": [{"who": "boss", "channel": "EMAIL", "address": "boss@x.io"}],
            }
        },
    )
    assert made == {
        "__typename": "Kpi",
        "key": "sales",
        "name": "Sales",
        "unit": "n",
        "kind": "OBSERVED",
        "direction": "HIGHER_IS_BETTER",
        "aggregation": "SUM",
        "tags": ["x"],
        "numerator": None,
        "denominator": None,
        "escalationPath": [
            {"position": 1, "who": "boss", "channel": "EMAIL", "address": "boss@x.io"}
        ],
    }
    await mutate(
        client, admin, UPSERT_KPI, {"input": {**KPI_BASE, "key": "visits", "name": "Visits"}}
    )
    ratio = await mutate(
        client,
        admin,
        UPSERT_KPI,
        {
            "input": {
                **KPI_BASE,
                "key": "conversion",
                "name": "Conversion",
                "kind": "RATIO",
                "numerator": "sales",
                "denominator": "visits",
            }
        },
    )
    assert ratio["__typename"] == "Kpi"
    assert (ratio["numerator"], ratio["denominator"]) == ({"key": "sales"}, {"key": "visits"})

    replaced = await mutate(
        client, admin, UPSERT_KPI, {"input": {**KPI_BASE, "key": "sales", "name": "Net sales"}}
    )
    assert (replaced["name"], replaced["tags"], replaced["escalationPath"]) == ("Net sales", [], [])
    assert (
        await con.fetchval(
            "select count(*) from escalation_step e join kpi k on k.id = e.kpi_id"
            " where k.key = 'sales'"
        )
        == 0
    )

    itself = await mutate(
        client,
        admin,
        UPSERT_KPI,
        {
            "input": {
                **KPI_BASE,
                "key": "loop",
                "name": "Loop",
                "kind": "RATIO",
                "numerator": "loop",
                "denominator": "visits",
            }
        },
    )
    assert itself["__typename"] == "Problem"
    assert itself["status"] == 422
    assert [e["field"] for e in itself["errors"]] == ["numerator"]

    unknown = await mutate(
        client,
        admin,
        UPSERT_KPI,
        {
            "input": {
                **KPI_BASE,
                "key": "broken",
                "name": "Broken",
                "kind": "RATIO",
                "numerator": "sales",
                "denominator": "ghost",
            }
        },
    )
    assert unknown["__typename"] == "Problem"
    assert [e["field"] for e in unknown["errors"]] == ["denominator"]

    # sales := conversion / visits would make sales reach itself
    cycle = await mutate(
        client,
        admin,
        UPSERT_KPI,
        {
            "input": {
                **KPI_BASE,
                "key": "sales",
                "name": "Sales",
                "kind": "RATIO",
                "numerator": "conversion",
                "denominator": "visits",
            }
        },
    )
    assert cycle["__typename"] == "Problem"
    assert [e["field"] for e in cycle["errors"]] == ["numerator"]
    assert "cycle" in cycle["errors"][0]["detail"]

    builtin = await mutate(
        client,
        admin,
        UPSERT_KPI,
        {"input": {**KPI_BASE, "key": "avail", "name": "Availability", "kind": "BUILTIN"}},
    )
    assert builtin["__typename"] == "Problem"
    assert [e["field"] for e in builtin["errors"]] == ["metric"]

    keys = await con.fetch("select key, kind from kpi order by id")
    assert [tuple(r) for r in keys] == [
        ("sales", "observed"),
        ("visits", "observed"),
        ("conversion", "ratio"),
    ]


async def test_problem_in_a_nested_input_names_its_full_path(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers
) -> None:
    """A bad escalation step is blamed on its index, as REST does: "address" alone does not
    say which step is wrong."""
    steps = [
        {"who": "ops", "channel": "EMAIL", "address": "ops@x.io"},
        {"who": "ops", "channel": "WEBHOOK", "address": "not-a-url"},
    ]
    r = await client.post(
        "/v1/kpis",
        headers=admin,
        json={
            "key": "hooked",
            "name": "Hooked",
            "unit": "n",
            "direction": "higher_is_better",
            "aggregation": "sum",
            "escalation_path": [{**s, "channel": s["channel"].lower()} for s in steps],
        },
    )
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["escalation_path.1.address"]

    webhook = await mutate(
        client,
        admin,
        UPSERT_KPI,
        {"input": {**KPI_BASE, "key": "hooked", "name": "Hooked", "escalationPath": steps}},
    )
    assert webhook["__typename"] == "Problem"
    assert webhook["status"] == 422
    assert await con.fetchval("select count(*) from kpi where key = 'hooked'") == 0
    # GraphQL names fields as its schema does.
    assert [e["field"] for e in webhook["errors"]] == ["escalationPath.1.address"]
    assert webhook["errors"][0]["pointer"] == "#/escalationPath/1/address"


async def test_targets_links_and_deletes(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, reader: Headers
) -> None:
    await mutate(client, admin, UPSERT_SERVICE, {"input": {"slug": "a", "name": "A", "tier": 1}})
    await mutate(client, admin, UPSERT_OUTCOME, {"input": {"slug": "grow", "name": "Grow"}})
    await mutate(client, admin, UPSERT_KPI, {"input": {**KPI_BASE, "key": "sales", "name": "S"}})

    target = await mutate(
        client,
        admin,
        CREATE_TARGET,
        {
            "input": {
                "kpi": "sales",
                "service": "a",
                "value": 10,
                "warning": 12,
                "effectiveFrom": "2024-01-01",
            }
        },
    )
    assert target["__typename"] == "Target"
    target_id = target.pop("id")
    assert target == {
        "__typename": "Target",
        "service": "a",
        "tier": None,
        "value": 10.0,
        "warning": 12.0,
        "effectiveFrom": "2024-01-01",
        "effectiveTo": None,
    }
    assert await con.fetchval("select count(*) from target where id = $1", target_id) == 1

    wrong_side = await mutate(
        client,
        admin,
        CREATE_TARGET,
        {"input": {"kpi": "sales", "value": 10, "warning": 8, "effectiveFrom": "2024-01-01"}},
    )
    assert wrong_side == {
        "__typename": "Problem",
        "status": 422,
        "errors": [
            {
                "field": "warning",
                "detail": "must be at or above the target value for this KPI's direction",
            }
        ],
    }
    both = await mutate(
        client,
        admin,
        CREATE_TARGET,
        {
            "input": {
                "kpi": "sales",
                "service": "a",
                "tier": 1,
                "value": 1,
                "effectiveFrom": "2024-01-01",
            }
        },
    )
    assert both["__typename"] == "Problem"
    assert [e["field"] for e in both["errors"]] == ["tier"]
    no_kpi = await mutate(
        client,
        admin,
        CREATE_TARGET,
        {"input": {"kpi": "ghost", "value": 1, "effectiveFrom": "2024-01-01"}},
    )
    assert [e["field"] for e in no_kpi["errors"]] == ["kpi"]

    deleted = await mutate(
        client,
        admin,
        f"mutation($id: Int!) {{ deleteTarget(id: $id) {{ {DELETE_RESULT} }} }}",
        {"id": target_id},
    )
    assert deleted == {"__typename": "Deleted", "ok": True}
    assert await con.fetchval("select count(*) from target where id = $1", target_id) == 0
    again = await mutate(
        client,
        admin,
        f"mutation($id: Int!) {{ deleteTarget(id: $id) {{ {DELETE_RESULT} }} }}",
        {"id": target_id},
    )
    assert again["__typename"] == "Problem"
    assert again["status"] == 404

    linked = await mutate(
        client,
        admin,
        """mutation {
      linkKpiOutcome(input: {kpi: "sales", outcome: "grow", weight: 3, rationale: "why"}) {
        __typename ... on Kpi { key outcomes { nodes { outcome { slug } weight rationale } } }
      } }""",
        {},
    )
    assert linked == {
        "__typename": "Kpi",
        "key": "sales",
        "outcomes": [{"outcome": {"slug": "grow"}, "weight": 3.0, "rationale": "why"}],
    }
    reweighted = await mutate(
        client,
        admin,
        """mutation {
      linkKpiOutcome(input: {kpi: "sales", outcome: "grow", weight: 1.5}) {
        __typename ... on Kpi { outcomes { nodes { weight rationale } } }
      } }""",
        {},
    )
    assert reweighted == {"__typename": "Kpi", "outcomes": [{"weight": 1.5, "rationale": None}]}
    bad_weight = await mutate(
        client,
        admin,
        """mutation {
      linkKpiOutcome(input: {kpi: "sales", outcome: "grow", weight: 0}) {
        __typename ... on Problem { status errors { field } }
      } }""",
        {},
    )
    assert bad_weight == {"__typename": "Problem", "status": 422, "errors": [{"field": "weight"}]}
    no_outcome = await mutate(
        client,
        admin,
        """mutation {
      linkKpiOutcome(input: {kpi: "sales", outcome: "ghost"}) {
        __typename ... on Problem { status }
      } }""",
        {},
    )
    assert no_outcome == {"__typename": "Problem", "status": 404}

    applied = await mutate(
        client,
        admin,
        """mutation {
      linkKpiService(kpi: "sales", service: "a") {
        __typename ... on Kpi { key services { nodes { slug } } }
      } }""",
        {},
    )
    assert applied == {"__typename": "Kpi", "key": "sales", "services": [{"slug": "a"}]}
    no_service = await mutate(
        client,
        admin,
        """mutation {
      linkKpiService(kpi: "sales", service: "ghost") { __typename ... on Problem { status } }
    }""",
        {},
    )
    assert no_service == {"__typename": "Problem", "status": 404}
    outcome = await gql_data(
        client, reader, '{ outcome(slug: "grow") { services { nodes { slug } } } }'
    )
    assert outcome == {"outcome": {"services": {"nodes": [{"slug": "a"}]}}}

    deleted_kpi = await mutate(
        client, admin, f'mutation {{ deleteKpi(key: "sales") {{ {DELETE_RESULT} }} }}', {}
    )
    assert deleted_kpi == {"__typename": "Deleted", "ok": True}
    assert (await gql_data(client, reader, '{ kpi(key: "sales") { key } }')) == {"kpi": None}
    missing_kpi = await mutate(
        client, admin, f'mutation {{ deleteKpi(key: "sales") {{ {DELETE_RESULT} }} }}', {}
    )
    assert (missing_kpi["__typename"], missing_kpi["status"]) == ("Problem", 404)

    deleted_svc = await mutate(
        client, admin, f'mutation {{ deleteService(slug: "a") {{ {DELETE_RESULT} }} }}', {}
    )
    assert deleted_svc == {"__typename": "Deleted", "ok": True}
    assert (await gql_data(client, reader, '{ service(slug: "a") { slug } }')) == {"service": None}
    assert await con.fetchval("select count(*) from business_service where slug = 'a'") == 0
    missing_svc = await mutate(
        client, admin, f'mutation {{ deleteService(slug: "a") {{ {DELETE_RESULT} }} }}', {}
    )
    assert (missing_svc["__typename"], missing_svc["status"]) == ("Problem", 404)


async def test_delete_kpi_used_by_ratio_is_a_conflict(
    client: httpx.AsyncClient, admin: Headers, catalog: None
) -> None:
    refused = await mutate(
        client, admin, f'mutation {{ deleteKpi(key: "orders") {{ {DELETE_RESULT} }} }}', {}
    )
    assert refused["__typename"] == "Problem"
    assert refused["status"] == 409
    assert refused["detail"] == "KPI 'orders' is used by ratio KPI 'failure_rate'"


# Scopes ----------


async def test_no_token_is_401_problem(client: httpx.AsyncClient) -> None:
    r = await client.post("/graphql", json={"query": "{ teams { nodes { slug } } }"})
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["www-authenticate"] == "Bearer"
    body = r.json()
    assert (body["status"], body["title"]) == (401, "Unauthorized")
    assert body["instance"] == "/graphql"


async def test_unknown_token_is_401(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/graphql",
        json={"query": "{ teams { nodes { slug } } }"},
        headers={"Authorization": "Bearer kpi_nope"},
    )
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"


async def test_reader_cannot_mutate(
    client: httpx.AsyncClient, con: dbmod.Connection, reader: Headers
) -> None:
    r = await client.post(
        "/graphql",
        json={
            "query": 'mutation { upsertTeam(input: {slug: "sneaky", name: "S"}) { __typename } }'
        },
        headers=reader,
    )
    assert r.status_code == 403, r.text
    body = r.json()
    assert body.get("data") is None
    assert len(body["errors"]) == 1
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await con.fetchval("select count(*) from team where slug = 'sneaky'") == 0


async def test_reader_can_query(client: httpx.AsyncClient, reader: Headers) -> None:
    assert await gql_data(client, reader, "{ teams { nodes { slug } } }") == {
        "teams": {"nodes": []}
    }


async def test_ingest_only_token_cannot_query(client: httpx.AsyncClient, ingester: Headers) -> None:
    r = await client.post(
        "/graphql", json={"query": "{ teams { nodes { slug } } }"}, headers=ingester
    )
    assert r.status_code == 403, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["required_scope"] == "read"


async def test_ingest_only_token_cannot_mutate(
    client: httpx.AsyncClient, con: dbmod.Connection
) -> None:
    token = await tokens.create_token(con, name="ingest", scopes=[Scope.INGEST])
    r = await client.post(
        "/graphql",
        json={
            "query": 'mutation { upsertTeam(input: {slug: "sneaky", name: "S"}) { __typename } }'
        },
        headers={"Authorization": f"Bearer {token.token}"},
    )
    assert r.status_code == 403, r.text
    assert await con.fetchval("select count(*) from team where slug = 'sneaky'") == 0


async def test_mutation_via_get_is_refused(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers
) -> None:
    r = await client.get(
        "/graphql",
        params={
            "query": 'mutation { upsertTeam(input: {slug: "viaget", name: "G"}) { __typename } }'
        },
        headers=admin,
    )
    assert 400 <= r.status_code < 500, r.text
    assert await con.fetchval("select count(*) from team where slug = 'viaget'") == 0


# Drift of the checked-in schema files ----------


def test_schema_graphql_is_up_to_date() -> None:
    expected = build_schema(Settings()).as_str() + "\n"
    assert (REPO_ROOT / "schema.graphql").read_text() == expected, "run `kpi export`"


def test_exported_files_are_up_to_date() -> None:
    files = exported_files()
    schemas = {REPO_ROOT / "schema.graphql", REPO_ROOT / "openapi" / "openapi.json"}
    assert set(files) == schemas | set(generated_files(REPO_ROOT))
    for path, text in files.items():
        assert path.read_text() == text, f"{path.name} is stale: run `kpi export`"
    json.loads(files[REPO_ROOT / "openapi" / "openapi.json"])


@pytest.mark.parametrize("body", [b'"AAA"', b"42", b"null", b"true", b"{", b"[" * 5000])
async def test_a_body_that_is_not_a_json_object_is_a_400(
    client: httpx.AsyncClient, reader: dict[str, str], body: bytes
) -> None:
    r = await client.post(
        "/graphql", content=body, headers={**reader, "Content-Type": "application/json"}
    )
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
