"""Typed wrappers over sql/queries/ownership.sql: which team owned each service, from when to
when (migration 0030), and the stretches of a window each team owned its services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from service.db import Connection, fetch_grouped, statements
from service.kpi.periods import Period
from service.kpi.team_rollup import Segment
from service.models.teams import Ownership

q = statements("ownership")


@dataclass(frozen=True)
class Owner:
    team_id: int
    since: dt.datetime


async def current_owner(con: Connection, service_id: int) -> Owner | None:
    row = await con.fetchrow(q("current_owner"), service_id)
    return None if row is None else Owner(row["team_id"], row["valid_from"])


async def close_owner(con: Connection, service_id: int, at: dt.datetime) -> None:
    await con.execute(q("close_owner"), service_id, at)


async def open_owner(con: Connection, service_id: int, team_id: int, at: dt.datetime) -> None:
    await con.execute(q("open_owner"), service_id, team_id, at)


async def ownership_segments(
    con: Connection, team_ids: Sequence[int], window: Period
) -> list[Segment]:
    """The stretches of `window` each team (through itself or a team below it) owned each
    service, by team, service and start."""
    rows = await con.fetch(q("ownership_segments"), list(team_ids), window.start, window.end)
    return [
        Segment(r["root"], r["service_id"], Period(r["seg_start"], r["seg_end"]), r["tier"],
                r["users"])
        for r in rows
    ]  # fmt: skip


async def ownership_history(
    con: Connection, service_ids: Sequence[int]
) -> dict[int, list[Ownership]]:
    """{service id: the teams that owned it, oldest first}."""
    return await fetch_grouped(
        con, q("ownership_history"), service_ids,
        lambda r: Ownership(team=r["team"], since=r["valid_from"], until=r["valid_to"]),
    )  # fmt: skip
