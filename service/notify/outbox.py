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
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import orjson
from pydantic import BaseModel, Field

from service import outbound
from service.clock import utc_now
from service.db import Connection, Database, fetch_grouped, sql
from service.notify import signing

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
#: Longest error text kept per attempt.
MAX_ERROR_CHARS = 500

NotificationState = Literal["pending", "delivered", "failed"]
log = logging.getLogger(__name__)


def q(name: str) -> str:
    return sql("outbox", name)


class Attempt(BaseModel):
    id: int
    at: dt.datetime = Field(description="When the attempt was made (its webhook-timestamp).")
    status_code: int | None = Field(description="The receiver's HTTP status, if it answered.")
    error: str | None = Field(
        description="Why no answer came: refused by the outbound rules, no answer in time, or "
        "no connection (without network detail)."
    )
    duration_ms: float


class Notification(BaseModel):
    id: int
    escalation_id: int | None
    position: int | None
    message_id: str = Field(description="The webhook-id header, the same on every attempt.")
    url: str
    event_type: str
    payload: dict[str, Any]
    state: NotificationState
    attempts: int = Field(description="Attempts started so far.")
    next_attempt_at: dt.datetime
    delivered_at: dt.datetime | None
    last_error: str | None
    created_at: dt.datetime
    attempt_log: list[Attempt] = Field(description="Every attempt, oldest first.")


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


async def enqueue(
    con: Connection,
    *,
    escalation_id: int | None,
    position: int | None,
    url: str,
    event_type: str,
    payload: dict[str, Any],
) -> int | None:
    """Queue a notification in the caller's transaction; None when this escalation step is
    already queued. The payload is the body sent as is: the spec suggests
    {"type": ..., "timestamp": ..., "data": {...}}."""
    outbox_id: int | None = await con.fetchval(
        q("enqueue"), escalation_id, position, new_message_id(), url, event_type, payload
    )
    return outbox_id


async def signing_secret(con: Connection, configured: str | None) -> bytes:
    """The configured `whsec_...` secret's key (ValueError if malformed), else the database's
    own key, made once: concurrent first calls all end up with the same one."""
    if configured is not None:
        return signing.parse_secret(configured)
    await con.execute(q("insert_signing_key"), SIGNING_KEY_NAME, signing.new_secret_key())
    key: bytes = await con.fetchval(q("signing_key"), SIGNING_KEY_NAME)
    return key


def backoff(attempts: int) -> dt.timedelta:
    """The wait after `attempts` failed attempts: 10 s, 30 s, 2 min, 10 min, 30 min, 1 h, then
    2 h each time."""
    return BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1]


@dataclass(frozen=True)
class _Outcome:
    outbox_id: int
    attempts: int
    status_code: int | None
    error: str | None
    duration_ms: float

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def final(self) -> bool:
        # 410 Gone: the receiver says it wants no more; anything else is retried.
        return self.status_code == 410 or self.attempts >= MAX_ATTEMPTS


async def _send(
    http: httpx.AsyncClient, secret: bytes, row: Any, at: dt.datetime, timeout: float,
    allow: outbound.AllowList,
) -> _Outcome:  # fmt: skip
    body = orjson.dumps(row["payload"])
    request_headers = {
        **signing.headers(secret, row["message_id"], int(at.timestamp()), body),
        "content-type": "application/json",
    }
    status_code: int | None = None
    error: str | None = None
    started = time.perf_counter()
    try:
        # httpx's timeout bounds each phase; this bounds the whole attempt, within the lease.
        async with asyncio.timeout(timeout):
            async with outbound.stream(
                http, "POST", row["url"], allow=allow, timeout=timeout, content=body,
                headers=request_headers,
            ) as response:  # fmt: skip
                status_code = response.status_code  # the body is not read: only the status
    except Exception as exc:
        # Whatever went wrong with this receiver is this attempt's error: recorded (without
        # the network detail behind it), retried, and no reason to leave the other rows of the
        # batch unrecorded. The operator's log has the detail.
        error = outbound.failure_text(exc, timeout)
        detail = repr(exc)[:MAX_ERROR_CHARS]
        log.info("notification not delivered", extra={"outbox_id": row["id"], "error": detail})
    duration_ms = (time.perf_counter() - started) * 1000
    return _Outcome(row["id"], row["attempts"], status_code, error, duration_ms)


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
        rows = await con.fetch(q("claim_due"), at, lease_end, limit)
    report = DeliveryReport()
    if not rows:
        return report
    outcomes = await asyncio.gather(*(_send(http, secret, row, at, timeout, allow) for row in rows))
    async with db.acquire() as con, con.transaction():
        for outcome in sorted(outcomes, key=lambda o: o.outbox_id):
            await con.execute(
                q("insert_attempt"), outcome.outbox_id, at, outcome.status_code, outcome.error,
                outcome.duration_ms,
            )  # fmt: skip
            if outcome.delivered:
                await con.execute(q("mark_delivered"), outcome.outbox_id, at)
                report.delivered.append(outcome.outbox_id)
                continue
            last_error = outcome.error or f"HTTP {outcome.status_code}"
            await con.execute(
                q("mark_undelivered"), outcome.outbox_id, outcome.attempts,
                at + backoff(outcome.attempts), outcome.final, last_error,
            )  # fmt: skip
            (report.failed if outcome.final else report.retrying).append(outcome.outbox_id)
    return report


def _attempt(data: dict[str, Any]) -> Attempt:
    return Attempt(**data)


async def list_notifications(
    con: Connection,
    *,
    state: NotificationState | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[Notification]:
    """Notifications, newest first, each with all its attempts (two queries in all)."""
    rows = await con.fetch(q("list_notifications"), state, before_id, limit)
    ids = [r["id"] for r in rows]
    attempts = await fetch_grouped(con, q("attempts_by_outbox"), ids, _attempt)
    return [Notification(**dict(r.items()), attempt_log=attempts[r["id"]]) for r in rows]
