"""The quarterly review's content: one closed quarter's leaders' reads put together."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from kpi_client.models.base import ApiModel
from kpi_client.models.initiatives import InitiativeReview
from kpi_client.models.observations import SeriesPoint
from kpi_client.models.reports import (
    DoraReport,
    FailureClusters,
    IncidentReport,
    ServiceReport,
    SpendReport,
)
from kpi_client.models.statuses import Escalation, GovernanceGap, ScorecardItem


class KpiTrend(ApiModel):
    """A KPI's status at the quarter's end and its series over the four quarters to it."""

    status: ScorecardItem
    trend: list[SeriesPoint]


class TierReview(ApiModel):
    tier: int
    downtime_cost: float
    services: list[ServiceReport]


class InitiativeInReview(ApiModel):
    name: str
    review: InitiativeReview


class QuarterlyReview(ApiModel):
    quarter: str
    start: dt.datetime
    end: dt.datetime
    generated_at: dt.datetime
    board: list[KpiTrend]
    board_warnings: list[str] = Field(default_factory=list)
    tiers: list[TierReview]
    incidents: IncidentReport
    dora: DoraReport
    clusters_by_service: FailureClusters
    clusters_by_vendor: FailureClusters | None = None
    spend: SpendReport
    budget: list[KpiTrend]
    unit_costs: list[KpiTrend]
    initiatives: list[InitiativeInReview]
    governance_gaps: list[GovernanceGap]
    open_escalations: list[Escalation]
