"""The sync Client against the same in-process service: it runs in a worker thread
(asyncio.to_thread) and its requests are forwarded to the test's event loop."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Iterator

import pytest
from kpi_client import (
    AsyncClient,
    Client,
    Conflict,
    NotFound,
    RequestInvalid,
    RetryPolicy,
    TransportError,
)
from kpi_client.models import IncidentIn, ObservationIn, TeamIn

from service import db as dbmod
from tests.clients.catalog_data import at, make_catalog
from tests.clients.conftest import Headers
from tests.clients.transports import Flaky, LoopForwardingTransport, Unreachable

MakeClient = Callable[..., Client]


async def test_catalog_and_incident_round_trip(
    sync_client: MakeClient, admin: Headers, kpi: AsyncClient
) -> None:
    await make_catalog(kpi)

    def work() -> None:
        with sync_client(admin) as client:
            team = client.create_team(TeamIn(slug="ops", name="Ops"))
            assert client.get_team("ops") == team
            assert client.replace_team("ops", {"slug": "ops", "name": "Operations"}).name == (
                "Operations"
            )
            with pytest.raises(Conflict):
                client.create_team({"slug": "ops", "name": "Again"})
            client.delete_team("ops")
            with pytest.raises(NotFound):
                client.get_team("ops")
            incident = client.upsert_incident(
                IncidentIn(
                    external_id="INC-1",
                    service="checkout",
                    status="resolved",
                    started_at=at(2031, 1, 1),
                    resolved_at=at(2031, 1, 1, 1),
                )
            )
            assert client.get_incident(incident.id).resolved_at == at(2031, 1, 1, 1)
            data = client.graphql("{ teams { nodes { slug } } }")
            assert data == {"teams": {"nodes": [{"slug": "shop"}]}}

    await asyncio.to_thread(work)


def numbered(n: int) -> Iterator[ObservationIn]:
    for i in range(n):
        yield ObservationIn(
            kpi="orders", service="billing", ts=at(2031, 1, 1) + dt.timedelta(minutes=i), value=1
        )


async def test_streams_20000_points_from_a_generator(
    sync_client: MakeClient, admin: Headers, kpi: AsyncClient, con: dbmod.Connection
) -> None:
    await make_catalog(kpi)

    def work() -> tuple[int, int]:
        with sync_client(admin) as client:
            first = client.stream_observations(numbered(20_000), chunk_points=2_000)
            again = client.stream_observations(numbered(20_000))
        return first.inserted, again.unchanged

    assert await asyncio.to_thread(work) == (20_000, 20_000)
    assert await con.fetchval("select count(*) from observation") == 20_000


async def test_retries_through_a_flaky_transport(
    sync_client: MakeClient,
    forwarding: LoopForwardingTransport,
    admin: Headers,
    kpi: AsyncClient,
    con: dbmod.Connection,
) -> None:
    await make_catalog(kpi)
    flaky = Flaky(forwarding, ["connect-after", "503-after", "connect-before"])
    points = [{"kpi": "orders", "ts": at(2031, 1, 1, h), "value": 2} for h in range(12)]

    def work() -> int:
        with sync_client(admin, transport=flaky) as client:
            return client.ingest_observations(points).points

    assert await asyncio.to_thread(work) == 12
    assert (flaky.plan.calls, flaky.plan.forwarded) == (4, 3)
    assert len({r.headers["idempotency-key"] for r in flaky.plan.seen}) == 1
    assert await con.fetchval("select count(*) from observation") == 12


def test_unreachable_service_gives_transport_error() -> None:
    nowhere = Unreachable()
    retry = RetryPolicy(max_attempts=2, backoff_base=0)
    with Client("http://kpi.test", "kpi_token", transport=nowhere, retry=retry) as client:
        with pytest.raises(TransportError) as caught:
            client.health()
    assert caught.value.attempts == 2 and nowhere.calls == 2


async def test_a_bad_point_stops_a_sync_stream(
    sync_client: MakeClient, admin: Headers, kpi: AsyncClient, con: dbmod.Connection
) -> None:
    await make_catalog(kpi)

    def points() -> Iterator[dict[str, object]]:
        yield from ({"kpi": "orders", "ts": at(2031, 1, 1, h), "value": 1} for h in range(3))
        yield {"kpi": "orders", "ts": dt.datetime(2031, 1, 2), "value": 1}

    def work() -> None:
        with sync_client(admin) as client:
            client.stream_observations(points(), chunk_points=2)

    with pytest.raises(RequestInvalid, match="point 3"):
        await asyncio.to_thread(work)
    assert await con.fetchval("select count(*) from observation") == 0
