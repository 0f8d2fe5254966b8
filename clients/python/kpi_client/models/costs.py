"""Cost records: IT spend per service, category and period."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from kpi_client.models.base import ApiModel, StoredCounts


class CostFields(ApiModel):
    """A cost record's fields, in requests and answers alike."""

    category: str
    period_start: dt.date
    period_end: dt.date = Field(description="The day after the period's last day.")
    amount: float
    currency: str = Field(description="ISO 4217, e.g. EUR.")
    service: str | None = None
    note: str | None = None
    source: str | None = None
    initiative: str | None = Field(default=None, description="An initiative's key.")


class CostIn(CostFields):
    """Identified by (service, category, period, currency, initiative); `period_end` is
    exclusive and a missing service means estate-wide spend."""


class Cost(CostFields):
    id: int


class CostIngestResult(StoredCounts):
    records: int
