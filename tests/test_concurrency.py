"""Concurrent writers on real, separate connections (a fresh schema, committed data)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import pytest

from service import db as dbmod
from service.errors import Conflict, ValidationFailed
from service.models.catalog import ServiceIn
from service.models.observation_limits import partition_horizon
from service.models.observations import ObservationIn
from service.store import observations
from service.usecases import catalog
from tests.fresh_schema import Two, two_connections

#: Months that get a partition of their own (those near the time of the run).
HORIZON = partition_horizon(dt.datetime.now(dt.UTC))

JAN = dt.datetime(2031, 1, 15, tzinfo=dt.UTC)


@pytest.fixture
async def two(database_url: str) -> AsyncIterator[Two]:
    async with two_connections(database_url, "kpi_conc", services=("erp",)) as both:
        yield both


async def _points(*points: ObservationIn) -> AsyncIterator[list[observations.Numbered]]:
    yield list(enumerate(points))


def _point(value: float) -> ObservationIn:
    return ObservationIn(kpi="orders", service="erp", ts=JAN, value=value)


async def _ingest(con: dbmod.Connection, value: float) -> observations.IngestResult:
    async with con.transaction():
        return await observations.ingest(con, _points(_point(value)), horizon=HORIZON)


async def test_two_batches_opening_the_same_month_both_succeed(
    two: tuple[dbmod.Connection, dbmod.Connection],
) -> None:
    a, b = two
    tr = a.transaction()
    await tr.start()
    ensure = "select ensure_observation_partitions($1, '-infinity', 'infinity')"
    await a.execute(ensure, [JAN])
    waiting = asyncio.create_task(b.execute(ensure, [JAN]))
    await asyncio.sleep(0.3)
    assert not waiting.done()
    await tr.commit()
    await waiting  # once raised DuplicateTableError: the catalog lookup missed A's table
    assert await a.fetchval("select to_regclass('observation_2031_01') is not null")


async def test_concurrent_updates_of_one_point_keep_every_replaced_value(
    two: tuple[dbmod.Connection, dbmod.Connection],
) -> None:
    a, b = two
    await _ingest(a, 2.0)
    tr = a.transaction()
    await tr.start()
    first = await observations.ingest(a, _points(_point(3.0)), horizon=HORIZON)
    waiting = asyncio.create_task(_ingest(b, 4.0))
    await asyncio.sleep(0.3)
    assert not waiting.done()
    await tr.commit()
    second = await waiting
    assert (first.updated, second.updated) == (1, 1)
    rows = await a.fetch("select value, revision from observation_revision order by revision")
    assert [(r["value"], r["revision"]) for r in rows] == [(2.0, 1), (3.0, 2)]
    assert await a.fetchval("select revision from observation") == 3


async def test_a_service_deleted_during_an_ingest_is_refused_not_emptied(
    two: tuple[dbmod.Connection, dbmod.Connection],
) -> None:
    a, b = two
    tr = a.transaction()
    await tr.start()
    await observations.ingest(a, _points(_point(1.0)), horizon=HORIZON)

    async def delete() -> None:
        async with b.transaction():
            await catalog.delete_service(b, slug="erp")

    waiting = asyncio.create_task(delete())
    await asyncio.sleep(0.3)
    assert not waiting.done()
    await tr.commit()
    with pytest.raises(Conflict, match="has observations"):
        await waiting
    assert await a.fetchval("select service_id from observation") is not None


async def test_two_dependency_updates_cannot_close_a_cycle_together(
    two: tuple[dbmod.Connection, dbmod.Connection],
) -> None:
    a, b = two
    await catalog.create_service(a, service=ServiceIn(slug="web", name="Web", tier=1))
    tr = a.transaction()
    await tr.start()
    await catalog.update_service(
        a, slug="erp", service=ServiceIn(slug="erp", name="ERP", tier=2, depends_on=["web"])
    )

    async def close_cycle() -> None:
        async with b.transaction():
            await catalog.update_service(
                b, slug="web", service=ServiceIn(slug="web", name="Web", tier=1,
                                                 depends_on=["erp"]))  # fmt: skip

    waiting = asyncio.create_task(close_cycle())
    await asyncio.sleep(0.3)
    assert not waiting.done()
    await tr.commit()
    with pytest.raises(ValidationFailed, match="cycle"):
        await waiting


DAY_ONE = dt.datetime(2031, 1, 10, 12, tzinfo=dt.UTC)
DAY_TWO = dt.datetime(2031, 1, 11, 12, tzinfo=dt.UTC)


async def _batch(
    con: dbmod.Connection, *points: tuple[dt.datetime, float], stream: bool = False
) -> None:
    """One request's points: a JSON batch (one chunk), or a stream (a chunk per point)."""
    sent = [ObservationIn(kpi="orders", service="erp", ts=ts, value=v) for ts, v in points]

    async def chunks() -> AsyncIterator[list[observations.Numbered]]:
        if not stream:
            yield list(enumerate(sent))
            return
        for numbered in enumerate(sent):
            yield [numbered]

    async with con.transaction():
        await observations.ingest(con, chunks(), horizon=HORIZON)


async def _days_against_points(con: dbmod.Connection) -> list[tuple[object, ...]]:
    """observation_day next to the same figures summed from the points: equal when kept right."""
    rows = await con.fetch(
        """select d.day, d.points, d.total, d.low, d.high, d.last_ts, d.last_value,
                  p.points as p_points, p.total as p_total, p.low as p_low, p.high as p_high,
                  p.last_ts as p_last_ts, p.last_value as p_last_value
           from observation_day d
           full join (select date_bin('1 day', ts, timestamptz '2000-01-03 00:00:00+00') as day,
                             count(*) as points, sum(value) as total, min(value) as low,
                             max(value) as high, max(ts) as last_ts,
                             (array_agg(value order by ts desc))[1] as last_value
                      from observation group by 1) p using (day)
           order by 1"""
    )
    return [tuple(r.values()) for r in rows]


@pytest.mark.parametrize("stream", [False, True], ids=["batch", "stream"])
async def test_writers_crossing_two_days_neither_deadlock_nor_miscount(
    two: tuple[dbmod.Connection, dbmod.Connection], stream: bool
) -> None:
    # Each round, A adds a point to day one and changes one of day two, and B the other way
    # round: each locks the day it adds to, then the day it changes. Without one order for
    # the two, rounds end in a deadlock (a 500 for one of the requests).
    a, b = two
    await _batch(a, (DAY_ONE, 0.0), (DAY_TWO, 0.0))
    for i in range(1, 41):
        minute = dt.timedelta(minutes=i)
        await asyncio.gather(
            _batch(a, (DAY_ONE + minute, 1.0), (DAY_TWO, i * 0.1), stream=stream),
            _batch(b, (DAY_TWO + minute, 1.0), (DAY_ONE, i * 0.3), stream=stream),
        )
    rows = await _days_against_points(a)
    assert [r[:7] for r in rows] == [r[:1] + r[7:] for r in rows]
    assert [(r[1], r[2]) for r in rows] == [(41, 40 + 4.0 * 3), (41, 40 + 4.0)]
