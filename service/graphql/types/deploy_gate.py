"""A service's maintenance windows, error-budget policy and deploy gate in the graph."""

from __future__ import annotations

import datetime as dt

import strawberry
import strawberry.experimental.pydantic as from_model

from service.models import deploy_gate as models
from service.models.enums import ChangeKind
from service.models.maintenance import MaintenanceWindow as WindowModel


@strawberry.type(
    description="Planned downtime announced for a service: outage inside it is left out of "
    "availability and the error budget. Immutable once started."
)
class MaintenanceWindow:
    id: int
    starts_at: dt.datetime
    ends_at: dt.datetime = strawberry.field(description="Exclusive.")
    reason: str
    created_by: str
    created_at: dt.datetime

    @classmethod
    def of(cls, m: WindowModel) -> MaintenanceWindow:
        return cls(id=m.id, starts_at=m.starts_at, ends_at=m.ends_at, reason=m.reason,
                   created_by=m.created_by, created_at=m.created_at)  # fmt: skip


@strawberry.type(description="When a service's deploy gate freezes production changes.")
class ErrorBudgetPolicy:
    freeze_when_budget_exhausted: bool
    kpi: str | None = strawberry.field(
        description="The availability KPI whose targets apply; null: as service reports choose."
    )
    window_days: int
    passing_change_types: list[ChangeKind]

    @classmethod
    def of(cls, m: models.ErrorBudgetPolicy) -> ErrorBudgetPolicy:
        return cls(freeze_when_budget_exhausted=m.freeze_when_budget_exhausted, kpi=m.kpi,
                   window_days=m.window_days,
                   passing_change_types=list(m.passing_change_types))  # fmt: skip


@from_model.type(model=models.GateBudget, all_fields=True)
class GateBudget:
    pass


@strawberry.type(description="Whether a change of a type may go out now, and why.")
class DeployGate:
    change_type: ChangeKind
    decision: str = strawberry.field(description="allow or freeze.")
    reason: str
    budget: GateBudget

    @classmethod
    def of(cls, m: models.DeployGate) -> DeployGate:
        return cls(change_type=m.change_type, decision=m.decision, reason=m.reason,
                   budget=GateBudget.from_pydantic(m.budget))  # fmt: skip


@strawberry.type(
    description="A note on a service's change timeline: `gate_override` records a change that "
    "passed a frozen deploy gate anyway, with the reason and the gate's answer at that moment."
)
class ChangeAnnotation:
    id: int
    kind: str = strawberry.field(description="gate_override.")
    change_type: ChangeKind
    reason: str
    reference: str | None = strawberry.field(description="The pipeline run or change ticket.")
    gate: DeployGate = strawberry.field(description="The gate's answer when it was recorded.")
    created_by: str = strawberry.field(description="The name of the token that recorded it.")
    created_at: dt.datetime

    @classmethod
    def of(cls, m: models.ChangeAnnotation) -> ChangeAnnotation:
        answer = DeployGate.of(models.DeployGate.model_validate(m.gate))
        return cls(id=m.id, kind=m.kind, change_type=m.change_type, reason=m.reason,
                   reference=m.reference, gate=answer, created_by=m.created_by,
                   created_at=m.created_at)  # fmt: skip
