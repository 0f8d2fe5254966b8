"""Escalations (sql/queries/escalations.sql): one open per KPI and scope at a time, advanced
by breached periods and steps fired, closed by recovery or by hand; and their events, each
recorded once."""

from __future__ import annotations

import datetime as dt

from service.db import Connection, fetch_grouped, statements
from service.models.statuses import Escalation, EscalationEvent, OpenEscalation

q = statements("escalations")


async def lock_open_escalation(
    con: Connection, kpi_id: int, service_id: int | None
) -> OpenEscalation | None:
    """The escalation of (KPI, scope) not resolved yet, locked until the transaction ends."""
    row = await con.fetchrow(q("lock_open_escalation"), kpi_id, service_id)
    return OpenEscalation(**dict(row.items())) if row is not None else None


async def open_escalation(
    con: Connection, kpi_id: int, service_id: int | None, now: dt.datetime, period: dt.datetime
) -> int | None:
    """Opens an escalation breached in the period starting at `period`; its id, None when one
    is open already."""
    found: int | None = await con.fetchval(q("open_escalation"), kpi_id, service_id, now, period)
    return found


async def breached_again(con: Connection, escalation_id: int, period: dt.datetime) -> None:
    await con.execute(q("breached_again"), escalation_id, period)


async def record_event(
    con: Connection, escalation_id: int, kind: str, position: int | None, at: dt.datetime,
    detail: str,
) -> bool:  # fmt: skip
    """Records an escalation event once; whether this call recorded it."""
    found = await con.fetchval(q("record_event"), escalation_id, kind, position, at, detail)
    return found is not None


async def set_steps_fired(con: Connection, escalation_id: int, position: int) -> None:
    await con.execute(q("set_steps_fired"), escalation_id, position)


async def recover(
    con: Connection, escalation_id: int, now: dt.datetime, period: dt.datetime
) -> None:
    """Closes an escalation as recovered in the period starting at `period`."""
    await con.execute(q("recover"), escalation_id, now, period)


async def last_resolved_period(
    con: Connection, kpi_id: int, service_id: int | None
) -> dt.datetime | None:
    """The latest period a resolved escalation of (KPI, scope) covered."""
    found: dt.datetime | None = await con.fetchval(q("last_resolved_period"), kpi_id, service_id)
    return found


async def waiting_escalations(con: Connection) -> list[OpenEscalation]:
    """Open, unacknowledged escalations with steps left, locked (others' locked rows skipped)."""
    return [OpenEscalation(**dict(r.items())) for r in await con.fetch(q("waiting_escalations"))]


async def list_escalations(
    con: Connection, *, state: str | None = None, kpi: str | None = None,
    escalation_id: int | None = None, before_id: int | None = None, limit: int = 100,
) -> list[Escalation]:  # fmt: skip
    """Escalations, newest first, each with its events (two statements in all)."""
    rows = await con.fetch(q("list_escalations"), state, kpi, escalation_id, limit, before_id)
    events = await escalation_events(con, [r["id"] for r in rows])
    return [Escalation(**dict(r.items()), events=events[r["id"]]) for r in rows]


async def escalation_events(
    con: Connection, escalation_ids: list[int]
) -> dict[int, list[EscalationEvent]]:
    """The events of each escalation, oldest first."""
    return await fetch_grouped(
        con, q("escalation_events"), escalation_ids, lambda d: EscalationEvent(**d)
    )


async def acknowledge(con: Connection, escalation_id: int, now: dt.datetime, by: str) -> bool:
    """Acknowledges an open escalation; whether it was open."""
    return await con.fetchval(q("acknowledge"), escalation_id, now, by) is not None


async def resolve(con: Connection, escalation_id: int, now: dt.datetime, by: str) -> bool:
    """Resolves an escalation by hand; whether it was not resolved yet."""
    return await con.fetchval(q("resolve"), escalation_id, now, by) is not None


async def escalation_state(con: Connection, escalation_id: int) -> str | None:
    found: str | None = await con.fetchval(q("escalation_state"), escalation_id)
    return found
