"""Read replicas against a real streaming standby (tests/components/replication.py): the
service, served by uvicorn with its lifespan, has the pair's primary as KPI_DATABASE_URL and
the standby as KPI_DATABASE_READ_URL.

Which database served a read is shown twice over: by what it sees (with the standby's replay
paused, a row written since exists on the primary only) and by the per-database read counter
of /metrics (each app counts from zero).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from service import db as dbmod
from service.config import Settings
from service.models.enums import Scope
from service.usecases.tokens import create_token
from tests.components.replication import ReplicatedPair
from tests.components.support import eventually
from tests.reliability import support
from tests.reliability.support import BASE, KPI

pytestmark = [pytest.mark.components, pytest.mark.database]  # starts its own PostgreSQL

#: How often the apps here measure the replica: often, so the tests wait little.
CHECK_SECONDS = 0.2
#: The test KPI's daily series around the day its points lie on.
SERIES = (
    f"/v1/kpis/{KPI}/series?grain=day&from={(BASE - dt.timedelta(days=1)).isoformat()}"
    f"&to={(BASE + dt.timedelta(days=1)).isoformat()}"
).replace("+", "%2B")
SERVICES_QUERY = "{ services(first: 100) { nodes { slug } } }"


@dataclass(frozen=True)
class World:
    pair: ReplicatedPair
    schema: str
    writer: dict[str, str]  # admin scope: writes and reads
    reader: dict[str, str]  # read scope, never writes


@pytest.fixture(scope="module")
async def world(pair: ReplicatedPair) -> AsyncIterator[World]:
    schema = f"kpi_replicas_{os.getpid()}"
    await support.prepare_schema(pair.primary.url, schema)
    con = await dbmod.connect(pair.primary.url, schema)
    try:
        writer = await create_token(con, name="replicas-writer", scopes=[Scope.ADMIN])
        reader = await create_token(con, name="replicas-reader", scopes=[Scope.READ])
    finally:
        await con.close()
    await pair.wait_caught_up()
    yield World(
        pair, schema, {"Authorization": f"Bearer {writer.token}"},
        {"Authorization": f"Bearer {reader.token}"},
    )  # fmt: skip


@pytest.fixture
async def caught_up(world: World) -> AsyncIterator[World]:
    """The pair streaming and caught up before a test, and again after it, whatever it did."""
    await world.pair.wait_streaming()
    await world.pair.wait_caught_up()
    try:
        yield world
    finally:
        await world.pair.restore()


def settings_for(world: World, **more: Any) -> Settings:
    return Settings(
        database_url=world.pair.primary.url, database_read_url=world.pair.standby.url,
        db_schema=world.schema, background=False, replica_check_seconds=CHECK_SECONDS,
        **more,
    )  # fmt: skip


@pytest.fixture
async def client(caught_up: World) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the service, once it reads from the replica."""
    async with support.served(settings_for(caught_up)) as c:
        await until_used(c, True, "the replica in use")
        yield c


# What the service answers -----------------------------------------------------------------------


async def points_seen(client: httpx.AsyncClient, headers: dict[str, str]) -> int:
    """The points of the test KPI a series read sees, all buckets together."""
    resp = await client.get(SERIES, headers=headers)
    assert resp.status_code == 200, resp.text
    return sum(p["count"] for p in resp.json()["points"])


async def services_seen(client: httpx.AsyncClient, headers: dict[str, str]) -> set[str]:
    resp = await client.post("/graphql", json={"query": SERVICES_QUERY}, headers=headers)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert "errors" not in body, body
    return {n["slug"] for n in body["data"]["services"]["nodes"]}


async def write_points(client: httpx.AsyncClient, world: World, name: str, count: int) -> None:
    resp = await support.post_batch(client, world.writer, name, count)
    assert resp.status_code == 200, resp.text
    assert resp.json()["inserted"] == count


