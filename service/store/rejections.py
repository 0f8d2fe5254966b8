"""Typed wrappers over sql/queries/rejections.sql: the bounded record of webhook deliveries
refused for not proving their source."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from service.db import Connection, statements

q = statements("rejections")


class RejectionSample(BaseModel):
    received_at: dt.datetime
    client: str | None = Field(description="The client's address, as the server saw it.")
    headers: dict[str, str] = Field(
        description="The delivery's headers, without those carrying secrets, cut short."
    )


class WebhookRejections(BaseModel):
    source: str
    kind: str
    reason: str = Field(
        description="Why they were refused: `signature` (or token), or `timestamp` (a signed "
        "time outside the tolerance: a replay)."
    )
    count: int = Field(description="Rejections recorded since the first.")
    first_at: dt.datetime
    last_at: dt.datetime
    samples: list[RejectionSample] = Field(description="The last few, newest first.")


class RejectionCount(BaseModel):
    source: str
    kind: str
    reason: str
    count: int


async def record_webhook_rejection(
    con: Connection,
    *,
    source_id: int,
    reason: str,
    client: str | None,
    headers: dict[str, str],
    samples: int,
) -> int:
    """Count one rejection and keep it as the newest of the last `samples`; the count."""
    count: int = await con.fetchval(
        q("record_webhook_rejection"), source_id, reason, client, headers, samples
    )
    return count


async def list_webhook_rejections(
    con: Connection, *, source: str | None, samples: int
) -> list[WebhookRejections]:
    rows = await con.fetch(q("list_webhook_rejections"), source, samples)
    return [WebhookRejections(**r) for r in rows]


async def webhook_rejection_counts(con: Connection) -> list[RejectionCount]:
    return [RejectionCount(**r) for r in await con.fetch(q("webhook_rejection_counts"))]
