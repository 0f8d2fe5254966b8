"""Typed wrappers over sql/queries/idempotency.sql: stored answers of keyed requests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from service.db import Connection, statements

q = statements("idempotency")


@dataclass(frozen=True)
class StoredAnswer:
    fingerprint: str
    status: int
    media_type: str | None
    body: bytes


async def claim(con: Connection, *, token_id: int, key: str, fingerprint: str) -> bool:
    """Claim the key for this transaction; False when a committed request already holds it
    (a request holding it uncommitted makes this wait until it commits or rolls back)."""
    return bool(await con.fetchval(q("claim"), token_id, key, fingerprint))


async def stored_answer(con: Connection, *, token_id: int, key: str) -> StoredAnswer:
    row = await con.fetchrow(q("stored_answer"), token_id, key)
    assert row is not None and row["status"] is not None, "a committed claim has its answer"
    return StoredAnswer(row["fingerprint"], row["status"], row["media_type"], row["body"])


async def store_answer(
    con: Connection, *, token_id: int, key: str, status: int, media_type: str | None, body: bytes
) -> None:
    await con.execute(q("store_answer"), token_id, key, status, media_type, body)


async def purge(con: Connection, *, before: dt.datetime) -> int:
    """Forget answers stored before `before`; returns how many."""
    result = await con.execute(q("purge"), before)
    return int(result.split()[-1])