async def metrics(client: httpx.AsyncClient, world: World) -> dict[tuple[str, str], float]:
    """(sample name, its database or replica label) -> value, for the database samples."""
    resp = await client.get("/metrics", headers=world.reader)
    assert resp.status_code == 200, resp.text
    found = {}
    for family in text_string_to_metric_families(resp.text):
        for sample in family.samples:
            label = sample.labels.get("database") or sample.labels.get("replica")
            if label is not None and sample.name.startswith(("kpi_database", "kpi_replica")):
                found[(sample.name, label)] = sample.value
    return found


Reads = tuple[float, float]


async def reads(client: httpx.AsyncClient, world: World) -> Reads:
    """Reads served so far by (primary, replica1)."""
    found = await metrics(client, world)
    name = "kpi_database_reads_total"
    return found.get((name, "primary"), 0.0), found.get((name, "replica1"), 0.0)


async def reads_during(client: httpx.AsyncClient, world: World, do: Awaitable[None]) -> Reads:
    """Reads served by (primary, replica1) while `do` ran."""
    before = await reads(client, world)
    await do
    after = await reads(client, world)
    return after[0] - before[0], after[1] - before[1]


async def sees(client: httpx.AsyncClient, headers: dict[str, str], points: int) -> None:
    assert await points_seen(client, headers) == points


async def replica_health(client: httpx.AsyncClient) -> dict[str, Any]:
    resp = await client.get("/readyz")
    assert resp.status_code == 200, resp.text
    databases = resp.json()["databases"]
    assert databases[0] == {"name": "primary", "reachable": True, "lag_bytes": None,
                            "used": None}  # fmt: skip
    assert [d["name"] for d in databases] == ["primary", "replica1"]
    health: dict[str, Any] = databases[1]
    return health


async def until_used(client: httpx.AsyncClient, used: bool, what: str) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        health = await replica_health(client)
        return health if health["used"] is used else None

    return await eventually(check, within=20, what=what)


async def primary_points(world: World) -> int:
    """The test KPI's points as the primary has them."""
    value = await world.pair.fetchval(
        world.pair.primary,
        f'select count(*) from "{world.schema}".observation o'
        f' join "{world.schema}".kpi k on k.id = o.kpi_id where k.key = $1',
        KPI,
    )
    assert isinstance(value, int)
    return value


# The tests --------------------------------------------------------------------------------------


