"""The catalog file's maintenance windows and error-budget policies: applied after services,
idempotent, refused (naming the entry) when a window would rewrite the past."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from service import db as dbmod
from service.errors import ApiError
from service.store import deploy_gate, maintenance
from service.usecases.catalog_file import CatalogFile, apply_catalog

NOW = dt.datetime(2026, 10, 20, 12, 0, tzinfo=dt.UTC)


def catalog(reason: str = "database upgrade", **policy: Any) -> CatalogFile:
    return CatalogFile.model_validate({
        "services": [{"slug": "checkout", "name": "Checkout", "tier": 1}],
        "maintenance_windows": [{
            "service": "checkout", "starts_at": "2026-11-10T02:00:00Z",
            "ends_at": "2026-11-10T05:00:00Z", "reason": reason,
        }],
        "error_budget_policies": [{"service": "checkout", **policy}],
    })  # fmt: skip


async def test_windows_and_policies_apply_then_reapply_as_no_change(
    con: dbmod.Connection,
) -> None:
    first = await apply_catalog(con, catalog(), dry_run=False, now=NOW)
    assert [(c.action, c.kind, c.key) for c in first.changes] == [
        ("create", "service", "checkout"),
        ("create", "maintenance-window", "checkout from 2026-11-10T02:00:00+00:00"),
        ("create", "error-budget-policy", "checkout"),
    ]
    again = await apply_catalog(con, catalog(), dry_run=False, now=NOW)
    assert (again.changes, again.unchanged) == ([], 3)
    (sid,) = [w.service_id for w in await maintenance.list_maintenance_windows(
        con, service_ids=None, start=None, end=None, limit=None)]  # fmt: skip
    (window,) = (await maintenance.windows_by_service(con, [sid]))[sid]
    assert (window.reason, window.created_by) == ("database upgrade", "catalog file")
    changed = await apply_catalog(con, catalog("moved to a quieter night", window_days=7,
                                               passing_change_types=["rollback"]),
                                  dry_run=False, now=NOW)  # fmt: skip
    assert {c.kind: c.fields for c in changed.changes} == {
        "maintenance-window": {"reason": ("database upgrade", "moved to a quieter night")},
        "error-budget-policy": {"window_days": (30, 7),
                                "passing_change_types": (["hotfix", "rollback"], ["rollback"])},
    }  # fmt: skip
    policy = (await deploy_gate.policies_by_service(con, [sid]))[sid]
    assert (policy.window_days, [k.value for k in policy.passing_change_types]) == (7, ["rollback"])


async def test_a_started_window_is_kept_as_it_was_and_a_past_one_refused(
    con: dbmod.Connection,
) -> None:
    await apply_catalog(con, catalog(), dry_run=False, now=NOW)
    started = NOW + dt.timedelta(days=22)  # 2026-11-11: the window is over
    same = await apply_catalog(con, catalog(), dry_run=False, now=started)
    assert same.changes == []
    with pytest.raises(ApiError) as refused:
        await apply_catalog(con, catalog("rewritten"), dry_run=False, now=started)
    assert refused.value.status == 409
    assert [e.pointer for e in refused.value.errors] == ["#/maintenance_windows/0/reason"]
