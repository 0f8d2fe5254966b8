"""The notification outbox (sql/queries/outbox.sql): rows queued with the change they report,
claimed for delivery with a lease, every attempt kept; and the database's signing key."""

from __future__ import annotations

import datetime as dt
from typing import Any

from service.db import Connection, fetch_grouped, statements
from service.models.notifications import (
    Attempt,
    AttemptOutcome,
    ClaimedNotification,
    Notification,
    NotificationState,
)

q = statements("outbox")


async def enqueue(
    con: Connection, *, escalation_id: int | None, position: int | None, message_id: str,
    url: str, event_type: str, payload: dict[str, Any],
) -> int | None:  # fmt: skip
    """The new row's id; None when this escalation step is queued already."""
    found: int | None = await con.fetchval(
        q("enqueue"), escalation_id, position, message_id, url, event_type, payload
    )
    return found


async def claim_due(
    con: Connection, *, at: dt.datetime, lease_end: dt.datetime, limit: int
) -> list[ClaimedNotification]:
    """Up to `limit` rows due at `at`, each attempt counted and leased until `lease_end`."""
    rows = await con.fetch(q("claim_due"), at, lease_end, limit)
    return [ClaimedNotification(**dict(r.items())) for r in rows]


async def insert_attempt(con: Connection, outcome: AttemptOutcome, at: dt.datetime) -> None:
    await con.execute(
        q("insert_attempt"), outcome.outbox_id, at, outcome.status_code, outcome.error,
        outcome.duration_ms,
    )  # fmt: skip


async def mark_delivered(con: Connection, outbox_id: int, at: dt.datetime) -> None:
    await con.execute(q("mark_delivered"), outbox_id, at)


async def mark_undelivered(
    con: Connection, outbox_id: int, *, attempts: int, next_attempt_at: dt.datetime,
    final: bool, last_error: str,
) -> None:  # fmt: skip
    """After a failed attempt: pending again at `next_attempt_at`, or failed for good when
    `final`; only the latest claim (`attempts`) decides."""
    await con.execute(
        q("mark_undelivered"), outbox_id, attempts, next_attempt_at, final, last_error
    )


async def list_notifications(
    con: Connection, *, state: NotificationState | None, before_id: int | None, limit: int
) -> list[Notification]:
    """Notifications, newest first, each with all its attempts (two statements in all)."""
    rows = await con.fetch(q("list_notifications"), state, before_id, limit)
    ids = [r["id"] for r in rows]
    attempts = await attempts_by_outbox(con, ids)
    return [Notification(**dict(r.items()), attempt_log=attempts[r["id"]]) for r in rows]


async def attempts_by_outbox(con: Connection, outbox_ids: list[int]) -> dict[int, list[Attempt]]:
    """Every delivery attempt of each notification, oldest first."""
    return await fetch_grouped(con, q("attempts_by_outbox"), outbox_ids, lambda d: Attempt(**d))


async def insert_signing_key(con: Connection, name: str, new_key: bytes) -> None:
    """Stores `new_key` under `name` unless a key of that name exists."""
    await con.execute(q("insert_signing_key"), name, new_key)


async def signing_key(con: Connection, name: str, new_key: bytes) -> bytes:
    """The signing key named `name`, stored as `new_key` by the first call (concurrent first
    calls all read the same one)."""
    await insert_signing_key(con, name, new_key)
    key: bytes = await con.fetchval(q("signing_key"), name)
    return key
