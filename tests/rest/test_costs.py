"""POST /v1/costs (batch upsert of cost records) and GET /v1/costs (filtered reads)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import httpx
import pytest

from service import db as dbmod

COSTS = "/v1/costs"
Headers = dict[str, str]

# Helpers -----------------------------------------------------------------------------------------


async def make_services(client: httpx.AsyncClient, admin: Headers) -> None:
    for slug, tier in (("checkout", 1), ("billing", 2)):
        resp = await client.post(
            "/v1/services", json={"slug": slug, "name": slug.title(), "tier": tier}, headers=admin
        )
        assert resp.status_code == 201, resp.text


def cost(
    category: str, start: str, end: str, amount: float, currency: str = "EUR", **extra: Any
) -> dict[str, Any]:
    return {
        "category": category,
        "period_start": start,
        "period_end": end,
        "amount": amount,
        "currency": currency,
        **extra,
    }


async def ingest(
    client: httpx.AsyncClient, headers: Headers, records: list[dict[str, Any]]
) -> dict[str, int]:
    resp = await client.post(COSTS, json=records, headers=headers)
    assert resp.status_code == 200, resp.text
    result: dict[str, int] = resp.json()
    return result


def counts(records: int, inserted: int, updated: int, unchanged: int) -> dict[str, int]:
    return {"records": records, "inserted": inserted, "updated": updated, "unchanged": unchanged}


async def read(client: httpx.AsyncClient, headers: Headers, **params: Any) -> list[dict[str, Any]]:
    resp = await client.get(COSTS, params=params, headers=headers)
    assert resp.status_code == 200, resp.text
    found: list[dict[str, Any]] = resp.json()
    return found


async def stored(con: dbmod.Connection) -> list[tuple[Any, ...]]:
    """Every stored record as (service, category, start, end, amount, currency, note, source),
    in key order (estate records first)."""
    rows = await con.fetch(
        """
        select s.slug, c.category, c.period_start, c.period_end, c.amount, c.currency, c.note,
               c.source
        from cost_record c left join business_service s on s.id = c.service_id
        order by s.slug nulls first, c.category, c.period_start, c.currency
        """
    )
    return [tuple(r) for r in rows]


async def count_rows(con: dbmod.Connection) -> int:
    n: int = await con.fetchval("select count(*) from cost_record")
    return n


def problem(resp: httpx.Response, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = resp.json()
    assert body["status"] == status
    return body


def pointers(body: dict[str, Any]) -> list[str]:
    return [e["pointer"] for e in body["errors"]]


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def batch() -> list[dict[str, Any]]:
    return [
        cost("cloud", "2026-07-01", "2026-10-01", 12500.5, service="checkout", source="aws-cur"),
        cost("licences", "2026-07-01", "2026-08-01", 800, note="IDE seats"),
        cost("staff", "2026-07-01", "2026-08-01", 42000, "GBP", service="billing"),
    ]


# Ingestion ---------------------------------------------------------------------------------------


async def test_batch_is_stored_and_read_back(
    client: httpx.AsyncClient,
    con: dbmod.Connection,
    admin: Headers,
    ingester: Headers,
    reader: Headers,
) -> None:
    await make_services(client, admin)
    assert await ingest(client, ingester, batch()) == counts(3, 3, 0, 0)
    assert await stored(con) == [
        (None, "licences", d("2026-07-01"), d("2026-08-01"), Decimal("800.00"), "EUR",
         "IDE seats", None),
        ("billing", "staff", d("2026-07-01"), d("2026-08-01"), Decimal("42000.00"), "GBP", None,
         None),
        ("checkout", "cloud", d("2026-07-01"), d("2026-10-01"), Decimal("12500.50"), "EUR", None,
         "aws-cur"),
    ]  # fmt: skip
    found = await read(client, reader)
    # Same period_start: ordered by id, i.e. as sent.
    ids = [r.pop("id") for r in found]
    assert ids == [r["id"] for r in await con.fetch("select id from cost_record order by id")]
    assert found == [
        {"service": "checkout", "category": "cloud", "period_start": "2026-07-01",
         "period_end": "2026-10-01", "amount": 12500.5, "currency": "EUR", "note": None,
         "source": "aws-cur", "initiative": None},
        {"service": None, "category": "licences", "period_start": "2026-07-01",
         "period_end": "2026-08-01", "amount": 800.0, "currency": "EUR", "note": "IDE seats",
         "source": None, "initiative": None},
        {"service": "billing", "category": "staff", "period_start": "2026-07-01",
         "period_end": "2026-08-01", "amount": 42000.0, "currency": "GBP", "note": None,
         "source": None, "initiative": None},
    ]  # fmt: skip


async def test_resending_a_batch_changes_nothing(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, ingester: Headers
) -> None:
    await make_services(client, admin)
    assert await ingest(client, ingester, batch()) == counts(3, 3, 0, 0)
    before = await con.fetch("select * from cost_record order by id")
    assert await ingest(client, ingester, batch()) == counts(3, 0, 0, 3)
    # An amount sent with more digits than cents is the same amount once rounded.
    again = batch()
    again[1]["amount"] = 800.001
    assert await ingest(client, ingester, again) == counts(3, 0, 0, 3)
    assert await con.fetch("select * from cost_record order by id") == before


async def test_changing_one_amount_updates_one_record(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, ingester: Headers
) -> None:
    await make_services(client, admin)
    await ingest(client, ingester, batch())
    ids = await con.fetch("select id from cost_record order by id")
    changed = batch()
    changed[0]["amount"] = 13000.25
    assert await ingest(client, ingester, changed) == counts(3, 0, 1, 2)
    amount = await con.fetchval("select amount from cost_record where category = 'cloud'")
    assert amount == Decimal("13000.25")
    # A new note or source is a change too; dropping the note clears it.
    changed[1].pop("note")
    changed[2]["source"] = "payroll"
    new = cost("cloud", "2026-10-01", "2027-01-01", 14000, service="checkout")
    assert await ingest(client, ingester, [*changed, new]) == counts(4, 1, 2, 1)
    rows = await stored(con)
    assert rows[0] == (None, "licences", d("2026-07-01"), d("2026-08-01"), Decimal("800.00"),
                       "EUR", None, None)  # fmt: skip
    assert rows[1][-1] == "payroll"
    # Updated in place: the records keep their ids.
    assert [r["id"] for r in ids] == [
        r["id"] for r in await con.fetch("select id from cost_record order by id limit 3")
    ]


async def test_duplicates_in_one_batch_last_one_wins(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, ingester: Headers
) -> None:
    await make_services(client, admin)
    records = [
        cost("cloud", "2026-07-01", "2026-08-01", 1, service="checkout"),
        cost("cloud", "2026-07-01", "2026-08-01", 10),
        cost("cloud", "2026-07-01", "2026-08-01", 2, service="checkout", note="second"),
        cost("cloud", "2026-07-01", "2026-08-01", 20),
        cost("cloud", "2026-07-01", "2026-08-01", 3, service="checkout"),
    ]
    assert await ingest(client, ingester, records) == counts(2, 2, 0, 0)
    assert await stored(con) == [
        (None, "cloud", d("2026-07-01"), d("2026-08-01"), Decimal("20.00"), "EUR", None, None),
        ("checkout", "cloud", d("2026-07-01"), d("2026-08-01"), Decimal("3.00"), "EUR", None,
         None),
    ]  # fmt: skip
    # The batch's last duplicate equals what is stored: nothing changes, whatever came before.
    again = [records[0], records[1], records[4], records[3]]
    assert await ingest(client, ingester, again) == counts(2, 0, 0, 2)


async def test_estate_records_dedupe_across_requests(
    client: httpx.AsyncClient, con: dbmod.Connection, ingester: Headers
) -> None:
    """A record without a service is one row per key (nulls not distinct), not one per send."""
    estate = cost("cloud", "2026-01-01", "2027-01-01", 1_000_000)
    assert await ingest(client, ingester, [estate]) == counts(1, 1, 0, 0)
    assert await ingest(client, ingester, [estate]) == counts(1, 0, 0, 1)
    assert await ingest(client, ingester, [{**estate, "amount": 999}]) == counts(1, 0, 1, 0)
    # Another currency or period is another record.
    other = [{**estate, "currency": "USD"}, {**estate, "period_end": "2026-07-01"}]
    assert await ingest(client, ingester, other) == counts(2, 2, 0, 0)
    assert await count_rows(con) == 3


async def test_amounts_are_kept_to_the_cent(
    client: httpx.AsyncClient, con: dbmod.Connection, ingester: Headers, reader: Headers
) -> None:
    records = [
        cost("cloud", "2026-01-01", "2026-02-01", 1234.567),
        cost("refunds", "2026-01-01", "2026-02-01", -250.004),
        cost("staff", "2026-01-01", "2026-02-01", 9_999_999_999_999.99),
        cost("spare", "2026-01-01", "2026-02-01", -0.001),
    ]
    assert await ingest(client, ingester, records) == counts(4, 4, 0, 0)
    amounts = await con.fetch("select category, amount from cost_record order by category")
    assert [tuple(r) for r in amounts] == [
        ("cloud", Decimal("1234.57")),
        ("refunds", Decimal("-250.00")),
        ("spare", Decimal("0.00")),
        ("staff", Decimal("9999999999999.99")),
    ]
    found = {r["category"]: r["amount"] for r in await read(client, reader)}
    assert found == {
        "cloud": 1234.57,
        "refunds": -250.0,
        "spare": 0.0,
        "staff": 9_999_999_999_999.99,
    }


async def test_empty_batch_stores_nothing(
    client: httpx.AsyncClient, con: dbmod.Connection, ingester: Headers
) -> None:
    assert await ingest(client, ingester, []) == counts(0, 0, 0, 0)
    assert await count_rows(con) == 0


# Atomicity and validation ------------------------------------------------------------------------


async def test_unknown_service_rejects_the_whole_batch(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, ingester: Headers
) -> None:
    await make_services(client, admin)
    await ingest(client, ingester, [cost("cloud", "2025-01-01", "2025-02-01", 5)])
    records = batch()
    records[1]["service"] = "no-such-service"
    records[2]["service"] = "ghost"
    body = problem(await client.post(COSTS, json=records, headers=ingester), 422)
    # Every bad record is named, not only the first.
    assert body["errors"] == [
        {"pointer": "#/1/service", "field": "1.service",
         "detail": "unknown service 'no-such-service'"},
        {"pointer": "#/2/service", "field": "2.service", "detail": "unknown service 'ghost'"},
    ]  # fmt: skip
    assert body["detail"] == "2 invalid fields: 1.service, 2.service"
    assert await count_rows(con) == 1
    # The failed request left nothing behind: the next batch goes through.
    assert await ingest(client, ingester, batch()) == counts(3, 3, 0, 0)


@pytest.mark.parametrize(
    ("field", "value", "detail"),
    [
        ("period_end", "2026-07-01", "must be after period_start (it is exclusive)"),
        ("period_end", "2026-06-30", "must be after period_start (it is exclusive)"),
        ("period_end", "2026-07", None),
        ("period_start", "yesterday", None),
        ("currency", "eur", None),
        ("currency", "EURO", None),
        ("currency", "€", None),
        ("amount", "5", "Input should be a valid number"),
        ("amount", True, "Input should be a valid number"),
        ("amount", 1e14, None),
        ("amount", -1e14, None),
        ("category", "Cloud", None),
        ("category", "", None),
        ("category", "x" * 61, None),
        ("service", "Not A Slug", None),
        ("note", "a\x00b", None),
        ("source", "s" * 101, None),
        ("unit", "eur", "Extra inputs are not permitted"),
    ],
)
async def test_bad_record_is_named(
    client: httpx.AsyncClient,
    con: dbmod.Connection,
    ingester: Headers,
    field: str,
    value: Any,
    detail: str | None,
) -> None:
    records = [
        cost("cloud", "2026-06-01", "2026-07-01", 1),
        {**cost("cloud", "2026-07-01", "2026-08-01", 2), field: value},
    ]
    body = problem(await client.post(COSTS, json=records, headers=ingester), 422)
    assert pointers(body) == [f"#/1/{field}"]
    if detail is not None:
        assert body["errors"][0]["detail"] == detail
    assert await count_rows(con) == 0


@pytest.mark.parametrize("raw", [b"NaN", b"Infinity", b"-Infinity", b"1e400"])
async def test_non_finite_amount_is_refused(
    client: httpx.AsyncClient, con: dbmod.Connection, ingester: Headers, raw: bytes
) -> None:
    body = (
        b'[{"category":"cloud","period_start":"2026-07-01","period_end":"2026-08-01",'
        b'"currency":"EUR","amount":' + raw + b"}]"
    )
    resp = await client.post(
        COSTS, content=body, headers={**ingester, "Content-Type": "application/json"}
    )
    assert pointers(problem(resp, 422)) == ["#/0/amount"]
    assert await count_rows(con) == 0


async def test_missing_fields_and_malformed_body(
    client: httpx.AsyncClient, con: dbmod.Connection, ingester: Headers
) -> None:
    body = problem(await client.post(COSTS, json=[{"category": "cloud"}], headers=ingester), 422)
    assert sorted(pointers(body)) == [
        "#/0/amount",
        "#/0/currency",
        "#/0/period_end",
        "#/0/period_start",
    ]
    problem(await client.post(COSTS, json=batch()[0], headers=ingester), 422)
    resp = await client.post(
        COSTS, content=b'[{"category": ', headers={**ingester, "Content-Type": "application/json"}
    )
    problem(resp, 422)
    resp = await client.post(COSTS, content=b"[]", headers={**ingester, "Content-Type": "text/csv"})
    problem(resp, 415)
    assert await count_rows(con) == 0


def numbered(n: int) -> list[dict[str, Any]]:
    """n records with distinct keys: one per day from 2000-01-01."""
    first = dt.date(2000, 1, 1)
    return [
        cost(
            "cloud",
            (first + dt.timedelta(days=i)).isoformat(),
            (first + dt.timedelta(days=i + 1)).isoformat(),
            i,
        )
        for i in range(n)
    ]


async def test_batch_over_10000_records_is_413(
    client: httpx.AsyncClient, con: dbmod.Connection, ingester: Headers
) -> None:
    body = problem(await client.post(COSTS, json=numbered(10_001), headers=ingester), 413)
    assert body["limit"] == 10_000
    assert await count_rows(con) == 0
    assert await ingest(client, ingester, numbered(10_000)) == counts(10_000, 10_000, 0, 0)
    assert await count_rows(con) == 10_000


async def test_referenced_service_cannot_be_deleted(
    client: httpx.AsyncClient, admin: Headers, ingester: Headers
) -> None:
    await make_services(client, admin)
    await ingest(client, ingester, batch())
    problem(await client.delete("/v1/services/checkout", headers=admin), 409)


# Scopes ------------------------------------------------------------------------------------------


async def test_scopes(
    client: httpx.AsyncClient,
    con: dbmod.Connection,
    ingester: Headers,
    reader: Headers,
    admin: Headers,
) -> None:
    records = [cost("cloud", "2026-07-01", "2026-08-01", 1)]
    problem(await client.post(COSTS, json=records), 401)
    body = problem(await client.post(COSTS, json=records, headers=reader), 403)
    assert body["required_scope"] == "ingest"
    problem(await client.get(COSTS), 401)
    problem(await client.get(COSTS, headers=ingester), 403)
    assert await count_rows(con) == 0
    assert await ingest(client, admin, records) == counts(1, 1, 0, 0)
    assert len(await read(client, admin)) == 1


# Reads -------------------------------------------------------------------------------------------


async def window_catalog(client: httpx.AsyncClient, admin: Headers, ingester: Headers) -> None:
    await make_services(client, admin)
    await ingest(client, ingester, [
        cost("cloud", "2026-07-01", "2026-10-01", 300, service="checkout"),  # Q3
        cost("cloud", "2026-08-01", "2026-09-01", 100, service="checkout"),  # August
        cost("cloud", "2026-09-01", "2026-10-01", 110, service="checkout"),  # September
        cost("cloud", "2026-09-30", "2026-10-01", 4, service="billing"),  # last day of Sept.
        cost("cloud", "2026-10-01", "2026-11-01", 120, service="checkout"),  # October
        cost("licences", "2026-09-01", "2026-10-01", 50, "USD"),  # September, estate
        cost("staff", "2026-01-01", "2027-01-01", 900, "GBP", service="billing"),  # 2026
    ])  # fmt: skip


def keys(found: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(r["service"], r["category"], r["period_start"], r["period_end"]) for r in found]


async def test_window_returns_overlapping_records(
    client: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await window_catalog(client, admin, ingester)
    found = await read(client, reader, **{"from": "2026-09-01", "to": "2026-09-30"})
    assert keys(found) == [
        ("billing", "staff", "2026-01-01", "2027-01-01"),
        ("checkout", "cloud", "2026-07-01", "2026-10-01"),
        ("checkout", "cloud", "2026-09-01", "2026-10-01"),
        (None, "licences", "2026-09-01", "2026-10-01"),
    ]
    # `to` is exclusive: a window ending on a record's first day misses it; `from` is
    # inclusive: a window starting on a record's end (exclusive) misses it too.
    found = await read(client, reader, **{"from": "2026-09-30", "to": "2026-10-01"})
    assert ("billing", "cloud", "2026-09-30", "2026-10-01") in keys(found)
    assert not [k for k in keys(found) if k[2] in ("2026-08-01", "2026-10-01")]
    # Open-ended on either side.
    found = await read(client, reader, to="2026-08-01")
    assert keys(found) == [
        ("billing", "staff", "2026-01-01", "2027-01-01"),
        ("checkout", "cloud", "2026-07-01", "2026-10-01"),
    ]
    found = await read(client, reader, **{"from": "2026-10-01"})
    assert keys(found) == [
        ("billing", "staff", "2026-01-01", "2027-01-01"),
        ("checkout", "cloud", "2026-10-01", "2026-11-01"),
    ]


async def test_filters_and_limit(
    client: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await window_catalog(client, admin, ingester)
    assert len(await read(client, reader)) == 7
    found = await read(client, reader, service="billing")
    assert keys(found) == [
        ("billing", "staff", "2026-01-01", "2027-01-01"),
        ("billing", "cloud", "2026-09-30", "2026-10-01"),
    ]
    found = await read(client, reader, category="cloud", service="checkout")
    assert [r["period_start"] for r in found] == [
        "2026-07-01",
        "2026-08-01",
        "2026-09-01",
        "2026-10-01",
    ]
    found = await read(client, reader, currency="USD")
    assert keys(found) == [(None, "licences", "2026-09-01", "2026-10-01")]
    assert await read(client, reader, currency="JPY") == []
    found = await read(client, reader, limit=2)
    assert [r["period_start"] for r in found] == ["2026-01-01", "2026-07-01"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"service": "ghost"}, "service"),
        ({"from": "2026-09-30", "to": "2026-09-01"}, "to"),
        ({"from": "2026-09-01", "to": "2026-09-01"}, "to"),
        ({"from": "september"}, "from"),
        ({"currency": "eur"}, "currency"),
        ({"category": "Cloud"}, "category"),
        ({"limit": 0}, "limit"),
        ({"limit": 10_001}, "limit"),
    ],
)
async def test_bad_queries_are_422(
    client: httpx.AsyncClient, reader: Headers, params: dict[str, Any], field: str
) -> None:
    body = problem(await client.get(COSTS, params=params, headers=reader), 422)
    assert [e["field"] for e in body["errors"]] == [field]
