"""POST /v1/observations (JSON batches and NDJSON streams) and GET /v1/kpis/{key}/series."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from service import db as dbmod
from service.app import all_endpoints, create_app
from service.config import Settings
from service.openapi import build_openapi
from tests.conftest import SingleConnectionDatabase
from tests.conftest import app_client as clocked_client

UTC = dt.UTC
OBS = "/v1/observations"
NDJSON = {"Content-Type": "application/x-ndjson"}

# Catalog -----------------------------------------------------------------------------------------


async def create_kpi(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    key: str,
    aggregation: str = "sum",
    **extra: Any,
) -> dict[str, Any]:
    body = {
        "key": key,
        "name": key.replace("_", " ").title(),
        "unit": "count",
        "direction": "higher_is_better",
        "aggregation": aggregation,
        **extra,
    }
    resp = await client.post("/v1/kpis", json=body, headers=admin)
    assert resp.status_code == 201, resp.text
    created: dict[str, Any] = resp.json()
    return created


async def make_catalog(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    """A team, two services (checkout, billing) and the KPIs the tests ingest into.

    orders (sum), failed_orders (sum), failure_rate (ratio failed_orders / orders),
    availability (builtin).
    """
    resp = await client.post("/v1/teams", json={"slug": "shop-team", "name": "Shop"}, headers=admin)
    assert resp.status_code == 201, resp.text
    for slug, tier in (("checkout", 1), ("billing", 2)):
        resp = await client.post(
            "/v1/services",
            json={"slug": slug, "name": slug.title(), "tier": tier, "team": "shop-team"},
            headers=admin,
        )
        assert resp.status_code == 201, resp.text
    await create_kpi(client, admin, "orders", "sum")
    await create_kpi(client, admin, "failed_orders", "sum")
    await create_kpi(
        client,
        admin,
        "failure_rate",
        "avg",
        kind="ratio",
        numerator="failed_orders",
        denominator="orders",
    )
    await create_kpi(
        client, admin, "availability", "avg", kind="builtin", metric="availability", unit="percent"
    )


# Helpers -----------------------------------------------------------------------------------------


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


async def post(
    client: httpx.AsyncClient, headers: dict[str, str], points: list[dict[str, Any]]
) -> httpx.Response:
    return await client.post(OBS, json=points, headers=headers)


async def ingest(
    client: httpx.AsyncClient, headers: dict[str, str], points: list[dict[str, Any]]
) -> dict[str, int]:
    resp = await post(client, headers, points)
    assert resp.status_code == 200, resp.text
    result: dict[str, int] = resp.json()
    return result


async def stored(con: dbmod.Connection) -> list[tuple[Any, ...]]:
    """Every stored observation as (kpi, service, ts, value, dimensions, source, revision),
    sorted by kpi, ts, service (none first) and dimensions (fewest first)."""
    rows = await con.fetch(
        """
        select k.key, s.slug, o.ts, o.value, o.dimensions, o.source, o.revision
        from observation o
        join kpi k on k.id = o.kpi_id
        left join business_service s on s.id = o.service_id
        """
    )
    return sorted(
        (tuple(r) for r in rows),
        key=lambda r: (
            r[0],
            r[2],
            r[1] or "",
            len(r[4]),
            orjson.dumps(r[4], option=orjson.OPT_SORT_KEYS),
        ),
    )


async def count_rows(con: dbmod.Connection, table: str = "observation") -> int:
    n: int = await con.fetchval(f"select count(*) from {table}")
    return n


def ndjson_body(points: list[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(p) + b"\n" for p in points)


async def pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    """The body in `size`-byte pieces, so lines are split mid-way between pieces."""
    for i in range(0, len(data), size):
        yield data[i : i + size]


def problem(resp: httpx.Response, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = resp.json()
    assert body["status"] == status
    return body


def pointers(body: dict[str, Any]) -> list[str]:
    return [e["pointer"] for e in body["errors"]]


@contextlib.asynccontextmanager
async def app_client(
    con: dbmod.Connection, db_schema: str, **settings: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A client over an app built with the given settings, sharing the test's connection."""
    app = create_app(Settings(db_schema=db_schema, **settings), db=SingleConnectionDatabase(con))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://kpi.test") as client:
        yield client


def point(kpi: str, ts: str, value: float, **extra: Any) -> dict[str, Any]:
    return {"kpi": kpi, "ts": ts, "value": value, **extra}


# JSON ingestion ----------------------------------------------------------------------------------


async def test_json_batch_counts_and_rows(
    client: httpx.AsyncClient,
    con: dbmod.Connection,
    settings: Settings,
    admin: dict[str, str],
    ingester: dict[str, str],
) -> None:
    await make_catalog(client, admin)
    batch = [
        point("orders", "2024-03-10T10:15:00+02:00", 5, service="checkout", source="shop-web"),
        point("orders", "2024-03-10T08:15:00Z", 7, service="billing"),
        point("orders", "2024-03-10T08:15:00Z", 12),
        point("failed_orders", "2024-03-09T23:30:00-01:00", 1.5, service="checkout"),
    ]
    # Sent a few days later, inside the window an ingest token may write in.
    async with clocked_client(con, settings, clock=lambda: utc(2024, 3, 12)) as client:
        result = await ingest(client, ingester, batch)
    assert result == {
        "points": 4,
        "inserted": 4,
        "updated": 0,
        "unchanged": 0,
    }
    assert await stored(con) == [
        ("failed_orders", "checkout", utc(2024, 3, 10, 0, 30), 1.5, {}, None, 1),
        ("orders", None, utc(2024, 3, 10, 8, 15), 12.0, {}, None, 1),
        ("orders", "billing", utc(2024, 3, 10, 8, 15), 7.0, {}, None, 1),
        ("orders", "checkout", utc(2024, 3, 10, 8, 15), 5.0, {}, "shop-web", 1),
    ]


