"""The catalog: teams, business services, outcomes, KPI definitions, targets and links."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from kpi_client.models.base import (
    Aggregation,
    ApiModel,
    BuiltinMetric,
    Cadence,
    ChangeKind,
    Channel,
    Direction,
    KpiKind,
    Severity,
)


class TeamIn(ApiModel):
    slug: str
    name: str
    email: str | None = None


class Team(ApiModel):
    id: int
    slug: str
    name: str
    email: str | None = None


class ServiceIn(ApiModel):
    slug: str
    name: str
    tier: int = Field(description="1 (most critical) to 4.")
    team: str | None = None
    business_owner: str | None = None
    technology_owner: str | None = None
    revenue_per_hour: float | None = None
    users: int | None = None
    outage_threshold: Severity = "sev2"
    depends_on: list[str] = Field(default_factory=list)


class Service(ApiModel):
    id: int
    slug: str
    name: str
    tier: int
    team: str | None = None
    business_owner: str | None = None
    technology_owner: str | None = None
    revenue_per_hour: float | None = None
    users: int | None = None
    outage_threshold: str = "sev2"
    depends_on: list[str] = Field(default_factory=list)


class OutcomeIn(ApiModel):
    slug: str
    name: str
    description: str | None = None
    owner: str | None = None


class Outcome(ApiModel):
    id: int
    slug: str
    name: str
    description: str | None = None
    owner: str | None = None


class EscalationStepIn(ApiModel):
    who: str
    channel: Channel
    address: str = Field(description="Webhook URL or e-mail address.")
    after_breached_periods: int = 1
    after_unacknowledged_minutes: int | None = None


class EscalationStep(ApiModel):
    who: str
    channel: str
    address: str
    after_breached_periods: int = 1
    after_unacknowledged_minutes: int | None = None


class BuiltinFilter(ApiModel):
    """What a builtin KPI counts: incidents of these severities, changes to these
    environments (instead of the production ones) and of these kinds."""

    severities: list[Severity] | None = None
    environments: list[str] | None = None
    change_kinds: list[ChangeKind] | None = None


class KpiIn(ApiModel):
    key: str
    name: str
    unit: str
    direction: Direction
    aggregation: Aggregation | None = Field(
        default=None, description="Required for observed KPIs only."
    )
    strategic_question: str | None = None
    business_impact: str | None = None
    kind: KpiKind = "observed"
    metric: BuiltinMetric | None = None
    filter: BuiltinFilter | None = None
    availability_kpi: str | None = Field(
        default=None, description="For error_budget_remaining: the availability KPI."
    )
    numerator: str | None = None
    denominator: str | None = None
    cadence: Cadence | None = None
    business_owner: str | None = None
    technology_owner: str | None = None
    board_level: bool = False
    tags: list[str] = Field(default_factory=list)
    escalation_path: list[EscalationStepIn] = Field(default_factory=list)


class Kpi(ApiModel):
    id: int
    key: str
    name: str
    unit: str
    direction: str
    aggregation: str | None = None
    strategic_question: str | None = None
    business_impact: str | None = None
    kind: str = "observed"
    metric: str | None = None
    filter: BuiltinFilter | None = None
    availability_kpi: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    cadence: str | None = None
    business_owner: str | None = None
    technology_owner: str | None = None
    board_level: bool = False
    tags: list[str] = Field(default_factory=list)
    escalation_path: list[EscalationStep] = Field(default_factory=list)


class TargetIn(ApiModel):
    kpi: str
    value: float
    effective_from: dt.date
    service: str | None = None
    tier: int | None = None
    warning: float | None = None
    effective_to: dt.date | None = None


class Target(ApiModel):
    id: int
    kpi: str
    value: float
    effective_from: dt.date
    service: str | None = None
    tier: int | None = None
    warning: float | None = None
    effective_to: dt.date | None = None


class OutcomeLinkIn(ApiModel):
    weight: float = 1.0
    rationale: str | None = None


class OutcomeLink(ApiModel):
    kpi: str
    outcome: str
    weight: float = 1.0
    rationale: str | None = None


class ServiceLink(ApiModel):
    kpi: str
    service: str
