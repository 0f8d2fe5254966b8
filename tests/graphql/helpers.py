"""Helpers of the GraphQL tests: requests, REST seeding and the queries several tests share."""

from __future__ import annotations

from typing import Any

import httpx

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
