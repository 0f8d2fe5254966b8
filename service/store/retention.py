"""Typed wrappers over sql/queries/retention.sql: dropping expired observation partitions,
clearing expired delivery payloads, and the record of the last retention round."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from service.db import Connection, statements

q = statements("retention")


class DroppedPartition(BaseModel):
    """An observation partition dropped (the default one stands for its expired points)."""

    partition_name: str
    range_start: dt.datetime
    points: int


class RetentionRun(BaseModel):
    """What the last retention round did."""

    ran_at: dt.datetime
    observations_before: dt.datetime | None
    partitions_dropped: int
    points_dropped: int
    payloads_cleared: int
    idempotency_purged: int


async def drop_observations_before(
    con: Connection, horizon: dt.datetime, *, most: int
) -> list[DroppedPartition]:
    rows = await con.fetch(q("drop_observations_before"), horizon, most)
    return [DroppedPartition(**r) for r in rows]


async def clear_delivery_payloads(con: Connection, *, before: dt.datetime) -> int:
    """Clears the payloads of deliveries received before `before` (not unmapped ones);
    returns how many."""
    result = await con.execute(q("clear_delivery_payloads"), before)
    return int(result.split()[-1])


async def record_retention_run(con: Connection, run: RetentionRun) -> None:
    await con.execute(
        q("record_retention_run"), run.ran_at, run.observations_before, run.partitions_dropped,
        run.points_dropped, run.payloads_cleared, run.idempotency_purged,
    )  # fmt: skip


async def last_retention_run(con: Connection) -> RetentionRun | None:
    row = await con.fetchrow(q("last_retention_run"))
    return None if row is None else RetentionRun(**row)


class RetentionTotals(BaseModel):
    """What retention has dropped since its first round, and when it last ran."""

    ran_at: dt.datetime
    total_partitions: int
    total_points: int
    total_payloads: int
    total_idempotency: int


async def retention_totals(con: Connection) -> RetentionTotals | None:
    row = await con.fetchrow(q("retention_totals"))
    return None if row is None else RetentionTotals(**row)


async def oldest_observation_partition(con: Connection) -> dt.datetime | None:
    """The first instant of the oldest monthly observation partition kept."""
    found: dt.datetime | None = await con.fetchval(q("oldest_observation_partition"))
    return found
