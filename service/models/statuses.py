"""Evaluated KPI statuses, escalations and their events, as read back."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pydantic import BaseModel, Field

from service.models.catalog import Body, Owner, Text
from service.models.enums import Cadence, Status, TargetScope, Trend


@dataclass(frozen=True)
class ScopeRef:
    """What a status is about: the KPI overall (service None) or one service."""

    service_id: int | None
    slug: str | None
    tier: int | None


OVERALL = ScopeRef(None, None, None)


class StatusDriver(BaseModel):
    """The service whose status a rolled-up status is: its value and its own target."""

    service: str
    value: float | None
    target: float | None
    target_scope: TargetScope | None = Field(description="Where that service's target came from.")


class KpiStatus(BaseModel):
    kpi: str
    service: str | None = Field(description="Null for the KPI overall.")
    cadence: Cadence
    period_start: dt.datetime
    period_end: dt.datetime
    value: float | None
    target: float | None
    warning: float | None
    target_scope: TargetScope | None = Field(
        description="Where the target came from: the service's own, its tier's, the global "
        "one, or the default availability target of the tier; 'services' when the KPI overall "
        "has no target and takes the worst status of the services it applies to (`driver` "
        "then names the service that set it)."
    )
    status: Status
    driver: StatusDriver | None = Field(
        default=None,
        description="For a status rolled up from the KPI's services: the service that set it "
        "(the worst, and of equally bad ones the furthest from its target), with its value "
        "and target.",
    )
    previous_value: float | None
    trend: Trend
    complete: bool = Field(
        default=True,
        description="Whether the period has ended. Statuses of a period under way are "
        "computed, never stored, and will still move.",
    )
    evaluated_at: dt.datetime | None = Field(description="Null when computed, not stored.")


@dataclass(frozen=True)
class OpenEscalation:
    """An escalation not resolved yet, as its steps are decided from (locked while read)."""

    id: int
    kpi_id: int
    service_id: int | None
    state: str
    opened_at: dt.datetime
    last_period: dt.datetime
    breached_periods: int
    steps_fired: int


class EscalationEvent(BaseModel):
    kind: str
    position: int | None
    at: dt.datetime
    detail: str | None


class Escalation(BaseModel):
    id: int
    kpi: str
    service: str | None
    state: str
    opened_at: dt.datetime
    opened_period: dt.datetime
    last_period: dt.datetime
    breached_periods: int
    steps_fired: int
    acknowledged_at: dt.datetime | None
    acknowledged_by: str | None
    resolved_at: dt.datetime | None
    resolved_by: str | None
    resolution: str | None
    events: list[EscalationEvent] = Field(default_factory=list)


class EscalationAction(Body):
    by: Owner = Field(description="Who acknowledges or resolves.")
    note: Text | None = None
