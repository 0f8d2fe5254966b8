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
import dataclasses
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from service import db as dbmod
from service.app import create_app
from service.config import Settings
from service.errors import PROBLEM_MEDIA_TYPE
from service.models.enums import Scope
from service.usecases.tokens import create_token
from tests.components.replication import ReplicatedPair, replicated_pair
from tests.reliability import support
from tests.reliability.support import serving

pytestmark = pytest.mark.components

SCHEMA = "kpi_failover"
WRITERS = 3
BATCH_POINTS = 20
#: The pool's timeouts in this test: a connection attempt (every host of the URL together)
#: and the wait for a pooled connection.
CONNECT_TIMEOUT = 2.0
ACQUIRE_TIMEOUT = 3.0
#: How long the primary stays dead before the standby is promoted.
DEAD_SECONDS = 1.5

#: How the primary sees its standby: "sync" when it is synchronous.
SYNC_STATE = "select sync_state from pg_stat_replication"


@pytest.fixture(scope="module")
def pair() -> Iterator[ReplicatedPair]:
    with replicated_pair() as built:
        yield built


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


@dataclasses.dataclass
class Answer:
    name: str
    started: float
    ended: float
    status: int | None  # None: no HTTP answer at all
    content_type: str = ""
    retry_after: str | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200


class Writers:
    """WRITERS loops posting batches of BATCH_POINTS points, each batch named, every answer
    recorded, until stopped."""

    def __init__(self, client: httpx.AsyncClient, tokens: support.Tokens) -> None:
        self.client, self.tokens = client, tokens
        self.answers: list[Answer] = []
        self.stopping = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self.tasks = [asyncio.create_task(self._write(n)) for n in range(WRITERS)]

    async def stop(self) -> None:
        self.stopping.set()
        await asyncio.gather(*self.tasks)

    async def _write(self, number: int) -> None:
        sequence = 0
        while not self.stopping.is_set():
            name = f"w{number}-{sequence}"
            sequence += 1
            started = time.monotonic()
            try:
                r = await self.client.post(
                    "/v1/observations", content=support.json_batch(name, BATCH_POINTS),
                    headers={**self.tokens.ingest, "Content-Type": "application/json"},
                )  # fmt: skip
            except httpx.HTTPError as exc:
                self.answers.append(Answer(name, started, time.monotonic(), None, detail=repr(exc)))
            else:
                self.answers.append(Answer(
                    name, started, time.monotonic(), r.status_code,
                    r.headers.get("content-type", ""), r.headers.get("retry-after"), r.text[:300],
                ))  # fmt: skip
            await asyncio.sleep(0.02)

    def acknowledged_after(self, instant: float) -> int:
        return sum(a.ok and a.started >= instant for a in self.answers)


async def wait_for(condition: Callable[[], bool], within: float, what: str) -> float:
    """Seconds until condition() holds, polled every 20 ms; fails past `within`."""
    began = time.monotonic()
    while not condition():
        if time.monotonic() - began > within:
            pytest.fail(f"{what}: not within {within} s")
        await asyncio.sleep(0.02)
    return time.monotonic() - began


async def post_batch(
    client: httpx.AsyncClient, tokens: support.Tokens, name: str
) -> httpx.Response:
    return await client.post(
        "/v1/observations", content=support.json_batch(name, BATCH_POINTS),
        headers={**tokens.ingest, "Content-Type": "application/json"},
    )  # fmt: skip


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
    async with (
        serving(create_app(settings(pair.standby.url, both))) as base,
        httpx.AsyncClient(base_url=base, timeout=30) as client,
    ):
        assert_unavailable(await client.get("/v1/services", headers=tokens.read))
        for attempt in ("first", "second"):  # the pool's replaced connections meet it again
            assert_unavailable(await post_batch(client, tokens, attempt))
    # The service on both hosts, standby first, writes to the primary.
    async with (
        serving(create_app(settings(both, both))) as base,
        httpx.AsyncClient(base_url=base, timeout=30) as client,
    ):
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
    async with (
        serving(create_app(settings(fenced, standby_first_url(pair)))) as base,
        httpx.AsyncClient(base_url=base, timeout=30) as client,
    ):
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
        async with (
            serving(create_app(app_settings)) as base,
            httpx.AsyncClient(base_url=base, timeout=30) as client,
        ):
            began = time.monotonic()
            assert_unavailable(await post_batch(client, tokens, "standby-down"))
            assert 2 <= time.monotonic() - began < 6
    finally:
        await asyncio.to_thread(pair.start_standby)
    await pair.wait_streaming()
    # Back and synchronous: the same kind of write is acknowledged at once.
    async with (
        serving(create_app(app_settings)) as base,
        httpx.AsyncClient(base_url=base, timeout=30) as client,
    ):
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
    async with (
        serving(create_app(settings(standby_first_url(pair), standby_first_url(pair)))) as base,
        httpx.AsyncClient(base_url=base, timeout=30) as client,
    ):
        writers = Writers(client, tokens)
        writers.start()
        try:
            await wait_for(lambda: writers.acknowledged_after(0) >= 10, 30, "first writes")
            # The standby is synchronous: a commit the primary acknowledged is flushed there.
            assert await pair.fetchval(pair.primary, SYNC_STATE) == "sync"
            await asyncio.to_thread(pair.kill_primary)
            killed = time.monotonic()  # every process of the primary gone
            await asyncio.sleep(DEAD_SECONDS)
            promoting = time.monotonic()
            await asyncio.to_thread(pair.promote)
            promoted = time.monotonic()
            back = await wait_for(
                lambda: writers.acknowledged_after(promoted) >= 3,
                CONNECT_TIMEOUT + ACQUIRE_TIMEOUT + 2, "writes on the promoted standby",
            )  # fmt: skip
            await asyncio.sleep(0.5)
        finally:
            await writers.stop()
    answers = writers.answers

    # Every request got an HTTP answer: 200, or 503 problem+json with Retry-After.
    unexpected = [a for a in answers if a.status not in (200, 503)]
    assert not unexpected, unexpected[:5]
    for a in answers:
        if a.status == 503:
            assert a.content_type == PROBLEM_MEDIA_TYPE, a
            assert a.retry_after is not None and int(a.retry_after) > 0, a
    # With no primary, writes were refused: those sent after the kill and answered before
    # the promotion began were all 503.
    between = [a for a in answers if a.started > killed and a.ended < promoting]
    assert len(between) >= WRITERS, between
    assert all(a.status == 503 for a in between), between[:5]

    # Every acknowledged batch is on the new primary exactly as sent; no batch is half there.
    con = await dbmod.connect(pair.standby.url, SCHEMA)
    try:
        assert await con.fetchval("select not pg_is_in_recovery()")
        stored = await support.stored_points(con)
    finally:
        await con.close()
    acknowledged = [a for a in answers if a.ok]
    for a in answers:
        got = stored.get(a.name, {})
        if a.ok:
            expected = {i: support.value_of(a.name, i) for i in range(BATCH_POINTS)}
            assert got == expected, f"acknowledged batch {a.name} is not stored as sent"
        else:
            assert len(got) in (0, BATCH_POINTS), f"batch {a.name} is half stored: {len(got)}"
    print(
        f"\n{len(answers)} writes, {len(acknowledged)} acknowledged "
        f"({len(acknowledged) * BATCH_POINTS} points, all found on the new primary), "
        f"{sum(a.status == 503 for a in answers)} answered 503; promotion took "
        f"{promoted - promoting:.2f} s, writes acknowledged again {back:.2f} s after it"
    )
