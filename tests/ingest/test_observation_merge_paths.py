"""The store's ways of writing observation points give the same rows and counts: new points
copied and known ones merged, the whole batch merged when the lookup of stored points would be
too large or a concurrent request stored a new point first, and a stream staged chunk by chunk.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import pytest

from service import db as dbmod
from service.errors import ValidationFailed
from service.models.observation_limits import partition_horizon
from service.models.observations import ObservationIn
from service.store import observations
from tests.conftest import DIRECT
from tests.fresh_schema import Two, two_connections

#: Months that get a partition of their own (those near the time of the run).
HORIZON = partition_horizon(dt.datetime.now(dt.UTC))

JAN = dt.datetime(2031, 1, 15, tzinfo=dt.UTC)


@pytest.fixture
async def two(direct_database_url: str) -> AsyncIterator[Two]:
    async with two_connections(
        direct_database_url, "kpi_merge", services=("erp", "crm"), settings=DIRECT
    ) as both:
        yield both


def _point(minute: int, value: float, service: str | None = "erp") -> ObservationIn:
    return ObservationIn(
        kpi="orders", service=service, ts=JAN + dt.timedelta(minutes=minute), value=value
    )


async def _chunks(*chunks: list[ObservationIn]) -> AsyncIterator[list[observations.Numbered]]:
    start = 0
    for chunk in chunks:
        yield list(enumerate(chunk, start))
        start += len(chunk)


async def _ingest(con: dbmod.Connection, *chunks: list[ObservationIn]) -> tuple[int, ...]:
    async with con.transaction():
        r = await observations.ingest(con, _chunks(*chunks), horizon=HORIZON)
    return r.points, r.inserted, r.updated, r.unchanged


async def _rows(con: dbmod.Connection) -> list[tuple[object, ...]]:
    rows = await con.fetch(
        "select s.slug, o.ts, o.value, o.revision from observation o"
        " left join business_service s on s.id = o.service_id order by 1, 2"
    )
    return [tuple(r) for r in rows]


async def test_new_and_known_points_in_one_batch(
    two: tuple[dbmod.Connection, dbmod.Connection],
) -> None:
    a, _ = two
    assert await _ingest(a, [_point(0, 1.0), _point(1, 1.0)]) == (2, 2, 0, 0)
    batch = [_point(0, 1.0), _point(1, 5.0), _point(2, 1.0), _point(2, 2.0), _point(3, 1, None)]
    assert await _ingest(a, batch) == (4, 2, 1, 1)
    assert await _rows(a) == [
        ("erp", JAN, 1.0, 1),
        ("erp", JAN + dt.timedelta(minutes=1), 5.0, 2),
        ("erp", JAN + dt.timedelta(minutes=2), 2.0, 1),
        (None, JAN + dt.timedelta(minutes=3), 1.0, 1),
    ]
    assert await a.fetchval("select value from observation_revision") == 1.0


async def test_a_crowded_time_span_merges_the_whole_batch(
    two: tuple[dbmod.Connection, dbmod.Connection],
) -> None:
    a, _ = two
    # More stored points of another service in the batch's span than the lookup fetches.
    await _ingest(a, [_point(m, 1.0, "crm") for m in range(1_200)])
    batch = [_point(0, 1.0), _point(600, 1.0), _point(1_199, 2.0, "crm")]
    assert await _ingest(a, batch) == (3, 2, 1, 0)
    assert len(await _rows(a)) == 1_202


async def test_a_point_stored_first_by_a_concurrent_request(
    two: tuple[dbmod.Connection, dbmod.Connection],
) -> None:
    a, b = two
    tr = a.transaction()
    await tr.start()
    assert await observations.ingest(a, _chunks([_point(1, 7.0)]), horizon=HORIZON) is not None
    # b does not see a's point yet: it copies it as new, waits for a, then merges instead.
    waiting = asyncio.create_task(_ingest(b, [_point(0, 1.0), _point(1, 8.0)]))
    await asyncio.sleep(0.3)
    assert not waiting.done()
    await tr.commit()
    assert await waiting == (2, 1, 1, 0)
    assert [r[2:] for r in await _rows(a)] == [(1.0, 1), (8.0, 2)]


async def test_a_stream_keeps_the_last_duplicate_across_chunks(
    two: tuple[dbmod.Connection, dbmod.Connection],
) -> None:
    a, _ = two
    await _ingest(a, [_point(0, 1.0)])
    chunks = [[_point(0, 2.0), _point(1, 1.0)], [_point(1, 3.0)], [_point(0, 4.0)]]
    assert await _ingest(a, *chunks) == (2, 1, 1, 0)
    assert [r[2:] for r in await _rows(a)] == [(4.0, 2), (3.0, 1)]
    assert await a.fetch("select value from observation_revision") == [(1.0,)]


async def test_a_stream_reports_a_later_invalid_point_before_an_unknown_kpi(
    two: tuple[dbmod.Connection, dbmod.Connection],
) -> None:
    a, _ = two

    async def chunks() -> AsyncIterator[list[observations.Numbered]]:
        yield [(0, ObservationIn(kpi="nope", ts=JAN, value=1.0))]
        yield [(1, _point(1, 1.0))]
        raise ValidationFailed("line 3 is not valid")

    with pytest.raises(ValidationFailed, match="line 3"):
        async with a.transaction():
            await observations.ingest(a, chunks(), horizon=HORIZON)
    with pytest.raises(ValidationFailed, match="unknown KPI 'nope'") as caught:
        await _ingest(a, [_point(0, 1.0)], [ObservationIn(kpi="nope", ts=JAN, value=1.0)])
    assert caught.value.errors[0].field == "1.kpi"
    assert await _rows(a) == []


async def test_a_stream_into_an_empty_span_is_inserted_with_its_last_duplicates(
    two: tuple[dbmod.Connection, dbmod.Connection],
) -> None:
    a, _ = two
    chunks = [
        [_point(0, 1.0), _point(1, 1.0)],
        [_point(1, 3.0)],
        [_point(0, 4.0), _point(2, 1, None)],
    ]
    assert await _ingest(a, *chunks) == (3, 3, 0, 0)
    assert [r[2:] for r in await _rows(a)] == [(4.0, 1), (3.0, 1), (1.0, 1)]
    assert await a.fetch("select value from observation_revision") == []


async def test_a_stream_meeting_a_stored_point_after_all_is_merged(
    two: tuple[dbmod.Connection, dbmod.Connection], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, _ = two
    await _ingest(a, [_point(0, 1.0)])

    async def nothing_stored(*args: object) -> list[tuple[object, ...]]:
        return []

    # As if the point had been stored after the look for stored points: the insert of the
    # stage fails on it, and the stage is merged instead.
    monkeypatch.setattr(observations, "stored_points_between", nothing_stored)
    chunks = [[_point(0, 2.0), _point(1, 1.0)], [_point(1, 3.0)]]
    assert await _ingest(a, *chunks) == (2, 1, 1, 0)
    assert [r[2:] for r in await _rows(a)] == [(2.0, 2), (3.0, 1)]
    assert await a.fetch("select value from observation_revision") == [(1.0,)]


async def test_a_stream_keeps_dimensions_and_sources_of_the_chunks_that_have_them(
    two: tuple[dbmod.Connection, dbmod.Connection],
) -> None:
    a, _ = two
    tagged = ObservationIn(
        kpi="orders", service="erp", ts=JAN, value=1.0, dimensions={"region": "eu"}, source="x"
    )
    assert await _ingest(a, [tagged], [_point(1, 2.0)], [_point(2, 3.0, None)]) == (3, 3, 0, 0)
    rows = await a.fetch("select dimensions, source, value from observation order by ts")
    assert [tuple(r) for r in rows] == [
        ({"region": "eu"}, "x", 1.0),
        ({}, None, 2.0),
        ({}, None, 3.0),
    ]
