"""Initiatives (technology programs) as clients send and read them, and their review: spend
against budget and each linked KPI before the start against after delivery."""

from __future__ import annotations

import datetime as dt
from typing import Self

from pydantic import BaseModel, Field, field_validator, model_validator

from service.models.catalog import Body, FieldProblem, KpiKey, Name, Owner, Slug, Text
from service.models.costs import MAX_ABS_AMOUNT, Currency
from service.models.enums import Cadence, InitiativeStatus
from service.models.instants import Day


class InitiativeKpiIn(Body):
    kpi: KpiKey = Field(description="The key of a KPI the initiative is meant to move.")
    service: Slug | None = Field(
        default=None, description="The service the KPI is measured for; omit for the KPI overall."
    )
    expected_change: float = Field(
        allow_inf_nan=False, ge=-1e12, le=1e12,
        description="The change expected, signed, in the KPI's unit: 0.2 for availability "
        "+0.2 points, -5 for five minutes less.",
    )  # fmt: skip
    expected_by: Day | None = Field(default=None, description="When the change should show.")
    rationale: Text | None = None


class InitiativeKpi(InitiativeKpiIn):
    pass


class InitiativeIn(Body):
    key: Slug
    name: Name
    owner: Owner | None = None
    sponsor: Owner | None = None
    status: InitiativeStatus = InitiativeStatus.PROPOSED
    started_on: Day
    delivered_on: Day | None = Field(default=None, description="Not before started_on.")
    budget: float | None = Field(
        default=None, allow_inf_nan=False, ge=0, le=MAX_ABS_AMOUNT,
        description="Kept to the cent; given with its currency or not at all.",
    )  # fmt: skip
    currency: Currency | None = None
    review_periods: int = Field(
        default=3, ge=1, le=60,
        description="Whole periods of each KPI's cadence compared before the start and after "
        "delivery.",
    )  # fmt: skip
    services: list[Slug] = Field(
        default_factory=list, max_length=50, description="Slugs of the services it changes."
    )
    kpis: list[InitiativeKpiIn] = Field(
        default_factory=list, max_length=50,
        description="The KPIs it is meant to move, replaced as a whole on every write.",
    )  # fmt: skip

    @field_validator("budget")
    @classmethod
    def _cents(cls, value: float | None) -> float | None:
        # Stored as numeric(20, 2): round here so what is read back equals what was sent.
        return None if value is None else round(value, 2) + 0.0

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.delivered_on is not None and self.delivered_on < self.started_on:
            raise FieldProblem("delivered_on", "must not be before started_on")
        if (self.budget is None) != (self.currency is None):
            missing = "currency" if self.currency is None else "budget"
            raise FieldProblem(missing, "budget and currency go together: give both or neither")
        for i, slug in enumerate(self.services):
            if self.services.index(slug) != i:
                raise FieldProblem(f"services.{i}", f"{slug!r} is listed twice")
        seen = [(k.kpi, k.service) for k in self.kpis]
        for i, pair in enumerate(seen):
            if seen.index(pair) != i:
                raise FieldProblem(f"kpis.{i}", f"{pair[0]!r} for this service is listed twice")
        return self


class Initiative(InitiativeIn):
    id: int
    kpis: list[InitiativeKpi] = Field(default_factory=list)  # type: ignore[assignment]


class CurrencyAmount(BaseModel):
    currency: str
    amount: float
    records: int = Field(description="Cost records behind the amount.")


class InitiativeSpend(BaseModel):
    budget: float | None
    currency: str | None
    spent: float | None = Field(
        description="Cost records carrying the initiative, in the budget's currency (null "
        "without a budget)."
    )
    remaining: float | None = Field(description="budget - spent; negative when overspent.")
    percent_spent: float | None = Field(
        description="spent / budget x 100 (null for a zero budget)."
    )
    other_currencies: list[CurrencyAmount] = Field(
        description="Spend in currencies other than the budget's (every currency without a "
        "budget): never converted."
    )


class ReviewWindow(BaseModel):
    start: dt.datetime = Field(description="First instant of the window's first period, UTC.")
    end: dt.datetime = Field(description="End of the window's last period (exclusive).")
    mean: float | None = Field(description="Mean of the values of its complete periods.")
    periods_with_data: int
    ended: bool = Field(description="Whether the window had ended when the review was read.")


class KpiReview(BaseModel):
    kpi: str
    service: str | None
    cadence: Cadence = Field(description="The KPI's cadence (monthly when it has none).")
    expected_change: float
    expected_by: dt.date | None
    baseline: ReviewWindow
    after: ReviewWindow | None = Field(description="Null until the initiative is delivered.")
    change: float | None = Field(description="after.mean - baseline.mean.")
    met: bool | None = Field(
        description="Whether the change went the expected way by at least its size; null "
        "when either side has no value."
    )
    caveat: str | None = Field(description="Why to read the comparison with care, if so.")


class InitiativeReview(BaseModel):
    initiative: str
    status: InitiativeStatus
    started_on: dt.date
    delivered_on: dt.date | None
    spend: InitiativeSpend
    kpis: list[KpiReview]
