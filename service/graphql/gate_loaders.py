"""DataLoaders of a service's maintenance windows, error-budget policy and deploy gate: one
statement (the gate: one availability read per distinct policy window) per request tick."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from strawberry.dataloader import DataLoader

from service.db import Database
from service.models.deploy_gate import DeployGate, ErrorBudgetPolicy
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

        self.maintenance_windows: DataLoader[int, list[MaintenanceWindow]] = DataLoader(windows)
        self.policy: DataLoader[int, ErrorBudgetPolicy | None] = DataLoader(policies)
        self.gate: DataLoader[GateKey, DeployGate] = DataLoader(gates)