async def test_offset_timestamp_is_stored_as_the_utc_instant(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: dict[str, str]
) -> None:
    await make_catalog(client, admin)
    # 01:30 at +02:00 on April 1st is 23:30 UTC on March 31st: the March partition, UTC.
    await ingest(client, admin, [point("orders", "2024-04-01T01:30:00+02:00", 3)])
    row = await con.fetchrow(
        "select to_char(ts at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS') as utc_text,"
        " tableoid::regclass::text as part from observation"
    )
    assert row["utc_text"] == "2024-03-31 23:30:00"
    assert row["part"] == "observation_2024_03"
    ts = await con.fetchval("select ts from observation")
    assert ts == utc(2024, 3, 31, 23, 30)
    assert ts.utcoffset() == dt.timedelta(0)


async def test_empty_batch_stores_nothing(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: dict[str, str]
) -> None:
    assert await ingest(client, admin, []) == {
        "points": 0,
        "inserted": 0,
        "updated": 0,
        "unchanged": 0,
    }
    assert await count_rows(con) == 0


async def test_service_and_dimensions_make_distinct_points(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: dict[str, str]
) -> None:
    await make_catalog(client, admin)
    ts = "2024-05-02T12:00:00Z"
    batch = [
        point("orders", ts, 1),
        point("orders", ts, 2, service="checkout"),
        point("orders", ts, 3, service="billing"),
        point("orders", ts, 4, service="checkout", dimensions={"region": "eu"}),
        point("orders", ts, 5, service="checkout", dimensions={"region": "us"}),
        point("orders", ts, 6, service="checkout", dimensions={"region": "eu", "channel": "app"}),
        point("orders", ts, 7, dimensions={"region": "eu"}),
    ]
    assert await ingest(client, admin, batch) == {
        "points": 7,
        "inserted": 7,
        "updated": 0,
        "unchanged": 0,
    }
    at = utc(2024, 5, 2, 12)
    assert await stored(con) == [
        ("orders", None, at, 1.0, {}, None, 1),
        ("orders", None, at, 7.0, {"region": "eu"}, None, 1),
        ("orders", "billing", at, 3.0, {}, None, 1),
        ("orders", "checkout", at, 2.0, {}, None, 1),
        ("orders", "checkout", at, 4.0, {"region": "eu"}, None, 1),
        ("orders", "checkout", at, 5.0, {"region": "us"}, None, 1),
        ("orders", "checkout", at, 6.0, {"region": "eu", "channel": "app"}, None, 1),
    ]
    # Re-sent, every one of them (service-less included) is recognised as the same point.
    assert await ingest(client, admin, batch) == {
        "points": 7,
        "inserted": 0,
        "updated": 0,
        "unchanged": 7,
    }
    assert await count_rows(con) == 7


# NDJSON ingestion --------------------------------------------------------------------------------


def _stream_points(n: int) -> list[dict[str, Any]]:
    """n points of `orders`, one a minute from 2024-01-01T00:00Z, value = index, alternating
    between checkout, billing and no service."""
    start = utc(2024, 1, 1)
    services = ["checkout", "billing", None]
    out = []
    for i in range(n):
        p = point("orders", (start + dt.timedelta(minutes=i)).isoformat(), i)
        if services[i % 3] is not None:
            p["service"] = services[i % 3]
        out.append(p)
    return out


async def test_ndjson_stream_of_several_chunks(
    client: httpx.AsyncClient,
    con: dbmod.Connection,
    settings: Settings,
    admin: dict[str, str],
    ingester: dict[str, str],
) -> None:
    await make_catalog(client, admin)
    body = ndjson_body(_stream_points(12_000))
    chunks = [body[i : i + 7919] for i in range(0, len(body), 7919)]
    assert sum(not c.endswith(b"\n") for c in chunks) > 100  # lines really are split
    # Sent the day after its last point, inside the window an ingest token may write in.
    async with clocked_client(con, settings, clock=lambda: utc(2024, 1, 10)) as client:
        resp = await client.post(OBS, content=pieces(body, 7919), headers={**ingester, **NDJSON})
        assert resp.status_code == 200, resp.text
        assert resp.json() == {"points": 12_000, "inserted": 12_000, "updated": 0, "unchanged": 0}
        row = await con.fetchrow(
            "select count(*) as n, sum(value) as total, min(ts) as first, max(ts) as last,"
            " count(*) filter (where service_id is null) as no_service from observation"
        )
        assert row["n"] == 12_000
        assert row["total"] == 11_999 * 12_000 / 2  # 0 + 1 + ... + 11,999 = 71,994,000
        assert row["first"] == utc(2024, 1, 1)
        assert row["last"] == utc(2024, 1, 9, 7, 59)  # 11,999 minutes later
        assert row["no_service"] == 4_000
        # Line 7,001 (index 7,000 = 7000 % 3 == 1: billing), at 7,000 minutes = 4d 20h 40m.
        sample = await con.fetchrow(
            "select s.slug, o.value from observation o left join business_service s"
            " on s.id = o.service_id where o.ts = $1",
            utc(2024, 1, 5, 20, 40),
        )
        assert (sample["slug"], sample["value"]) == ("billing", 7000.0)

        # The same stream again changes nothing.
        resp = await client.post(OBS, content=pieces(body, 4096), headers={**ingester, **NDJSON})
        assert resp.json() == {"points": 12_000, "inserted": 0, "updated": 0, "unchanged": 12_000}
        assert await count_rows(con) == 12_000


async def test_ndjson_duplicate_across_chunks_last_one_wins(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: dict[str, str]
) -> None:
    await make_catalog(client, admin)
    points = _stream_points(5_000)
    # Line 5,001 (in the second chunk) repeats line 2 (billing, 00:01) with another value.
    points.append(point("orders", "2024-01-01T00:01:00Z", -1, service="billing"))
    resp = await client.post(
        OBS, content=pieces(ndjson_body(points), 8192), headers={**admin, **NDJSON}
    )
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"points": 5_000, "inserted": 5_000, "updated": 0, "unchanged": 0}
    assert await count_rows(con) == 5_000
    value = await con.fetchval("select value from observation where ts = $1", utc(2024, 1, 1, 0, 1))
    assert value == -1.0


