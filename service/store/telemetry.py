"""Typed wrappers over sql/queries/telemetry.sql: the backlogs /metrics reports."""

from __future__ import annotations

from service.db import Connection, statements

q = statements("telemetry")


async def unmapped_deliveries(con: Connection) -> list[tuple[str, str, int]]:
    """(source name, kind, deliveries waiting) of every webhook source: its unmapped
    deliveries waiting for a replay."""
    rows = await con.fetch(q("unmapped_deliveries"))
    return [(r["source"], r["kind"], r["waiting"]) for r in rows]


async def outbox_backlog(con: Connection) -> dict[str, int]:
    """{state: notifications}: those still to deliver (pending) and given up on (failed)."""
    return dict((await con.fetchrow(q("outbox_backlog"))).items())
