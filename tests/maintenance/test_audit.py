"""Maintenance windows and error-budget policies are catalog: each change is in the audit
trail with the admin token that made it and the entity before and after, as the API reads it."""

from __future__ import annotations

from typing import Any

import httpx

from tests.maintenance.conftest import WINDOWS, Clock, window
from tests.usecases.test_reports import add_service, send

Headers = dict[str, str]
Json = dict[str, Any]


async def audit_of(app: httpx.AsyncClient, admin: Headers, kind: str, key: str) -> list[Json]:
    r = await app.get("/v1/audit", params={"kind": kind, "key": key}, headers=admin)
    assert r.status_code == 200, r.text
    found: list[Json] = r.json()
    return found


async def test_a_window_announced_moved_and_cancelled_is_three_entries(
    app: httpx.AsyncClient, admin: Headers, clock: Clock
) -> None:
    await add_service(app, admin, "checkout", 1)
    first = await send(app, admin, "POST", WINDOWS, window("11-10T02:00", "11-10T05:00"),
                       status=201)  # fmt: skip
    path = f"/v1/maintenance-windows/{first['id']}"
    moved = await send(app, admin, "PUT", path, window("11-11T02:00", "11-11T04:00", "moved"))
    await send(app, admin, "DELETE", path, status=204)

    found = await audit_of(app, admin, "maintenance-window", str(first["id"]))
    # Newest first: the cancel, the move, the announcement.
    assert [(e["action"], e["via"], e["actor_name"]) for e in found] == [
        ("delete", "rest", "admin"), ("update", "rest", "admin"), ("create", "rest", "admin"),
    ]  # fmt: skip
    deleted, updated, created = found
    assert (created["before"], created["after"]) == (None, first)
    assert (updated["before"], updated["after"]) == (first, moved)
    assert (deleted["before"], deleted["after"]) == (moved, None)


async def test_a_refused_change_of_a_started_window_records_nothing(
    app: httpx.AsyncClient, admin: Headers, clock: Clock
) -> None:
    await add_service(app, admin, "checkout", 1)
    made = await send(app, admin, "POST", WINDOWS, window("11-10T02:00", "11-10T05:00"),
                      status=201)  # fmt: skip
    clock.at = clock.at.replace(month=11, day=10, hour=3)  # the window is under way
    path = f"/v1/maintenance-windows/{made['id']}"
    r = await app.put(path, json=window("11-10T02:00", "11-10T06:00"), headers=admin)
    assert r.status_code == 409, r.text
    assert (await app.delete(path, headers=admin)).status_code == 409
    found = await audit_of(app, admin, "maintenance-window", str(made["id"]))
    assert [e["action"] for e in found] == ["create"]


async def test_an_error_budget_policy_set_changed_and_removed_is_three_entries(
    app: httpx.AsyncClient, admin: Headers, clock: Clock
) -> None:
    await add_service(app, admin, "checkout", 1)
    policy = "/v1/services/checkout/error-budget-policy"
    first = await send(app, admin, "PUT", policy, {})
    again = await send(app, admin, "PUT", policy, {})  # the same policy: no entry
    assert again == first
    wider = await send(app, admin, "PUT", policy, {"window_days": 90})
    await send(app, admin, "DELETE", policy, status=204)

    found = await audit_of(app, admin, "error-budget-policy", "checkout")
    assert [e["action"] for e in found] == ["delete", "update", "create"]
    deleted, updated, created = found
    assert (created["before"], created["after"]) == (None, first)
    assert (updated["before"]["window_days"], updated["after"]["window_days"]) == (30, 90)
    assert (deleted["before"], deleted["after"]) == (wider, None)
