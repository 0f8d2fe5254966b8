"""A team's figures rolled up over its services and sub-teams, and its DORA keys per bucket."""

from __future__ import annotations

from pydantic import Field

from kpi_client.models.base import ApiModel
from kpi_client.models.reports import CategoryAmount, DoraReport, IncidentReport, Window


class TeamAvailability(ApiModel):
    window: Window
    availability: float | None = Field(
        default=None, description="Percent of service-minutes without outage."
    )
    weighted_availability: float | None = Field(
        default=None, description="The same, each service's minutes weighted by tier."
    )
    service_minutes: float
    outage_minutes: float
    outage_incidents: int
    services: int


class TeamCurrencySpend(ApiModel):
    currency: str
    total: float
    by_category: list[CategoryAmount]
    per_user: float | None = None


class TeamSpend(ApiModel):
    window: Window
    currencies: list[TeamCurrencySpend]
    users: float | None = None


class TeamFigures(ApiModel):
    team: str
    availability: TeamAvailability
    incidents: IncidentReport
    dora: DoraReport
    spend: TeamSpend


class DoraTrend(ApiModel):
    team: str
    grain: str
    buckets: list[DoraReport]
