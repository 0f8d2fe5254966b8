"""Typed wrappers over sql/queries/telemetry.sql: the backlogs /metrics reports."""

from __future__ import annotations

from dataclasses import dataclass

from service.db import Connection, statements

q = statements("telemetry")


@dataclass(frozen=True)
class Unmapped:
    source: str
    kind: str
    waiting: int


@dataclass(frozen=True)
class OutboxBacklog:
    pending: int
    failed: int


async def unmapped_deliveries(con: Connection) -> list[Unmapped]:
    """Unmapped deliveries waiting for a replay, per webhook source."""
    rows = await con.fetch(q("unmapped_deliveries"))
    return [Unmapped(r["source"], r["kind"], r["waiting"]) for r in rows]


async def outbox_backlog(con: Connection) -> OutboxBacklog:
    row = await con.fetchrow(q("outbox_backlog"))
    return OutboxBacklog(row["pending"], row["failed"])
