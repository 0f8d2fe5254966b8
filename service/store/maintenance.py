"""Typed wrappers over sql/queries/maintenance.sql: maintenance windows, and the outage time
inside them per service and window."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Sequence
from typing import Any

import asyncpg

from service.db import Connection, fetch_models, statements
from service.errors import Conflict, NotFound, field_error
from service.kpi.periods import Period
from service.models.maintenance import MaintenanceWindow, MaintenanceWindowIn
from service.models.stored import read

q = statements("maintenance")

#: The trigger's constraints (sql/migrations/0035), each a 409.
_REFUSED = {
    "maintenance_window_started": "the window has started: it can no longer be changed",
    "maintenance_window_announced": "must be after now: a window is announced before it starts",
}


@contextlib.asynccontextmanager
async def _immutable_past() -> AsyncIterator[None]:
    """The trigger's refusal of a change to the past as a 409 naming the field."""
    try:
        yield
    except asyncpg.CheckViolationError as exc:
        why = _REFUSED.get(exc.constraint_name or "")
        if why is None:
            raise
        field = exc.detail or "starts_at"
        raise Conflict(f"{field}: {why}", errors=[field_error(field, why)]) from exc


async def set_clock(con: Connection, now: dt.datetime) -> None:
    """Tell the trigger the service's clock for the rest of the transaction."""
    await con.execute(q("set_clock"), now)


async def create_maintenance_window(
    con: Connection, *, service_id: int, window: MaintenanceWindowIn, created_by: str,
    now: dt.datetime,
) -> int:  # fmt: skip
    await set_clock(con, now)
    async with _immutable_past():
        found: int = await con.fetchval(
            q("create_maintenance_window"), service_id, window.starts_at, window.ends_at,
            window.reason, created_by, now,
        )  # fmt: skip
    return found


async def list_maintenance_windows(
    con: Connection, *, service_ids: Sequence[int] | None, start: dt.datetime | None,
    end: dt.datetime | None, limit: int | None,
) -> list[MaintenanceWindow]:  # fmt: skip
    """Windows of the services (None: every one) overlapping [start, end), by start."""
    ids = None if service_ids is None else list(service_ids)
    return await fetch_models(
        con, MaintenanceWindow, q("list_maintenance_windows"), ids, start, end, limit
    )


async def windows_by_service(
    con: Connection, service_ids: Sequence[int]
) -> dict[int, list[MaintenanceWindow]]:
    """{service id: its windows by start}, in one statement."""
    found: dict[int, list[MaintenanceWindow]] = {}
    for w in await list_maintenance_windows(
        con, service_ids=service_ids, start=None, end=None, limit=None
    ):
        found.setdefault(w.service_id, []).append(w)
    return found


async def get_maintenance_window(con: Connection, *, window_id: int) -> MaintenanceWindow:
    row = await con.fetchrow(q("get_maintenance_window"), window_id)
    if row is None:
        raise NotFound(f"no maintenance window {window_id}")
    return read(MaintenanceWindow, row)


async def update_maintenance_window(
    con: Connection, *, window_id: int, window: MaintenanceWindowIn, now: dt.datetime
) -> None:
    await set_clock(con, now)
    async with _immutable_past():
        found = await con.fetchval(
            q("update_maintenance_window"), window_id, window.starts_at, window.ends_at,
            window.reason,
        )  # fmt: skip
    if found is None:
        raise NotFound(f"no maintenance window {window_id}")


async def delete_maintenance_window(con: Connection, *, window_id: int, now: dt.datetime) -> None:
    await set_clock(con, now)
    async with _immutable_past():
        found = await con.fetchval(q("delete_maintenance_window"), window_id)
    if found is None:
        raise NotFound(f"no maintenance window {window_id}")


async def planned_outage_seconds(
    con: Connection, service_ids: Sequence[int], windows: Sequence[Period], now: dt.datetime,
    severities: list[str] | None,
) -> dict[tuple[int, int], float]:  # fmt: skip
    """{(window index from 0, service id): outage seconds inside maintenance windows}, for the
    services and windows that have any."""
    if not windows or not service_ids:
        return {}
    starts = [w.start for w in windows]
    ends = [w.end for w in windows]
    span = (min(starts), max(ends))
    rows: list[Any] = await con.fetch(
        q("planned_outage_seconds"), list(service_ids), starts, ends, now, *span, severities
    )
    return {(r["n"] - 1, r["service_id"]): r["seconds"] for r in rows}
