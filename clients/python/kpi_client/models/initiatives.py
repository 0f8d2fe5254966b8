"""Initiatives (technology programs) and their review: spend against budget, and each linked
KPI before the start against after delivery."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from kpi_client.models.base import ApiModel, InitiativeStatus


class InitiativeKpiIn(ApiModel):
    """A KPI the initiative is meant to move (for one service, or overall without one), by
    `expected_change`, signed, in the KPI's unit."""

    kpi: str
    expected_change: float
    service: str | None = None
    expected_by: dt.date | None = None
    rationale: str | None = None


class InitiativeFields(ApiModel):
    key: str
    name: str
    started_on: dt.date
    owner: str | None = None
    sponsor: str | None = None
    delivered_on: dt.date | None = None
    budget: float | None = Field(default=None, description="Given with its currency.")
    currency: str | None = None
    review_periods: int = 3
    services: list[str] = Field(default_factory=list)


class InitiativeIn(InitiativeFields):
    """Its `services` and `kpis` are replaced as a whole on every write."""

    status: InitiativeStatus = "proposed"
    kpis: list[InitiativeKpiIn] = Field(default_factory=list)


class InitiativeKpi(InitiativeKpiIn):
    pass


class Initiative(InitiativeFields):
    id: int
    status: str
    kpis: list[InitiativeKpi] = Field(default_factory=list)


class CurrencyAmount(ApiModel):
    currency: str
    amount: float
    records: int


class InitiativeSpend(ApiModel):
    budget: float | None
    currency: str | None
    spent: float | None
    remaining: float | None
    percent_spent: float | None
    other_currencies: list[CurrencyAmount]


class ReviewWindow(ApiModel):
    start: dt.datetime
    end: dt.datetime
    mean: float | None
    periods_with_data: int
    ended: bool


class KpiReview(ApiModel):
    kpi: str
    service: str | None
    cadence: str
    expected_change: float
    expected_by: dt.date | None
    baseline: ReviewWindow
    after: ReviewWindow | None
    change: float | None
    met: bool | None
    caveat: str | None


class InitiativeReview(ApiModel):
    initiative: str
    status: str
    started_on: dt.date
    delivered_on: dt.date | None
    spend: InitiativeSpend
    kpis: list[KpiReview]