async def test_ndjson_blank_lines_and_no_trailing_newline(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: dict[str, str]
) -> None:
    await make_catalog(client, admin)
    body = (
        b'{"kpi":"orders","ts":"2024-01-01T00:00:00Z","value":1}\n'
        b"\n"
        b'{"kpi":"orders","ts":"2024-01-01T01:00:00Z","value":2,"service":"checkout"}\r\n'
        b'{"kpi":"orders","ts":"2024-01-01T02:00:00Z","value":3}'
    )
    resp = await client.post(OBS, content=pieces(body, 10), headers={**admin, **NDJSON})
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"points": 3, "inserted": 3, "updated": 0, "unchanged": 0}
    assert [(r[1], r[2], r[3]) for r in await stored(con)] == [
        (None, utc(2024, 1, 1, 0), 1.0),
        ("checkout", utc(2024, 1, 1, 1), 2.0),
        (None, utc(2024, 1, 1, 2), 3.0),
    ]


async def test_ndjson_bad_line_in_a_later_chunk_stores_nothing(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: dict[str, str]
) -> None:
    await make_catalog(client, admin)
    points = _stream_points(12_000)
    points[7_999]["value"] = "abc"  # line 8,000: in the second 5,000-point chunk
    resp = await client.post(
        OBS, content=pieces(ndjson_body(points), 8192), headers={**admin, **NDJSON}
    )
    body = problem(resp, 422)
    assert pointers(body) == ["#/7999/value"]
    assert await count_rows(con) == 0


async def test_ndjson_unknown_kpi_on_last_chunk_stores_nothing(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: dict[str, str]
) -> None:
    await make_catalog(client, admin)
    points = _stream_points(12_000)
    points[10_999]["kpi"] = "no_such_kpi"  # line 11,000: every chunk before it is copied
    resp = await client.post(
        OBS, content=pieces(ndjson_body(points), 8192), headers={**admin, **NDJSON}
    )
    body = problem(resp, 422)
    assert pointers(body) == ["#/10999/kpi"]
    assert await count_rows(con) == 0


async def test_ndjson_unknown_service_and_inf(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: dict[str, str]
) -> None:
    await make_catalog(client, admin)
    lines = [
        b'{"kpi":"orders","ts":"2024-01-01T00:00:00Z","value":1}',
        b'{"kpi":"orders","ts":"2024-01-01T01:00:00Z","value":2,"service":"nope"}',
    ]
    resp = await client.post(OBS, content=b"\n".join(lines), headers={**admin, **NDJSON})
    assert pointers(problem(resp, 422)) == ["#/1/service"]
    lines[1] = b'{"kpi":"orders","ts":"2024-01-01T01:00:00Z","value":1e400}'
    resp = await client.post(OBS, content=b"\n".join(lines), headers={**admin, **NDJSON})
    assert pointers(problem(resp, 422)) == ["#/1/value"]
    assert await count_rows(con) == 0


async def test_ndjson_pointer_is_line_number_minus_one_even_after_blank_lines(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: dict[str, str]
) -> None:
    """The endpoint documents the pointer of a bad NDJSON point as its line number - 1."""
    await make_catalog(client, admin)
    body = (
        b'{"kpi":"orders","ts":"2024-01-01T00:00:00Z","value":1}\n'  # line 1
        b"\n"  # line 2, blank (skipped)
        b'{"kpi":"orders","ts":"2024-01-01T01:00:00Z","value":"abc"}\n'  # line 3
    )
    resp = await client.post(OBS, content=body, headers={**admin, **NDJSON})
    assert pointers(problem(resp, 422)) == ["#/2/value"]
    assert await count_rows(con) == 0


async def test_ndjson_lines_are_validated_each_on_its_own(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: dict[str, str]
) -> None:
    """Lines are validated together, but a line holding two points, or a line that is a
    point only together with the next, is refused as it would be alone."""
    await make_catalog(client, admin)
    a = b'{"kpi":"orders","ts":"2024-01-01T00:00:00Z","value":1}'
    b = b'{"kpi":"orders","ts":"2024-01-01T01:00:00Z","value":2}'
    for body in (
        a + b"\n" + a + b"," + b + b"\n" + b,  # line 2 holds two points
        a + b'\n{"kpi":"orders","source":"x}\n{y","ts":"2024-01-01T01:00:00Z","value":2}',
    ):
        resp = await client.post(OBS, content=body, headers={**admin, **NDJSON})
        assert pointers(problem(resp, 422)) == ["#/1"]
    assert await count_rows(con) == 0


async def test_ndjson_is_not_bound_by_max_batch_points(
    con: dbmod.Connection, db_schema: str, admin: dict[str, str]
) -> None:
    async with app_client(con, db_schema, max_batch_points=5) as small:
        await make_catalog(small, admin)
        body = ndjson_body(_stream_points(6))
        resp = await small.post(OBS, content=body, headers={**admin, **NDJSON})
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"points": 6, "inserted": 6, "updated": 0, "unchanged": 0}
    assert await count_rows(con) == 6


async def test_ndjson_line_over_the_limit_is_413(
    con: dbmod.Connection, db_schema: str, admin: dict[str, str]
) -> None:
    async with app_client(con, db_schema, max_ndjson_line_bytes=200) as small:
        await make_catalog(small, admin)
        short = point("orders", "2024-01-01T00:00:00Z", 1)
        long = {**point("orders", "2024-01-01T01:00:00Z", 2), "dimensions": {"note": "x" * 190}}
        body = ndjson_body([short, long])
        assert len(orjson.dumps(long)) > 200
        resp = await small.post(OBS, content=pieces(body, 50), headers={**admin, **NDJSON})
        assert problem(resp, 413)["limit"] == 200
        # A line just under the limit, without a final newline, is fine.
        ok = orjson.dumps({**long, "dimensions": {"note": "x" * 100}})
        assert len(ok) <= 200
        resp = await small.post(OBS, content=ok, headers={**admin, **NDJSON})
        assert resp.status_code == 200, resp.text
    assert await count_rows(con) == 1


