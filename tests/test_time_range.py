"""Every date and time the service takes is ISO 8601 text between 1970 and 2200; data stored
before that rule is a server-side problem, never a reader's; cost records can be corrected
and deleted (admin)."""

from __future__ import annotations

import io
import logging
from collections.abc import Awaitable
from typing import Any

import httpx
import pytest

from service import db as dbmod
from service.ingest.model import PayloadError
from service.ingest.timeparse import from_epoch_millis, parse_optional_time, parse_time
from service.usecases.catalog_file import CatalogFile
from service.usecases.imports import Format, ImportFailed, import_costs

Headers = dict[str, str]
SPEND_KPI = {
    "key": "it_spend", "name": "IT spend", "unit": "EUR", "direction": "lower_is_better",
    "aggregation": "sum", "kind": "builtin", "metric": "it_spend", "cadence": "monthly",
}  # fmt: skip


def problem(resp: httpx.Response, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = resp.json()
    return body


def pointers(body: dict[str, Any]) -> list[str]:
    return [e["pointer"] for e in body.get("errors", [])]


def cost(start: Any, end: Any, amount: float = 100.0, **extra: Any) -> dict[str, Any]:
    return {"category": "cloud", "period_start": start, "period_end": end, "amount": amount,
            "currency": "EUR", **extra}  # fmt: skip


async def costs_stored(con: dbmod.Connection) -> int:
    n: int = await con.fetchval("select count(*) from cost_record")
    return n


async def make_catalog(client: httpx.AsyncClient, admin: Headers) -> None:
    resp = await client.post(
        "/v1/services", json={"slug": "checkout", "name": "Checkout", "tier": 1}, headers=admin
    )
    assert resp.status_code == 201, resp.text
    resp = await client.post("/v1/kpis", json=SPEND_KPI, headers=admin)
    assert resp.status_code == 201, resp.text
    resp = await client.post(
        "/v1/kpis",
        json={"key": "orders", "name": "Orders", "unit": "count",
              "direction": "higher_is_better", "aggregation": "sum"},
        headers=admin,
    )  # fmt: skip
    assert resp.status_code == 201, resp.text


# The attack: a cost period ending at the end of the calendar ------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "pointer"),
    [
        ("2026-10-01", "9999-12-31", "#/0/period_end"),  # stored as 'infinity' before
        ("0001-01-01", "2026-10-01", "#/0/period_start"),  # stored as '-infinity' before
        ("1969-12-31", "2026-10-01", "#/0/period_start"),
        ("2026-10-01", "2200-01-02", "#/0/period_end"),
        (0, "2026-10-01", "#/0/period_start"),  # a number is not a date
        ("1733443200", "2026-10-01", "#/0/period_start"),  # nor is a string of digits
        ("2026-10-01T00:00:00Z", "2026-11-01", "#/0/period_start"),  # a date is a date
    ],
)
async def test_cost_periods_outside_1970_2200_are_refused(
    client: httpx.AsyncClient,
    con: dbmod.Connection,
    admin: Headers,
    ingester: Headers,
    start: Any,
    end: Any,
    pointer: str,
) -> None:
    await make_catalog(client, admin)
    body = problem(await client.post("/v1/costs", json=[cost(start, end)], headers=ingester), 422)
    assert pointers(body) == [pointer]
    assert await costs_stored(con) == 0


async def test_the_last_day_allowed_is_2200_01_01_as_an_exclusive_end(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, ingester: Headers
) -> None:
    await make_catalog(client, admin)
    records = [cost("1970-01-01", "1970-02-01"), cost("2199-12-01", "2200-01-01")]
    resp = await client.post("/v1/costs", json=records, headers=ingester)
    assert resp.status_code == 200, resp.text
    assert resp.json()["inserted"] == 2


async def test_cost_query_days_are_checked_too(client: httpx.AsyncClient, reader: Headers) -> None:
    for params in ({"from": "9999-12-31"}, {"to": "0001-01-01"}, {"from": "0"}):
        body = problem(await client.get("/v1/costs", params=params, headers=reader), 422)
        assert body["errors"][0]["field"] == next(iter(params))


