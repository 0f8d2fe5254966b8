"""Retention beside long reads, on real separate connections (a fresh schema, committed data):
detaching a partition waits for the readers of `observation` at most 5 seconds, then the
round gives up whole and the next one drops it."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest

from service import db as dbmod
from service.config import Settings
from service.models.observation_limits import partition_horizon
from service.models.observations import ObservationIn
from service.store import observations
from service.usecases import retention
from tests.fresh_schema import Two, two_connections

#: Four months kept on 15 August 2031: February goes, April stays.
NOW = dt.datetime(2031, 8, 15, 12, tzinfo=dt.UTC)


@pytest.fixture
async def two(database_url: str) -> AsyncIterator[Two]:
    async with two_connections(database_url, "kpi_retention") as both:
        yield both


async def _points() -> AsyncIterator[list[observations.Numbered]]:
    yield [
        (0, ObservationIn(kpi="orders", ts=dt.datetime(2031, 2, 10, tzinfo=dt.UTC), value=1)),
        (1, ObservationIn(kpi="orders", ts=dt.datetime(2031, 4, 10, tzinfo=dt.UTC), value=2)),
    ]


async def partitions(con: dbmod.Connection) -> set[str]:
    rows = await con.fetch(
        "select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid"
        " where i.inhparent = 'observation'::regclass"
    )
    return {r["relname"] for r in rows}


async def test_a_long_read_makes_the_round_give_up_and_the_next_one_drops(
    two: tuple[dbmod.Connection, dbmod.Connection], settings: Settings
) -> None:
    leader, reader = two
    async with leader.transaction():
        await observations.ingest(leader, _points(), horizon=partition_horizon(NOW))
    keeping = settings.model_copy(update={"retain_observations_months": 4})
    async with reader.transaction():
        assert await reader.fetchval("select sum(value) from observation") == 3
        started = time.monotonic()
        with pytest.raises(asyncpg.LockNotAvailableError):
            await retention.run_due(leader, keeping, NOW, holder="leader")
        waited = time.monotonic() - started
        assert 4.5 < waited < 15, waited
    # Nothing of the round stayed: the partition, its point and no record of a round.
    assert "observation_2031_02" in await partitions(leader)
    assert await leader.fetchval("select count(*) from retention_run") == 0
    run = await retention.run_due(leader, keeping, NOW, holder="leader")
    assert run is not None and (run.partitions_dropped, run.points_dropped) == (1, 1)
    assert await partitions(leader) >= {"observation_2031_04"}
    assert "observation_2031_02" not in await partitions(leader)
