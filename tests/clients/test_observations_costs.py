"""Observations (JSON batches and NDJSON streams), series, cost records and budgets, through the
async client, read back from the service and counted in the database."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from kpi_client import AsyncClient, Forbidden, NotFound, RequestInvalid, ValidationFailed
from kpi_client.models import BudgetIn, CostIn, ObservationIn

from service import db as dbmod
from tests.clients.catalog_data import at, make_catalog
from tests.clients.conftest import Headers, async_client
from tests.clients.transports import AsyncRecording


async def test_batch_ingest_then_series(kpi: AsyncClient) -> None:
    await make_catalog(kpi)
    result = await kpi.ingest_observations(
        [
            ObservationIn(kpi="orders", service="checkout", ts=at(2031, 1, 5, 10), value=3),
            {"kpi": "orders", "service": "checkout", "ts": "2031-01-05T12:00:00+01:00", "value": 4},
            {
                "kpi": "orders",
                "service": "billing",
                "ts": at(2031, 1, 6),
                "value": 10,
                "dimensions": {"region": "eu"},
                "source": "shop-db",
            },
        ]
    )
    assert (result.points, result.inserted, result.updated, result.unchanged) == (3, 3, 0, 0)
    again = await kpi.ingest_observations(
        [{"kpi": "orders", "service": "checkout", "ts": at(2031, 1, 5, 10), "value": 5}]
    )
    assert (again.inserted, again.updated) == (0, 1)

    series = await kpi.get_series(
        "orders", service="checkout", from_=at(2031, 1, 1), to=at(2031, 2, 1), grain="day"
    )
    assert (series.kpi, series.service, series.grain, series.aggregation) == (
        "orders",
        "checkout",
        "day",
        "sum",
    )
    assert [(p.bucket, p.value, p.count) for p in series.points] == [(at(2031, 1, 5), 9.0, 2)]
    fleet = await kpi.get_series("orders", grain="month", from_=at(2031, 1, 1))
    assert [(p.bucket, p.value) for p in fleet.points] == [(at(2031, 1, 1), 19.0)]
    team = await kpi.get_series("orders", team="shop", grain="month")
    assert team.team == "shop" and team.points[0].value == 19.0
    tier = await kpi.get_series("orders", tier=2, grain="month")
    assert tier.tier == 2 and tier.points[0].value == 10.0


async def test_builtin_series_lists_every_bucket(kpi: AsyncClient) -> None:
    await make_catalog(kpi)
    series = await kpi.get_series(
        "availability", service="checkout", from_=at(2031, 2, 1), to=at(2031, 2, 4), grain="day"
    )
    assert [p.bucket for p in series.points] == [at(2031, 2, d) for d in (1, 2, 3)]
    assert [p.value for p in series.points] == [100.0, 100.0, 100.0]


def points(n: int) -> Iterator[dict[str, object]]:
    start = at(2031, 1, 1)
    for i in range(n):
        ts = start + dt.timedelta(minutes=i)
        yield {"kpi": "orders", "service": "checkout", "ts": ts, "value": float(i % 7)}


async def test_stream_20000_points_from_a_generator(
    asgi: httpx.ASGITransport, admin: Headers, con: dbmod.Connection
) -> None:
    recording = AsyncRecording(asgi)
    async with async_client(recording, admin) as kpi:
        await make_catalog(kpi)
        result = await kpi.stream_observations(points(20_000), chunk_points=500)
    assert (result.points, result.inserted, result.updated, result.unchanged) == (
        20_000,
        20_000,
        0,
        0,
    )
    # Encoded and sent a chunk at a time, never as one body.
    assert recording.chunk_sizes == [500] * 40
    stored = await con.fetchval("select count(*) from observation")
    assert stored == 20_000
    total = await con.fetchval("select sum(value) from observation")
    assert total == sum(float(i % 7) for i in range(20_000))


async def test_stream_from_an_async_iterable(kpi: AsyncClient, con: dbmod.Connection) -> None:
    await make_catalog(kpi)

    async def produce() -> AsyncIterator[ObservationIn]:
        for day in range(1, 11):
            yield ObservationIn(kpi="orders", ts=at(2031, 1, day), value=day)

    result = await kpi.stream_observations(produce(), chunk_points=3)
    assert (result.points, result.inserted) == (10, 10)
    assert await con.fetchval("select sum(value) from observation") == 55


async def test_a_naive_point_in_a_stream_is_refused_and_nothing_is_stored(
    kpi: AsyncClient, con: dbmod.Connection
) -> None:
    await make_catalog(kpi)
    good = [{"kpi": "orders", "ts": at(2031, 1, 1, h), "value": 1} for h in range(5)]
    naive = {"kpi": "orders", "ts": dt.datetime(2031, 1, 2), "value": 1}
    with pytest.raises(RequestInvalid, match=r"point 5.*timezone"):
        await kpi.stream_observations([*good, naive], chunk_points=2)
    assert await con.fetchval("select count(*) from observation") == 0


async def test_an_error_raised_by_the_points_stops_the_stream(
    kpi: AsyncClient, con: dbmod.Connection
) -> None:
    await make_catalog(kpi)

    def broken() -> Iterator[dict[str, object]]:
        yield {"kpi": "orders", "ts": at(2031, 1, 1), "value": 1}
        raise LookupError("the source went away")

    with pytest.raises(LookupError, match="went away"):
        await kpi.stream_observations(broken(), chunk_points=1)
    assert await con.fetchval("select count(*) from observation") == 0


async def test_costs_round_trip(kpi: AsyncClient, con: dbmod.Connection) -> None:
    await make_catalog(kpi)
    records: list[CostIn | dict[str, object]] = [
        CostIn(
            service="checkout",
            category="cloud",
            period_start=dt.date(2031, 1, 1),
            period_end=dt.date(2031, 2, 1),
            amount=9120.5,
            currency="EUR",
            note="aws",
        ),
        {
            "category": "licences",
            "period_start": "2031-01-01",
            "period_end": "2031-04-01",
            "amount": 3000,
            "currency": "EUR",
        },
    ]
    result = await kpi.ingest_costs(records)
    assert (result.records, result.inserted, result.updated, result.unchanged) == (2, 2, 0, 0)
    same = await kpi.ingest_costs(records)
    assert (same.inserted, same.unchanged) == (0, 2)
    listed = await kpi.list_costs(from_=dt.date(2031, 1, 1), to=dt.date(2031, 2, 1))
    assert [(c.service, c.category, c.amount, c.note) for c in listed] == [
        ("checkout", "cloud", 9120.5, "aws"),
        (None, "licences", 3000.0, None),
    ]
    only = await kpi.list_costs(service="checkout", category="cloud", currency="EUR", limit=5)
    assert [c.amount for c in only] == [9120.5]
    assert await kpi.list_costs(from_=dt.date(2031, 6, 1)) == []
    assert await con.fetchval("select count(*) from cost_record") == 2


async def test_a_cost_record_is_corrected_and_deleted(
    kpi: AsyncClient, con: dbmod.Connection
) -> None:
    await make_catalog(kpi)
    sent = {"category": "cloud", "period_start": "2031-01-01", "period_end": "2031-12-01",
            "amount": 12.5, "currency": "EUR"}  # fmt: skip
    await kpi.ingest_costs([sent])
    (record,) = await kpi.list_costs()
    assert (await kpi.get_cost(record.id)).period_end == dt.date(2031, 12, 1)
    fixed = await kpi.replace_cost(record.id, {**sent, "period_end": "2031-02-01"})
    assert (fixed.id, fixed.period_end, fixed.amount) == (record.id, dt.date(2031, 2, 1), 12.5)
    assert (await kpi.get_cost(record.id)).period_end == dt.date(2031, 2, 1)
    await kpi.delete_cost(record.id)
    with pytest.raises(NotFound):
        await kpi.get_cost(record.id)
    assert await con.fetchval("select count(*) from cost_record") == 0


async def test_budgets_round_trip(kpi: AsyncClient, con: dbmod.Connection) -> None:
    await make_catalog(kpi)
    sent: list[BudgetIn | dict[str, object]] = [
        BudgetIn(service="checkout", category="cloud", period_start=dt.date(2031, 1, 1),
                 period_end=dt.date(2031, 2, 1), amount=9000, currency="EUR"),
        {"category": "licences", "period_start": "2031-01-01", "period_end": "2031-04-01",
         "amount": 3000, "currency": "EUR"},
    ]  # fmt: skip
    result = await kpi.ingest_budgets(sent)
    assert (result.records, result.inserted, result.updated, result.unchanged) == (2, 2, 0, 0)
    listed = await kpi.list_budgets(from_=dt.date(2031, 2, 1))
    assert [(b.service, b.category, b.amount) for b in listed] == [(None, "licences", 3000.0)]
    (one,) = await kpi.list_budgets(service="checkout", category="cloud", currency="EUR")
    assert (await kpi.get_budget(one.id)).period_end == dt.date(2031, 2, 1)
    # A period that is not a whole month or quarter is refused by the service, naming it.
    with pytest.raises(ValidationFailed) as refused:
        await kpi.ingest_budgets([{**sent[1], "period_end": "2031-03-15"}])  # type: ignore[dict-item]
    assert [e.field for e in refused.value.errors] == ["0.period_end"]
    await kpi.delete_budget(one.id)
    with pytest.raises(NotFound):
        await kpi.get_budget(one.id)
    assert await con.fetchval("select count(*) from budget") == 1


async def test_ingest_token_can_write_but_not_administer(
    kpi: AsyncClient, asgi: httpx.ASGITransport, ingester: Headers
) -> None:
    await make_catalog(kpi)
    async with async_client(asgi, ingester) as ingest:
        ok = await ingest.ingest_observations([{"kpi": "orders", "ts": at(2031, 1, 1), "value": 1}])
        assert ok.inserted == 1
        with pytest.raises(Forbidden) as caught:
            await ingest.create_team({"slug": "x", "name": "X"})
    assert caught.value.status == 403
