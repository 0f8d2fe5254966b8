"""OpenSLO v1alpha SLO documents, the version Sloth reads, with the rules of the
reference implementation (OpenSLO's oslo): one time window of unit Second, Day, Week, Month
or Quarter; Occurrences or Timeslices; each objective's target in [0, 1); metric sources of
an alphabetic source and query type and a query."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

API_VERSION = "openslo/v1alpha"

Alphabetic = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]+$")]
Description = Annotated[str, StringConstraints(max_length=1050)]


class Part(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Metadata(Part):
    name: str = Field(min_length=1)
    displayName: str | None = None


class MetricSourceSpec(Part):
    source: Alphabetic
    queryType: Alphabetic
    query: str = Field(min_length=1)


class Indicator(Part):
    thresholdMetric: MetricSourceSpec


class RatioMetrics(Part):
    good: MetricSourceSpec
    total: MetricSourceSpec
    counter: bool = False


class Objective(Part):
    displayName: Description | None = None
    value: float | None = None
    ratioMetrics: RatioMetrics | None = None
    target: float = Field(ge=0, lt=1)
    timeSliceTarget: float | None = None
    op: Literal["lte", "gte", "lt", "gt"] | None = None


class Calendar(Part):
    startTime: str
    timeZone: str


class TimeWindow(Part):
    unit: Literal["Second", "Quarter", "Month", "Week", "Day"]
    count: int = Field(gt=0)
    isRolling: bool = False
    calendar: Calendar | None = None


class SloSpec(Part):
    timeWindows: list[TimeWindow] = Field(min_length=1, max_length=1)
    budgetingMethod: Literal["Occurrences", "Timeslices"]
    description: Description | None = None
    indicator: Indicator | None = None
    service: str = Field(min_length=1)
    objectives: list[Objective] = Field(min_length=1)


class SloDocument(Part):
    apiVersion: Literal["openslo/v1alpha"]
    kind: Literal["SLO"]
    metadata: Metadata
    spec: SloSpec