# Idempotency and revisions -----------------------------------------------------------------------


async def test_resending_a_batch_changes_nothing(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: dict[str, str]
) -> None:
    await make_catalog(client, admin)
    batch = [
        point("orders", "2024-02-01T00:00:00Z", 10, service="checkout"),
        point("orders", "2024-02-01T00:00:00Z", 20),
        point("orders", "2024-02-01T00:00:00Z", 30, dimensions={"region": "eu"}),
    ]
    assert await ingest(client, admin, batch) == {
        "points": 3,
        "inserted": 3,
        "updated": 0,
        "unchanged": 0,
    }
    before = await stored(con)
    assert await ingest(client, admin, batch) == {
        "points": 3,
        "inserted": 0,
        "updated": 0,
        "unchanged": 3,
    }
    assert await stored(con) == before
    assert await count_rows(con) == 3
    assert await count_rows(con, "observation_revision") == 0


async def test_new_value_bumps_revision_and_keeps_the_old_one(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: dict[str, str]
) -> None:
    await make_catalog(client, admin)
    first = point("orders", "2024-02-01T06:00:00Z", 10, service="checkout", source="v1")
    other = point("orders", "2024-02-01T07:00:00Z", 99)
    await ingest(client, admin, [first, other])

    changed = {**first, "value": 11, "source": "v2"}
    # The same instant written with another offset is the same point.
    other_again = {**other, "ts": "2024-02-01T09:00:00+02:00"}
    new = point("orders", "2024-02-01T08:00:00Z", 1)
    assert await ingest(client, admin, [changed, other_again, new]) == {
        "points": 3,
        "inserted": 1,
        "updated": 1,
        "unchanged": 1,
    }
    assert await stored(con) == [
        ("orders", "checkout", utc(2024, 2, 1, 6), 11.0, {}, "v2", 2),
        ("orders", None, utc(2024, 2, 1, 7), 99.0, {}, None, 1),
        ("orders", None, utc(2024, 2, 1, 8), 1.0, {}, None, 1),
    ]
    revisions = await con.fetch(
        "select value, revision, source, ts from observation_revision order by revision"
    )
    assert [tuple(r) for r in revisions] == [(10.0, 1, "v1", utc(2024, 2, 1, 6))]

    # A third value: revision 3, and both replaced values kept in order.
    assert await ingest(client, admin, [{**first, "value": 12, "source": "v3"}]) == {
        "points": 1,
        "inserted": 0,
        "updated": 1,
        "unchanged": 0,
    }
    assert await con.fetchval("select revision from observation where value = 12") == 3
    revisions = await con.fetch("select value, revision from observation_revision order by 2")
    assert [tuple(r) for r in revisions] == [(10.0, 1), (11.0, 2)]


async def test_updating_a_point_without_service(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: dict[str, str]
) -> None:
    await make_catalog(client, admin)
    await ingest(client, admin, [point("orders", "2024-02-01T00:00:00Z", 1)])
    assert await ingest(client, admin, [point("orders", "2024-02-01T00:00:00Z", 2)]) == {
        "points": 1,
        "inserted": 0,
        "updated": 1,
        "unchanged": 0,
    }
    assert await stored(con) == [("orders", None, utc(2024, 2, 1), 2.0, {}, None, 2)]
    row = await con.fetchrow("select value, revision, service_id from observation_revision")
    assert tuple(row) == (1.0, 1, None)


async def test_duplicates_in_one_batch_last_one_wins(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: dict[str, str]
) -> None:
    await make_catalog(client, admin)
    ts = "2024-02-01T00:00:00Z"
    batch = [
        point("orders", ts, 1, service="checkout", dimensions={"a": "x", "b": "y"}),
        point("orders", ts, 5),
        point("orders", ts, 2, service="checkout", dimensions={"b": "y", "a": "x"}),
        point("orders", "2024-02-01T01:00:00+01:00", 6),  # same instant as index 1
        point("orders", ts, 3, service="checkout", dimensions={"a": "x", "b": "y"}),
    ]
    assert await ingest(client, admin, batch) == {
        "points": 2,
        "inserted": 2,
        "updated": 0,
        "unchanged": 0,
    }
    assert await stored(con) == [
        ("orders", None, utc(2024, 2, 1), 6.0, {}, None, 1),
        ("orders", "checkout", utc(2024, 2, 1), 3.0, {"a": "x", "b": "y"}, None, 1),
    ]
    # The batch's last duplicate equals what is stored: nothing changes, whatever came before.
    again = [point("orders", ts, 9), point("orders", ts, 6)]
    assert await ingest(client, admin, again) == {
        "points": 1,
        "inserted": 0,
        "updated": 0,
        "unchanged": 1,
    }
    assert await count_rows(con, "observation_revision") == 0
    assert await con.fetchval("select value from observation where service_id is null") == 6.0


# Atomicity and validation ------------------------------------------------------------------------


def _good_batch() -> list[dict[str, Any]]:
    return [
        point("orders", f"2024-06-0{i + 1}T00:00:00Z", i + 1, service="checkout") for i in range(5)
    ]


async def _assert_rejected(
    client: httpx.AsyncClient,
    con: dbmod.Connection,
    headers: dict[str, str],
    batch: list[dict[str, Any]],
    pointer: str,
) -> dict[str, Any]:
    before = await count_rows(con)
    body = problem(await post(client, headers, batch), 422)
    assert body["errors"][0]["pointer"] == pointer
    assert await count_rows(con) == before
    return body


