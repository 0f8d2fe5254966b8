"""The service behind a real PgBouncer (Debian's pgbouncer 1.18, which keeps no prepared
statements) in transaction mode: migrated through it, serving ingestion, webhooks and GraphQL
through it, two app instances sharing one rate limit, and the evaluating leader's lease
moving from one process to another.

PgBouncer runs on a free 127.0.0.1 port in front of the test's Postgres, with a config the
test writes; the service's role carries the schema, jit and work_mem (ALTER ROLE ... SET), as
the README says to do behind PgBouncer, since PgBouncer refuses them as startup parameters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from pydantic import SecretStr

from service import db as dbmod
from service.app import create_app
from service.config import Settings
from service.usecases import evaluation
from tests.components.pgbouncer import Bouncer, Upstream, pgbouncer, pooled_role
from tests.components.support import program
from tests.reliability import support
from tests.reliability.support import served

pytestmark = pytest.mark.components


@dataclass(frozen=True)
class Pooled:
    bouncer: Bouncer
    role: str
    schema: str

    @property
    def url(self) -> str:
        return self.bouncer.url(self.role)

    def settings(self, **changes: object) -> Settings:
        """The service's settings behind PgBouncer: pooling on, no migrate URL (migrations
        take transaction-level locks, so they run through PgBouncer too)."""
        base = Settings(
            database_url=self.url, db_schema=self.schema, db_transaction_pooling=True,
            background=False, pool_min_size=1, pool_max_size=4,
        )  # fmt: skip
        return base.model_copy(update=changes)


@pytest.fixture
async def pooled(database_url: str) -> AsyncIterator[Pooled]:
    found = program("pgbouncer", package="pgbouncer")
    async with pooled_role(database_url, "kpi_pgb") as (role, schema):
        upstream_user = Upstream.of(database_url).user
        with pgbouncer(found, database_url, [role, upstream_user]) as bouncer:
            yield Pooled(bouncer, role, schema)


async def test_the_service_runs_behind_pgbouncer_in_transaction_mode(pooled: Pooled) -> None:
    # Migrated through PgBouncer, the catalog and two tokens written through it as well.
    tokens = await support.prepare_schema(pooled.url, pooled.schema, pooled.settings())
    async with served(pooled.settings(rate_limit_per_second=0)) as client:
        # Batches of observations: the second request's statements run on whichever server
        # connection PgBouncer hands out, with no prepared statement carried over.
        for name in ("first", "second"):
            r = await client.post(
                "/v1/observations", content=support.json_batch(name, 50),
                headers={**tokens.ingest, "Content-Type": "application/json"},
            )  # fmt: skip
            assert r.status_code == 200, r.text
            assert r.json()["inserted"] == 50
        # A signed GitHub deployment delivery, applied.
        delivery = support.github_delivery(4242)
        r = await client.post(
            f"/v1/webhooks/{support.SOURCE}", content=delivery.body, headers=delivery.headers
        )
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "applied"
        # GraphQL reads what came in, through PgBouncer.
        r = await client.post(
            "/graphql", headers=tokens.read,
            json={"query": "{ services { nodes { slug tier } } }"},
        )  # fmt: skip
        assert r.status_code == 200, r.text
        assert r.json()["data"]["services"]["nodes"] == [{"slug": support.SERVICE, "tier": 2}]
    con = await dbmod.connect(pooled.url, pooled.schema, settings=pooled.settings())
    try:
        assert sum(len(v) for v in (await support.stored_points(con)).values()) == 100
        assert await support.stored_changes(con) == {"deployment:4242"}
    finally:
        await con.close()


async def test_two_instances_behind_pgbouncer_share_one_rate_limit(pooled: Pooled) -> None:
    tokens = await support.prepare_schema(pooled.url, pooled.schema, pooled.settings())
    # 5 requests a minute, all 5 at once at most: 0.0833 a second, burst 5.
    settings = pooled.settings(rate_limit_per_second=5 / 60, rate_limit_burst=5)
    async with served(settings) as one, served(settings) as two:
        codes = [
            (await (one, two)[i % 2].get("/v1/services", headers=tokens.read)).status_code
            for i in range(5)
        ]
        assert codes == [200] * 5
        # The sixth, to either, finds the shared bucket empty: (1 - ~0) x 12 s = 12 s to wait.
        for client in (one, two):
            r = await client.get("/v1/services", headers=tokens.read)
            assert r.status_code == 429
            assert r.headers["retry-after"] == "12"


async def test_the_leader_lease_moves_when_its_holder_stops_renewing(pooled: Pooled) -> None:
    await support.prepare_schema(pooled.url, pooled.schema, pooled.settings())
    settings = pooled.settings()
    now = dt.datetime.now(dt.UTC)
    # Two processes' pools, each through PgBouncer.
    pools = [
        await dbmod.create_pool(pooled.url, pooled.schema, 1, 2, settings=settings)
        for _ in range(2)
    ]
    try:
        dbs = [dbmod.PoolDatabase(p) for p in pools]

        async def round_of(i: int, holder: str) -> str | None:
            async with dbs[i].acquire() as con:
                await evaluation.evaluate_due(con, now, holder=holder, lease_seconds=1)
                return await con.fetchval("select holder from leader_lease")  # type: ignore[no-any-return]

        assert await round_of(0, "a") == "a"
        assert await round_of(1, "b") == "a"  # held: b does nothing
        # a stops renewing (killed): after its second, b's next round takes the lease.
        async with dbs[1].acquire() as con:
            await con.execute("select pg_sleep(1.1)")
        assert await round_of(1, "b") == "b"
        assert await round_of(0, "a") == "b"
    finally:
        for p in pools:
            await p.close()


async def test_a_role_without_the_settings_is_refused_at_start(pooled: Pooled) -> None:
    # The server's own superuser, whose sessions search "$user", public with jit on: through
    # PgBouncer the service cannot set otherwise at connect, so it says what the role lacks.
    superuser = SecretStr(pooled.bouncer.url(pooled.bouncer.upstream.user))
    settings = pooled.settings(database_url=superuser)
    app = create_app(settings)
    with pytest.raises(RuntimeError) as refused:
        async with app.router.lifespan_context(app):
            pass
    message = str(refused.value)
    assert f"search_path leads to schema 'public', not '{pooled.schema}'" in message
    assert "ALTER ROLE" in message
