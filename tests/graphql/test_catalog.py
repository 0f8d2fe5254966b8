"""Catalog queries and their edges, over the catalog created through REST."""

from __future__ import annotations

import httpx
import pytest

from tests.graphql.helpers import Headers, gql, gql_data, slugs, unwrap

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
