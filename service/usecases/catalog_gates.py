"""The catalog file's maintenance windows and error-budget policies, applied after services:
a window is keyed by (service, starts_at), a policy by its service. Applying a window that
has started is unchanged when the file says the same, else refused (409) as the API would."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from service.db import Connection
from service.models.deploy_gate import ErrorBudgetPolicyIn, ErrorBudgetPolicySpec
from service.models.maintenance import MaintenanceWindowIn, MaintenanceWindowSpec
from service.store import deploy_gate as gate_store
from service.store import maintenance
from service.store import services as service_store
from service.usecases import deploy_gate
from service.usecases import maintenance as windows

#: Who a window the catalog file announced was created by.
CATALOG_AUTHOR = "catalog file"

Record = Callable[[str, str, str, dict[str, tuple[Any, Any]]], None]
Locate = Callable[[str], None]


class Applier(Protocol):
    """What the catalog file's applier keeps (service/usecases/catalog_file.py)."""

    changes: list[Any]
    unchanged: int
    where: str
    on_entry: Callable[[], None]


def reporting(applier: Applier) -> tuple[Record, Locate]:
    """How these steps report to the applier: `record(action, kind, key, fields)` notes a
    change, or (action "") an unchanged entry; `locate(where)` names the entry applied."""
    from service.usecases.catalog_file import CatalogApplyChange

    def record(action: str, kind: str, key: str, fields: dict[str, tuple[Any, Any]]) -> None:
        if action:
            applier.changes.append(CatalogApplyChange(
                action="create" if action == "create" else "update", kind=kind, key=key,
                fields=fields))  # fmt: skip
        else:
            applier.unchanged += 1
        applier.on_entry()

    def locate(where: str) -> None:
        applier.where = where

    return record, locate


async def apply_windows(
    con: Connection, specs: Sequence[MaintenanceWindowSpec], now: dt.datetime,
    record: Record, locate: Locate,
) -> None:  # fmt: skip
    """Create or update each window; `record(action, kind, key, fields)` reports a change,
    action "" an unchanged entry; `locate(where)` names the entry being applied."""
    slugs = sorted({s.service for s in specs})
    ids = dict(zip(slugs, await service_store.service_ids(con, slugs, field="service"),
                   strict=True)) if slugs else {}  # fmt: skip
    current = await maintenance.windows_by_service(con, list(ids.values()))
    for i, spec in enumerate(specs):
        locate(f"maintenance_windows/{i}")
        sid = ids[spec.service]
        key = f"{spec.service} from {spec.starts_at.isoformat()}"
        window = MaintenanceWindowIn(starts_at=spec.starts_at, ends_at=spec.ends_at,
                                     reason=spec.reason)  # fmt: skip
        existing = next((w for w in current.get(sid, []) if w.starts_at == spec.starts_at), None)
        if existing is None:
            await windows.create_window(
                con, service=spec.service, window=window, created_by=CATALOG_AUTHOR, now=now
            )
            record("create", "maintenance-window", key, {})
            continue
        diff = {
            name: (getattr(existing, name), getattr(window, name))
            for name in ("ends_at", "reason")
            if getattr(existing, name) != getattr(window, name)
        }
        if diff:
            await windows.replace_window(con, existing.id, window, now)
            record("update", "maintenance-window", key, diff)
        else:
            record("", "maintenance-window", key, {})


async def apply_policies(
    con: Connection, specs: Sequence[ErrorBudgetPolicySpec], record: Record, locate: Locate
) -> None:
    """Set each service's policy (the file gives it whole: a field left out takes its
    default)."""
    for i, spec in enumerate(specs):
        locate(f"error_budget_policies/{i}")
        sid = (await service_store.service_ids(con, [spec.service], field="service"))[0]
        have = (await gate_store.policies_by_service(con, [sid])).get(sid)
        want = ErrorBudgetPolicyIn.model_validate(spec.model_dump(exclude={"service"}))
        if have is None:
            await deploy_gate.put_policy(con, service=spec.service, policy=want)
            record("create", "error-budget-policy", spec.service, {})
            continue
        old = have.model_dump(mode="json", exclude={"service"})
        new = want.model_dump(mode="json")
        old["passing_change_types"] = sorted(old["passing_change_types"])
        new["passing_change_types"] = sorted(new["passing_change_types"])
        diff = {k: (old[k], v) for k, v in new.items() if old[k] != v}
        if diff:
            await deploy_gate.put_policy(con, service=spec.service, policy=want)
            record("update", "error-budget-policy", spec.service, diff)
        else:
            record("", "error-budget-policy", spec.service, {})
