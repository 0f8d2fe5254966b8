"""A service's report: availability, incident statistics, DORA keys and spend over a window."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from kpi_client.models.base import ApiModel


class Window(ApiModel):
    start: dt.datetime
    end: dt.datetime
    complete: bool = True


class AvailabilityReport(ApiModel):
    window: Window
    outage_minutes: float
    outage_incidents: int
    planned_downtime_minutes: float = 0.0
    target: float
    target_scope: str
    target_kpi: str | None = None
    availability: float | None = None
    error_budget_remaining: float | None = None
    burn_rate: float | None = None


class DurationStats(ApiModel):
    n: int
    mean: float | None = None
    median: float | None = None
    p90: float | None = None


class IncidentGroup(ApiModel):
    incidents: int
    mttd: DurationStats
    mtta: DurationStats
    mttr: DurationStats
    time_to_restore: DurationStats
    severity: str | None = None
    service: str | None = None


class IncidentReport(ApiModel):
    window: Window
    overall: IncidentGroup
    by_severity: list[IncidentGroup] = Field(default_factory=list)
    by_service: list[IncidentGroup] = Field(default_factory=list)
    recurrence_rate: float | None = None
    users_affected: float = 0
    downtime_cost: float = 0


class BandedValue(ApiModel):
    value: float | None = None
    band: str | None = None


class DoraReport(ApiModel):
    window: Window
    deployments: int
    deployments_per_week: BandedValue
    lead_time: BandedValue
    change_failure_rate: BandedValue
    recovery_time: BandedValue
    rework_rate: float | None = None


class CategoryAmount(ApiModel):
    category: str
    amount: float


class CurrencySpend(ApiModel):
    currency: str
    total: float
    by_category: list[CategoryAmount] = Field(default_factory=list)


class SpendReport(ApiModel):
    window: Window
    currencies: list[CurrencySpend] = Field(default_factory=list)


class ServiceReport(ApiModel):
    service: str
    availability: AvailabilityReport
    incidents: IncidentReport
    dora: DoraReport
    spend: SpendReport


class FailureCluster(ApiModel):
    """One group's production changes and failures, and its incidents' restore time, with
    its shares of all failures and of all restore time (percent)."""

    key: str | None
    changes: int
    failures: int
    incidents: int
    resolved_incidents: int
    restore_hours: float
    change_failure_rate: float | None = None
    share_of_failures: float | None = None
    share_of_restore_time: float | None = None
    mean_time_to_restore: float | None = Field(default=None, description="Minutes.")


class FailureClusters(ApiModel):
    window: Window
    by: str
    order: str
    changes: int
    failures: int
    incidents: int
    restore_hours: float
    clusters: list[FailureCluster]
    name: str | None = None
    change_failure_rate: float | None = None