async def test_unknown_kpi_rejects_the_whole_batch(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: dict[str, str]
) -> None:
    await make_catalog(client, admin)
    await ingest(client, admin, [point("orders", "2024-01-01T00:00:00Z", 1)])
    batch = _good_batch()
    batch[3]["kpi"] = "no_such_kpi"
    body = await _assert_rejected(client, con, admin, batch, "#/3/kpi")
    assert body["errors"] == [
        {"pointer": "#/3/kpi", "field": "3.kpi", "detail": "unknown KPI 'no_such_kpi'"}
    ]
    assert await count_rows(con) == 1
    # The failed request left nothing behind: the next batch goes through.
    assert (await ingest(client, admin, _good_batch()))["inserted"] == 5


async def test_unknown_service_rejects_the_whole_batch(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: dict[str, str]
) -> None:
    await make_catalog(client, admin)
    batch = _good_batch()
    batch[3]["service"] = "no-such-service"
    body = await _assert_rejected(client, con, admin, batch, "#/3/service")
    assert body["errors"][0]["detail"] == "unknown service 'no-such-service'"
    assert await count_rows(con) == 0


async def test_every_bad_point_is_named(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: dict[str, str]
) -> None:
    """An unknown service, an unknown KPI and a builtin KPI in one batch: all three named."""
    await make_catalog(client, admin)
    batch = _good_batch()
    batch[1]["service"] = "ghost"
    batch[3]["kpi"] = "availability"
    batch[4]["kpi"] = "ghost_kpi"
    body = await _assert_rejected(client, con, admin, batch, "#/1/service")
    assert body["errors"] == [
        {"pointer": "#/1/service", "field": "1.service", "detail": "unknown service 'ghost'"},
        {"pointer": "#/3/kpi", "field": "3.kpi",
         "detail": "KPI 'availability' is builtin: it is computed, not observed"},
        {"pointer": "#/4/kpi", "field": "4.kpi", "detail": "unknown KPI 'ghost_kpi'"},
    ]  # fmt: skip
    assert body["detail"] == "3 invalid fields: 1.service, 3.kpi, 4.kpi"


async def test_a_batch_of_many_bad_points_lists_the_first_hundred_and_counts_all(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: dict[str, str]
) -> None:
    await make_catalog(client, admin)
    batch = [point("orders", f"2024-06-01T00:{i // 60:02d}:{i % 60:02d}Z", i, service="ghost")
             for i in range(150)]  # fmt: skip
    body = await _assert_rejected(client, con, admin, batch, "#/0/service")
    assert len(body["errors"]) == 100
    assert body["errors"][-1]["pointer"] == "#/99/service"
    assert body["errors_total"] == 150
    assert body["detail"].startswith("150 invalid fields: 0.service, 1.service")


async def test_type_error_names_the_value(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: dict[str, str]
) -> None:
    await make_catalog(client, admin)
    batch = _good_batch()
    batch[2]["value"] = "abc"
    body = await _assert_rejected(client, con, admin, batch, "#/2/value")
    assert pointers(body) == ["#/2/value"]


async def test_naive_timestamp_is_refused(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: dict[str, str]
) -> None:
    await make_catalog(client, admin)
    batch = _good_batch()
    batch[4]["ts"] = "2024-06-05T00:00:00"
    body = await _assert_rejected(client, con, admin, batch, "#/4/ts")
    assert pointers(body) == ["#/4/ts"]


async def test_timestamp_out_of_range_is_refused(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: dict[str, str]
) -> None:
    await make_catalog(client, admin)
    batch = _good_batch()
    batch[0]["ts"] = "1969-12-31T23:59:59Z"
    batch[1]["ts"] = "2200-01-01T00:00:00Z"
    body = await _assert_rejected(client, con, admin, batch, "#/0/ts")
    assert pointers(body) == ["#/0/ts", "#/1/ts"]


async def test_overflowing_value_is_refused(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: dict[str, str]
) -> None:
    await make_catalog(client, admin)
    # JSON has no NaN or Infinity, but 1e400 overflows a double to inf.
    raw = (
        b'[{"kpi":"orders","ts":"2024-01-01T00:00:00Z","value":1},'
        b'{"kpi":"orders","ts":"2024-01-01T01:00:00Z","value":1e400},'
        b'{"kpi":"orders","ts":"2024-01-01T02:00:00Z","value":-1e400}]'
    )
    resp = await client.post(
        OBS, content=raw, headers={**admin, "Content-Type": "application/json"}
    )
    assert pointers(problem(resp, 422)) == ["#/1/value", "#/2/value"]
    assert await count_rows(con) == 0


async def test_points_for_computed_kpis_are_refused(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: dict[str, str]
) -> None:
    await make_catalog(client, admin)
    batch = _good_batch()
    batch[3]["kpi"] = "availability"
    body = await _assert_rejected(client, con, admin, batch, "#/3/kpi")
    assert body["errors"][0]["detail"] == (
        "KPI 'availability' is builtin: it is computed, not observed"
    )
    batch[3]["kpi"] = "failure_rate"
    body = await _assert_rejected(client, con, admin, batch, "#/3/kpi")
    assert body["errors"][0]["detail"] == (
        "KPI 'failure_rate' is ratio: it is computed, not observed"
    )
    assert await count_rows(con) == 0


async def test_unknown_field_and_malformed_body(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: dict[str, str]
) -> None:
    await make_catalog(client, admin)
    batch = _good_batch()
    batch[1]["unit"] = "eur"
    await _assert_rejected(client, con, admin, batch, "#/1/unit")
    resp = await client.post(
        OBS, content=b'[{"kpi": "orders",', headers={**admin, "Content-Type": "application/json"}
    )
    problem(resp, 422)
    resp = await client.post(OBS, json={"kpi": "orders"}, headers=admin)
    problem(resp, 422)
    assert await count_rows(con) == 0


