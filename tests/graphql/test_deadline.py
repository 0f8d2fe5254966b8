"""A GraphQL request's deadline and its cap on database connections, on a real pool over a
schema of its own holding generated data: hourly series of 600,000 points, each statement
taking a good part of a second."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest

from service import db as dbmod
from service.app import create_app
from service.models.catalog import KpiIn, ServiceIn
from service.models.enums import Aggregation, Direction, Scope
from service.usecases import catalog, tokens
from tests.conftest import DIRECT

#: How the series statement of a service's observed KPI begins (its comment in
#: sql/queries/series.sql); pg_stat_activity keeps a statement's first kilobyte only.
SERIES_STATEMENT = "-- `observed` of the points of some services%"
POINTS = 600_000


@dataclass
class Slow:
    url: str
    schema: str
    heavy: dict[str, str]
    light: dict[str, str]


@pytest.fixture(scope="module")
async def slow(direct_database_url: str) -> AsyncIterator[Slow]:
    """One service, one observed KPI, a point every 30 s from 1 January 2025 (about 208 days
    of hours)."""
    schema = f"kpi_deadline_{secrets.token_hex(4)}"
    con = await dbmod.connect(direct_database_url, schema, settings=DIRECT)
    try:
        await dbmod.migrate(con, schema)
        svc = await catalog.create_service(con, service=ServiceIn(slug="erp", name="ERP", tier=2))
        kpi = await catalog.create_kpi(con, kpi=KpiIn(
            key="latency", name="Latency", unit="ms", direction=Direction.LOWER_IS_BETTER,
            aggregation=Aggregation.AVG))  # fmt: skip
        months = [dt.datetime(2025, m, 1, tzinfo=dt.UTC) for m in range(1, 13)]
        await con.execute(
            "select ensure_observation_partitions($1::timestamptz[], '-infinity', 'infinity')",
            months,
        )
        await con.execute(
            "insert into observation (kpi_id, service_id, ts, value) "
            "select $1, $2, timestamptz '2025-01-01 00:00:00+00' + g * interval '30 seconds', "
            "g % 97 from generate_series(0, $3 - 1) g", kpi.id, svc.id, POINTS,
        )  # fmt: skip
        await con.execute("analyze observation")
        heavy = await tokens.create_token(con, name="heavy", scopes=[Scope.READ])
        light = await tokens.create_token(con, name="light", scopes=[Scope.READ])
        yield Slow(direct_database_url, schema, {"Authorization": f"Bearer {heavy.token}"},
                   {"Authorization": f"Bearer {light.token}"})  # fmt: skip
    finally:
        await con.execute(f'drop schema if exists "{schema}" cascade')
        await con.close()


def series_query(aliases: int) -> str:
    # 2025-01-01 to 2025-12-01 in hours: 8,016 buckets; per alias kpi 1 + series 8,016
    # + 8,016 x value = 16,033, so 12 aliases cost 192,396: well within the budget.
    one = (
        'a{i}: kpi(key: "latency") { series(service: "erp", grain: HOUR, '
        'from: "2025-01-01T00:00:00Z", to: "2025-12-01T00:00:00Z") { value } }'
    )
    return "{ " + " ".join(one.replace("{i}", str(i)) for i in range(aliases)) + " }"


@contextlib.asynccontextmanager
async def app_on_pool(slow: Slow, pool_size: int, **settings: Any
                      ) -> AsyncIterator[tuple[httpx.AsyncClient, asyncpg.Pool]]:  # fmt: skip
    config = DIRECT.model_copy(update={"db_schema": slow.schema, "rate_limit_per_second": 0,
                                       **settings})  # fmt: skip
    # every connection opened beforehand: a request never waits for one to be set up
    pool = await dbmod.create_pool(slow.url, slow.schema, pool_size, pool_size, settings=config)
    app = create_app(config, db=dbmod.PoolDatabase(pool))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://kpi.test",
                                     timeout=60) as client:  # fmt: skip
            yield client, pool
    finally:
        await pool.close()


class Watch:
    """Samples pg_stat_activity every 20 ms from a connection of its own: the most series
    statements seen running at once."""

    def __init__(self, con: dbmod.Connection) -> None:
        self.con = con
        #: the test asks too, between two samples: one statement at a time on the connection
        self.lock = asyncio.Lock()
        self.most = 0
        self.samples = 0

    async def running(self) -> int:
        async with self.lock:
            return await self._count()

    async def _count(self) -> int:
        found: int = await self.con.fetchval(
            "select count(*) from pg_stat_activity where datname = current_database() "
            "and state = 'active' and pid <> pg_backend_pid() and query like $1",
            SERIES_STATEMENT,
        )
        return found

    async def loop(self) -> None:
        while True:
            self.most = max(self.most, await self.running())
            self.samples += 1
            await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def watching(slow: Slow) -> AsyncIterator[Watch]:
    con = await dbmod.connect(slow.url, slow.schema, settings=DIRECT)
    watch = Watch(con)
    task = asyncio.create_task(watch.loop())
    try:
        yield watch
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await con.close()


async def test_the_deadline_cancels_the_work_and_frees_its_connections(slow: Slow) -> None:
    deadline = 0.5
    async with app_on_pool(slow, 4, graphql_deadline_seconds=deadline,
                           graphql_max_connections=2) as (client, pool), \
            watching(slow) as watch:  # fmt: skip
        started = time.perf_counter()
        r = await client.post("/graphql", json={"query": series_query(12)}, headers=slow.heavy)
        took = time.perf_counter() - started
        # Right after the answer: no statement of the request still runs, and every
        # connection is back in the pool.
        assert await watch.running() == 0
        assert pool.get_idle_size() == pool.get_size()

        assert r.status_code == 200, r.text
        body = r.json()
        assert body["data"] is None
        assert body["errors"][0]["extensions"] == {
            "code": "DEADLINE_EXCEEDED", "deadlineSeconds": deadline,
        }  # fmt: skip
        # The series were running when the deadline struck, never more than the cap at once.
        assert 1 <= watch.most <= 2, watch.most
        # Twelve statements of about a quarter of a second, two at a time, take well over a
        # second and a half: the answer came at the deadline, not when they would have ended.
        assert deadline <= took < deadline + 1.0, took
        # The pool serves the next request as usual.
        ok = await client.post("/graphql", json={"query": '{ kpi(key: "latency") { key } }'},
                               headers=slow.light)  # fmt: skip
        assert ok.json()["data"] == {"kpi": {"key": "latency"}}


async def test_a_simple_query_stays_fast_while_a_heavy_one_runs(slow: Slow) -> None:
    # A pool of 3 and a cap of 2 a request: the heavy query never holds the third.
    async with app_on_pool(slow, 3, graphql_deadline_seconds=60,
                           graphql_max_connections=2) as (client, pool), \
            watching(slow) as watch:  # fmt: skip
        simple = {"query": '{ kpi(key: "latency") { key name unit } }'}
        warm = await client.post("/graphql", json=simple, headers=slow.light)
        assert warm.json()["data"] == {"kpi": {"key": "latency", "name": "Latency", "unit": "ms"}}
        heavy = asyncio.create_task(
            client.post("/graphql", json={"query": series_query(12)}, headers=slow.heavy)
        )
        while watch.most == 0:  # the heavy query has started its series
            await asyncio.sleep(0.01)
        light = []
        for _ in range(5):
            started = time.perf_counter()
            r = await client.post("/graphql", json=simple, headers=slow.light)
            light.append(time.perf_counter() - started)
            assert r.json()["data"] == {"kpi": {"key": "latency", "name": "Latency",
                                                "unit": "ms"}}  # fmt: skip
        assert not heavy.done()  # all five ran while the heavy one was still running
        done = await heavy
        assert watch.most == 2  # the heavy query held two connections at most
        assert pool.get_idle_size() == pool.get_size()
    assert "errors" not in done.json(), done.text[:500]
    assert len(done.json()["data"]) == 12
    # Each simple query waited for no connection: a few milliseconds, not the quarter of a
    # second a series statement holds one for.
    assert max(light) < 0.25, light
