"""POST /v1/budgets (batch upsert of budgets for whole calendar months and quarters),
GET /v1/budgets (filtered reads), GET and DELETE /v1/budgets/{id}."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg
import httpx
import pytest

from service import db as dbmod
from tests.rest.test_costs import cost, counts, make_services, pointers, problem

BUDGETS = "/v1/budgets"
Headers = dict[str, str]


async def ingest(
    client: httpx.AsyncClient, headers: Headers, budgets: list[dict[str, Any]]
) -> dict[str, int]:
    resp = await client.post(BUDGETS, json=budgets, headers=headers)
    assert resp.status_code == 200, resp.text
    result: dict[str, int] = resp.json()
    return result


async def read(client: httpx.AsyncClient, headers: Headers, **params: Any) -> list[dict[str, Any]]:
    resp = await client.get(BUDGETS, params=params, headers=headers)
    assert resp.status_code == 200, resp.text
    found: list[dict[str, Any]] = resp.json()
    return found


async def stored(con: dbmod.Connection) -> list[tuple[Any, ...]]:
    rows = await con.fetch(
        """
        select s.slug, b.category, b.period_start, b.period_end, b.amount::float8, b.currency
        from budget b left join business_service s on s.id = b.service_id
        order by s.slug nulls first, b.category, b.period_start, b.currency
        """
    )
    return [tuple(r) for r in rows]


def batch() -> list[dict[str, Any]]:
    return [
        cost("cloud", "2026-07-01", "2026-10-01", 12500.5, service="checkout", source="plan"),
        cost("licences", "2026-07-01", "2026-08-01", 800, note="IDE seats"),
        cost("staff", "2026-08-01", "2026-09-01", 42000, "GBP", service="billing"),
    ]


async def test_budgets_are_stored_read_back_and_deleted(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, ingester: Headers,
    reader: Headers,
) -> None:  # fmt: skip
    await make_services(client, admin)
    assert await ingest(client, ingester, batch()) == counts(3, 3, 0, 0)
    # Sent again: nothing changes; a new amount updates one budget.
    assert await ingest(client, ingester, batch()) == counts(3, 0, 0, 3)
    changed = batch()
    changed[1]["amount"] = 900
    assert await ingest(client, ingester, changed) == counts(3, 0, 1, 2)
    assert await stored(con) == [
        (None, "licences", dt.date(2026, 7, 1), dt.date(2026, 8, 1), 900.0, "EUR"),
        ("billing", "staff", dt.date(2026, 8, 1), dt.date(2026, 9, 1), 42000.0, "GBP"),
        ("checkout", "cloud", dt.date(2026, 7, 1), dt.date(2026, 10, 1), 12500.5, "EUR"),
    ]
    listed = await read(client, reader)
    assert [(b["category"], b["period_start"], b["amount"]) for b in listed] == [
        ("cloud", "2026-07-01", 12500.5), ("licences", "2026-07-01", 900.0),
        ("staff", "2026-08-01", 42000.0),
    ]  # fmt: skip
    # Filters: the service's, and those overlapping August (the quarter and the month).
    assert [b["category"] for b in await read(client, reader, service="billing")] == ["staff"]
    august = await read(client, reader, **{"from": "2026-08-01", "to": "2026-09-01"})
    assert [b["category"] for b in august] == ["cloud", "staff"]
    assert await read(client, reader, currency="GBP", category="cloud") == []
    one = listed[0]
    resp = await client.get(f"{BUDGETS}/{one['id']}", headers=reader)
    assert resp.status_code == 200 and resp.json() == one
    # Deleting takes an admin token.
    resp = await client.delete(f"{BUDGETS}/{one['id']}", headers=ingester)
    assert resp.status_code == 403
    resp = await client.delete(f"{BUDGETS}/{one['id']}", headers=admin)
    assert resp.status_code == 204
    problem(await client.get(f"{BUDGETS}/{one['id']}", headers=reader), 404)
    problem(await client.delete(f"{BUDGETS}/{one['id']}", headers=admin), 404)
    assert len(await stored(con)) == 2


@pytest.mark.parametrize(
    ("start", "end", "field", "detail"),
    [
        ("2026-07-02", "2026-08-01", "period_start", "must be the first day of a month"),
        ("2026-07-01", "2026-07-31", "period_end",
         "must be the first day of the month or quarter after period_start"),
        ("2026-07-01", "2026-09-01", "period_end",
         "must be the first day of the month or quarter after period_start"),
        ("2026-07-01", "2027-07-01", "period_end",
         "must be the first day of the month or quarter after period_start"),
        ("2026-08-01", "2026-11-01", "period_start",
         "a quarter starts in January, April, July or October"),
        ("2026-08-01", "2026-07-01", "period_end", "must be after period_start (it is exclusive)"),
    ],
)  # fmt: skip
async def test_a_period_must_be_a_whole_month_or_quarter(
    client: httpx.AsyncClient, con: dbmod.Connection, ingester: Headers, start: str, end: str,
    field: str, detail: str,
) -> None:  # fmt: skip
    budgets = [cost("cloud", "2026-06-01", "2026-07-01", 1), cost("cloud", start, end, 2)]
    body = problem(await client.post(BUDGETS, json=budgets, headers=ingester), 422)
    assert pointers(body) == [f"#/1/{field}"]
    assert body["errors"][0]["detail"] == detail
    assert await stored(con) == []


async def test_the_database_refuses_a_period_that_is_not_whole(con: dbmod.Connection) -> None:
    """The table's own check, for rows written by other means than the API."""
    with pytest.raises(asyncpg.CheckViolationError, match="budget_period_whole"):
        await con.execute(
            "insert into budget (category, period_start, period_end, amount, currency) "
            "values ('cloud', '2026-02-01', '2026-05-01', 1, 'EUR')"
        )


