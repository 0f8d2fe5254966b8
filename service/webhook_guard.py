"""Rate limits on webhook traffic that does not prove its source, per client address and per
source, in each server process (token buckets, as service/ratelimit.py does per API token).

Webhook URLs need no API token, so anyone who knows one can post to it. Two limits hold such
traffic without ever slowing a tool that signs its deliveries:

- Per client address: each webhook request refused for not proving a source (401 wrong
  signature, 404 unknown source, 409 the generic source, 429 of the source limit) spends one
  request of the address's bucket; once it is empty, every webhook request from that address
  is answered 429 before its body is read, until the bucket refills. A tool that signs its
  deliveries spends nothing.
- Per source: each delivery that fails the source's signature check is recorded (see
  service/usecases/ingestion_rejections.py) while the source's bucket lasts; past it, such
  deliveries are answered 429 and recorded nowhere but the metrics. Deliveries that verify
  never touch it.

The client address is the peer of the connection, or, when the peer is a proxy named in
KPI_FORWARDED_ALLOW_IPS, the address it gives in X-Forwarded-For (uvicorn's proxy headers). An
IPv6 client is counted by its /64 network, the block one host usually holds. The addresses
remembered are bounded: past MAX_CLIENTS, the one that was refused longest ago is forgotten.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable
from typing import Literal

from starlette.datastructures import State

from service.config import Settings
from service.errors import RateLimited
from service.ratelimit import TokenBuckets

#: Client addresses whose buckets are kept at most, per process.
MAX_CLIENTS = 10_000

Limit = Literal["client", "source"]


def client_key(host: str | None) -> int:
    """The bucket of a client address: an IPv4 address (also written IPv4-mapped) as itself,
    an IPv6 address by its /64 network, anything else (no address at all) by its hash."""
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:
        return hash(host)
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is None:
            return int(address) >> 64 << 64
        address = address.ipv4_mapped
    return int(address)


class RefusalBuckets(TokenBuckets):
    """Token buckets spent only by refusals, checked before each request, and bounded in
    number: the least recently refused key is forgotten first (its bucket, refilling the
    longest, is the likeliest to be full again)."""

    def __init__(
        self, rate: float, burst: float, max_keys: int = MAX_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:  # fmt: skip
        super().__init__(rate, burst, clock)
        self.max_keys = max_keys

    def wait(self, key: int) -> float:
        """The seconds until `key` may send again (0: now), spending nothing."""
        bucket = self.buckets.get(key)
        if bucket is None:
            return 0.0
        tokens = min(self.burst, bucket.tokens + (self.clock() - bucket.at) * self.rate)
        return 0.0 if tokens >= 1 else (1 - tokens) / self.rate

    def spend(self, key: int) -> None:
        """Count one refusal against `key`."""
        self.take(key)
        self.buckets[key] = self.buckets.pop(key)  # now the most recently refused
        while len(self.buckets) > self.max_keys:
            del self.buckets[next(iter(self.buckets))]


def _too_many(
    limit: Limit, over: str, setting: str, buckets: TokenBuckets, wait: float
) -> RateLimited:
    """A 429 saying which limit was met, its setting, and when to retry."""
    seconds = max(1, math.ceil(wait))
    return RateLimited(
        f"{over} (bursts of {buckets.burst:g}; {setting}): retry after {seconds} s",
        headers={"Retry-After": str(seconds)},
        limit=limit,
        limit_per_second=buckets.rate,
        limit_burst=buckets.burst,
    )


class WebhookGuard:
    """The process's webhook buckets; either limit is None when turned off (rate 0)."""

    def __init__(self, settings: Settings) -> None:
        self.clients: RefusalBuckets | None = None
        self.sources: TokenBuckets | None = None
        if settings.webhook_client_refusals_per_second > 0:
            self.clients = RefusalBuckets(
                settings.webhook_client_refusals_per_second,
                settings.webhook_client_refusals_burst,
            )
        if settings.webhook_source_rejections_per_second > 0:
            self.sources = TokenBuckets(
                settings.webhook_source_rejections_per_second,
                settings.webhook_source_rejections_burst,
            )

    def check_client(self, host: str | None) -> None:
        """Let a webhook request from `host` in, or raise a 429 telling when to retry."""
        if self.clients is None:
            return
        wait = self.clients.wait(client_key(host))
        if wait > 0:
            raise _too_many(
                "client",
                f"this client address is over the limit of {self.clients.rate:g} webhook "
                "requests a second refused for not proving a source",
                "KPI_WEBHOOK_CLIENT_REFUSALS_PER_SECOND", self.clients, wait,
            )  # fmt: skip

    def client_refused(self, host: str | None) -> None:
        """A webhook request from `host` was refused for not proving a source."""
        if self.clients is not None:
            self.clients.spend(client_key(host))

    def check_source_rejection(self, source_id: int, name: str) -> None:
        """Let a delivery that failed source `name`'s check be recorded, or raise a 429."""
        if self.sources is None:
            return
        wait = self.sources.take(source_id)
        if wait > 0:
            raise _too_many(
                "source",
                f"source {name!r} is over its limit of {self.sources.rate:g} deliveries a "
                "second failing its signature check; this one is not recorded",
                "KPI_WEBHOOK_SOURCE_REJECTIONS_PER_SECOND", self.sources, wait,
            )  # fmt: skip


def guard(state: State) -> WebhookGuard:
    """The app's webhook guard, made on first use."""
    found: WebhookGuard | None = getattr(state, "webhook_guard", None)
    if found is None:
        found = state.webhook_guard = WebhookGuard(state.settings)
    return found
