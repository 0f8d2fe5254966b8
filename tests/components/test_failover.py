"""Failover with a multi-host KPI_DATABASE_URL: the service (real uvicorn) names a standby and
its primary, standby first, with target_session_attrs=read-write, and its connections go to
the primary. A service whose pool lands on a standby, or on a primary fenced read-only, answers
what the standby refuses with 503 and Retry-After, in REST and GraphQL, never 500. With the
synchronous standby stopped, a commit is not acknowledged (503 at the command timeout). Then,
under a steady stream of writes, the primary is killed with SIGKILL and the standby promoted:
requests in between get 503 with Retry-After (none 500, none dropped), the service writes
again within its pool's timeouts, and every write it acknowledged is found on the new
primary, row by row.

The pair is the test's own (tests/components/replication.py): a primary and a synchronous
streaming standby on free ports, so a commit acknowledged by the primary is on the standby.
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from service import db as dbmod
from service.config import Settings
from service.errors import PROBLEM_MEDIA_TYPE
from service.models.enums import Scope
from service.usecases.tokens import create_token
from tests.components.replication import ReplicatedPair
from tests.reliability import support
from tests.reliability.support import served

pytestmark = [pytest.mark.components, pytest.mark.database]  # starts its own PostgreSQL

SCHEMA = "kpi_failover"
WRITERS = 3
BATCH_POINTS = 20
#: The pool's timeouts in this test: a connection attempt (every host of the URL together)
#: and the wait for a pooled connection.
CONNECT_TIMEOUT = 2.0
ACQUIRE_TIMEOUT = 3.0
#: How long the primary stays dead before the standby is promoted.
DEAD_SECONDS = 1.5


@pytest.fixture(scope="module")
def tokens(pair: ReplicatedPair) -> support.Tokens:
    """The schema, made through the multi-host URL (migrations honour the attribute too)."""
    return asyncio.run(support.prepare_schema(standby_first_url(pair), SCHEMA))


@pytest.fixture(scope="module")
def admin(pair: ReplicatedPair, tokens: support.Tokens) -> dict[str, str]:
    async def make() -> str:
        con = await dbmod.connect(pair.primary.url, SCHEMA)
        try:
            return (await create_token(con, name="failover-admin", scopes=[Scope.ADMIN])).token
        finally:
            await con.close()

    return {"Authorization": f"Bearer {asyncio.run(make())}"}


def standby_first_url(pair: ReplicatedPair) -> str:
    """Both servers, the standby named first: only the session attribute sends connections
    to the primary."""
    hosts = f"127.0.0.1:{pair.standby.port},127.0.0.1:{pair.primary.port}"
    return f"postgresql://postgres@{hosts}/postgres?target_session_attrs=read-write"


def settings(url: str, migrate_url: str) -> Settings:
    return Settings(
        database_url=url, database_migrate_url=migrate_url, db_schema=SCHEMA, background=False,
        rate_limit_per_second=0, pool_min_size=2, pool_max_size=6,
        db_connect_timeout_seconds=CONNECT_TIMEOUT, db_acquire_timeout_seconds=ACQUIRE_TIMEOUT,
    )  # fmt: skip


async def post_batch(
    client: httpx.AsyncClient, tokens: support.Tokens, name: str
) -> httpx.Response:
    return await support.post_batch(client, tokens.ingest, name, BATCH_POINTS)


def assert_unavailable(r: httpx.Response) -> None:
    assert r.status_code == 503, r.text
    assert r.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert r.headers["retry-after"] == "5"


async def test_a_standby_taken_for_the_primary_answers_503_and_the_attribute_finds_the_primary(
    pair: ReplicatedPair, tokens: support.Tokens
) -> None:
    await pair.wait_caught_up()
    # The service's pool pointed at the standby alone (no attribute asked, so it connects;
    # it migrates through both hosts). Looking a token up reads a table a standby cannot
    # serve (unlogged), and a write is refused: each request is answered as unavailable.
    both = standby_first_url(pair)
    async with served(settings(pair.standby.url, both)) as client:
        assert_unavailable(await client.get("/v1/services", headers=tokens.read))
        for attempt in ("first", "second"):  # the pool's replaced connections meet it again
            assert_unavailable(await post_batch(client, tokens, attempt))
    # The service on both hosts, standby first, writes to the primary.
    async with served(settings(both, both)) as client:
        r = await post_batch(client, tokens, "through-both")
        assert r.status_code == 200, r.text
        assert r.json()["inserted"] == BATCH_POINTS
    con = await dbmod.connect(pair.primary.url, SCHEMA)
    try:
        assert set(await support.stored_points(con)) == {"through-both"}
        await con.execute("delete from observation")  # the next test counts its own
    finally:
        await con.close()


async def test_a_primary_fenced_read_only_serves_reads_and_answers_writes_503(
    pair: ReplicatedPair, tokens: support.Tokens, admin: dict[str, str]
) -> None:
    # A primary fenced for a switchover refuses writes (default_transaction_read_only), here
    # for one role only. Reads are served; REST writes and GraphQL mutations get 503.
    await pair.execute(pair.primary, "create role fenced login superuser")
    await pair.execute(pair.primary, f"alter role fenced set search_path = {SCHEMA}")
    await pair.execute(pair.primary, "alter role fenced set default_transaction_read_only = on")
    fenced = f"postgresql://fenced@127.0.0.1:{pair.primary.port}/postgres"
    async with served(settings(fenced, standby_first_url(pair))) as client:
        r = await client.get("/v1/services", headers=tokens.read)
        assert r.status_code == 200, r.text
        assert [s["slug"] for s in r.json()] == [support.SERVICE]
        assert_unavailable(await post_batch(client, tokens, "fenced"))
        r = await client.post("/graphql", headers=admin, json={
            "query": 'mutation { upsertTeam(input: {slug: "sre", name: "SRE"}) { __typename } }'
        })  # fmt: skip
        assert r.status_code == 503, r.text
        assert r.headers["retry-after"] == "5"
        assert r.json()["errors"][0]["extensions"] == {
            "code": "DATABASE_UNAVAILABLE", "retryAfter": 5
        }  # fmt: skip
    con = await dbmod.connect(pair.primary.url, SCHEMA)
    try:
        assert await support.stored_points(con) == {}
        assert await con.fetchval("select count(*) from team where slug = 'sre'") == 0
    finally:
        await con.close()


async def test_a_commit_is_acknowledged_only_once_the_synchronous_standby_has_it(
    pair: ReplicatedPair, tokens: support.Tokens
) -> None:
    # The standby stopped: the primary commits locally, then waits for it. The request's
    # COMMIT is cut off at the command timeout (2 s) and answered 503, never 2xx.
    app_settings = settings(pair.primary.url, standby_first_url(pair)).model_copy(
        update={"db_command_timeout_seconds": 2}
    )
    await asyncio.to_thread(pair.stop_standby, "fast")
    try:
        async with served(app_settings) as client:
            began = time.monotonic()
            assert_unavailable(await post_batch(client, tokens, "standby-down"))
            assert 2 <= time.monotonic() - began < 6
    finally:
        await asyncio.to_thread(pair.start_standby)
    await pair.wait_streaming()
    # Back and synchronous: the same kind of write is acknowledged at once.
    async with served(app_settings) as client:
        r = await post_batch(client, tokens, "standby-up")
        assert r.status_code == 200, r.text
    con = await dbmod.connect(pair.primary.url, SCHEMA)
    try:
        # The unacknowledged batch was committed on the primary alone before its wait was
        # cut off (README, Failover: sending it again is safe).
        assert set(await support.stored_points(con)) == {"standby-down", "standby-up"}
        await con.execute("delete from observation")  # the next test counts its own
    finally:
        await con.close()


async def test_writes_continue_on_the_promoted_standby_and_none_acknowledged_is_lost(
    pair: ReplicatedPair, tokens: support.Tokens
) -> None:
    async with served(settings(standby_first_url(pair), standby_first_url(pair))) as client:
        # Each writer waits 20 ms after an answer.
        writers = support.Writers([(client, tokens.ingest)] * WRITERS, BATCH_POINTS, 0.02)
        writers.start()
        try:
            await support.wait_for(lambda: writers.acknowledged_after(0) >= 10, 30, "first writes")
            failover = await pair.fail_over(DEAD_SECONDS)
            back = await support.wait_for(
                lambda: writers.acknowledged_after(failover.promoted) >= 3,
                CONNECT_TIMEOUT + ACQUIRE_TIMEOUT + 2, "writes on the promoted standby",
            )  # fmt: skip
            await asyncio.sleep(0.5)
        finally:
            await writers.stop()
    answers = writers.answers

    support.assert_answered_or_unavailable(answers)
    # With no primary, writes were refused: those sent after the kill and answered before
    # the promotion began were all 503.
    between = failover.while_down(answers)
    assert len(between) >= WRITERS, between
    assert all(a.status == 503 for a in between), between[:5]

    # Every acknowledged batch is on the new primary exactly as sent; no batch is half there.
    stored = await support.points_on_primary(pair.standby.url, SCHEMA)
    support.assert_batches_whole(stored, answers, BATCH_POINTS)
    acknowledged = [a for a in answers if a.ok]
    print(
        f"\n{len(answers)} writes, {len(acknowledged)} acknowledged "
        f"({len(acknowledged) * BATCH_POINTS} points, all found on the new primary), "
        f"{sum(a.status == 503 for a in answers)} answered 503; promotion took "
        f"{failover.promoted - failover.promoting:.2f} s, writes acknowledged again {back:.2f} s"
        " after it"
    )
