"""Rate limits on webhook traffic that does not prove its source, per client address and per
source, shared by every server process (token buckets in Postgres, service/store/limits.py, as
service/ratelimit.py keeps them per API token).

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
IPv6 client is counted by its /64 network, the block one host usually holds. A bucket that
has refilled is forgotten by the background round (service/background.py), so the addresses
remembered are those refused lately.
"""

from __future__ import annotations

import ipaddress
import math
from typing import Literal

from starlette.datastructures import State

from service.config import Settings
from service.db import Connection
from service.errors import RateLimited
from service.models.sources import SourceSecret
from service.store import limits, sources
from service.store.limits import Bucket

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


def client_bucket_key(host: str | None) -> str:
    """The key of a client address's bucket in the database: its client key, or for no
    address at all the text it came as (a hash differs between processes)."""
    try:
        ipaddress.ip_address(host or "")
    except ValueError:
        return f"name:{host or ''}"
    return str(client_key(host))


def _too_many(limit: Limit, over: str, setting: str, bucket: Bucket, wait: float) -> RateLimited:
    """A 429 saying which limit was met, its setting, and when to retry."""
    seconds = max(1, math.ceil(wait))
    return RateLimited(
        f"{over} (bursts of {bucket.burst:g}; {setting}): retry after {seconds} s",
        headers={"Retry-After": str(seconds)},
        limit=limit,
        limit_per_second=bucket.rate,
        limit_burst=bucket.burst,
    )


class WebhookGuard:
    """The webhook limits' buckets; either is None when turned off (rate 0)."""

    def __init__(self, settings: Settings) -> None:
        self.clients: Bucket | None = None
        self.sources: Bucket | None = None
        if settings.webhook_client_refusals_per_second > 0:
            self.clients = Bucket(
                settings.webhook_client_refusals_per_second,
                max(settings.webhook_client_refusals_burst, 1.0),
            )
        if settings.webhook_source_rejections_per_second > 0:
            self.sources = Bucket(
                settings.webhook_source_rejections_per_second,
                max(settings.webhook_source_rejections_burst, 1.0),
            )

    async def check_client(self, con: Connection, host: str | None) -> None:
        """Let a webhook request from `host` in, or raise a 429 telling when to retry;
        spends nothing."""
        if self.clients is None:
            return
        self._refuse_client(
            await limits.tokens_left(con, "client", client_bucket_key(host), self.clients)
        )

    async def source_for_client(
        self, con: Connection, host: str | None, name: str
    ) -> SourceSecret | None:
        """check_client, and the source named `name` with its secret (None: no such source),
        read in the same round trip."""
        if self.clients is None:
            return await sources.find_source_with_secret(con, name=name)
        found, left = await sources.webhook_source_with_client_tokens(
            con, name=name, client_key=client_bucket_key(host), rate=self.clients.rate,
            burst=self.clients.burst,
        )  # fmt: skip
        self._refuse_client(left)
        return found

    def _refuse_client(self, left: float) -> None:
        """The 429 of a client address whose bucket holds `left` tokens, when under one."""
        if self.clients is not None and left < 1:
            raise _too_many(
                "client",
                f"this client address is over the limit of {self.clients.rate:g} webhook "
                "requests a second refused for not proving a source",
                "KPI_WEBHOOK_CLIENT_REFUSALS_PER_SECOND", self.clients,
                (1 - left) / self.clients.rate,
            )  # fmt: skip

    async def client_refused(self, con: Connection, host: str | None) -> None:
        """A webhook request from `host` was refused for not proving a source."""
        if self.clients is not None:
            await limits.take(con, "client", client_bucket_key(host), self.clients, 1.0)

    async def check_source_rejection(self, con: Connection, source_id: int, name: str) -> None:
        """Let a delivery that failed source `name`'s check be recorded, or raise a 429."""
        if self.sources is None:
            return
        taken = await limits.take(con, "source", str(source_id), self.sources, 1.0)
        if not taken.granted:
            raise _too_many(
                "source",
                f"source {name!r} is over its limit of {self.sources.rate:g} deliveries a "
                "second failing its signature check; this one is not recorded",
                "KPI_WEBHOOK_SOURCE_REJECTIONS_PER_SECOND", self.sources,
                (1 - taken.tokens) / self.sources.rate,
            )  # fmt: skip

    async def forget_refilled(self, con: Connection) -> None:
        """Drop the buckets that have refilled: a missing bucket is a full one."""
        if self.clients is not None:
            await limits.forget_full_buckets(con, "client", self.clients)
        if self.sources is not None:
            await limits.forget_full_buckets(con, "source", self.sources)


def guard(state: State) -> WebhookGuard:
    """The app's webhook guard, made on first use."""
    found: WebhookGuard | None = getattr(state, "webhook_guard", None)
    if found is None:
        found = state.webhook_guard = WebhookGuard(state.settings)
    return found
