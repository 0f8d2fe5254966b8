"""Retries against the real service behind a flaky transport: lost answers, refused
connections and 503s. Retried writes carry one Idempotency-Key and are applied once (rows
counted in the database); retries stop after max attempts."""

from __future__ import annotations

import datetime as dt
import random
import time

import httpx
import pytest
from kpi_client import (
    AsyncClient,
    Conflict,
    RateLimited,
    RetryPolicy,
    ServiceUnavailable,
    TransportError,
)
from kpi_client.models import ChangeIn, IncidentIn
from kpi_client.retry import parse_retry_after

from service import db as dbmod
from service.app import create_app
from service.config import Settings
from tests.clients.catalog_data import at, make_catalog
from tests.clients.conftest import Headers, async_client
from tests.clients.transports import AsyncFlaky
from tests.conftest import SingleConnectionDatabase

Faults = list[str]
LOST_THEN_REFUSED = ["connect-after", "503-after", "connect-before", "503-before"]


async def flaky_client(
    asgi: httpx.ASGITransport, admin: Headers, faults: Faults, max_attempts: int = 5
) -> tuple[AsyncClient, AsyncFlaky]:
    """An admin client behind a flaky transport, with the catalog made (before the faults)."""
    flaky = AsyncFlaky(asgi, [])
    client = async_client(flaky, admin, RetryPolicy(max_attempts=max_attempts, backoff_base=0))
    await make_catalog(client)
    flaky.plan.faults = list(faults)
    flaky.plan.calls = flaky.plan.forwarded = 0
    flaky.plan.seen.clear()
    return client, flaky


def one_key(flaky: AsyncFlaky) -> str:
    keys = {r.headers["idempotency-key"] for r in flaky.plan.seen}
    assert len(keys) == 1, keys
    return keys.pop()


async def count(con: dbmod.Connection, table: str) -> int:
    found: int = await con.fetchval(f"select count(*) from {table}")
    return found


async def test_observations_retried_after_lost_answers_are_stored_once(
    asgi: httpx.ASGITransport, admin: Headers, con: dbmod.Connection
) -> None:
    kpi, flaky = await flaky_client(asgi, admin, LOST_THEN_REFUSED)
    points = [{"kpi": "orders", "ts": at(2031, 1, 1, h), "value": h} for h in range(24)]
    result = await kpi.ingest_observations(points)
    assert (flaky.plan.calls, flaky.plan.forwarded) == (5, 3)
    one_key(flaky)
    assert result.points == 24
    assert await count(con, "observation") == 24
    assert await con.fetchval("select count(*) from observation_revision") == 0


async def test_incident_retried_after_lost_answers_is_applied_once(
    asgi: httpx.ASGITransport, admin: Headers, con: dbmod.Connection
) -> None:
    kpi, flaky = await flaky_client(asgi, admin, LOST_THEN_REFUSED)
    events_before = await count(con, "incident_event")
    incident = await kpi.upsert_incident(
        IncidentIn(
            external_id="INC-7", service="checkout", severity="sev2", started_at=at(2031, 1, 3, 8)
        )
    )
    assert (incident.external_id, incident.severity) == ("INC-7", "sev2")
    assert (flaky.plan.calls, flaky.plan.forwarded) == (5, 3)
    key = one_key(flaky)
    assert await count(con, "incident") == 1
    deliveries = await con.fetchval("select count(*) from delivery where delivery_key = $1", key)
    assert deliveries == 1
    events = await count(con, "incident_event") - events_before
    assert events == 2  # the fields update and the trigger, once


async def test_change_retried_after_a_lost_answer_is_applied_once(
    asgi: httpx.ASGITransport, admin: Headers, con: dbmod.Connection
) -> None:
    kpi, flaky = await flaky_client(asgi, admin, ["connect-after", "503-after"])
    change = await kpi.upsert_change(
        ChangeIn(
            external_id="d-1", service="checkout", status="success", finished_at=at(2031, 1, 4)
        )
    )
    assert change.status == "success" and flaky.plan.forwarded == 3
    one_key(flaky)
    assert await count(con, "change") == 1
    assert await count(con, "change_event") == 1


async def test_costs_retried_after_lost_answers_are_stored_once(
    asgi: httpx.ASGITransport, admin: Headers, con: dbmod.Connection
) -> None:
    kpi, flaky = await flaky_client(asgi, admin, ["503-after", "connect-after"])
    record = {
        "category": "cloud",
        "period_start": dt.date(2031, 1, 1),
        "period_end": dt.date(2031, 2, 1),
        "amount": 10.5,
        "currency": "EUR",
    }
    result = await kpi.ingest_costs([record])
    assert result.records == 1 and flaky.plan.forwarded == 3
    assert await count(con, "cost_record") == 1


async def test_catalog_writes_retried_after_lost_answers(
    asgi: httpx.ASGITransport, admin: Headers, con: dbmod.Connection
) -> None:
    """The service keeps the first answer per Idempotency-Key: a create whose answer was lost
    gives the created team on retry, not a Conflict; a delete gives 204, not a NotFound."""
    kpi, flaky = await flaky_client(asgi, admin, ["connect-after"])
    team = await kpi.create_team({"slug": "ops", "name": "Ops"})
    assert (team.slug, flaky.plan.forwarded) == ("ops", 2)
    flaky.plan.faults = ["connect-after"]
    await kpi.delete_team("ops")
    assert await con.fetchval("select count(*) from team where slug = 'ops'") == 0


