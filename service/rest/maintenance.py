"""Maintenance windows: announced per service ahead of time, read back, and changed or
deleted only before they start."""

from __future__ import annotations

from service.models.enums import Scope
from service.models.maintenance import (
    MaintenanceWindow,
    MaintenanceWindowIn,
    MaintenanceWindowQuery,
)
from service.rest.endpoint import Call, Endpoint, id_param, path_param
from service.usecases import maintenance


def _who(call: Call) -> str:
    return call.principal.name if call.principal else "unknown"


async def create_maintenance_window(call: Call) -> MaintenanceWindow:
    """Announce planned downtime for the service."""
    async with call.transaction() as con:
        return await maintenance.create_window(
            con, service=path_param(call, "slug"), window=call.body, created_by=_who(call),
            now=call.now(),
        )  # fmt: skip


async def list_service_maintenance_windows(call: Call) -> list[MaintenanceWindow]:
    """The service's windows overlapping [from, to), by start."""
    query: MaintenanceWindowQuery = call.query
    async with call.connection() as con:
        return await maintenance.list_windows(
            con, service=path_param(call, "slug"), start=query.from_, end=query.to,
            limit=query.limit,
        )  # fmt: skip


async def get_maintenance_window(call: Call) -> MaintenanceWindow:
    async with call.connection() as con:
        return await maintenance.get_window(con, id_param(call))


async def replace_maintenance_window(call: Call) -> MaintenanceWindow:
    async with call.transaction() as con:
        return await maintenance.replace_window(con, id_param(call), call.body, call.now())


async def delete_maintenance_window(call: Call) -> None:
    async with call.transaction() as con:
        await maintenance.delete_window(con, id_param(call), call.now())


IMMUTABLE = (
    "A window is announced ahead: its start must be after now. Once started it can no longer "
    "be changed or deleted (that would rewrite figures already reported): a 409 naming the "
    "field. Outage inside a window is planned downtime: left out of availability and the "
    "error budget, reported apart (`planned_downtime_minutes`); incidents inside it still "
    "count for response and resolution times."
)
WINDOW = "/v1/maintenance-windows/{id:int}"
ENDPOINTS = [
    Endpoint("POST", "/v1/services/{slug}/maintenance-windows", create_maintenance_window,
             Scope.ADMIN, "Announce a maintenance window", "maintenance",
             body=MaintenanceWindowIn, response=MaintenanceWindow, status=201,
             errors=(404, 409, 413, 415, 422), description=IMMUTABLE),
    Endpoint("GET", "/v1/services/{slug}/maintenance-windows", list_service_maintenance_windows,
             Scope.READ, "List a service's maintenance windows", "maintenance",
             response=list[MaintenanceWindow], query=MaintenanceWindowQuery, errors=(404, 422),
             description="Windows overlapping [from, to), by start, at most `limit` (default "
             "1,000)."),
    Endpoint("GET", WINDOW, get_maintenance_window, Scope.READ, "Get one maintenance window",
             "maintenance", response=MaintenanceWindow, errors=(404,)),
    Endpoint("PUT", WINDOW, replace_maintenance_window, Scope.ADMIN,
             "Change a maintenance window that has not started", "maintenance",
             body=MaintenanceWindowIn, response=MaintenanceWindow,
             errors=(404, 409, 413, 415, 422), description=IMMUTABLE),
    Endpoint("DELETE", WINDOW, delete_maintenance_window, Scope.ADMIN,
             "Cancel a maintenance window that has not started", "maintenance", status=204,
             errors=(404, 409), description=IMMUTABLE),
]  # fmt: skip
