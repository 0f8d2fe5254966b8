"""DataLoaders of a service's maintenance windows, error-budget policy, deploy gate and change
annotations: one statement (the gate: one availability read per distinct policy window; the
annotations: one per distinct page asked for) per request tick."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from strawberry.dataloader import DataLoader

from service.db import Database
from service.models.deploy_gate import ChangeAnnotation, DeployGate, ErrorBudgetPolicy
from service.models.enums import ChangeKind
from service.models.maintenance import MaintenanceWindow
from service.store import deploy_gate as gate_store
from service.store import maintenance
from service.usecases import deploy_gate


@dataclass(frozen=True)
class GateKey:
    service_id: int
    change_type: ChangeKind
    now: dt.datetime


@dataclass(frozen=True)
class AnnotationPage:
    """A page of a service's change annotations: at most `limit` after the annotation
    `after_id` (None: from the newest)."""

    service_id: int
    after_id: int | None
    limit: int


class GateLoaders:
    def __init__(self, db: Database) -> None:
        async def windows(keys: list[int]) -> list[list[MaintenanceWindow]]:
            async with db.acquire() as con:
                found = await maintenance.windows_by_service(con, keys)
            return [found.get(k, []) for k in keys]

        async def policies(keys: list[int]) -> list[ErrorBudgetPolicy | None]:
            async with db.acquire() as con:
                found = await gate_store.policies_by_service(con, keys)
            return [found.get(k) for k in keys]

        async def gates(keys: list[GateKey]) -> list[DeployGate]:
            out: dict[GateKey, DeployGate] = {}
            async with db.acquire() as con:
                for kind, now in {(k.change_type, k.now) for k in keys}:
                    ids = sorted({k.service_id for k in keys
                                  if (k.change_type, k.now) == (kind, now)})  # fmt: skip
                    found = await deploy_gate.gates_by_service(con, ids, kind, now)
                    out.update({GateKey(sid, kind, now): g for sid, g in found.items()})
            return [out[k] for k in keys]

        async def annotations(keys: list[AnnotationPage]) -> list[list[ChangeAnnotation]]:
            out: dict[AnnotationPage, list[ChangeAnnotation]] = {}
            async with db.acquire() as con:
                for after_id, limit in {(k.after_id, k.limit) for k in keys}:
                    ids = sorted({k.service_id for k in keys
                                  if (k.after_id, k.limit) == (after_id, limit)})  # fmt: skip
                    found = await gate_store.annotation_pages_by_service(
                        con, ids, after_id=after_id, limit=limit
                    )
                    out.update({AnnotationPage(sid, after_id, limit): found.get(sid, [])
                                for sid in ids})  # fmt: skip
            return [out[k] for k in keys]

        self.maintenance_windows: DataLoader[int, list[MaintenanceWindow]] = DataLoader(windows)
        self.policy: DataLoader[int, ErrorBudgetPolicy | None] = DataLoader(policies)
        self.gate: DataLoader[GateKey, DeployGate] = DataLoader(gates)
        self.annotations: DataLoader[AnnotationPage, list[ChangeAnnotation]] = DataLoader(
            annotations
        )
