"""Typed wrappers over sql/queries/doctor.sql: stored data the API's rules now refuse."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from service.db import Connection, statements

q = statements("doctor")


@dataclass(frozen=True)
class OutOfRange:
    table: str
    column: str
    rows: int
    first_ids: list[int]


async def out_of_range_dates(con: Connection) -> list[OutOfRange]:
    rows = await con.fetch(q("out_of_range_dates"))
    return [
        OutOfRange(
            r["in_table"], r["in_column"], r["rows"],
            [int(i) for i in r["first_ids"].split(",")] if r["first_ids"] else [],
        )
        for r in rows
    ]  # fmt: skip


async def monthly_partitions(con: Connection) -> list[tuple[str, dt.datetime]]:
    return [(r["name"], r["month_start"]) for r in await con.fetch(q("monthly_partitions"))]


async def fold_partitions(
    con: Connection, *, start: dt.datetime, end: dt.datetime, most: int
) -> int:
    """Folds at most `most` monthly partitions outside [start, end) into the default one."""
    folded: int = await con.fetchval(q("fold_partitions"), start, end, most)
    return folded


async def webhook_steps(con: Connection) -> list[tuple[str, int, str]]:
    return [(r["key"], r["position"], r["address"]) for r in await con.fetch(q("webhook_steps"))]


async def pending_notification_urls(con: Connection) -> list[tuple[int, str]]:
    return [(r["id"], r["url"]) for r in await con.fetch(q("pending_notification_urls"))]


async def events_naming_urls(con: Connection) -> int:
    n: int = await con.fetchval(q("events_naming_urls"))
    return n
