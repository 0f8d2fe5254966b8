"""Service.kpis: the KPIs that apply to a service, each with that service's own status, series
and status history, equal to Kpi.status/series/statusHistory(service:), in as many SQL
statements for 3 services as for 9."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from service import db as dbmod
from service.config import Settings
from tests.conftest import app_client

Headers = dict[str, str]

#: The app's clock: 10 March 2026. February is the last closed month.
NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
async def api(con: dbmod.Connection, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(con, settings, lambda: NOW) as client:
        yield client


async def send(client: httpx.AsyncClient, headers: Headers, method: str, path: str,
               body: Any = None, status: int | tuple[int, ...] = (200, 201)) -> Any:  # fmt: skip
    r = await client.request(method, path, json=body, headers=headers)
    expected = (status,) if isinstance(status, int) else status
    assert r.status_code in expected, f"{method} {path}: {r.status_code} {r.text}"
    return r.json() if r.content else None


async def gql(client: httpx.AsyncClient, headers: Headers, query: str) -> dict[str, Any]:
    r = await client.post("/graphql", json={"query": query}, headers=headers)
    body: dict[str, Any] = r.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def catalog(client: httpx.AsyncClient, admin: Headers) -> None:
    """Availability (builtin, monthly, tier targets 99.9 / 99.5) and orders (observed, summed,
    monthly, target 100 overall and 50 for s1)."""
    await send(client, admin, "POST", "/v1/kpis", {
        "key": "availability", "name": "Availability", "unit": "percent",
        "direction": "higher_is_better", "kind": "builtin", "metric": "availability",
        "cadence": "monthly",
    })  # fmt: skip
    for tier, value in ((1, 99.9), (2, 99.5)):
        await send(client, admin, "POST", "/v1/targets", {
            "kpi": "availability", "tier": tier, "value": value, "effective_from": "2025-01-01"
        })  # fmt: skip
    await send(client, admin, "POST", "/v1/kpis", {
        "key": "orders", "name": "Orders", "unit": "orders", "direction": "higher_is_better",
        "aggregation": "sum", "cadence": "monthly",
    })  # fmt: skip
    await send(client, admin, "POST", "/v1/targets",
               {"kpi": "orders", "value": 100, "effective_from": "2025-01-01"})  # fmt: skip


async def services(client: httpx.AsyncClient, admin: Headers, first: int, last: int) -> None:
    """s{first}..s{last - 1}: tier 1 for even numbers, else 2; both KPIs apply; s{i} was down
    i x 30 minutes on 10 February (a sev1) and took 40 x i orders in February."""
    for i in range(first, last):
        await send(client, admin, "POST", "/v1/services",
                   {"slug": f"s{i}", "name": f"S{i}", "tier": 1 if i % 2 == 0 else 2})  # fmt: skip
        for kpi in ("availability", "orders"):
            await send(client, admin, "PUT", f"/v1/kpis/{kpi}/services/s{i}")
        if i:
            end = dt.datetime(2026, 2, 10, 10, tzinfo=dt.UTC) + dt.timedelta(minutes=30 * i)
            await send(client, admin, "POST", "/v1/incidents", {
                "external_id": f"i{i}", "service": f"s{i}", "severity": "sev1",
                "started_at": "2026-02-10T10:00:00Z", "resolved_at": end.isoformat(),
                "status": "resolved",
            })  # fmt: skip
        await send(client, admin, "POST", "/v1/observations", [
            {"kpi": "orders", "service": f"s{i}", "ts": "2026-02-15T00:00:00Z",
             "value": 40.0 * i},
        ])  # fmt: skip


STATUS = "value status target targetScope complete evaluatedAt"
SERIES = 'series(grain: MONTH, from: "2026-01-01T00:00:00Z", to: "2026-04-01T00:00:00Z")'
POINTS = "bucket value count complete"
PAGE = f"""{{ services(first: 100) {{ nodes {{ slug kpis {{ nodes {{
    kpi {{ key }} status {{ {STATUS} }} {SERIES} {{ {POINTS} }}
    statusHistory(first: 3) {{ nodes {{ periodStart value status }} }}
}} }} }} }} }}"""


def per_service_query(kpi: str, slug: str) -> str:
    series = SERIES.replace("series(", f'series(service: "{slug}", ')
    return f"""{{ kpi(key: "{kpi}") {{
        status(service: "{slug}") {{ {STATUS} }} {series} {{ {POINTS} }}
        statusHistory(service: "{slug}", first: 3) {{ nodes {{ periodStart value status }} }}
    }} }}"""


async def test_each_service_has_its_own_figures_equal_to_the_per_service_fields(
    api: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await catalog(api, admin)
    await services(api, admin, 0, 4)
    # Orders are evaluated (stored) for February; availability is computed on the fly.
    await send(api, admin, "POST", "/v1/evaluate", {"kpi": "orders"})
    page = (await gql(api, reader, PAGE))["services"]["nodes"]
    by_pair = {(n["kpi"]["key"], s["slug"]): n for s in page for n in s["kpis"]["nodes"]}
    assert len(by_pair) == 8
    for (kpi, slug), node in by_pair.items():
        own = (await gql(api, reader, per_service_query(kpi, slug)))["kpi"]
        assert node["status"] == own["status"], (kpi, slug)
        assert node["series"] == own["series"], (kpi, slug)
        assert node["statusHistory"] == own["statusHistory"], (kpi, slug)
    # Worked by hand: February has 672 hours = 40,320 minutes.
    # s3 (tier 2, 99.5 %) down 90 min: 1 - 90 / 40,320 = 99.7768 %: met.
    s3 = by_pair[("availability", "s3")]["status"]
    assert (s3["value"], s3["status"], s3["target"], s3["targetScope"]) == (
        pytest.approx(100 * (1 - 90 / 40320)), "MET", 99.5, "TIER"
    )  # fmt: skip
    # s2 (tier 1, 99.9 %) down 60 min: 99.8512 %: breached. Not the KPI's fleet-wide figure.
    s2 = by_pair[("availability", "s2")]["status"]
    assert (s2["value"], s2["status"]) == (pytest.approx(100 * (1 - 60 / 40320)), "BREACHED")
    # s1 took 40 orders in February against the global target of 100: breached, stored.
    s1 = by_pair[("orders", "s1")]
    assert (s1["status"]["value"], s1["status"]["status"]) == (40.0, "BREACHED")
    assert s1["status"]["evaluatedAt"] is not None
    assert s1["statusHistory"]["nodes"] == [
        {"periodStart": "2026-02-01T00:00:00Z", "value": 40.0, "status": "BREACHED"}
    ]
    # The series' March bucket is under way: marked incomplete.
    assert [p["complete"] for p in by_pair[("availability", "s1")]["series"]] == [
        True, True, False
    ]  # fmt: skip


async def statements_of(con: dbmod.Connection, client: httpx.AsyncClient, reader: Headers
                        ) -> tuple[int, dict[str, Any]]:  # fmt: skip
    seen: list[str] = []

    def log(record: Any) -> None:
        seen.append(record.query)

    con.add_query_logger(log)
    try:
        data = await gql(client, reader, PAGE)
    finally:
        con.remove_query_logger(log)
    return len(seen), data


async def test_the_statements_do_not_grow_with_the_services(
    api: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, reader: Headers
) -> None:
    await catalog(api, admin)
    await services(api, admin, 0, 3)
    await send(api, admin, "POST", "/v1/evaluate", {"kpi": "orders"})
    # A first run lets the driver learn the types it has not met yet.
    await statements_of(con, api, reader)
    small, data = await statements_of(con, api, reader)
    assert len(data["services"]["nodes"]) == 3
    await services(api, admin, 3, 9)
    await send(api, admin, "POST", "/v1/evaluate", {"kpi": "orders"})
    large, data = await statements_of(con, api, reader)
    assert len(data["services"]["nodes"]) == 9
    assert all(len(s["kpis"]["nodes"]) == 2 for s in data["services"]["nodes"])
    print(f"SQL statements for services with their KPIs' figures: 3 -> {small}, 9 -> {large}")
    assert small == large
