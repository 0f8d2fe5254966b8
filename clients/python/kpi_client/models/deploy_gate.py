"""Maintenance windows, error-budget policies, the deploy gate and change annotations."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field

from kpi_client.models.base import ApiModel, Instant

ChangeType = Literal["deploy", "config", "patch", "rollback", "hotfix"]


def _emergency_types() -> list[ChangeType]:
    return ["hotfix", "rollback"]


class MaintenanceWindowIn(ApiModel):
    """Planned downtime, announced before it starts (`starts_at` after now); it cannot be
    changed or deleted once started."""

    starts_at: Instant
    ends_at: Instant
    reason: str


class MaintenanceWindowSpec(MaintenanceWindowIn):
    """A window in a catalog file, naming its service."""

    service: str


class MaintenanceWindow(ApiModel):
    id: int
    service: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    reason: str
    created_by: str
    created_at: dt.datetime


class ErrorBudgetPolicyIn(ApiModel):
    """Freeze production changes while the budget over `window_days` is spent, except the
    `passing_change_types`."""

    freeze_when_budget_exhausted: bool = True
    kpi: str | None = None
    window_days: int = 30
    passing_change_types: list[ChangeType] = Field(default_factory=_emergency_types)


class ErrorBudgetPolicySpec(ErrorBudgetPolicyIn):
    """A policy in a catalog file, naming its service."""

    service: str


class ErrorBudgetPolicy(ApiModel):
    service: str
    freeze_when_budget_exhausted: bool
    kpi: str | None = None
    window_days: int
    passing_change_types: list[str]


class GateBudget(ApiModel):
    target: float
    window: str
    window_start: dt.datetime
    window_end: dt.datetime
    allowed_downtime_minutes: float
    spent_minutes: float
    remaining_minutes: float
    remaining: float | None = None
    planned_downtime_minutes: float


class DeployGate(ApiModel):
    service: str
    change_type: str
    decision: str
    reason: str
    policy: ErrorBudgetPolicy | None = None
    budget: GateBudget


class GateOverrideIn(ApiModel):
    reason: str
    change_type: ChangeType = "deploy"
    reference: str | None = None


class ChangeAnnotation(ApiModel):
    id: int
    service: str
    kind: str
    change_type: str
    reason: str
    reference: str | None = None
    gate: dict[str, Any]
    created_by: str
    created_at: dt.datetime
