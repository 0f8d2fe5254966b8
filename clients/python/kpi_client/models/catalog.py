"""The catalog: teams, business services, outcomes, KPI definitions, targets and links.

Each entry's fields are declared once, in a `...Fields` base (or the answer model itself when
the service adds nothing): the request model (`...In`) narrows the closed vocabularies to
`Literal`s, the answer model adds what the service assigns (`id`). No answer model is a
request model, so an answer is not sent back as a request by mistake (the service refuses
fields it does not take, such as `id`)."""

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
from kpi_client.models.data_sources import PrometheusSli


class TeamFields(ApiModel):
    slug: str
    name: str
    email: str | None = None
    parent: str | None = Field(
        default=None, description="Slug of the parent team; figures roll up to it."
    )


class TeamIn(TeamFields):
    """A team to create, or to replace one with."""

    entity_ref: str | None = Field(
        default=None,
        description="Backstage entity reference; left out, group:default/<slug>.",
    )


class Team(TeamFields):
    id: int
    entity_ref: str | None = Field(
        default=None, description="Backstage entity reference: group:default/<name>."
    )


class ServiceFields(ApiModel):
    slug: str
    name: str
    tier: int = Field(description="1 (most critical) to 4.")
    team: str | None = None
    business_owner: str | None = None
    technology_owner: str | None = None
    revenue_per_hour: float | None = None
    users: int | None = None
    outage_threshold: str = "sev2"
    depends_on: list[str] = Field(default_factory=list)
    attributes: dict[str, str] = Field(
        default_factory=dict, description="Free-form pairs to group figures by (vendor ...)."
    )


class ServiceIn(ServiceFields):
    outage_threshold: Severity = "sev2"
    team_since: dt.datetime | None = Field(
        default=None,
        description="When a change of team takes effect (default: now); not read back.",
    )
    entity_ref: str | None = Field(
        default=None,
        description="Backstage entity reference; left out, component:default/<slug>.",
    )


class Service(ServiceFields):
    id: int
    entity_ref: str | None = Field(
        default=None, description="Backstage entity reference: component:default/<name>."
    )


class OutcomeFields(ApiModel):
    slug: str
    name: str
    description: str | None = None
    owner: str | None = None


class OutcomeIn(OutcomeFields):
    """An outcome to create, or to replace one with."""


class Outcome(OutcomeFields):
    id: int


class EscalationStep(ApiModel):
    """A step of a KPI's escalation path: who is told, how, and after how long."""

    who: str
    channel: str
    address: str = Field(description="Webhook URL or e-mail address.")
    after_breached_periods: int = 1
    after_unacknowledged_minutes: int | None = None


class EscalationStepIn(EscalationStep):
    channel: Channel


class BuiltinFilter(ApiModel):
    """What a builtin KPI counts: incidents of these severities, changes to these
    environments (instead of the production ones) and of these kinds."""

    severities: list[Severity] | None = None
    environments: list[str] | None = None
    change_kinds: list[ChangeKind] | None = None


class KpiFields(ApiModel):
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
    availability_kpi: str | None = Field(
        default=None, description="For error_budget_remaining: the availability KPI."
    )
    numerator: str | None = None
    denominator: str | None = None
    cadence: str | None = None
    time_zone: str | None = Field(
        default=None,
        description="The KPI's own IANA time zone for its periods; None: the organisation's.",
    )
    business_owner: str | None = None
    technology_owner: str | None = None
    board_level: bool = False
    tags: list[str] = Field(default_factory=list)
    prometheus: PrometheusSli | None = Field(
        default=None, description="For ratio KPIs: good and total events from Prometheus."
    )


class KpiIn(KpiFields):
    direction: Direction
    aggregation: Aggregation | None = Field(
        default=None, description="Required for observed KPIs only."
    )
    kind: KpiKind = "observed"
    metric: BuiltinMetric | None = None
    cadence: Cadence | None = None
    escalation_path: list[EscalationStepIn] = Field(default_factory=list)


class Kpi(KpiFields):
    id: int
    escalation_path: list[EscalationStep] = Field(default_factory=list)


class TargetSpec(ApiModel):
    """A target as a KPI definition of a catalog file lists it (its KPI is the entry's)."""

    value: float
    effective_from: dt.date
    service: str | None = None
    tier: int | None = None
    warning: float | None = None
    effective_to: dt.date | None = None


class TargetIn(TargetSpec):
    kpi: str


class Target(TargetSpec):
    id: int
    kpi: str


class OutcomeLinkFields(ApiModel):
    """The weight and rationale of a KPI's contribution to an outcome."""

    weight: float = 1.0
    rationale: str | None = None


class OutcomeLinkIn(OutcomeLinkFields):
    """A link to create or change."""


class OutcomeLinkSpec(OutcomeLinkIn):
    outcome: str


class OutcomeLink(OutcomeLinkFields):
    kpi: str
    outcome: str


class ServiceLink(ApiModel):
    kpi: str
    service: str
