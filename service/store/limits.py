"""Rate-limit buckets shared by every process (sql/queries/limits.sql): a token bucket per
API token, webhook client address and webhook source, refilled by the database's clock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from service.db import Connection, statements
from service.models.tokens import Principal
from service.store.tokens import principal_of

q = statements("limits")

Kind = Literal["token", "client", "source"]


@dataclass(frozen=True)
class Bucket:
    """A bucket's rate (requests a second) and burst (the most it holds)."""

    rate: float
    burst: float


@dataclass(frozen=True)
class Taken:
    """What taking from a bucket left: granted, or refused with `tokens` left."""

    granted: bool
    tokens: float


async def token_by_hash_taking(
    con: Connection, token_hash: bytes, bucket: Bucket, amount: float
) -> tuple[Principal, Taken] | None:
    """The holder of an unrevoked token with `amount` taken from its bucket, in one round
    trip; None when there is no such token (nothing taken)."""
    row = await con.fetchrow(
        q("token_by_hash_taking"), token_hash, bucket.rate, bucket.burst, amount
    )
    if row is None:
        return None
    return principal_of(row), Taken(bool(row["granted"]), float(row["tokens"]))


async def take(con: Connection, kind: Kind, key: str, bucket: Bucket, amount: float) -> Taken:
    row = await con.fetchrow(q("take"), kind, key, bucket.rate, bucket.burst, amount)
    return Taken(bool(row["granted"]), float(row["tokens"]))


async def tokens_left(con: Connection, kind: Kind, key: str, bucket: Bucket) -> float:
    return float(await con.fetchval(q("tokens_left"), kind, key, bucket.rate, bucket.burst))


async def forget_full_buckets(con: Connection, kind: Kind, bucket: Bucket) -> int:
    """Drop the buckets of `kind` that have refilled; how many."""
    status: str = await con.execute(q("forget_full_buckets"), kind, bucket.rate, bucket.burst)
    return int(status.rsplit(" ", 1)[-1])
