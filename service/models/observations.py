"""Observation points as sent by clients, ingestion results, and series read back."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from service.models.catalog import Body, KpiKey, Slug
from service.models.enums import Aggregation, Grain
from service.models.instants import Instant
from service.models.text import Distinct, Identifier, Visible

#: Largest magnitude of a value: far beyond any real KPI, and sums of millions of them stay finite.
MAX_ABS_VALUE = 1e15

DimensionName = Annotated[str, StringConstraints(min_length=1, max_length=60), Identifier]
DimensionValue = Annotated[str, StringConstraints(max_length=200), Distinct]


class ObservationIn(Body):
    kpi: KpiKey
    service: Slug | None = None
    ts: Instant = Field(description="ISO 8601 with a zone offset; stored in UTC.")
    value: float = Field(
        allow_inf_nan=False, strict=True, ge=-MAX_ABS_VALUE, le=MAX_ABS_VALUE,
        description="A number (not a string or boolean), at most 1e15 in magnitude.",
    )  # fmt: skip
    dimensions: dict[DimensionName, DimensionValue] = Field(default_factory=dict, max_length=20)
    source: Annotated[str, StringConstraints(max_length=100), Visible] | None = None


class IngestResult(BaseModel):
    points: int = Field(description="Points received (after dropping in-batch duplicates).")
    inserted: int = Field(description="New points stored.")
    updated: int = Field(description="Existing points whose value changed (revision kept).")
    unchanged: int = Field(description="Points already stored with the same value.")


class SeriesPoint(BaseModel):
    bucket: dt.datetime = Field(description="Start of the bucket, UTC.")
    value: float | None = Field(description="The bucket's aggregate; null when undefined.")
    count: int = Field(description="Points aggregated into the bucket.")
    complete: bool = Field(
        default=True,
        description="Whether the figure covers the bucket's whole period: false for the "
        "period under way (the figure will still move) and for a bucket the window cuts.",
    )


class Series(BaseModel):
    kpi: str
    service: str | None
    team: str | None = None
    tier: int | None = None
    grain: Grain
    aggregation: Aggregation | None = Field(description="Observed KPIs' only.")
    unit: str
    points: list[SeriesPoint]


#: A point with its position in the request (array index, or NDJSON line number - 1);
#: positions increase along the request.
Numbered = tuple[int, ObservationIn]
