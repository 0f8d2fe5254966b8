"""OpenSLO v1 documents (Service, SLO, SLI, AlertPolicy, AlertNotificationTarget) as the
specification states them: required fields, enums, ranges, one time window, one of target or
targetPercent. `kpi apply` reads them and `kpi export --openslo` is checked against them.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from service.models.catalog import FieldProblem

API_VERSION = "openslo/v1"

#: The duration shorthand: a positive integer and one of m h d w M Q Y.
DURATION = re.compile(r"^([1-9][0-9]*)([mhdwMQY])$")

#: RFC 1123 labels, which every implementation must accept as object names.
ObjectName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")]
Description = Annotated[str, StringConstraints(max_length=1050)]
Duration = Annotated[str, StringConstraints(pattern=DURATION.pattern)]
Operator = Literal["lte", "gte", "lt", "gt"]
BudgetingMethod = Literal["Occurrences", "Timeslices", "RatioTimeslices"]


def _zone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{name!r} is not an IANA time zone") from exc
    return name


class Part(BaseModel):
    """Every part of a document: a field the specification does not define is an error."""

    model_config = ConfigDict(extra="forbid")


class Metadata(Part):
    name: str = Field(min_length=1, max_length=253)
    displayName: str | None = None
    labels: dict[str, str | list[str]] | None = None
    annotations: dict[str, str] | None = None


class NamedMetadata(Metadata):
    name: ObjectName


class MetricSource(Part):
    metricSourceRef: str | None = None
    type: str | None = None
    spec: dict[str, Any]

    @model_validator(mode="after")
    def _typed(self) -> Self:
        if self.metricSourceRef is None and self.type is None:
            raise FieldProblem("type", "required when metricSourceRef is not given")
        return self


class Metric(Part):
    metricSource: MetricSource


class RatioMetric(Part):
    counter: bool | None = None
    good: Metric | None = None
    bad: Metric | None = None
    total: Metric | None = None
    rawType: Literal["success", "failure"] | None = None
    raw: Metric | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Self:
        if self.raw is not None:
            if self.good or self.bad or self.total:
                raise FieldProblem("raw", "cannot be used with good, bad or total")
            if self.rawType is None:
                raise FieldProblem("rawType", "required with raw")
            return self
        if self.total is None:
            raise FieldProblem("total", "required unless raw is given")
        if (self.good is None) == (self.bad is None):
            raise FieldProblem("good", "give exactly one of good or bad with total")
        return self


class SliSpec(Part):
    description: Description | None = None
    thresholdMetric: Metric | None = None
    ratioMetric: RatioMetric | None = None

    @model_validator(mode="after")
    def _one_metric(self) -> Self:
        if (self.thresholdMetric is None) == (self.ratioMetric is None):
            raise FieldProblem("ratioMetric", "give exactly one of thresholdMetric or ratioMetric")
        return self


class InlineSli(Part):
    metadata: Metadata | None = None
    spec: SliSpec


def _written_time(value: Any) -> Any:
    # YAML reads `2022-01-01 12:00:00` as a timestamp: the specification means the text.
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value


class Calendar(Part):
    startTime: Annotated[
        str,
        BeforeValidator(_written_time),
        StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"),
    ] = Field(description="A date and time without a zone, e.g. 2020-01-21 12:30:00.")
    timeZone: Annotated[str, AfterValidator(_zone)]


class TimeWindow(Part):
    duration: Duration
    isRolling: bool | None = None
    calendar: Calendar | None = None

    @model_validator(mode="after")
    def _rolling_or_calendar(self) -> Self:
        if self.isRolling and self.calendar is not None:
            raise FieldProblem("calendar", "a rolling window has no calendar")
        if not self.isRolling and self.calendar is None:
            raise FieldProblem("calendar", "required for a calendar-aligned window")
        return self


class Objective(Part):
    displayName: str | None = None
    op: Operator | None = None
    value: float | None = None
    target: float | None = Field(default=None, ge=0, lt=1)
    targetPercent: float | None = Field(default=None, ge=0, lt=100)
    timeSliceTarget: float | None = Field(default=None, gt=0, le=1)
    timeSliceWindow: Duration | int | None = None
    indicator: InlineSli | None = None
    indicatorRef: str | None = None
    compositeWeight: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if (self.target is None) == (self.targetPercent is None):
            raise FieldProblem("target", "give exactly one of target or targetPercent")
        return self

    def share(self) -> float:
        """The objective as a share of good (target, or targetPercent / 100)."""
        if self.target is not None:
            return self.target
        return round((self.targetPercent or 0) / 100, 12)


class SloSpec(Part):
    description: Description | None = None
    service: ObjectName
    indicator: InlineSli | None = None
    indicatorRef: str | None = None
    timeWindow: list[TimeWindow] | None = Field(default=None, min_length=1, max_length=1)
    budgetingMethod: BudgetingMethod
    objectives: list[Objective] = Field(min_length=1)
    alertPolicies: list[dict[str, Any]] | None = None

    @model_validator(mode="after")
    def _one_indicator(self) -> Self:
        if (self.indicator is None) == (self.indicatorRef is None):
            raise FieldProblem("indicator", "give exactly one of indicator or indicatorRef")
        return self


class ServiceSpec(Part):
    description: Description | None = None


class AlertPolicySpec(Part):
    description: Description | None = None
    alertWhenNoData: bool | None = None
    alertWhenResolved: bool | None = None
    alertWhenBreaching: bool | None = None
    conditions: list[dict[str, Any]] = Field(min_length=1, max_length=1)
    notificationTargets: list[dict[str, Any]] = Field(min_length=1)


class AlertNotificationTargetSpec(Part):
    target: str = Field(min_length=1)
    description: Description | None = None


class Document(Part):
    apiVersion: Literal["openslo/v1"]
    kind: str
    metadata: Metadata


class ServiceDocument(Document):
    kind: Literal["Service"]
    metadata: NamedMetadata
    spec: ServiceSpec = Field(default_factory=ServiceSpec)


class SloDocument(Document):
    kind: Literal["SLO"]
    metadata: NamedMetadata
    spec: SloSpec


class SliDocument(Document):
    kind: Literal["SLI"]
    spec: SliSpec


class AlertPolicyDocument(Document):
    kind: Literal["AlertPolicy"]
    spec: AlertPolicySpec


class AlertNotificationTargetDocument(Document):
    kind: Literal["AlertNotificationTarget"]
    spec: AlertNotificationTargetSpec


class AlertConditionDocument(Document):
    kind: Literal["AlertCondition"]
    spec: dict[str, Any]


class InlineAlertPolicy(Part):
    kind: Literal["AlertPolicy"]
    metadata: Metadata
    spec: AlertPolicySpec


class InlineNotificationTarget(Part):
    kind: Literal["AlertNotificationTarget"]
    metadata: Metadata
    spec: AlertNotificationTargetSpec


#: Each kind `kpi apply` reads, by its `kind`.
DOCUMENT_KINDS: dict[str, type[Document]] = {
    "Service": ServiceDocument,
    "SLO": SloDocument,
    "SLI": SliDocument,
    "AlertPolicy": AlertPolicyDocument,
    "AlertNotificationTarget": AlertNotificationTargetDocument,
    "AlertCondition": AlertConditionDocument,
}
