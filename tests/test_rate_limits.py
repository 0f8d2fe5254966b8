"""Per-token rate limits: a token bucket per token; past it, 429 with Retry-After."""

from __future__ import annotations

from service import db as dbmod
from service.config import Settings
from service.models.enums import Scope
from service.ratelimit import TokenBuckets
from service.usecases import tokens
from tests.conftest import app_client


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_lets_a_burst_through_then_refills_at_the_rate() -> None:
    clock = FakeClock()
    buckets = TokenBuckets(rate=2, burst=3, clock=clock)
    assert [buckets.take(1) for _ in range(3)] == [0, 0, 0]
    assert buckets.take(1) == 0.5  # empty: one request comes back every 1/2 s
    assert buckets.take(2) == 0  # another token has its own bucket
    clock.now += 0.25
    assert buckets.take(1) == 0.25  # half a request refilled: a quarter second to go
    clock.now += 0.25
    assert buckets.take(1) == 0
    clock.now += 60
    assert [buckets.take(1) for _ in range(4)] == [0, 0, 0, 0.5]  # refilled to the burst only


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


async def test_rate_zero_turns_limits_off(con: dbmod.Connection, settings: Settings) -> None:
    off = settings.model_copy(update={"rate_limit_per_second": 0, "rate_limit_burst": 1})
    a, _ = await _tokens(con)
    async with app_client(con, off) as client:
        codes = {(await client.get("/v1/teams", headers=a)).status_code for _ in range(20)}
    assert codes == {200}


def test_a_request_may_count_as_several_up_to_a_burst() -> None:
    clock = FakeClock()
    buckets = TokenBuckets(rate=2, burst=3, clock=clock)
    assert buckets.take(1, 2) == 0  # 1 left
    assert buckets.take(1, 2) == 0.5  # one missing: half a second at 2 a second
    # more than a burst counts as a whole burst, else it could never pass
    clock.now += 10
    assert buckets.take(1, 50) == 0
    assert buckets.take(1) == 0.5
