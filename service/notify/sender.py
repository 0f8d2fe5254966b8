"""Sending one notification: its payload POSTed to its URL through the outbound guard,
signed per Standard Webhooks, within a deadline; what came of it, without network detail."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time

import httpx
import orjson

from service import outbound
from service.models.notifications import AttemptOutcome, ClaimedNotification
from service.notify import signing

#: Longest error text the operator's log keeps per attempt.
MAX_ERROR_CHARS = 500

log = logging.getLogger(__name__)


async def send(
    http: httpx.AsyncClient, secret: bytes, row: ClaimedNotification, at: dt.datetime,
    timeout: float, allow: outbound.AllowList,
) -> AttemptOutcome:  # fmt: skip
    """One attempt, stamped `at` (its webhook-timestamp), bounded by `timeout` seconds."""
    body = orjson.dumps(row.payload)
    request_headers = {
        **signing.headers(secret, row.message_id, int(at.timestamp()), body),
        "content-type": "application/json",
    }
    status_code: int | None = None
    error: str | None = None
    started = time.perf_counter()
    try:
        # httpx's timeout bounds each phase; this bounds the whole attempt, within the lease.
        async with asyncio.timeout(timeout):
            async with outbound.stream(
                http, "POST", row.url, allow=allow, timeout=timeout, content=body,
                headers=request_headers,
            ) as response:  # fmt: skip
                status_code = response.status_code  # the body is not read: only the status
    except Exception as exc:
        # Whatever went wrong with this receiver is this attempt's error: recorded (without
        # the network detail behind it), retried, and no reason to leave the other rows of the
        # batch unrecorded. The operator's log has the detail.
        error = outbound.failure_text(exc, timeout)
        detail = repr(exc)[:MAX_ERROR_CHARS]
        log.info("notification not delivered", extra={"outbox_id": row.id, "error": detail})
    duration_ms = (time.perf_counter() - started) * 1000
    return AttemptOutcome(row.id, row.attempts, status_code, error, duration_ms)
