"""Typed wrappers over sql/queries/deliveries.sql: the delivery log (every webhook delivery and
generic-API request, raw, with its outcome), its claims against duplicates, and replays."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any, overload

from pydantic import BaseModel

from service.db import Connection, statements
from service.errors import NotFound

q = statements("deliveries")


class DeliveryRow(BaseModel):
    id: int
    source: str
    delivery_key: str | None
    event_type: str | None
    received_at: dt.datetime
    status: str
    detail: str | None
    applied_at: dt.datetime | None
    attempts: int
    body_bytes: int | None


@dataclass(frozen=True)
class StoredDelivery:
    """A logged delivery with what it was received with: its (loggable) headers and raw body."""

    row: DeliveryRow
    headers: dict[str, str]
    body: bytes | None


@dataclass(frozen=True)
class ReplayableDelivery:
    """A logged delivery as a replay needs it (locked until the transaction ends)."""

    id: int
    source: str
    headers: dict[str, str]
    body: bytes
    status: str
    received_at: dt.datetime


#: Longest delivery key kept as sent (in UTF-8 bytes); a longer one is kept as its SHA-256, so
#: it still identifies the delivery but fits the key's index (Postgres refuses btree entries
#: over 2,704 bytes).
MAX_KEY_BYTES = 200


@overload
def stored_key(key: str) -> str: ...
@overload
def stored_key(key: None) -> None: ...
def stored_key(key: str | None) -> str | None:
    """The delivery key as stored: as sent, or `sha256:<hex>` of it when it is too long."""
    if key is None or len(key.encode()) <= MAX_KEY_BYTES:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class LoggedDelivery:
    """A delivery as the log keeps it, with its claims: what makes a later delivery its
    duplicate (its delivery key, a header the tool repeats on retries, unsigned; the key
    inside its signed body; its signed body's SHA-256)."""

    source_id: int
    key: str | None
    event_type: str | None
    headers: dict[str, str]
    body: bytes | None
    signed_key: str | None = None
    body_sha256: bytes | None = None


async def claim_delivery(
    con: Connection, delivery: LoggedDelivery, *, status: str, detail: str | None = None
) -> int | None:
    """Log a delivery; None when one holding the same delivery key, signed key or body digest
    is already logged (a duplicate)."""
    d = delivery
    delivery_id: int | None = await con.fetchval(
        q("claim_delivery"), d.source_id, stored_key(d.key), d.event_type, d.headers, d.body,
        status, detail, stored_key(d.signed_key), d.body_sha256,
    )  # fmt: skip
    return delivery_id


async def claim_applied_delivery(
    con: Connection, delivery: LoggedDelivery, *, slugs: list[str]
) -> tuple[int | None, dict[str, int]]:
    """claim_delivery as applied, and the ids of the business services among `slugs`, in one
    round trip; the id is None for a duplicate."""
    d = delivery
    row = await con.fetchrow(
        q("claim_applied_delivery"), d.source_id, stored_key(d.key), d.event_type,
        d.headers, d.body, slugs, stored_key(d.signed_key), d.body_sha256,
    )  # fmt: skip
    return row["id"], dict(zip(row["slugs"], row["service_ids"], strict=True))


async def delivery_by_key(con: Connection, *, source_id: int, key: str) -> DeliveryRequest | None:
    """The delivery logged under this delivery key (not a rejected one), if any."""
    row = await con.fetchrow(q("delivery_by_key"), source_id, stored_key(key))
    if row is None:
        return None
    return DeliveryRequest(row["id"], row["status"], dict(row["headers"] or {}))


@dataclass(frozen=True)
class DeliveryRequest:
    """A delivery found by its delivery key, with the headers it was logged with."""

    id: int
    status: str
    headers: dict[str, str]


@dataclass(frozen=True)
class ClaimingDelivery:
    """The delivery logged first that holds a claim of a duplicate, and whether the claim it
    holds is the delivery key (else the signed key or the body's digest)."""

    id: int
    status: str
    same_key: bool


async def delivery_claiming(con: Connection, delivery: LoggedDelivery) -> ClaimingDelivery | None:
    """The delivery logged first that holds one of this delivery's claims, if any."""
    d = delivery
    row = await con.fetchrow(
        q("delivery_claiming"), d.source_id, stored_key(d.key), stored_key(d.signed_key),
        d.body_sha256,
    )  # fmt: skip
    return None if row is None else ClaimingDelivery(row["id"], row["status"], row["same_key"])


async def set_outcome(
    con: Connection, delivery_id: int, status: str, detail: str | None, *, attempt: bool = False
) -> None:
    await con.execute(q("set_outcome"), delivery_id, status, detail, int(attempt))


async def list_deliveries(
    con: Connection, *, status: str | None, source: str | None, before_id: int | None, limit: int
) -> list[DeliveryRow]:
    rows = await con.fetch(q("list_deliveries"), status, source, before_id, limit)
    return [DeliveryRow(**r) for r in rows]


async def delivery_for_replay(con: Connection, delivery_id: int) -> ReplayableDelivery | None:
    """The delivery, locked for a replay; None when there is none."""
    row = await con.fetchrow(q("delivery_for_replay"), delivery_id)
    if row is None:
        return None
    return ReplayableDelivery(
        row["id"], row["source"], dict(row["headers"] or {}), row["body"], row["status"],
        row["received_at"],
    )  # fmt: skip


async def unmapped_delivery_ids(con: Connection, *, source: str | None) -> list[int]:
    return [r["id"] for r in await con.fetch(q("unmapped_delivery_ids"), source)]


async def delivery_body(con: Connection, delivery_id: int) -> StoredDelivery:
    """The delivery with its headers and raw body."""
    row = await con.fetchrow(q("delivery_body"), delivery_id)
    if row is None:
        raise NotFound(f"no delivery {delivery_id}")
    data: dict[str, Any] = dict(row.items())
    headers, body = data.pop("headers"), data.pop("body")
    return StoredDelivery(DeliveryRow(**data), dict(headers or {}), body)


async def discard_delivery(con: Connection, delivery_id: int, *, detail: str) -> bool:
    """Discards an unmapped delivery (payload cleared, keys kept); whether it was unmapped."""
    return await con.fetchval(q("discard_delivery"), delivery_id, detail) is not None
