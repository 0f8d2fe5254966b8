"""GET /v1/backstage/facts: per service entity, each KPI's latest stored status, value,
target, unit and period as typed Tech Insights facts, with an ETag that a matching
If-None-Match turns into 304 and that changes when any fact does."""

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

#: The app's clock: 10 March 2026, so February is the last closed month.
NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
FEBRUARY = {"period_start": "2026-02-01T00:00:00Z", "period_end": "2026-03-01T00:00:00Z"}


@pytest.fixture
async def api(con: dbmod.Connection, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(con, settings, lambda: NOW) as client:
        yield client


async def send(client: httpx.AsyncClient, headers: Headers, method: str, path: str,
               body: Any = None) -> Any:  # fmt: skip
    r = await client.request(method, path, json=body, headers=headers)
    assert r.status_code in (200, 201), f"{method} {path}: {r.status_code} {r.text}"
    return r.json()


async def catalog(client: httpx.AsyncClient, admin: Headers) -> None:
    """checkout (reference given in mixed case), identity (reference from its slug) and
    ledger (no KPI); `orders` (summed, monthly, target 100, 50 for checkout) applies to
    checkout and identity, `conversion` (never evaluated) to checkout."""
    await send(client, admin, "POST", "/v1/services", {
        "slug": "checkout", "name": "Checkout", "tier": 1,
        "entity_ref": "Component:Default/Checkout-Web",
    })  # fmt: skip
    for slug in ("identity", "ledger"):
        await send(client, admin, "POST", "/v1/services", {"slug": slug, "name": slug, "tier": 2})
    await send(client, admin, "POST", "/v1/kpis", {
        "key": "orders", "name": "Orders", "unit": "orders", "direction": "higher_is_better",
        "aggregation": "sum", "cadence": "monthly",
    })  # fmt: skip
    await send(client, admin, "POST", "/v1/kpis", {
        "key": "conversion", "name": "Conversion", "unit": "percent",
        "direction": "higher_is_better", "aggregation": "avg", "cadence": "monthly",
    })  # fmt: skip
    await send(client, admin, "POST", "/v1/targets",
               {"kpi": "orders", "value": 100, "effective_from": "2025-01-01"})  # fmt: skip
    await send(client, admin, "POST", "/v1/targets", {
        "kpi": "orders", "service": "checkout", "value": 50, "effective_from": "2025-01-01",
    })  # fmt: skip
    for service in ("checkout", "identity"):
        await send(client, admin, "PUT", f"/v1/kpis/orders/services/{service}")
    await send(client, admin, "PUT", "/v1/kpis/conversion/services/checkout")


async def orders(
    client: httpx.AsyncClient, admin: Headers, service: str, *values: float, day: int = 10
) -> None:
    """`values` orders of `service` on successive February days from `day`."""
    points = [{"kpi": "orders", "service": service, "ts": f"2026-02-{day + i}T00:00:00Z",
               "value": v} for i, v in enumerate(values)]  # fmt: skip
    await send(client, admin, "POST", "/v1/observations", points)


async def evaluate_february(client: httpx.AsyncClient, admin: Headers) -> None:
    await send(client, admin, "POST", "/v1/evaluate",
               {"kpi": "orders", "period": "2026-02-15T00:00:00Z"})  # fmt: skip


def orders_facts(status: str, value: float, target: float) -> dict[str, Any]:
    return {"orders_status": status, "orders_value": value, "orders_target": target,
            "orders_unit": "orders", "orders_period_start": FEBRUARY["period_start"],
            "orders_period_end": FEBRUARY["period_end"]}  # fmt: skip


NEVER_EVALUATED = {
    "conversion_status": "no_data", "conversion_value": None, "conversion_target": None,
    "conversion_unit": "percent", "conversion_period_start": None,
    "conversion_period_end": None,
}  # fmt: skip


async def test_facts_per_entity_typed_with_the_latest_status(
    api: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await catalog(api, admin)
    await orders(api, admin, "checkout", 30, 40)  # February: 30 + 40 = 70 orders
    await orders(api, admin, "identity", 60)  # February: 60 orders
    await evaluate_february(api, admin)

    r = await api.get("/v1/backstage/facts", headers=reader)
    assert r.status_code == 200, r.text
    body = r.json()
    # Entities ordered by reference; ledger has no KPI, so no facts.
    assert body["entities"] == [
        {"entity": {"kind": "component", "namespace": "default", "name": "checkout-web"},
         "entity_ref": "component:default/checkout-web", "service": "checkout",
         # 70 >= 50 (checkout's own target): met. Conversion was never evaluated.
         "facts": orders_facts("met", 70.0, 50.0) | NEVER_EVALUATED},
        {"entity": {"kind": "component", "namespace": "default", "name": "identity"},
         "entity_ref": "component:default/identity", "service": "identity",
         # 60 < 100 (the global target, no warning band): breached.
         "facts": orders_facts("breached", 60.0, 100.0)},
        {"entity": {"kind": "component", "namespace": "default", "name": "ledger"},
         "entity_ref": "component:default/ledger", "service": "ledger", "facts": {}},
    ]  # fmt: skip
    schema = body["fact_schema"]
    # Two KPIs with six facts each, typed as a Tech Insights FactSchema types them.
    assert len(schema) == 12
    assert {name: d["type"] for name, d in schema.items() if name.startswith("orders_")} == {
        "orders_status": "string", "orders_value": "float", "orders_target": "float",
        "orders_unit": "string", "orders_period_start": "datetime",
        "orders_period_end": "datetime",
    }  # fmt: skip
    assert schema["conversion_value"]["description"].startswith("KPI conversion: ")


async def test_etag_answers_304_until_a_fact_changes(
    api: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await catalog(api, admin)
    await orders(api, admin, "identity", 60)
    await evaluate_february(api, admin)

    first = await api.get("/v1/backstage/facts", headers=reader)
    tag = first.headers["etag"]
    assert tag.startswith('"') and tag.endswith('"') and len(tag) == 34
    assert first.headers["cache-control"] == "private, no-cache"
    assert first.headers["vary"] == "Authorization"

    for held in (tag, f"W/{tag}", f'"other", {tag}', "*"):
        again = await api.get("/v1/backstage/facts", headers=reader | {"If-None-Match": held})
        assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", tag)
    other = await api.get("/v1/backstage/facts", headers=reader | {"If-None-Match": '"other"'})
    assert other.status_code == 200
    assert other.content == first.content

    # 40 more February orders for identity, evaluated again: 60 + 40 = 100 >= 100, met.
    await orders(api, admin, "identity", 40, day=20)
    await evaluate_february(api, admin)
    changed = await api.get("/v1/backstage/facts", headers=reader | {"If-None-Match": tag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != tag
    identity = next(e for e in changed.json()["entities"] if e["service"] == "identity")
    assert identity["facts"] == orders_facts("met", 100.0, 100.0)
    held = changed.headers["etag"]
    same = await api.get("/v1/backstage/facts", headers=reader | {"If-None-Match": held})
    assert same.status_code == 304

    # A change of the catalog alone (the KPI's unit) changes a fact, and so the tag.
    kpi = await send(api, admin, "GET", "/v1/kpis/orders")
    del kpi["id"]
    await send(api, admin, "PUT", "/v1/kpis/orders", kpi | {"unit": "sales"})
    renamed = await api.get("/v1/backstage/facts", headers=reader | {"If-None-Match": held})
    assert renamed.status_code == 200
    assert renamed.headers["etag"] != held
    assert {e["facts"].get("orders_unit") for e in renamed.json()["entities"]} == {"sales", None}


async def test_facts_need_a_read_token(
    api: httpx.AsyncClient, ingester: Headers, reader: Headers
) -> None:
    assert (await api.get("/v1/backstage/facts")).status_code == 401
    refused = await api.get("/v1/backstage/facts", headers=ingester)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    empty = await api.get("/v1/backstage/facts", headers=reader)
    assert empty.json() == {"fact_schema": {}, "entities": []}