async def test_rest_and_graphql_reads_by_a_token_that_never_wrote_go_to_the_replica(
    client: httpx.AsyncClient, caught_up: World
) -> None:
    world = caught_up
    before = await points_seen(client, world.reader)
    assert before == await primary_points(world)
    await world.pair.pause_replay()
    await write_points(client, world, "replica-proof", 5)
    created = await client.post(
        "/v1/services", json={"slug": "replica-proof", "name": "Replica proof", "tier": 3},
        headers=world.writer,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    # The primary has the 5 points and the service; the replica, paused, has neither.
    assert await primary_points(world) == before + 5
    await until_used(client, True, "the replica still in use (a few KiB behind)")

    async def neither_seen() -> None:
        await sees(client, world.reader, before)
        assert "replica-proof" not in await services_seen(client, world.reader)

    # One connection for the series read, one for the GraphQL query's one list: both from
    # the replica, none from the primary.
    assert await reads_during(client, world, neither_seen()) == (0, 2)
    primary, _ = await reads(client, world)

    await world.pair.resume_replay()
    await world.pair.wait_caught_up()
    assert await points_seen(client, world.reader) == before + 5
    assert "replica-proof" in await services_seen(client, world.reader)
    assert (await reads(client, world))[0] == primary  # still nothing from the primary


async def test_a_token_reads_its_own_writes_from_the_primary_until_the_replica_replays_them(
    client: httpx.AsyncClient, caught_up: World
) -> None:
    world = caught_up
    before = await points_seen(client, world.writer)
    await world.pair.pause_replay()
    await write_points(client, world, "own-writes", 4)

    async def each_seen() -> None:
        # The writer sees its 4 points: its read went to the primary. The reader, who wrote
        # nothing, reads the replica, which has not replayed them.
        await sees(client, world.writer, before + 4)
        await sees(client, world.reader, before)

    assert await reads_during(client, world, each_seen()) == (1, 1)
    # Also in GraphQL, and also in another server process (a second app: the position of
    # the write is on the primary, not in the first app's memory).
    created = await client.post(
        "/v1/services", json={"slug": "own-writes", "name": "Own writes", "tier": 4},
        headers=world.writer,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    async with support.served(settings_for(world)) as other:
        await until_used(other, True, "the other process using the replica")
        assert "own-writes" in await services_seen(other, world.writer)
        assert "own-writes" not in await services_seen(other, world.reader)
        assert await reads(other, world) == (1, 1)

    await world.pair.resume_replay()
    await world.pair.wait_caught_up()

    async def writer_on_replica() -> bool:
        # Once a check has seen the replica replay the write, the writer reads it there.
        start = await reads(client, world)
        seen = await points_seen(client, world.writer)
        end = await reads(client, world)
        return seen == before + 4 and end[1] - start[1] == 1 and end[0] == start[0]

    await eventually(writer_on_replica, within=10, what="the writer reading from the replica")


async def test_reads_go_to_the_primary_while_the_replica_is_past_the_lag_bound(
    caught_up: World,
) -> None:
    world = caught_up
    bound = 64 * 1024
    async with support.served(settings_for(world, replica_max_lag_bytes=bound)) as client:
        await until_used(client, True, "the replica in use")
        before = await points_seen(client, world.reader)
        await world.pair.pause_replay()
        # Points the reader must see, and some 2 MB of WAL (20,000 rows of a 100-character
        # text with their row headers), far past the 64 KiB bound.
        await write_points(client, world, "past-the-bound", 3)
        await world.pair.execute(
            world.pair.primary,
            "create table lag_filler as"
            " select repeat('x', 100) as t from generate_series(1, 20000)",
        )
        health = await until_used(client, False, "the replica past the bound")
        assert health["reachable"] is True
        assert health["lag_bytes"] > bound
        # The primary's.
        assert await reads_during(client, world, sees(client, world.reader, before + 3)) == (1, 0)
        found = await metrics(client, world)
        assert found[("kpi_replica_used", "replica1")] == 0
        assert found[("kpi_replica_lag_bytes", "replica1")] > bound

        await world.pair.resume_replay()
        await until_used(client, True, "the replica back within the bound")
        assert await reads_during(client, world, sees(client, world.reader, before + 3)) == (0, 1)
    await world.pair.execute(world.pair.primary, "drop table lag_filler")


async def test_reads_answer_from_the_primary_while_the_replica_is_down(
    client: httpx.AsyncClient, caught_up: World
) -> None:
    world = caught_up
    before = await points_seen(client, world.reader)
    assert (await reads(client, world))[1] == 1
    # With the only synchronous standby stopped, commits on the primary would wait for it.
    await world.pair.set_synchronous(False)
    world.pair.stop_standby()
    # At once, before any check has noticed: the read cannot get a connection to the
    # replica and is served by the primary.
    assert await points_seen(client, world.reader) == before
    assert "replica-down" not in await services_seen(client, world.reader)
    health = await until_used(client, False, "the replica seen down")
    assert health == {"name": "replica1", "reachable": False, "lag_bytes": None, "used": False}
    await write_points(client, world, "replica-down", 2)
    assert await reads_during(client, world, sees(client, world.reader, before + 2)) == (1, 0)
    found = await metrics(client, world)
    assert found[("kpi_database_up", "primary")] == 1
    assert found[("kpi_database_up", "replica1")] == 0
    assert ("kpi_replica_lag_bytes", "replica1") not in found

    await world.pair.restore()
    await until_used(client, True, "the replica back")
    assert await reads_during(client, world, sees(client, world.reader, before + 2)) == (0, 1)


async def test_reads_under_load_all_answer_while_the_replica_stops(
    client: httpx.AsyncClient, caught_up: World, caplog: pytest.LogCaptureFixture
) -> None:
    world = caught_up
    expected = await points_seen(client, world.reader)
    statuses: list[int] = []
    stopping = asyncio.Event()

    async def reader() -> None:
        while not stopping.is_set():
            resp = await client.get(SERIES, headers=world.reader)
            statuses.append(resp.status_code)
            if resp.status_code == 200:
                assert sum(p["count"] for p in resp.json()["points"]) == expected

    readers = [asyncio.create_task(reader()) for _ in range(4)]
    try:
        await eventually(lambda: _at_least(statuses, 20), within=20, what="20 reads")
        await world.pair.set_synchronous(False)
        # Sessions on the replica, some in the middle of a read, are ended by the stop.
        await asyncio.to_thread(world.pair.stop_standby, "immediate")
        stopped_at = len(statuses)
        await eventually(lambda: _at_least(statuses, stopped_at + 40), within=20,
                         what="40 reads after the stop")  # fmt: skip
    finally:
        stopping.set()
        await asyncio.gather(*readers)
    assert set(statuses) == {200}, sorted(set(statuses))
    primary, replica = await reads(client, world)
    # Every read lent a connection once, or twice when it was read again from the primary
    # (the first read, of `expected`, too).
    retried = sum("read again from the primary" in r.getMessage() for r in caplog.records)
    assert primary + replica == 1 + len(statuses) + retried
    assert replica >= 20 and primary >= 40


async def _at_least(items: list[int], count: int) -> bool:
    return len(items) >= count


async def test_readyz_and_metrics_report_each_database_with_its_lag(
    client: httpx.AsyncClient, caught_up: World
) -> None:
    world = caught_up
    for _ in range(3):
        await points_seen(client, world.reader)
    await world.pair.pause_replay()
    await world.pair.execute(
        world.pair.primary, "create table lag_report as select generate_series(1, 1000) as n"
    )
    expected = await world.pair.lag_bytes()
    assert expected > 0

    async def reported() -> dict[str, Any] | None:
        # The service's figure, once a check ran after the write, is the harness's own
        # measurement of pg_current_wal_lsn() - pg_last_wal_replay_lsn().
        health = await replica_health(client)
        return health if health["lag_bytes"] == expected else None

    health = await eventually(reported, within=10, what=f"a reported lag of {expected} bytes")
    assert health == {"name": "replica1", "reachable": True, "lag_bytes": expected, "used": True}
    found = await metrics(client, world)
    assert found == {
        ("kpi_database_up", "primary"): 1,
        ("kpi_database_up", "replica1"): 1,
        ("kpi_replica_lag_bytes", "replica1"): expected,
        ("kpi_replica_used", "replica1"): 1,
        # 3 series reads, all by the replica; /readyz and /metrics are not counted.
        ("kpi_database_reads_total", "primary"): 0,
        ("kpi_database_reads_total", "replica1"): 3,
    }
    await world.pair.resume_replay()
    await world.pair.wait_caught_up()
    await world.pair.execute(world.pair.primary, "drop table lag_report")


async def test_without_read_urls_nothing_about_replicas_is_done(caught_up: World) -> None:
    world = caught_up
    settings = settings_for(world).model_copy(update={"database_read_url": None})
    async with support.served(settings) as client:
        resp = await client.get("/readyz")
        assert resp.json() == {"status": "ready"}
        con = await dbmod.connect(world.pair.primary.url, world.schema)
        try:
            await con.execute("truncate token_write_position")
            await write_points(client, world, "no-replicas", 1)
            # No write position was recorded: no statement beyond the write itself.
            assert await con.fetchval("select count(*) from token_write_position") == 0
        finally:
            await con.close()
        found = await metrics(client, world)
        assert found == {("kpi_database_up", "primary"): 1}