async def test_an_unknown_service_rejects_the_batch(
    client: httpx.AsyncClient, con: dbmod.Connection, ingester: Headers
) -> None:
    budgets = [cost("cloud", "2026-07-01", "2026-08-01", 1, service="ghost")]
    body = problem(await client.post(BUDGETS, json=budgets, headers=ingester), 422)
    assert body["errors"] == [
        {"pointer": "#/0/service", "field": "0.service", "detail": "unknown service 'ghost'"}
    ]
    assert await stored(con) == []


async def test_bad_queries_are_422(client: httpx.AsyncClient, reader: Headers) -> None:
    resp = await client.get(BUDGETS, params={"from": "2026-08-01", "to": "2026-07-01"},
                            headers=reader)  # fmt: skip
    assert [e["field"] for e in problem(resp, 422)["errors"]] == ["to"]
    resp = await client.get(BUDGETS, params={"service": "ghost"}, headers=reader)
    assert [e["field"] for e in problem(resp, 422)["errors"]] == ["service"]


async def test_a_budget_may_belong_to_an_initiative_which_is_part_of_its_identity(
    client: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await make_services(client, admin)
    resp = await client.post("/v1/initiatives", headers=admin, json={
        "key": "cloud-move", "name": "Cloud move", "started_on": "2026-04-01",
    })  # fmt: skip
    assert resp.status_code == 201, resp.text
    plain = cost("cloud", "2026-07-01", "2026-08-01", 1000, service="checkout")
    # The same service, category, month and currency, once for the initiative: two budgets.
    assert await ingest(client, ingester, [plain, {**plain, "amount": 400,
                                                   "initiative": "cloud-move"}]) == counts(
        2, 2, 0, 0
    )  # fmt: skip
    found = {b["initiative"]: b["amount"] for b in await read(client, reader, service="checkout")}
    assert found == {None: 1000.0, "cloud-move": 400.0}
    # Sent again for the initiative with a new amount: that one is updated, not the other.
    again = await ingest(client, ingester, [{**plain, "amount": 450, "initiative": "cloud-move"}])
    assert again == counts(1, 0, 1, 0)
    resp = await client.post(BUDGETS, headers=ingester,
                             json=[{**plain, "initiative": "nope"}])  # fmt: skip
    assert resp.status_code == 422, resp.text
    assert pointers(resp.json()) == ["#/0/initiative"]
    # An initiative a budget carries cannot be deleted, as one a cost record carries.
    resp = await client.delete("/v1/initiatives/cloud-move", headers=admin)
    assert resp.status_code == 409, resp.text
    assert "initiative 'cloud-move' is still referenced" in resp.json()["detail"]
