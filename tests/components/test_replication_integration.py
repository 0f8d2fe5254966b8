"""The whole scale-out stack at once, with real programs: a PostgreSQL primary and its
synchronous streaming standby (tests/components/replication.py), a PgBouncer 1.18 in
transaction mode in front of the primary (tests/components/pgbouncer.py), and two `kpi serve`
processes going through it, every part on a free 127.0.0.1 port.

The processes read from the standby directly (KPI_DATABASE_READ_URL). In order, the tests
show: reads served by the standby, a token reading its own writes from the primary through
either process, and reads falling back to the primary once the standby lags past
KPI_REPLICA_MAX_LAG_BYTES; a token's rate limit holding across the two processes; the primary
killed with SIGKILL and the standby promoted while writers post to both processes, PgBouncer
re-pointed to it and reloaded, the service writing again with every acknowledged write found
on the new primary; and the evaluating leader's lease moving to the other process when its
holder is killed. Each test builds on the state the one before left (one cluster per module,
since a failover cannot be undone).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from service import db as dbmod
from service.config import Settings
from service.models.enums import Scope
from service.usecases.tokens import create_token
from tests.components.pgbouncer import Bouncer, create_pooled_role, names, pgbouncer
from tests.components.replication import ReplicatedPair
from tests.components.support import eventually, program
from tests.reliability import support

pytestmark = [pytest.mark.components, pytest.mark.database]  # starts its own PostgreSQL

REPO_ROOT = Path(__file__).resolve().parents[2]
#: Each token's bucket: 40 requests at once, then one every 20 s (0.05 a second).
RATE_BURST = 40
RATE_PER_SECOND = 0.05
#: The leader's lease and the pause between background rounds: short, so a takeover is quick.
LEASE_SECONDS = 2.0
ROUND_SECONDS = 0.3
#: The service's pool timeouts: connecting to PgBouncer, and waiting for a connection.
CONNECT_TIMEOUT = 2.0
ACQUIRE_TIMEOUT = 4.0
#: What the README asks of PgBouncer for failover: retry a failed server login after half a
#: second (not 15), and end a query waiting for a server after 3 s (not 120), below the
#: service's own timeouts, so that requests meanwhile are answered 503 quickly.
PGBOUNCER_FAILOVER_SETTINGS = {"server_login_retry": "0.5", "query_wait_timeout": "3"}
BATCH_POINTS = 20
#: How long the primary stays dead before the standby is promoted.
DEAD_SECONDS = 1.5
#: How far the standby's replay may be behind for reads to go to it, and how often each
#: process measures it: a small batch's WAL is far below, a large one's above.
MAX_LAG_BYTES = 256 * 1024
CHECK_SECONDS = 0.2
#: The test KPI's daily series around the day its points lie on.
SERIES = (
    f"/v1/kpis/{support.KPI}/series?grain=day"
    f"&from={(support.BASE - dt.timedelta(days=1)).isoformat()}"
    f"&to={(support.BASE + dt.timedelta(days=1)).isoformat()}"
).replace("+", "%2B")


@dataclasses.dataclass
class ServiceProcess:
    """One `kpi serve` process (a single uvicorn process: its pid is the lease holder's)."""

    base: str
    process: subprocess.Popen[bytes]
    log: Path

    async def wait_ready(self, within: float = 60) -> None:
        began = time.monotonic()
        async with httpx.AsyncClient(base_url=self.base, timeout=5) as client:
            while time.monotonic() - began < within:
                if self.process.poll() is not None:
                    pytest.fail(f"kpi serve exited ({self.process.returncode}):\n{self.tail()}")
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get("/readyz")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        pytest.fail(f"kpi serve was not ready within {within} s:\n{self.tail()}")

    def tail(self) -> str:
        return self.log.read_text()[-4000:]

    def kill(self) -> None:
        """SIGKILL, as a crash: no lease is handed over."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@dataclasses.dataclass
class Cluster:
    pair: ReplicatedPair
    bouncer: Bouncer
    role: str
    schema: str
    processes: list[ServiceProcess]
    tokens: support.Tokens
    clients: list[httpx.AsyncClient] = dataclasses.field(default_factory=list)

    @property
    def url(self) -> str:
        """The service's KPI_DATABASE_URL: through PgBouncer."""
        return self.bouncer.url(self.role)

    async def new_token(self, name: str, *scopes: Scope) -> dict[str, str]:
        """A token made on whichever server is the primary now (through PgBouncer)."""
        con = await self.connect()
        try:
            made = await create_token(con, name=name, scopes=list(scopes))
        finally:
            await con.close()
        return {"Authorization": f"Bearer {made.token}"}

    async def connect(self) -> dbmod.Connection:
        return await dbmod.connect(self.url, self.schema, settings=pooled(self.url, self.schema))


def pooled(url: str, schema: str) -> Settings:
    return Settings(database_url=url, db_schema=schema, db_transaction_pooling=True)


def service_environment(url: str, read_url: str, schema: str) -> dict[str, str]:
    """The environment of a `kpi serve` process: none of the caller's KPI_ settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KPI_")}
    env.update({
        "KPI_DATABASE_URL": url, "KPI_DB_SCHEMA": schema, "KPI_DB_TRANSACTION_POOLING": "true",
        "KPI_DATABASE_READ_URL": read_url, "KPI_REPLICA_MAX_LAG_BYTES": str(MAX_LAG_BYTES),
        "KPI_REPLICA_CHECK_SECONDS": str(CHECK_SECONDS),
        "KPI_POOL_MIN_SIZE": "1", "KPI_POOL_MAX_SIZE": "4",
        "KPI_DB_CONNECT_TIMEOUT_SECONDS": str(CONNECT_TIMEOUT),
        "KPI_DB_ACQUIRE_TIMEOUT_SECONDS": str(ACQUIRE_TIMEOUT),
        "KPI_RATE_LIMIT_PER_SECOND": str(RATE_PER_SECOND),
        "KPI_RATE_LIMIT_BURST": str(RATE_BURST),
        "KPI_BACKGROUND": "true", "KPI_BACKGROUND_INTERVAL_SECONDS": str(ROUND_SECONDS),
        "KPI_LEADER_LEASE_SECONDS": str(LEASE_SECONDS), "KPI_LOG_LEVEL": "WARNING",
    })  # fmt: skip
    return env


def start_service(env: dict[str, str], directory: Path, name: str) -> ServiceProcess:
    port = support.free_port()
    log = directory / f"{name}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve", "--port", str(port)],
            env=env, cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
        )  # fmt: skip
    return ServiceProcess(f"http://127.0.0.1:{port}", process, log)


@pytest.fixture(scope="module")
async def cluster(pair: ReplicatedPair) -> AsyncIterator[Cluster]:
    found = program("pgbouncer", package="pgbouncer")
    # The role and schema live on the pair, which is thrown away with them.
    role, schema = names("kpi_int")
    await create_pooled_role(pair.primary.url, role, schema)
    with (
        pgbouncer(found, pair.primary.url, [role], PGBOUNCER_FAILOVER_SETTINGS) as bouncer,
        tempfile.TemporaryDirectory(prefix="kpi-integration-") as tmp,
    ):
        url = bouncer.url(role)
        tokens = await support.prepare_schema(url, schema, pooled(url, schema))
        # The standby straight, as the same role (its settings are replicated with it).
        read_url = f"postgresql://{role}@127.0.0.1:{pair.standby.port}/postgres"
        env = service_environment(url, read_url, schema)
        processes = [start_service(env, Path(tmp), f"kpi-{n}") for n in range(2)]
        try:
            await asyncio.gather(*(p.wait_ready() for p in processes))
            async with contextlib.AsyncExitStack() as stack:
                clients = [
                    await stack.enter_async_context(httpx.AsyncClient(base_url=p.base, timeout=30))
                    for p in processes
                ]
                yield Cluster(pair, bouncer, role, schema, processes, tokens, clients)
        finally:
            for p in processes:
                p.stop()


async def points_seen(client: httpx.AsyncClient, token: dict[str, str]) -> int:
    """The points of the test KPI a series read sees, all buckets together."""
    r = await client.get(SERIES, headers=token)
    assert r.status_code == 200, r.text
    return sum(p["count"] for p in r.json()["points"])


async def replica_used(client: httpx.AsyncClient) -> bool:
    """Whether the process sends reads to the standby now (/readyz says, per database)."""
    r = await client.get("/readyz")
    assert r.status_code == 200, r.text
    return bool(r.json()["databases"][1]["used"])


async def until_replica_used(cluster: Cluster, used: bool, what: str) -> None:
    async def check() -> bool:
        return all([await replica_used(c) == used for c in cluster.clients])

    await eventually(check, within=20, what=what)


async def post_points(
    client: httpx.AsyncClient, token: dict[str, str], name: str, count: int
) -> None:
    r = await support.post_batch(client, token, name, count)
    assert r.status_code == 200, r.text
    assert r.json()["inserted"] == count


async def test_reads_go_to_the_replica_a_writer_reads_its_writes_and_lag_falls_back(
    cluster: Cluster,
) -> None:
    pair = cluster.pair
    writer = await cluster.new_token("replica-writer", Scope.ADMIN)  # writes and reads
    reader = await cluster.new_token("replica-reader", Scope.READ)  # never writes
    await pair.wait_caught_up()
    await until_replica_used(cluster, True, "both processes reading from the standby")
    # With replay paused, a write reaches the standby (synchronous, flushed) but is not
    # visible there: who sees it shows where a read went.
    await pair.pause_replay()
    try:
        await post_points(cluster.clients[0], writer, "while-paused", BATCH_POINTS)
        # The other process, for a token that never wrote: the standby, without the batch.
        assert await points_seen(cluster.clients[1], reader) == 0
        # The writer, on either process: the primary, with its batch (read-your-writes).
        for client in cluster.clients:
            assert await points_seen(client, writer) == BATCH_POINTS
        # Lag: 4,000 points write far more WAL than MAX_LAG_BYTES; at their next check
        # both processes stop reading from the standby, and the reader sees everything.
        await post_points(cluster.clients[0], writer, "bulk", 4_000)
        await until_replica_used(cluster, False, "reads falling back to the primary")
        for client in cluster.clients:
            assert await points_seen(client, reader) == BATCH_POINTS + 4_000
    finally:
        await pair.resume_replay()
    await pair.wait_caught_up()
    await until_replica_used(cluster, True, "the caught-up standby read from again")
    assert await points_seen(cluster.clients[1], reader) == BATCH_POINTS + 4_000
    con = await cluster.connect()
    try:
        await con.execute("delete from observation")  # the failover test counts its own
    finally:
        await con.close()


async def test_a_tokens_rate_limit_holds_across_both_processes(cluster: Cluster) -> None:
    reader = await cluster.new_token("limited-reader", Scope.READ)
    # 50 requests, alternately to each process, in well under a second: the bucket holds 40
    # and gains 0.05 a second, under 0.1 of a request meanwhile, so exactly 40 pass.
    codes, waits = [], []
    for i in range(RATE_BURST + 10):
        r = await cluster.clients[i % 2].get("/v1/services", headers=reader)
        codes.append(r.status_code)
        if r.status_code == 429:
            waits.append(int(r.headers["retry-after"]))
    assert codes == [200] * RATE_BURST + [429] * 10
    # The next request would wait for a whole one: (1 - under 0.05) / 0.05 a second, 19 to
    # 20 s (rounded up), whichever process answers.
    assert all(19 <= w <= 20 for w in waits), waits


async def test_the_primary_killed_and_the_standby_promoted_loses_no_acknowledged_write(
    cluster: Cluster,
) -> None:
    pair = cluster.pair
    # Four writers, two to each process, each with a token of its own (each bucket holds 40
    # writes, more than one writer sends here).
    tokens = [await cluster.new_token(f"writer-{n}", Scope.INGEST) for n in range(4)]
    # Each writer waits 0.1 s after an answer.
    writers = support.Writers(
        [(cluster.clients[n % 2], token) for n, token in enumerate(tokens)], BATCH_POINTS, 0.1
    )
    writers.start()
    try:
        await support.wait_for(lambda: writers.acknowledged_after(0) >= 8, 20, "writes")
        failover = await pair.fail_over(DEAD_SECONDS)
        # PgBouncer 1.18 knows one host per database: point it at the new primary, RELOAD.
        cluster.bouncer.repoint(pair.standby.url)
        repointed = time.monotonic()
        back = await support.wait_for(
            lambda: writers.acknowledged_after(repointed) >= 4, 15,
            "writes acknowledged through PgBouncer on the new primary",
        )  # fmt: skip
    finally:
        await writers.stop()
    answers = writers.answers

    support.assert_answered_or_unavailable(answers)
    # With the primary dead, nothing was acknowledged.
    between = failover.while_down(answers)
    assert between and all(a.status == 503 for a in between), between[:5]
    # Every acknowledged batch is on the new primary as sent; no batch is half there.
    stored = await support.points_on_primary(pair.standby.url, cluster.schema)
    support.assert_batches_whole(stored, answers, BATCH_POINTS)
    acknowledged = sum(a.ok for a in answers)
    print(
        f"\nfailover through PgBouncer: {len(answers)} writes over 2 processes, {acknowledged} "
        f"acknowledged (all {acknowledged * BATCH_POINTS} points on the new primary), "
        f"{sum(a.status == 503 for a in answers)} answered 503; writing again {back:.2f} s "
        "after PgBouncer was re-pointed"
    )


async def test_the_leader_lease_moves_when_its_holder_is_killed(cluster: Cluster) -> None:
    async def holder() -> str | None:
        con = await cluster.connect()
        try:
            found = await con.fetchval("select holder from leader_lease")
        finally:
            await con.close()
        return str(found) if found else None

    # holder is "host:pid:instance": which process leads.
    first = await eventually(holder, within=10, what="a leader")
    pids = [p.process.pid for p in cluster.processes]
    leader_pid = int(first.split(":")[1])
    assert leader_pid in pids, (first, pids)
    leader = cluster.processes[pids.index(leader_pid)]
    other_pid = next(pid for pid in pids if pid != leader_pid)
    leader.kill()
    killed = time.monotonic()

    async def taken_over() -> bool:
        found = await holder()
        return found is not None and int(found.split(":")[1]) == other_pid

    # The dead holder's lease runs out LEASE_SECONDS after its last renewal at the latest,
    # and the other takes it at its next round, ROUND_SECONDS later at most.
    await eventually(taken_over, within=LEASE_SECONDS + ROUND_SECONDS + 3, what="a new leader")
    took = time.monotonic() - killed
    assert took <= LEASE_SECONDS + ROUND_SECONDS + 3
    print(f"\nleader lease taken over {took:.2f} s after its holder was killed")