async def test_batch_over_max_batch_points_is_413(
    con: dbmod.Connection, db_schema: str, admin: dict[str, str]
) -> None:
    async with app_client(con, db_schema, max_batch_points=5) as small:
        await make_catalog(small, admin)
        six = [*_good_batch(), point("orders", "2024-06-06T00:00:00Z", 6)]
        body = problem(await post(small, admin, six), 413)
        assert body["limit"] == 5
        assert await count_rows(con) == 0
        assert await ingest(small, admin, _good_batch()) == {
            "points": 5,
            "inserted": 5,
            "updated": 0,
            "unchanged": 0,
        }
    assert await count_rows(con) == 5


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", None])
async def test_wrong_content_type_is_415(
    client: httpx.AsyncClient,
    con: dbmod.Connection,
    admin: dict[str, str],
    content_type: str | None,
) -> None:
    await make_catalog(client, admin)
    headers = dict(admin)
    if content_type is not None:
        headers["Content-Type"] = content_type
    raw = orjson.dumps(_good_batch())
    body = problem(await client.post(OBS, content=raw, headers=headers), 415)
    assert body["accepted"] == ["application/json", "application/x-ndjson"]
    assert await count_rows(con) == 0


async def test_json_with_charset_is_accepted(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: dict[str, str]
) -> None:
    await make_catalog(client, admin)
    resp = await client.post(
        OBS,
        content=orjson.dumps(_good_batch()),
        headers={**admin, "Content-Type": "application/json; charset=utf-8"},
    )
    assert resp.status_code == 200, resp.text
    assert await count_rows(con) == 5


@pytest.mark.parametrize(
    "batches",
    [
        # March ends on summer time in Berlin: the March partition would stop at 23:00Z.
        [["2024-03-31T23:30:00Z"]],
        # October ends on winter time: the October partition would run to Nov 1 01:00Z and
        # the November one could not be created next to it.
        [["2024-10-15T00:00:00Z"], ["2024-11-01T00:30:00Z"]],
    ],
    ids=["march-gap", "october-overlap"],
)
async def test_partition_bounds_do_not_depend_on_the_session_time_zone(
    client: httpx.AsyncClient,
    con: dbmod.Connection,
    admin: dict[str, str],
    batches: list[list[str]],
) -> None:
    """Monthly partitions are UTC months whatever the Postgres TimeZone setting (a server's
    default is often local time): every point of every month must find its partition."""
    await make_catalog(client, admin)
    await con.execute("set local timezone to 'Europe/Berlin'")
    for i, batch in enumerate(batches):
        resp = await post(client, admin, [point("orders", ts, 1) for ts in batch])
        assert resp.status_code == 200, resp.text
        assert await count_rows(con) == i + 1


# Series ------------------------------------------------------------------------------------------

# Points of one KPI, hand-placed across hours, days, weeks (2024-01-01 is a Monday), months and
# quarters. G is written at +02:00: it is 2024-03-31T23:30Z, a Sunday, March, Q1.
SERIES_POINTS = [
    ("2024-01-01T00:10:00Z", 4),  # A  Mon
    ("2024-01-01T00:50:00Z", 10),  # B  Mon
    ("2024-01-01T01:05:00Z", 1),  # C  Mon
    ("2024-01-07T23:59:00Z", 6),  # D  Sun: still the week of Mon 01-01
    ("2024-01-08T09:00:00Z", 3),  # E  Mon: the next week
    ("2024-02-14T12:00:00Z", 8),  # F  Wed: week of Mon 02-12
    ("2024-04-01T01:30:00+02:00", 17),  # G  Sun 03-31 23:30Z: week of Mon 03-25
    ("2024-04-02T00:00:00Z", 5),  # H  Tue: week of Mon 04-01, Q2
]

AGGREGATIONS = ["sum", "avg", "min", "max", "last", "count"]


def single(value: float) -> dict[str, float]:
    return {"sum": value, "avg": value, "min": value, "max": value, "last": value, "count": 1}


# grain -> [(bucket, {aggregation: value}, points in bucket)]
EXPECTED: dict[str, list[tuple[str, dict[str, float], int]]] = {
    "hour": [
        (
            "2024-01-01T00:00:00Z",
            {"sum": 14, "avg": 7, "min": 4, "max": 10, "last": 10, "count": 2},
            2,
        ),
        ("2024-01-01T01:00:00Z", single(1), 1),
        ("2024-01-07T23:00:00Z", single(6), 1),
        ("2024-01-08T09:00:00Z", single(3), 1),
        ("2024-02-14T12:00:00Z", single(8), 1),
        ("2024-03-31T23:00:00Z", single(17), 1),
        ("2024-04-02T00:00:00Z", single(5), 1),
    ],
    "day": [
        (
            "2024-01-01T00:00:00Z",
            {"sum": 15, "avg": 5, "min": 1, "max": 10, "last": 1, "count": 3},
            3,
        ),
        ("2024-01-07T00:00:00Z", single(6), 1),
        ("2024-01-08T00:00:00Z", single(3), 1),
        ("2024-02-14T00:00:00Z", single(8), 1),
        ("2024-03-31T00:00:00Z", single(17), 1),
        ("2024-04-02T00:00:00Z", single(5), 1),
    ],
    "week": [
        (
            "2024-01-01T00:00:00Z",
            {"sum": 21, "avg": 5.25, "min": 1, "max": 10, "last": 6, "count": 4},
            4,
        ),
        ("2024-01-08T00:00:00Z", single(3), 1),
        ("2024-02-12T00:00:00Z", single(8), 1),
        ("2024-03-25T00:00:00Z", single(17), 1),
        ("2024-04-01T00:00:00Z", single(5), 1),
    ],
    "month": [
        (
            "2024-01-01T00:00:00Z",
            {"sum": 24, "avg": 4.8, "min": 1, "max": 10, "last": 3, "count": 5},
            5,
        ),
        ("2024-02-01T00:00:00Z", single(8), 1),
        ("2024-03-01T00:00:00Z", single(17), 1),
        ("2024-04-01T00:00:00Z", single(5), 1),
    ],
    "quarter": [
        (
            "2024-01-01T00:00:00Z",
            {"sum": 49, "avg": 7, "min": 1, "max": 17, "last": 17, "count": 7},
            7,
        ),
        ("2024-04-01T00:00:00Z", single(5), 1),
    ],
}