@pytest.mark.parametrize(
    ("ts", "why"),
    [
        (0, "a number"),
        (1733443200, "epoch seconds"),
        (1733443200000, "epoch milliseconds"),
        ("1733443200", "epoch seconds as text"),
        (0.5, "a fraction"),
        ("2026-12-01T00:00:00", "no zone offset"),
        ("9999-12-31T23:59:59Z", "after 2200"),
        ("1969-12-31T23:59:59Z", "before 1970"),
        (True, "a boolean"),
    ],
)
async def test_observation_timestamps_must_be_iso_text_with_an_offset_in_range(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, ts: Any, why: str
) -> None:
    await make_catalog(client, admin)
    resp = await client.post(
        "/v1/observations", json=[{"kpi": "orders", "ts": ts, "value": 1}], headers=admin
    )
    body = problem(resp, 422)
    assert pointers(body) == ["#/0/ts"], why
    assert await con.fetchval("select count(*) from observation") == 0


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/scorecard", {"period": "0.5"}, "period"),
        ("/v1/scorecard", {"period": "1733443200"}, "period"),
        ("/v1/kpis/orders/series", {"from": "0"}, "from"),
        ("/v1/kpis/orders/status-history", {"before": "9999-12-31T00:00:00Z"}, "before"),
        ("/v1/incidents", {"to": "1733443200000"}, "to"),
        ("/v1/services/checkout/report", {"from": "0"}, "from"),
    ],
)
async def test_query_instants_refuse_numbers(
    client: httpx.AsyncClient,
    admin: Headers,
    reader: Headers,
    path: str,
    params: dict[str, str],
    field: str,
) -> None:
    await make_catalog(client, admin)
    body = problem(await client.get(path, params=params, headers=reader), 422)
    assert [e["field"] for e in body["errors"]] == [field]


async def test_target_dates_are_checked_in_rest_graphql_and_catalog_files(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers
) -> None:
    await make_catalog(client, admin)
    target = {"kpi": "orders", "value": 10, "effective_from": "2026-01-01",
              "effective_to": "9999-12-31"}  # fmt: skip
    body = problem(await client.post("/v1/targets", json=target, headers=admin), 422)
    assert pointers(body) == ["#/effective_to"]
    mutation = """mutation { createTarget(input: {kpi: "orders", value: 10,
        effectiveFrom: "0001-01-01"}) { ... on Problem { errors { field } } } }"""
    resp = await client.post("/graphql", json={"query": mutation}, headers=admin)
    assert resp.json()["data"]["createTarget"] == {"errors": [{"field": "effectiveFrom"}]}
    assert await con.fetchval("select count(*) from target") == 0
    with pytest.raises(ValueError, match="2200"):
        CatalogFile.model_validate(
            {"kpis": [{**SPEND_KPI, "targets": [{"value": 1, "effective_from": "2026-01-01",
                                                "effective_to": "3000-01-01"}]}]}
        )  # fmt: skip


async def test_kpi_import_refuses_a_cost_period_past_2200(con: dbmod.Connection) -> None:
    csv = (
        "category,period_start,period_end,amount,currency\n"
        "cloud,2026-10-01,2026-11-01,10,EUR\n"
        "cloud,2026-10-01,9999-12-31,10,EUR\n"
    )
    with pytest.raises(ImportFailed) as failed:
        await import_costs(con, io.BytesIO(csv.encode()), name="costs.csv", fmt=Format.CSV)
    assert failed.value.lines()[0].startswith("costs.csv:3: period_end: ")
    assert await costs_stored(con) == 0


def test_webhook_timestamps_are_held_to_the_same_range() -> None:
    with pytest.raises(PayloadError, match="out of range"):
        parse_time("9999-12-31T23:59:59Z", "/incident/created_at")
    with pytest.raises(PayloadError, match="out of range"):
        from_epoch_millis(-1, "/alert/createdAt")  # 1969-12-31T23:59:59.999Z
    # Alertmanager's zero time still means "not ended".
    assert parse_optional_time("0001-01-01T00:00:00Z", "/alerts/0/endsAt") is None


# Data stored before the rule ---------------------------------------------------------------------


async def failing(con: dbmod.Connection, request: Awaitable[httpx.Response]) -> httpx.Response:
    """A request whose statement fails: inside a savepoint rolled back after it, since the app
    shares the test's one connection (a real request has a connection of its own)."""
    savepoint = con.transaction()
    await savepoint.start()
    try:
        return await request
    finally:
        await savepoint.rollback()


