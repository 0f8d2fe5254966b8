"""The quarterly review's content: the leaders' reads of one closed calendar quarter put
together (GET /v1/reviews/{quarter}, `kpi review`), each part the model its own read answers."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from service.models.initiatives import InitiativeReview
from service.models.observations import SeriesPoint
from service.models.reports import (
    DoraReport,
    FailureClusters,
    GovernanceGap,
    IncidentReport,
    ScorecardItem,
    ServiceReport,
    SpendReport,
)
from service.models.statuses import Escalation


class KpiTrend(BaseModel):
    """A KPI's status at the quarter's end and its series over the year to it."""

    status: ScorecardItem = Field(
        description="As the scorecard gives it for an instant just before the quarter's end: "
        "the last period of the KPI's cadence in the quarter."
    )
    trend: list[SeriesPoint] = Field(
        description="GET /v1/kpis/{key}/series at the cadence's grain (monthly without one) "
        "over the four quarters ending with this one."
    )


class TierReview(BaseModel):
    tier: int
    downtime_cost: float = Field(description="The sum of its services' downtime cost.")
    services: list[ServiceReport] = Field(
        description="GET /v1/services/{slug}/report over the quarter, by slug."
    )


class InitiativeInReview(BaseModel):
    name: str
    review: InitiativeReview = Field(description="GET /v1/initiatives/{key}/review.")


class QuarterlyReview(BaseModel):
    quarter: str = Field(description="The calendar quarter, e.g. 2026-Q3.")
    start: dt.datetime
    end: dt.datetime = Field(description="Exclusive: the first instant of the next quarter.")
    generated_at: dt.datetime
    board: list[KpiTrend] = Field(description="The board-level KPIs, as the scorecard orders them.")
    board_warnings: list[str] = Field(description="The scorecard's warnings.")
    tiers: list[TierReview] = Field(description="Availability, incidents, DORA and spend of "
                                    "each service, by tier.")  # fmt: skip
    incidents: IncidentReport = Field(description="The fleet's incidents of the quarter.")
    dora: DoraReport = Field(description="The fleet's DORA keys with their bands.")
    clusters_by_service: FailureClusters = Field(
        description="GET /v1/failure-clusters?by=service over the quarter: the first three."
    )
    clusters_by_vendor: FailureClusters | None = Field(
        description="by=service_attribute&name=vendor, the first three; null when no service "
        "has a vendor."
    )
    spend: SpendReport = Field(description="The fleet's cost records of the quarter.")
    budget: list[KpiTrend] = Field(
        description="The KPIs of the builtin budget and forecast metrics (budget_variance, "
        "budget_variance_share, spend_forecast, opex_stability)."
    )
    unit_costs: list[KpiTrend] = Field(description="The ratio KPIs (spend per user and alike).")
    initiatives: list[InitiativeInReview] = Field(
        description="The active and delivered initiatives, by key."
    )
    governance_gaps: list[GovernanceGap]
    open_escalations: list[Escalation] = Field(
        description="Escalations still open or acknowledged, newest first."
    )
