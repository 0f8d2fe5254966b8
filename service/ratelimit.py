"""Per-token rate limits: a token bucket per API token, shared by every server process.

Each token may send `rate` requests a second on average and `burst` at once; past that it is
answered 429 with Retry-After, the seconds until its next request would be let through. The
buckets are rows in Postgres on the primary (service/store/limits.py), taken from in the
statement that looks the token up, so the limit holds across processes and hosts at no extra
round trip; webhook deliveries are checked against their source's secret, not a token, and
are limited by service/webhook_guard.py.

A GraphQL query counts as more requests the more it costs (service/graphql/limits.py): the
first is taken when the token is looked up, the rest once the query's cost is known.
"""

from __future__ import annotations

import math

from starlette.datastructures import State

from service.config import Settings
from service.db import Connection, Database
from service.errors import RateLimited
from service.models.tokens import Principal, hash_token
from service.store import limits, tokens
from service.store.limits import Bucket, Taken
from service.usecases.tokens import bearer_token, unknown_token


def bucket(settings: Settings) -> Bucket | None:
    """Each token's bucket; None when limits are off (rate 0)."""
    if settings.rate_limit_per_second <= 0:
        return None
    return Bucket(settings.rate_limit_per_second, max(settings.rate_limit_burst, 1.0))


def wait_seconds(taken: Taken, bucket: Bucket, amount: float) -> float:
    """The seconds until `amount` requests would be in a bucket that refused them."""
    return 0.0 if taken.granted else (min(amount, bucket.burst) - taken.tokens) / bucket.rate


def _over(bucket: Bucket, wait: float) -> RateLimited:
    seconds = max(1, math.ceil(wait))
    return RateLimited(
        f"this token is over its rate limit of {bucket.rate:g} requests a second "
        f"(bursts of {bucket.burst:g}); retry after {seconds} s",
        headers={"Retry-After": str(seconds)},
    )


async def authenticate(state: State, con: Connection, authorization: str | None) -> Principal:
    """The holder of the bearer token, one request taken from its bucket in the same
    statement; 401 when the token is unknown or revoked, 429 when it is over its limit."""
    token_hash = hash_token(bearer_token(authorization))
    limit = bucket(state.settings)
    if limit is None:
        principal = await tokens.token_by_hash(con, token_hash)
        if principal is None:
            raise unknown_token()
        return principal
    found = await limits.token_by_hash_taking(con, token_hash, limit, 1.0)
    if found is None:
        raise unknown_token()
    principal, taken = found
    if not taken.granted:
        raise _over(limit, wait_seconds(taken, limit, 1.0))
    return principal


async def charge(state: State, db: Database, principal: Principal, amount: float) -> None:
    """Take `amount` more requests (at most a burst) from the token's bucket, or raise a 429
    telling when to retry (a costly GraphQL query counts as several)."""
    limit = bucket(state.settings)
    if limit is None or amount <= 0:
        return
    amount = min(amount, limit.burst)
    async with db.acquire() as con:
        taken = await limits.take(con, "token", str(principal.token_id), limit, amount)
    if not taken.granted:
        raise _over(limit, wait_seconds(taken, limit, amount))