async def test_a_stream_is_retried_only_before_it_was_read(
    asgi: httpx.ASGITransport, admin: Headers, con: dbmod.Connection
) -> None:
    kpi, flaky = await flaky_client(asgi, admin, ["connect-before"])
    points = ({"kpi": "orders", "ts": at(2031, 1, 2, h), "value": 1} for h in range(10))
    assert (await kpi.stream_observations(points)).inserted == 10
    assert flaky.plan.calls == 2

    flaky.plan.faults = ["connect-after"]
    flaky.plan.calls = 0
    more = ({"kpi": "orders", "ts": at(2031, 1, 3, h), "value": 1} for h in range(10))
    with pytest.raises(TransportError) as caught:
        await kpi.stream_observations(more)
    assert caught.value.attempts == 1 and flaky.plan.calls == 1
    # The service did store it: sending the same points again is safe.
    assert await count(con, "observation") == 20


async def test_token_creation_is_not_resent_once_it_may_have_arrived(
    asgi: httpx.ASGITransport, admin: Headers, con: dbmod.Connection
) -> None:
    kpi, flaky = await flaky_client(asgi, admin, ["connect-before", "503-before"])
    assert (await kpi.create_token("ci", ["ingest"])).name == "ci"
    assert flaky.plan.calls == 3
    flaky.plan.faults, flaky.plan.calls = ["connect-after"], 0
    with pytest.raises(TransportError):
        await kpi.create_token("ci-2", ["ingest"])
    assert flaky.plan.calls == 1
    assert await con.fetchval("select count(*) from api_token where name = 'ci-2'") == 1


async def test_gives_up_after_max_attempts(asgi: httpx.ASGITransport, admin: Headers) -> None:
    kpi, flaky = await flaky_client(asgi, admin, ["connect-before"] * 5, max_attempts=3)
    with pytest.raises(TransportError, match="3 attempts") as caught:
        await kpi.list_teams()
    assert caught.value.attempts == 3 and flaky.plan.calls == 3

    flaky.plan.faults, flaky.plan.calls = ["503-before"] * 5, 0
    with pytest.raises(ServiceUnavailable) as unavailable:
        await kpi.ingest_observations([{"kpi": "orders", "ts": at(2031, 1, 1), "value": 1}])
    assert unavailable.value.status == 503 and flaky.plan.calls == 3


async def test_retry_after_is_waited_for(asgi: httpx.ASGITransport, admin: Headers) -> None:
    kpi, flaky = await flaky_client(asgi, admin, ["503-before"])
    flaky.retry_after = "1"
    started = time.monotonic()
    assert [t.slug for t in await kpi.list_teams()] == ["shop"]
    assert time.monotonic() - started >= 0.9
    assert flaky.plan.calls == 2


def test_backoff_is_exponential_with_full_jitter() -> None:
    policy = RetryPolicy(backoff_base=0.5, backoff_max=3.0)
    assert [policy.backoff(n, rand=lambda: 1.0) for n in range(1, 6)] == [0.5, 1, 2, 3, 3]
    assert policy.backoff(4, rand=lambda: 0.0) == 0.0
    rng = random.Random(7)
    waits = [policy.backoff(3, rand=rng.random) for _ in range(200)]
    assert all(0 <= w <= 2 for w in waits) and len(set(waits)) == 200
    assert policy.delay(1, "4") == 4.0
    assert RetryPolicy(retry_after_max=10).delay(1, "3600") == 10.0
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)


def test_retry_after_parsing() -> None:
    now = dt.datetime(2031, 1, 1, 12, 0, tzinfo=dt.UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Wed, 01 Jan 2031 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Wed, 01 Jan 2031 11:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


async def test_rate_limited_answers_are_retried_after_retry_after(
    con: dbmod.Connection, settings: Settings, admin: Headers
) -> None:
    limited = Settings(db_schema=settings.db_schema, rate_limit_per_second=2, rate_limit_burst=1)
    app = create_app(limited, db=SingleConnectionDatabase(con))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with async_client(transport, admin, RetryPolicy(max_attempts=1)) as impatient:
        assert await impatient.list_teams() == []
        with pytest.raises(RateLimited) as caught:
            await impatient.list_teams()
    assert (caught.value.status, caught.value.retry_after) == (429, "1")
    async with async_client(transport, admin, RetryPolicy(max_attempts=2)) as patient:
        started = time.monotonic()
        assert await patient.list_teams() == []
        assert time.monotonic() - started >= 0.9


async def test_a_key_given_by_the_caller_makes_repeated_calls_one_write(kpi: AsyncClient) -> None:
    first = await kpi.create_team({"slug": "ops", "name": "Ops"}, idempotency_key="run-42-team")
    again = await kpi.create_team({"slug": "ops", "name": "Ops"}, idempotency_key="run-42-team")
    assert again == first
    with pytest.raises(Conflict) as caught:
        await kpi.create_team({"slug": "ops", "name": "Other"}, idempotency_key="run-42-team")
    assert [e.field for e in caught.value.errors] == ["Idempotency-Key"]
