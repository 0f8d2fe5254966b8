"""The notification outbox: queued in the transaction that records what it reports, then
delivered at least once to its URL, signed per Standard Webhooks, retried with backoff.

Delivery claims due rows with a lease (attempts counted, next_attempt_at moved past the
send's deadline) and commits that before sending, so no transaction or row lock is held while
waiting on a receiver, and two workers never send the same row at once (`skip locked`; the
lease outlasts the send). The outcome is recorded afterwards. A worker that dies between the
send and that record leaves the row pending, due again when the lease ends: the notification
is sent again, never lost. Receivers dedupe on webhook-id, the same on every retry.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from service import outbound
from service.clock import rfc3339, utc_now
from service.db import Connection, Database
from service.models.notifications import AttemptOutcome, Notification, NotificationState
from service.notify import sender, signing
from service.store import outbox

#: Waits before the next attempt, by attempts made so far (1, 2, ...); the last one repeats.
BACKOFF = (
    dt.timedelta(seconds=10),
    dt.timedelta(seconds=30),
    dt.timedelta(minutes=2),
    dt.timedelta(minutes=10),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=1),
    dt.timedelta(hours=2),
)
#: After this many failed attempts a notification is `failed`: kept and listed, not retried.
MAX_ATTEMPTS = 12
#: How long a claim outlasts the send's deadline before the row is due again.
LEASE_MARGIN = dt.timedelta(minutes=1)
#: The signing_key row used when no secret is configured.
SIGNING_KEY_NAME = "notifications"

#: What an attempt makes of a notification: the DeliveryReport list it joins.
Fate = Literal["delivered", "retrying", "failed"]


@dataclass
class DeliveryReport:
    """What one deliver_due call did, by outbox id."""

    delivered: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        return len(self.delivered) + len(self.retrying) + len(self.failed)


def new_message_id() -> str:
    return "msg_" + secrets.token_urlsafe(18)  # letters, digits, - and _: never a '.'


def envelope(event_type: str, occurred_at: dt.datetime, data: dict[str, Any]) -> dict[str, Any]:
    """The body of a notification, in the envelope Standard Webhooks recommends: the event's
    dotted `type`, when it happened (`timestamp`, RFC 3339 in UTC) and its `data`."""
    return {"type": event_type, "timestamp": rfc3339(occurred_at), "data": data}


async def enqueue(
    con: Connection,
    *,
    escalation_id: int | None,
    position: int | None,
    url: str,
    event_type: str,
    occurred_at: dt.datetime,
    data: dict[str, Any],
) -> int | None:
    """Queue a notification in the caller's transaction; None when this escalation step is
    already queued. Its body, stored and sent as is on every attempt, is the envelope of
    `data` (see `envelope`)."""
    return await outbox.enqueue(
        con, escalation_id=escalation_id, position=position, message_id=new_message_id(),
        url=url, event_type=event_type, payload=envelope(event_type, occurred_at, data),
    )  # fmt: skip


async def signing_secret(con: Connection, configured: str | None) -> bytes:
    """The configured `whsec_...` secret's key (ValueError if malformed), else the database's
    own key, made once: concurrent first calls all end up with the same one."""
    if configured is not None:
        return signing.parse_secret(configured)
    return await outbox.signing_key(con, SIGNING_KEY_NAME, signing.new_secret_key())


def backoff(attempts: int) -> dt.timedelta:
    """The wait after `attempts` failed attempts: 10 s, 30 s, 2 min, 10 min, 30 min, 1 h, then
    2 h each time."""
    return BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1]


def is_final(outcome: AttemptOutcome) -> bool:
    """Whether a failed attempt is the last: 410 Gone (the receiver wants no more) or the
    attempts are used up; anything else is retried."""
    return outcome.status_code == 410 or outcome.attempts >= MAX_ATTEMPTS


async def record(con: Connection, outcome: AttemptOutcome, at: dt.datetime) -> Fate:
    """Records an attempt and what it makes of the notification."""
    await outbox.insert_attempt(con, outcome, at)
    if outcome.delivered:
        await outbox.mark_delivered(con, outcome.outbox_id, at)
        return "delivered"
    final = is_final(outcome)
    await outbox.mark_undelivered(
        con, outcome.outbox_id, attempts=outcome.attempts,
        next_attempt_at=at + backoff(outcome.attempts), final=final,
        last_error=outcome.error or f"HTTP {outcome.status_code}",
    )  # fmt: skip
    return "failed" if final else "retrying"


async def deliver_due(
    db: Database,
    http: httpx.AsyncClient,
    secret: bytes,
    *,
    now: dt.datetime | None = None,
    limit: int = 50,
    timeout: float = 10.0,
    allow: outbound.AllowList,
) -> DeliveryReport:
    """Send up to `limit` notifications due at `now` (default: the clock), at once, each
    within `timeout` seconds, through the outbound guard (non-public addresses only when
    `allow` names them), and record each attempt. Call it again to go on."""
    at = now if now is not None else utc_now()
    lease_end = at + dt.timedelta(seconds=timeout) + LEASE_MARGIN
    async with db.acquire() as con, con.transaction():
        rows = await outbox.claim_due(con, at=at, lease_end=lease_end, limit=limit)
    report = DeliveryReport()
    if not rows:
        return report
    outcomes = await asyncio.gather(
        *(sender.send(http, secret, row, at, timeout, allow) for row in rows)
    )
    async with db.acquire() as con, con.transaction():
        for outcome in sorted(outcomes, key=lambda o: o.outbox_id):
            fate = await record(con, outcome, at)
            getattr(report, fate).append(outcome.outbox_id)
    return report


async def list_notifications(
    con: Connection,
    *,
    state: NotificationState | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[Notification]:
    """Notifications, newest first, each with all its attempts (two queries in all)."""
    return await outbox.list_notifications(con, state=state, before_id=before_id, limit=limit)