async def series(
    client: httpx.AsyncClient, headers: dict[str, str], key: str, **params: str
) -> httpx.Response:
    return await client.get(f"/v1/kpis/{key}/series", params=params, headers=headers)


def buckets(resp: httpx.Response) -> list[tuple[str, float | None, int]]:
    assert resp.status_code == 200, resp.text
    return [(p["bucket"], p["value"], p["count"]) for p in resp.json()["points"]]


@pytest.mark.parametrize("grain", list(EXPECTED))
@pytest.mark.parametrize("aggregation", AGGREGATIONS)
async def test_series_per_grain_and_aggregation(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    reader: dict[str, str],
    grain: str,
    aggregation: str,
) -> None:
    await create_kpi(client, admin, "metric", aggregation, unit="ms")
    await ingest(client, admin, [point("metric", ts, v) for ts, v in SERIES_POINTS])
    resp = await series(client, reader, "metric", grain=grain)
    assert buckets(resp) == [(b, values[aggregation], n) for b, values, n in EXPECTED[grain]]
    body = resp.json()
    assert {k: body[k] for k in ("kpi", "service", "grain", "aggregation", "unit")} == {
        "kpi": "metric",
        "service": None,
        "grain": grain,
        "aggregation": aggregation,
        "unit": "ms",
    }


async def test_series_default_grain_is_day(
    client: httpx.AsyncClient, admin: dict[str, str], reader: dict[str, str]
) -> None:
    await create_kpi(client, admin, "metric", "sum")
    await ingest(client, admin, [point("metric", ts, v) for ts, v in SERIES_POINTS])
    resp = await series(client, reader, "metric")
    assert resp.json()["grain"] == "day"
    assert buckets(resp) == [(b, v["sum"], n) for b, v, n in EXPECTED["day"]]


async def test_series_of_a_kpi_without_points_is_empty(
    client: httpx.AsyncClient, admin: dict[str, str], reader: dict[str, str]
) -> None:
    await make_catalog(client, admin)
    assert buckets(await series(client, reader, "orders")) == []


async def test_series_last_uses_the_latest_instant_not_the_latest_sent(
    client: httpx.AsyncClient, admin: dict[str, str], reader: dict[str, str]
) -> None:
    await create_kpi(client, admin, "queue_depth", "last")
    await ingest(
        client,
        admin,
        [
            point("queue_depth", "2024-01-01T10:00:00Z", 30),
            point("queue_depth", "2024-01-01T08:00:00Z", 10),
        ],
    )
    await ingest(client, admin, [point("queue_depth", "2024-01-01T09:00:00Z", 20)])
    assert buckets(await series(client, reader, "queue_depth")) == [
        ("2024-01-01T00:00:00Z", 30.0, 3)
    ]


async def test_values_are_bounded_so_sums_stay_finite(
    client: httpx.AsyncClient, admin: dict[str, str], reader: dict[str, str], con: dbmod.Connection
) -> None:
    """1e308 is a finite double, but two of them overflow a sum in Postgres: values are bounded
    at 1e15 in magnitude, so a bucket of the largest values still sums without error."""
    await make_catalog(client, admin)
    resp = await post(client, admin, [point("orders", "2024-01-01T00:00:00Z", 1e308)])
    assert resp.status_code == 422
    assert [e["pointer"] for e in resp.json()["errors"]] == ["#/0/value"]
    assert await con.fetchval("select count(*) from observation") == 0

    await ingest(
        client,
        admin,
        [
            point("orders", "2024-01-01T00:00:00Z", 1e15),
            point("orders", "2024-01-01T01:00:00Z", 1e15),
            point("orders", "2024-01-01T02:00:00Z", -1e15),
        ],
    )
    assert buckets(await series(client, reader, "orders")) == [("2024-01-01T00:00:00Z", 1e15, 3)]


async def test_series_service_filter(
    client: httpx.AsyncClient, admin: dict[str, str], reader: dict[str, str]
) -> None:
    await make_catalog(client, admin)
    await ingest(
        client,
        admin,
        [
            point("orders", "2024-01-01T10:00:00Z", 5, service="checkout"),
            point("orders", "2024-01-01T11:00:00Z", 7, service="checkout"),
            point("orders", "2024-01-02T00:00:00Z", 1, service="checkout"),
            point("orders", "2024-01-01T10:00:00Z", 100, service="billing"),
            point("orders", "2024-01-02T10:00:00Z", 1000),
        ],
    )
    assert buckets(await series(client, reader, "orders")) == [
        ("2024-01-01T00:00:00Z", 112.0, 3),
        ("2024-01-02T00:00:00Z", 1001.0, 2),
    ]
    resp = await series(client, reader, "orders", service="checkout")
    assert resp.json()["service"] == "checkout"
    assert buckets(resp) == [
        ("2024-01-01T00:00:00Z", 12.0, 2),
        ("2024-01-02T00:00:00Z", 1.0, 1),
    ]
    assert buckets(await series(client, reader, "orders", service="billing")) == [
        ("2024-01-01T00:00:00Z", 100.0, 1),
    ]


