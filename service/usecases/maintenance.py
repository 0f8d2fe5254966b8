"""Maintenance windows: announced ahead for a service, changed or deleted only before they
start (the database refuses the rest: sql/migrations/0035), and read back. Outage inside
them is planned downtime (service/kpi/maintenance.py)."""

from __future__ import annotations

import datetime as dt

from service.db import Connection
from service.models.maintenance import MaintenanceWindow, MaintenanceWindowIn
from service.store import maintenance
from service.store import services as service_store
from service.usecases import audit

#: The audit trail's name for a maintenance window (keyed by its id).
KIND = "maintenance-window"


async def create_window(
    con: Connection, *, service: str, window: MaintenanceWindowIn, created_by: str,
    now: dt.datetime,
) -> MaintenanceWindow:  # fmt: skip
    sid = (await service_store.get_service(con, slug=service)).id
    async with audit.atomic(con):
        window_id = await maintenance.create_maintenance_window(
            con, service_id=sid, window=window, created_by=created_by, now=now
        )
        created = await maintenance.get_maintenance_window(con, window_id=window_id)
        await audit.record(con, KIND, str(window_id), None, created)
    return created


async def list_windows(
    con: Connection, *, service: str | None, start: dt.datetime | None, end: dt.datetime | None,
    limit: int,
) -> list[MaintenanceWindow]:  # fmt: skip
    ids = None
    if service is not None:
        ids = [(await service_store.get_service(con, slug=service)).id]
    return await maintenance.list_maintenance_windows(
        con, service_ids=ids, start=start, end=end, limit=limit
    )


async def get_window(con: Connection, window_id: int) -> MaintenanceWindow:
    return await maintenance.get_maintenance_window(con, window_id=window_id)


async def replace_window(
    con: Connection, window_id: int, window: MaintenanceWindowIn, now: dt.datetime
) -> MaintenanceWindow:
    async with audit.atomic(con):
        before = await maintenance.get_maintenance_window(con, window_id=window_id)
        await maintenance.update_maintenance_window(
            con, window_id=window_id, window=window, now=now
        )
        after = await maintenance.get_maintenance_window(con, window_id=window_id)
        await audit.record(con, KIND, str(window_id), before, after)
    return after


async def delete_window(con: Connection, window_id: int, now: dt.datetime) -> None:
    async with audit.atomic(con):
        before = await maintenance.get_maintenance_window(con, window_id=window_id)
        await maintenance.delete_maintenance_window(con, window_id=window_id, now=now)
        await audit.record(con, KIND, str(window_id), before, None)
