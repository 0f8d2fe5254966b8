"""Per-token rate limits: a token bucket per token in Postgres, shared by every process; past
it, 429 with Retry-After. The bucket arithmetic is SQL (sql/queries/limits.sql), tested here
with time moved by setting a bucket's `at` back."""

from __future__ import annotations

import httpx

from service import db as dbmod
from service.app import create_app
from service.config import Settings
from service.models.enums import Scope
from service.store import limits
from service.store.limits import Bucket
from service.usecases import tokens
from tests.conftest import SingleConnectionDatabase, app_client


async def _ago(con: dbmod.Connection, kind: str, key: str, seconds: float) -> None:
    """Move a bucket's last visit `seconds` into the past: as if that much time went by."""
    await con.execute(
        "update rate_bucket set at = at - make_interval(secs => $3)"
        " where kind = $1 and key = $2",
        kind, key, seconds,
    )  # fmt: skip


# One request every 10 s: what the statements' own milliseconds refill stays under 0.01.
SLOW = Bucket(rate=0.1, burst=3)


async def test_a_bucket_lets_a_burst_through_then_refills_at_the_rate(
    con: dbmod.Connection,
) -> None:
    taken = [await limits.take(con, "token", "1", SLOW, 1) for _ in range(4)]
    # 3 - 1 = 2, 2 - 1 = 1, 1 - 1 = 0, then refused: (1 - 0) / 0.1 = 10 s to wait.
    assert [t.granted for t in taken] == [True, True, True, False]
    assert [round(t.tokens, 2) for t in taken] == [2, 1, 0, 0]
    assert (await limits.take(con, "token", "2", SLOW, 1)).granted  # its own bucket
    await _ago(con, "token", "1", 5)
    # Half a request refilled (5 s x 0.1): still refused, 5 s to go.
    half = await limits.take(con, "token", "1", SLOW, 1)
    assert (half.granted, round(half.tokens, 2)) == (False, 0.5)
    await _ago(con, "token", "1", 5)
    assert (await limits.take(con, "token", "1", SLOW, 1)).granted  # 0.5 + 0.5 = 1
    await _ago(con, "token", "1", 600)
    # Refilled to the burst only (not 60 requests): 3 granted, the fourth refused.
    again = [(await limits.take(con, "token", "1", SLOW, 1)).granted for _ in range(4)]
    assert again == [True, True, True, False]


async def test_a_request_may_count_as_several(con: dbmod.Connection) -> None:
    assert (await limits.take(con, "token", "1", SLOW, 2)).granted  # 3 - 2 = 1 left
    refused = await limits.take(con, "token", "1", SLOW, 2)
    # One missing: (2 - 1) / 0.1 = 10 s to wait; nothing taken.
    assert (refused.granted, round(refused.tokens, 2)) == (False, 1)
    assert (await limits.take(con, "token", "1", SLOW, 1)).granted  # the one left


async def test_refilled_buckets_are_forgotten(con: dbmod.Connection) -> None:
    for key in ("a", "b"):
        await limits.take(con, "client", key, SLOW, 1)
    await _ago(con, "client", "a", 10)  # 2 + 10 x 0.1 = 3: full again
    assert await limits.forget_full_buckets(con, "client", SLOW) == 1
    keys = await con.fetch("select key from rate_bucket where kind = 'client'")
    assert [r["key"] for r in keys] == ["b"]
    # A forgotten bucket is a full one; checking spends nothing.
    assert await limits.tokens_left(con, "client", "a", SLOW) == 3
    assert round(await limits.tokens_left(con, "client", "b", SLOW), 2) == 2


async def _tokens(con: dbmod.Connection) -> tuple[dict[str, str], dict[str, str]]:
    a = await tokens.create_token(con, name="a", scopes=[Scope.ADMIN])
    b = await tokens.create_token(con, name="b", scopes=[Scope.READ])
    return {"Authorization": f"Bearer {a.token}"}, {"Authorization": f"Bearer {b.token}"}


async def test_a_token_over_its_limit_gets_429_with_retry_after(
    con: dbmod.Connection, settings: Settings
) -> None:
    limited = settings.model_copy(update={"rate_limit_per_second": 0.5, "rate_limit_burst": 2})
    a, b = await _tokens(con)
    async with app_client(con, limited) as client:
        assert [(await client.get("/v1/teams", headers=a)).status_code for _ in range(2)] == [
            200,
            200,
        ]
        r = await client.post("/v1/teams", json={"slug": "x", "name": "X"}, headers=a)
        assert r.status_code == 429
        assert r.headers["content-type"] == "application/problem+json"
        assert r.headers["retry-after"] == "2"  # one request every 2 s
        assert r.json()["status"] == 429
        assert await con.fetchval("select count(*) from team") == 0  # refused before applying
        # GraphQL counts against the same bucket.
        g = await client.post("/graphql", json={"query": "{ teams { slug } }"}, headers=a)
        assert g.status_code == 429
        # The other token is not affected.
        assert (await client.get("/v1/teams", headers=b)).status_code == 200


async def test_two_processes_share_one_limit(con: dbmod.Connection, settings: Settings) -> None:
    # 6 requests a minute, all at once at most: rate 0.1 a second, burst 6.
    limited = settings.model_copy(update={"rate_limit_per_second": 0.1, "rate_limit_burst": 6})
    a, b = await _tokens(con)
    apps = [create_app(limited, db=SingleConnectionDatabase(con)) for _ in range(2)]
    clients = [
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://kpi.test")
        for app in apps
    ]
    try:
        # Six requests, alternating between the two apps: all let through.
        codes = [(await clients[i % 2].get("/v1/teams", headers=a)).status_code for i in range(6)]
        assert codes == [200] * 6
        # The seventh, to either app, finds the shared bucket empty. Refilled in the few ms
        # since: well under one request, so the wait is (1 - ~0) / 0.1 = 10 s, rounded up.
        for client in clients:
            r = await client.get("/v1/teams", headers=a)
            assert r.status_code == 429
            assert r.headers["retry-after"] == "10"
        # Another token's bucket is its own.
        assert (await clients[1].get("/v1/teams", headers=b)).status_code == 200
    finally:
        for client in clients:
            await client.aclose()


async def test_rate_zero_turns_limits_off(con: dbmod.Connection, settings: Settings) -> None:
    off = settings.model_copy(update={"rate_limit_per_second": 0, "rate_limit_burst": 1})
    a, _ = await _tokens(con)
    # Earlier tests that served the app on a pool may have left buckets of their own.
    before = await con.fetchval("select count(*) from rate_bucket")
    async with app_client(con, off) as client:
        codes = {(await client.get("/v1/teams", headers=a)).status_code for _ in range(20)}
    assert codes == {200}
    assert await con.fetchval("select count(*) from rate_bucket") == before  # none taken