async def test_series_from_is_inclusive_and_to_exclusive(
    client: httpx.AsyncClient, admin: dict[str, str], reader: dict[str, str]
) -> None:
    await make_catalog(client, admin)
    await ingest(
        client,
        admin,
        [point("orders", f"2024-01-01T0{h}:00:00Z", 2**h) for h in range(4)],  # 1, 2, 4, 8
    )
    t1, t3 = "2024-01-01T01:00:00Z", "2024-01-01T03:00:00Z"
    assert buckets(await series(client, reader, "orders", grain="hour", to=t3, **{"from": t1})) == [
        ("2024-01-01T01:00:00Z", 2.0, 1),
        ("2024-01-01T02:00:00Z", 4.0, 1),
    ]
    assert buckets(await series(client, reader, "orders", grain="hour", **{"from": t1})) == [
        ("2024-01-01T01:00:00Z", 2.0, 1),
        ("2024-01-01T02:00:00Z", 4.0, 1),
        ("2024-01-01T03:00:00Z", 8.0, 1),
    ]
    assert buckets(await series(client, reader, "orders", grain="hour", to=t3)) == [
        ("2024-01-01T00:00:00Z", 1.0, 1),
        ("2024-01-01T01:00:00Z", 2.0, 1),
        ("2024-01-01T02:00:00Z", 4.0, 1),
    ]
    # The bounds filter points, not buckets; an offset is honoured: 03:00+02:00 is 01:00Z.
    resp = await series(
        client, reader, "orders", grain="day", **{"from": "2024-01-01T03:00:00+02:00"}
    )
    assert buckets(resp) == [("2024-01-01T00:00:00Z", 14.0, 3)]


async def test_series_bad_queries(
    client: httpx.AsyncClient, admin: dict[str, str], reader: dict[str, str]
) -> None:
    await make_catalog(client, admin)
    t1, t2 = "2024-01-01T01:00:00Z", "2024-01-01T02:00:00Z"
    body = problem(await series(client, reader, "orders", to=t1, **{"from": t2}), 422)
    assert pointers(body) == ["#/to"]
    body = problem(await series(client, reader, "orders", to=t1, **{"from": t1}), 422)
    assert pointers(body) == ["#/to"]
    body = problem(await series(client, reader, "orders", service="ghost"), 422)
    assert body["errors"] == [
        {"pointer": "#/service", "field": "service", "detail": "unknown service 'ghost'"}
    ]
    body = problem(await series(client, reader, "orders", **{"from": "2024-01-01T00:00:00"}), 422)
    assert pointers(body) == ["#/from"]
    body = problem(await series(client, reader, "orders", grain="decade"), 422)
    assert pointers(body) == ["#/grain"]
    body = problem(await series(client, reader, "no_such_kpi"), 404)
    assert body["detail"] == "no KPI 'no_such_kpi'"


async def test_series_of_a_ratio_kpi(
    client: httpx.AsyncClient, admin: dict[str, str], reader: dict[str, str]
) -> None:
    await make_catalog(client, admin)
    await ingest(
        client,
        admin,
        [
            # 01-01: failed 2 + 4 = 6 over orders 10 + 30 = 40 -> 0.15
            point("failed_orders", "2024-01-01T08:00:00Z", 2, service="checkout"),
            point("failed_orders", "2024-01-01T09:00:00Z", 4, service="billing"),
            point("orders", "2024-01-01T08:00:00Z", 10, service="checkout"),
            point("orders", "2024-01-01T09:00:00Z", 30, service="billing"),
            # 01-02: orders sum to 0 -> null, not an error
            point("failed_orders", "2024-01-02T08:00:00Z", 3, service="checkout"),
            point("orders", "2024-01-02T08:00:00Z", 0, service="checkout"),
            # 01-03: 5 / 20 -> 0.25
            point("failed_orders", "2024-01-03T08:00:00Z", 5, service="checkout"),
            point("orders", "2024-01-03T08:00:00Z", 20, service="checkout"),
            # 01-04: no orders at all -> null
            point("failed_orders", "2024-01-04T08:00:00Z", 1, service="checkout"),
        ],
    )
    resp = await series(client, reader, "failure_rate")
    assert buckets(resp) == [
        ("2024-01-01T00:00:00Z", 0.15, 4),
        ("2024-01-02T00:00:00Z", None, 2),
        ("2024-01-03T00:00:00Z", 0.25, 2),
        ("2024-01-04T00:00:00Z", None, 1),
    ]
    assert resp.json()["kpi"] == "failure_rate"
    assert buckets(await series(client, reader, "failure_rate", service="billing")) == [
        ("2024-01-01T00:00:00Z", 4 / 30, 2),
    ]
    assert buckets(
        await series(client, reader, "failure_rate", grain="month", service="checkout")
    ) == [("2024-01-01T00:00:00Z", 11 / 30, 7)]  # (2 + 3 + 5 + 1) / (10 + 0 + 20)


# Scopes ------------------------------------------------------------------------------------------


async def test_scopes(
    client: httpx.AsyncClient,
    con: dbmod.Connection,
    settings: Settings,
    admin: dict[str, str],
    reader: dict[str, str],
    ingester: dict[str, str],
) -> None:
    await make_catalog(client, admin)
    batch = [point("orders", "2024-01-01T00:00:00Z", 1)]
    body = problem(await post(client, reader, batch), 403)
    assert body["required_scope"] == "ingest"
    body = problem(await series(client, ingester, "orders"), 403)
    assert body["required_scope"] == "read"
    problem(await client.post(OBS, json=batch), 401)
    problem(await client.get("/v1/kpis/orders/series"), 401)
    assert await count_rows(con) == 0
    async with clocked_client(con, settings, clock=lambda: utc(2024, 1, 2)) as at_the_time:
        assert (await ingest(at_the_time, ingester, batch))["inserted"] == 1
    assert buckets(await series(client, reader, "orders")) == [("2024-01-01T00:00:00Z", 1.0, 1)]


@pytest.mark.parametrize("tier", ["0", "5"])
async def test_series_of_a_tier_outside_1_to_4_is_422_as_the_spec_says(
    client: httpx.AsyncClient, admin: dict[str, str], reader: dict[str, str], tier: str
) -> None:
    await create_kpi(client, admin, "metric", "sum")
    resp = await series(client, reader, "metric", tier=tier)
    assert resp.status_code == 422, resp.text
    assert resp.json()["errors"][0]["field"] == "tier"
    params = build_openapi(all_endpoints())["paths"]["/v1/kpis/{key}/series"]["get"]["parameters"]
    (schema,) = [p["schema"] for p in params if p["name"] == "tier"]
    assert {"type": "integer", "minimum": 1, "maximum": 4} in schema["anyOf"]
