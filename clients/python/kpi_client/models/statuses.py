"""KPI statuses, the board scorecard, escalations and governance gaps."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from kpi_client.models.base import ApiModel


class AgainstTarget(ApiModel):
    """A value and the target it is held against; `target_scope` says where the target came
    from (`service`, `tier`, `global`, `default`, or `services` for a roll-up)."""

    value: float | None = None
    target: float | None = None
    target_scope: str | None = None


class StatusDriver(AgainstTarget):
    """The service that set a status rolled up from the KPI's services."""

    service: str


class StatusFigures(AgainstTarget):
    """What a KPI's status says, however it is reached: its value against the target."""

    kpi: str
    status: str
    trend: str
    warning: float | None = None
    driver: StatusDriver | None = None
    previous_value: float | None = None
    complete: bool = True
    evaluated_at: dt.datetime | None = Field(default=None, description="None when computed.")


class KpiStatus(StatusFigures):
    cadence: str
    period_start: dt.datetime
    period_end: dt.datetime
    service: str | None = None


class ScorecardItem(StatusFigures):
    name: str
    unit: str
    cadence: str | None = None
    period_start: dt.datetime | None = None
    period_end: dt.datetime | None = None
    business_owner: str | None = None
    technology_owner: str | None = None


class Scorecard(ApiModel):
    on: dt.datetime
    items: list[ScorecardItem]
    board_level: int
    warnings: list[str] = Field(default_factory=list)


class EscalationEvent(ApiModel):
    kind: str
    at: dt.datetime
    position: int | None = None
    detail: str | None = None


class Escalation(ApiModel):
    id: int
    kpi: str
    state: str
    opened_at: dt.datetime
    opened_period: dt.datetime
    last_period: dt.datetime
    breached_periods: int
    steps_fired: int
    service: str | None = None
    acknowledged_at: dt.datetime | None = None
    acknowledged_by: str | None = None
    resolved_at: dt.datetime | None = None
    resolved_by: str | None = None
    resolution: str | None = None
    events: list[EscalationEvent] = Field(default_factory=list)


class GovernanceGap(ApiModel):
    kpi: str
    missing: list[str]
