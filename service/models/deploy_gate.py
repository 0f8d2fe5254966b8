"""Error-budget policies, the deploy gate's answer and change annotations (gate overrides)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from service.models.catalog import Body, KpiKey, Slug
from service.models.enums import ChangeKind
from service.models.maintenance import Reason


class ErrorBudgetPolicyIn(Body):
    """What a service's deploy gate watches and when it freezes."""

    freeze_when_budget_exhausted: bool = Field(
        default=True,
        description="Freeze production changes while the error budget over the window is "
        "spent (remaining at or below 0); false: the gate always allows, and says why.",
    )
    kpi: KpiKey | None = Field(
        default=None,
        description="The builtin availability KPI whose targets give the objective; null: the "
        "one that applies to the service, else the tier default (as service reports do).",
    )
    window_days: int = Field(
        default=30, ge=1, le=366, description="The trailing window the budget is measured over."
    )
    passing_change_types: list[ChangeKind] = Field(
        default_factory=lambda: [ChangeKind.HOTFIX, ChangeKind.ROLLBACK],
        max_length=5,
        description="Change types that pass a freeze (default hotfix and rollback).",
    )


class ErrorBudgetPolicySpec(ErrorBudgetPolicyIn):
    # A policy in a catalog file names its service (no docstring: it would become the
    # schema's description).

    service: Slug


class ErrorBudgetPolicy(ErrorBudgetPolicyIn):
    service: str
    service_id: int = Field(default=0, exclude=True)


class GateBudget(BaseModel):
    target: float = Field(description="Availability objective in percent.")
    window: str = Field(description="The trailing window, e.g. 30d.")
    window_start: dt.datetime
    window_end: dt.datetime
    allowed_downtime_minutes: float = Field(description="(1 - target) x window.")
    spent_minutes: float = Field(description="Outage in the window, maintenance windows excluded.")
    remaining_minutes: float = Field(description="Allowed - spent; negative once overspent.")
    remaining: float | None = Field(
        description="Percent of the budget left (as error_budget_remaining); negative once "
        "overspent."
    )
    planned_downtime_minutes: float = Field(description="Outage inside maintenance windows.")


class DeployGate(BaseModel):
    service: str
    change_type: ChangeKind
    decision: Literal["allow", "freeze"]
    reason: str
    policy: ErrorBudgetPolicy | None = Field(
        description="The service's policy; null when it has none (the gate then allows)."
    )
    budget: GateBudget


class GateQuery(BaseModel):
    change_type: ChangeKind = Field(
        default=ChangeKind.DEPLOY, description="The kind of change asking to pass."
    )


class GateOverrideIn(Body):
    """A change passing the gate anyway, with a reason that is recorded."""

    reason: Reason = Field(description="Why the change goes out despite the gate.")
    change_type: ChangeKind = ChangeKind.DEPLOY
    reference: Reason | None = Field(
        default=None, description="The pipeline run or change ticket, e.g. a URL."
    )


class ChangeAnnotation(BaseModel):
    id: int
    service: str
    kind: Literal["gate_override"]
    change_type: ChangeKind
    reason: str
    reference: str | None
    gate: dict[str, Any] = Field(description="The gate's answer when the override was recorded.")
    created_by: str
    created_at: dt.datetime
    service_id: int = Field(default=0, exclude=True)


class AnnotationQuery(BaseModel):
    limit: int = Field(default=100, ge=1, le=10_000)
