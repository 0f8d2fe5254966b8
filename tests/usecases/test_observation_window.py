"""Ingest tokens write observations only inside a window around now; admins backfill any
instant from 1970 to 2200; and no client can make the partition count grow without bound."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import orjson
import pytest

from service import db as dbmod
from service.config import Settings
from service.models.observation_limits import partition_horizon
from tests.conftest import app_client

NOW = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)
OBS = "/v1/observations"
Headers = dict[str, str]


def at_now() -> dt.datetime:
    return NOW


def point(ts: str, value: float = 1.0) -> dict[str, Any]:
    return {"kpi": "orders", "ts": ts, "value": value}


async def make_kpi(client: httpx.AsyncClient, admin: Headers) -> None:
    resp = await client.post(
        "/v1/kpis",
        json={"key": "orders", "name": "Orders", "unit": "count",
              "direction": "higher_is_better", "aggregation": "sum"},
        headers=admin,
    )  # fmt: skip
    assert resp.status_code == 201, resp.text


async def points_stored(con: dbmod.Connection) -> int:
    n: int = await con.fetchval("select count(*) from observation")
    return n


async def partitions(con: dbmod.Connection) -> list[str]:
    rows = await con.fetch(
        "select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid"
        " where i.inhparent = 'observation'::regclass order by 1"
    )
    return [r["relname"] for r in rows]


@pytest.mark.parametrize(
    ("ts", "allowed"),
    [
        ("2026-09-07T12:00:01Z", True),  # 89 days and 23:59:59 back
        ("2026-09-07T11:59:59Z", False),  # just over 90 days back
        ("2026-12-07T11:59:59Z", True),  # just under a day ahead
        ("2026-12-07T12:00:00Z", False),  # a day ahead: the window's end is exclusive
        ("1970-01-01T00:00:00Z", False),
        ("2199-12-01T00:00:00Z", False),
    ],
)
async def test_ingest_tokens_write_only_inside_the_window(
    con: dbmod.Connection,
    settings: Settings,
    admin: Headers,
    ingester: Headers,
    ts: str,
    allowed: bool,
) -> None:
    async with app_client(con, settings, clock=at_now) as client:
        await make_kpi(client, admin)
        resp = await client.post(OBS, json=[point("2026-12-01T00:00:00Z"), point(ts)],
                                 headers=ingester)  # fmt: skip
        if allowed:
            assert resp.status_code == 200, resp.text
            assert await points_stored(con) == 2
            return
        assert resp.status_code == 422, resp.text
        body = resp.json()
        assert [e["pointer"] for e in body["errors"]] == ["#/1/ts"]
        assert "KPI_OBSERVATION_WINDOW_PAST_DAYS" in body["detail"]
        assert await points_stored(con) == 0
        # The same point is a backfill for an admin token: any instant from 1970 to 2200.
        resp = await client.post(OBS, json=[point(ts)], headers=admin)
        assert resp.status_code == 200, resp.text


async def test_an_ndjson_stream_names_the_line_outside_the_window(
    con: dbmod.Connection, settings: Settings, admin: Headers, ingester: Headers
) -> None:
    lines = [point("2026-12-05T00:00:00Z"), point("2026-12-05T01:00:00Z"),
             point("2025-01-01T00:00:00Z")]  # fmt: skip
    body = b"".join(orjson.dumps(p) + b"\n" for p in lines)
    async with app_client(con, settings, clock=at_now) as client:
        await make_kpi(client, admin)
        headers = {**ingester, "Content-Type": "application/x-ndjson"}
        resp = await client.post(OBS, content=body, headers=headers)
    assert resp.status_code == 422, resp.text
    assert [e["pointer"] for e in resp.json()["errors"]] == ["#/2/ts"]
    assert await points_stored(con) == 0


async def test_the_window_is_configurable(
    con: dbmod.Connection, db_schema: str, admin: Headers, ingester: Headers
) -> None:
    narrow = Settings(
        db_schema=db_schema, observation_window_past_days=1, observation_window_future_days=0
    )
    async with app_client(con, narrow, clock=at_now) as client:
        await make_kpi(client, admin)
        two_days_ago = [point("2026-12-04T12:00:00Z")]
        assert (await client.post(OBS, json=two_days_ago, headers=ingester)).status_code == 422
        an_hour_ago = [point("2026-12-06T11:00:00Z")]
        assert (await client.post(OBS, json=an_hour_ago, headers=ingester)).status_code == 200


async def test_one_point_a_month_from_1970_to_2199_keeps_partitions_bounded(
    con: dbmod.Connection, settings: Settings, admin: Headers
) -> None:
    """The attack of the issue, through the admin path that may still write it: 2,760 months
    made 2,760 partitions. Now months from five years back to a year ahead get their own
    (at most 5 * 12 + 13 = 73), the rest share the default partition."""
    months = [f"{year}-{month:02d}-01T00:00:00Z" for year in range(1970, 2200)
              for month in range(1, 13)]  # fmt: skip
    assert len(months) == 2760
    before = await partitions(con)
    async with app_client(con, settings, clock=at_now) as client:
        await make_kpi(client, admin)
        for start in range(0, len(months), 1000):
            batch = [point(ts, 1.0) for ts in months[start : start + 1000]]
            resp = await client.post(OBS, json=batch, headers=admin)
            assert resp.status_code == 200, resp.text
        after = await partitions(con)
        made = sorted(set(after) - set(before))
        assert "observation_default" in after
        # 2021-12 to 2027-12: the months of [2021-12-01, 2028-01-01), one point in each.
        assert made[0] >= "observation_2021_12" and made[-1] <= "observation_2027_12"
        assert len(after) <= 73 + 1
        assert await points_stored(con) == 2760
        in_default = await con.fetchval("select count(*) from observation_default")
        assert in_default == 2760 - 73
        # Every point is read back: the yearly series of 2199 has its twelve.
        resp = await client.get(
            "/v1/kpis/orders/series", params={"grain": "year", "from": "2199-01-01T00:00:00Z"},
            headers=admin,
        )  # fmt: skip
        assert [(p["bucket"], p["value"]) for p in resp.json()["points"]] == [
            ("2199-01-01T00:00:00Z", 12.0)
        ]


async def test_a_month_entering_the_horizon_takes_its_rows_from_the_default_partition(
    con: dbmod.Connection, settings: Settings, admin: Headers
) -> None:
    # Written in 2026, a forecast for March 2029 lies past the horizon: the default partition.
    async with app_client(con, settings, clock=at_now) as client:
        await make_kpi(client, admin)
        resp = await client.post(OBS, json=[point("2029-03-10T00:00:00Z", 4.0)], headers=admin)
        assert resp.status_code == 200, resp.text
    where = "select tableoid::regclass::text from observation where ts = $1"
    march_10 = dt.datetime(2029, 3, 10, tzinfo=dt.UTC)
    assert await con.fetchval(where, march_10) == "observation_default"
    # In 2028 the month is within a year ahead: its partition is made, and the forecast moves in.
    later = dt.datetime(2028, 6, 1, tzinfo=dt.UTC)
    async with app_client(con, settings, clock=lambda: later) as client:
        resp = await client.post(OBS, json=[point("2029-03-20T00:00:00Z", 6.0)], headers=admin)
        assert resp.status_code == 200, resp.text
        resp = await client.get(
            "/v1/kpis/orders/series", params={"grain": "month", "from": "2029-03-01T00:00:00Z"},
            headers=admin,
        )  # fmt: skip
    assert await con.fetchval(where, march_10) == "observation_2029_03"
    assert await con.fetchval("select count(*) from observation_default") == 0
    assert [(p["bucket"], p["value"]) for p in resp.json()["points"]] == [
        ("2029-03-01T00:00:00Z", 10.0)
    ]
    # The daily rollup still counts each point once.
    assert await con.fetchval("select sum(points) from observation_day") == 2


async def test_partitions_outside_the_horizon_fold_into_the_default_one(
    con: dbmod.Connection, settings: Settings, admin: Headers
) -> None:
    """What the migration does with the partitions the attack made before the rule."""
    async with app_client(con, settings, clock=at_now) as client:
        await make_kpi(client, admin)
    kpi_id = await con.fetchval("select id from kpi where key = 'orders'")
    far = [dt.datetime(1975, 5, 5, tzinfo=dt.UTC), dt.datetime(2150, 1, 2, tzinfo=dt.UTC)]
    await con.execute("select ensure_observation_partitions($1, '-infinity', 'infinity')", far)
    await con.execute(
        "insert into observation (kpi_id, ts, value)"
        " select $1, t, 2 from unnest($2::timestamptz[]) t",
        kpi_id, far,
    )  # fmt: skip
    assert {"observation_1975_05", "observation_2150_01"} <= set(await partitions(con))
    horizon = partition_horizon(NOW)
    fold = "select fold_observation_partitions($1, $2, $3)"
    assert await con.fetchval(fold, horizon.start, horizon.end, 1) == 1  # at most one at a time
    assert await con.fetchval(fold, horizon.start, horizon.end, 100) == 1
    assert await con.fetchval(fold, horizon.start, horizon.end, 100) == 0
    assert not {"observation_1975_05", "observation_2150_01"} & set(await partitions(con))
    rows = await con.fetch("select tableoid::regclass::text as part, value from observation")
    assert [(r["part"], r["value"]) for r in rows] == [("observation_default", 2.0)] * 2
    assert await con.fetchval("select sum(points) from observation_day") == 2
