"""Per-token rate limits: a token bucket per API token, in each server process.

Each token may send `rate` requests a second on average and `burst` at once; past that it is
answered 429 with Retry-After, the seconds until its next request would be let through. The
buckets live in the process, so with N workers a token's ceiling is N times the setting (a
shared counter would cost a database write per request); webhook deliveries are checked
against their source's secret, not a token, and are not limited here.

A GraphQL query counts as more requests the more it costs (service/graphql/limits.py).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.datastructures import State

from service.config import Settings
from service.errors import RateLimited
from service.models.tokens import Principal


@dataclass
class _Bucket:
    tokens: float
    at: float


class TokenBuckets:
    def __init__(
        self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = max(burst, 1.0)
        self.clock = clock
        self.buckets: dict[int, _Bucket] = {}

    def take(self, key: int, amount: float = 1.0) -> float:
        """Take `amount` requests (at most a burst) from `key`'s bucket: 0 when allowed,
        else the seconds to wait until they are there."""
        amount = min(amount, self.burst)
        now = self.clock()
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        if bucket.tokens >= amount:
            bucket.tokens -= amount
            return 0.0
        return (amount - bucket.tokens) / self.rate


def limiter(state: State) -> TokenBuckets | None:
    """The app's buckets, made on first use; None when limits are off (rate 0)."""
    found: TokenBuckets | None = getattr(state, "rate_limits", None)
    if found is None:
        settings: Settings = state.settings
        if settings.rate_limit_per_second <= 0:
            return None
        found = TokenBuckets(settings.rate_limit_per_second, settings.rate_limit_burst)
        state.rate_limits = found
    return found


def check(state: State, principal: Principal, amount: float = 1.0) -> None:
    """Let the request through, or raise a 429 telling when to retry. `amount` is how many
    requests it counts as (a costly GraphQL query counts as several)."""
    buckets = limiter(state)
    if buckets is None:
        return
    wait = buckets.take(principal.token_id, amount)
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise RateLimited(
            f"this token is over its rate limit of {buckets.rate:g} requests a second "
            f"(bursts of {buckets.burst:g}); retry after {seconds} s",
            headers={"Retry-After": str(seconds)},
        )
