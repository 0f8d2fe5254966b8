"""Tokens, the notification outbox, health answers, and catalog files for apply."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field

from kpi_client.models.base import ApiModel, Scope
from kpi_client.models.burn_alerts import BurnPolicyIn
from kpi_client.models.catalog import (
    KpiIn,
    OutcomeIn,
    OutcomeLinkSpec,
    ServiceIn,
    TargetSpec,
    TeamIn,
)
from kpi_client.models.data_sources import DataSourceIn
from kpi_client.models.deploy_gate import ErrorBudgetPolicySpec, MaintenanceWindowSpec
from kpi_client.models.initiatives import InitiativeIn
from kpi_client.models.sources import SourceIn


class TokenIn(ApiModel):
    name: str
    scopes: list[Scope]
    team: str | None = Field(
        default=None,
        description="Limit the token to this team's services (and its sub-teams'); not with "
        "the admin scope.",
    )
    read_scope: Literal["all", "team"] = Field(
        default="all", description="team: limit the token's reads to the team's services too."
    )


class TokenInfo(ApiModel):
    id: int
    name: str
    scopes: list[str]
    team: str | None = None
    read_scope: str = "all"
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None


class NewToken(TokenInfo):
    token: str = Field(description="Shown once: the service keeps only a hash.")


class Attempt(ApiModel):
    id: int
    at: dt.datetime
    duration_ms: float
    status_code: int | None = None
    error: str | None = None


class Notification(ApiModel):
    id: int
    message_id: str
    url: str
    event_type: str
    payload: dict[str, Any]
    state: str
    attempts: int
    next_attempt_at: dt.datetime
    created_at: dt.datetime
    escalation_id: int | None = None
    position: int | None = None
    delivered_at: dt.datetime | None = None
    last_error: str | None = None
    attempt_log: list[Attempt] = Field(default_factory=list)


class DatabaseHealth(ApiModel):
    """One database in /readyz (with read replicas): `primary`, `replica1` ..."""

    name: str
    reachable: bool
    lag_bytes: int | None = None
    used: bool | None = None


class Health(ApiModel):
    status: str
    #: With read replicas only: the primary and each replica as last checked.
    databases: list[DatabaseHealth] | None = None


class KpiDefinition(KpiIn):
    targets: list[TargetSpec] = Field(default_factory=list)
    outcomes: list[OutcomeLinkSpec] = Field(default_factory=list)
    services: list[str] = Field(default_factory=list)
    burn_policy: BurnPolicyIn | None = Field(
        default=None, description="Burn-rate alerts on the KPI's error budget; null removes."
    )


class CatalogFile(ApiModel):
    """What `apply_catalog` sends: the same shape as a catalog YAML file."""

    teams: list[TeamIn] = Field(default_factory=list)
    services: list[ServiceIn] = Field(default_factory=list)
    outcomes: list[OutcomeIn] = Field(default_factory=list)
    data_sources: list[DataSourceIn] = Field(default_factory=list)
    kpis: list[KpiDefinition] = Field(default_factory=list)
    sources: list[SourceIn] = Field(default_factory=list)
    initiatives: list[InitiativeIn] = Field(default_factory=list)
    maintenance_windows: list[MaintenanceWindowSpec] = Field(default_factory=list)
    error_budget_policies: list[ErrorBudgetPolicySpec] = Field(default_factory=list)


class CatalogChange(ApiModel):
    """One entry an apply created or updated; `fields` maps a field to [current, desired]."""

    action: str
    kind: str
    key: str
    fields: dict[str, list[Any]] = Field(default_factory=dict)


class ApplyReport(ApiModel):
    dry_run: bool
    changes: list[CatalogChange] = Field(default_factory=list)
    unchanged: int = 0