async def _store_infinite_cost(con: dbmod.Connection) -> int:
    """A cost record as the earlier code stored `period_end: 9999-12-31` (asyncpg sends the
    last date Python has as 'infinity'); the check that now refuses it is lifted for this
    test's transaction only."""
    await con.execute("alter table cost_record drop constraint cost_record_period_in_range")
    cost_id: int = await con.fetchval(
        "insert into cost_record (service_id, category, period_start, period_end, amount,"
        " currency) select id, 'cloud', '2026-10-01', 'infinity', 100, 'EUR'"
        " from business_service where slug = 'checkout' returning id"
    )
    return cost_id


async def test_a_read_over_bad_stored_data_is_a_logged_server_error_not_a_422(
    client: httpx.AsyncClient,
    con: dbmod.Connection,
    admin: Headers,
    reader: Headers,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await make_catalog(client, admin)
    await _store_infinite_cost(con)
    params = {"grain": "month", "from": "2026-09-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"}
    with caplog.at_level(logging.ERROR):
        resp = await failing(
            con, client.get("/v1/kpis/it_spend/series", params=params, headers=reader)
        )
    body = problem(resp, 500)
    assert "kpi doctor" in body["detail"]
    assert "errors" not in body  # no field of the request is blamed
    assert any(r.message == "stored data out of range" for r in caplog.records)

    query = """{ kpi(key: "it_spend") { series(grain: MONTH, from: "2026-09-01T00:00:00Z",
        to: "2026-12-01T00:00:00Z") { bucket value } } }"""
    resp = await failing(con, client.post("/graphql", json={"query": query}, headers=reader))
    errors = resp.json()["errors"]
    assert [e["message"] for e in errors] == ["Unexpected error."]


async def test_cost_records_are_corrected_and_deleted_by_admins(
    client: httpx.AsyncClient,
    con: dbmod.Connection,
    admin: Headers,
    ingester: Headers,
    reader: Headers,
) -> None:
    await make_catalog(client, admin)
    bad = await _store_infinite_cost(con)
    path = f"/v1/costs/{bad}"
    # The record reads back as stored (the last day Python has), so it can be seen and fixed;
    # evaluating spend over it fails, as the series does.
    resp = await client.get(path, headers=reader)
    assert resp.json()["period_end"] == "9999-12-31"
    resp = await failing(
        con,
        client.post(
            "/v1/evaluate",
            json={"kpi": "it_spend", "period": "2026-10-15T00:00:00Z"},
            headers=admin,
        ),
    )
    assert resp.status_code == 500
    fixed = cost("2026-10-01", "2026-11-01", 100.0, service="checkout", note="was open-ended")
    problem(await client.put(path, json=fixed, headers=ingester), 403)
    problem(await client.delete(path, headers=ingester), 403)
    resp = await client.put(path, json=fixed, headers=admin)
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"id": bad, **fixed, "source": None, "initiative": None}
    assert (await client.get(path, headers=reader)).json()["period_end"] == "2026-11-01"
    # Readers work again: October's 100 EUR spread over its 31 days, all in October.
    params = {"grain": "month", "from": "2026-10-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"}
    resp = await client.get("/v1/kpis/it_spend/series", params=params, headers=reader)
    assert resp.status_code == 200, resp.text
    assert [(p["bucket"], p["value"]) for p in resp.json()["points"]] == [
        ("2026-10-01T00:00:00Z", pytest.approx(100.0))
    ]
    # A correction taking another record's key is a 409; a bad period a 422.
    other = cost("2026-11-01", "2026-12-01", 5.0, service="checkout")
    assert (await client.post("/v1/costs", json=[other], headers=ingester)).status_code == 200
    problem(await client.put(path, json=other, headers=admin), 409)
    body = problem(
        await client.put(path, json=cost("2026-10-01", "9999-12-31"), headers=admin), 422
    )
    assert pointers(body) == ["#/period_end"]
    resp = await client.delete(path, headers=admin)
    assert resp.status_code == 204
    problem(await client.get(path, headers=reader), 404)
    problem(await client.delete(path, headers=admin), 404)
    assert await costs_stored(con) == 1
