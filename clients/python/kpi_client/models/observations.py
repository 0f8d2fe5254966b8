"""Observation points, ingestion results and series."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from kpi_client.models.base import ApiModel, Instant, StoredCounts


class ObservationIn(ApiModel):
    """One point. It is identified by (kpi, service, ts, dimensions): sending it again changes
    nothing, sending it with a new value replaces the value."""

    kpi: str
    ts: Instant
    value: float
    service: str | None = None
    dimensions: dict[str, str] = Field(default_factory=dict)
    source: str | None = None


class IngestResult(StoredCounts):
    points: int


class SeriesPoint(ApiModel):
    bucket: dt.datetime
    value: float | None
    count: int
    complete: bool = Field(
        default=True, description="False for the period under way or a bucket the window cuts."
    )


class Series(ApiModel):
    kpi: str
    grain: str
    aggregation: str | None = None
    unit: str
    points: list[SeriesPoint]
    service: str | None = None
    team: str | None = None
    tier: int | None = None
