"""Leader-facing reads: a service's availability, incident, DORA and spend figures over a
window, the scorecard, outcome health, services at risk and governance gaps.

Units are fixed here, whatever a KPI's unit: percentages 0-100, durations in minutes (lead
and recovery times in hours), money in the cost records' currency.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pydantic import BaseModel, Field

from service.models.enums import (
    Band,
    Cadence,
    ClusterDimension,
    ClusterOrder,
    Severity,
    Status,
    TargetScope,
    Trend,
)
from service.models.statuses import StatusDriver


class Window(BaseModel):
    start: dt.datetime
    end: dt.datetime = Field(description="Exclusive; at most now.")
    complete: bool = Field(
        default=True,
        description="False when the window asked for runs past now: the figures cover only "
        "its part up to now and will still move.",
    )


class AvailabilityReport(BaseModel):
    window: Window
    availability: float | None = Field(description="Percent of the window without outage.")
    outage_minutes: float = Field(
        description="Merged outage time (overlaps counted once) outside maintenance windows: "
        "what availability and the error budget count."
    )
    outage_incidents: int
    planned_downtime_minutes: float = Field(
        default=0.0,
        description="Merged outage time inside the service's maintenance windows: planned "
        "downtime, left out of availability and the error budget.",
    )
    target: float = Field(description="Availability target in percent.")
    target_scope: TargetScope = Field(
        description="Where the target came from: the service's own, its tier's or the global "
        "target of `target_kpi`, or the tier default when none applies."
    )
    target_kpi: str | None = Field(
        default=None,
        description="The availability KPI whose targets apply: the one asked for, else the "
        "builtin availability KPI that applies to the service (the first by key), else the "
        "only builtin availability KPI when there is exactly one; null for the tier default.",
    )
    error_budget_remaining: float | None = Field(
        description="Percent of the error budget left; negative once overspent."
    )
    burn_rate: float | None = Field(description="1 spends exactly the budget over the window.")


class DurationStats(BaseModel):
    n: int = Field(description="Incidents with both instants known.")
    mean: float | None = Field(description="Minutes.")
    median: float | None = Field(description="Minutes.")
    p90: float | None = Field(description="Minutes.")


class IncidentGroup(BaseModel):
    severity: Severity | None = Field(default=None, description="Set in the by-severity list.")
    service: str | None = Field(default=None, description="Set in the by-service list.")
    incidents: int
    mttd: DurationStats = Field(description="Detected - impact start.")
    mtta: DurationStats = Field(description="Acknowledged - detected.")
    mttr: DurationStats = Field(description="Resolved - detected.")
    time_to_restore: DurationStats = Field(description="Resolved - impact start.")


class IncidentReport(BaseModel):
    window: Window
    overall: IncidentGroup
    by_severity: list[IncidentGroup]
    by_service: list[IncidentGroup]
    recurrence_rate: float | None = Field(
        description="Percent of incidents with an earlier one of the same service and problem "
        "key in the 30 days before."
    )
    users_affected: float
    downtime_cost: float = Field(
        description="Outage hours x revenue per hour, plus explicit incident cost estimates."
    )


class BandedValue(BaseModel):
    value: float | None
    band: Band | None = Field(description="DORA 2023 performance band.")


class DoraReport(BaseModel):
    window: Window
    deployments: int = Field(description="Production changes finished with a final status.")
    deployments_per_week: BandedValue = Field(
        description="Deployments per week of the window (deployments / window days x 7)."
    )
    lead_time: BandedValue = Field(description="Median hours from commit to deploy.")
    change_failure_rate: BandedValue = Field(description="Percent of deployments that failed.")
    recovery_time: BandedValue = Field(
        description="Median hours from a failed deployment to the resolution of its incidents."
    )
    rework_rate: float | None = Field(description="Percent of deployments that are hotfixes "
                                      "or rollbacks, or ship a revert.")  # fmt: skip


class CategoryAmount(BaseModel):
    category: str
    amount: float


class CurrencySpend(BaseModel):
    currency: str
    total: float
    by_category: list[CategoryAmount]


class SpendReport(BaseModel):
    window: Window
    currencies: list[CurrencySpend] = Field(
        description="Spend per currency; cost records are spread evenly over their days."
    )


class ServiceReport(BaseModel):
    service: str
    availability: AvailabilityReport
    incidents: IncidentReport
    dora: DoraReport
    spend: SpendReport


class ScorecardItem(BaseModel):
    kpi: str
    name: str
    unit: str
    cadence: Cadence | None
    period_start: dt.datetime | None
    period_end: dt.datetime | None
    value: float | None
    target: float | None
    warning: float | None
    target_scope: TargetScope | None = Field(
        description="Where the target came from (see KpiStatus); 'services' for a status "
        "rolled up from the KPI's services, with `driver` naming the one that set it."
    )
    status: Status
    driver: StatusDriver | None
    previous_value: float | None
    trend: Trend
    complete: bool = Field(description="Whether the period has ended.")
    business_owner: str | None
    technology_owner: str | None
    evaluated_at: dt.datetime | None = Field(description="Null when computed, not stored.")


class Scorecard(BaseModel):
    on: dt.datetime = Field(description="The instant whose periods are shown.")
    items: list[ScorecardItem]
    board_level: int = Field(description="KPIs flagged board-level.")
    warnings: list[str]


class KpiHealth(BaseModel):
    kpi: str
    weight: float
    status: Status


class OutcomeHealth(BaseModel):
    score: float | None = Field(
        description="Weighted share of the outcome's KPIs that are healthy: met counts 1, at "
        "risk 0.5, breached 0; KPIs with no data are left out."
    )
    status: Status = Field(description="met at 0.9 or more, at risk from 0.6, else breached.")
    kpis: list[KpiHealth]


class ServiceAtRisk(BaseModel):
    service: str
    reasons: list[str]
    via: str | None = Field(
        description="The critical (tier 1) service that depends on this one, when the risk "
        "comes through a dependency."
    )


class GovernanceGap(BaseModel):
    kpi: str
    missing: list[str] = Field(
        description="business_owner, technology_owner, cadence, target, escalation_path."
    )


@dataclass(frozen=True)
class OutageNow:
    """A service down now: its outage incidents under way, the worst severity among them and
    the start of the stretch under way."""

    service_id: int
    worst: str
    incidents: int
    since: dt.datetime


@dataclass(frozen=True)
class BreachedStatus:
    """A (KPI, service) whose latest stored status is breached, from the period starting at
    `period_start`."""

    kpi_id: int
    key: str
    service_id: int
    period_start: dt.datetime


class FailureCluster(BaseModel):
    key: str | None = Field(
        description="The group: a service slug, a tier, a team slug, a change kind, an "
        "environment, or the attribute's or label's value. Null: no team, no such attribute "
        "or label, or (grouped by kind, environment or label) the incidents that name no "
        "change as their cause."
    )
    changes: int = Field(description="Production changes finished in the window.")
    failures: int = Field(description="Of those, the failed ones (as change failure rate counts).")
    change_failure_rate: float | None = Field(description="Percent of its changes that failed.")
    share_of_failures: float | None = Field(description="Percent of all failed changes.")
    incidents: int = Field(description="Incidents whose impact started in the window.")
    resolved_incidents: int
    restore_hours: float = Field(description="Restore time (resolved - started), summed.")
    share_of_restore_time: float | None = Field(description="Percent of all restore time.")
    mean_time_to_restore: float | None = Field(description="Minutes, over resolved incidents.")


class FailureClusters(BaseModel):
    window: Window
    by: ClusterDimension
    name: str | None = Field(description="The attribute or label grouped by, if any.")
    order: ClusterOrder
    changes: int
    failures: int
    change_failure_rate: float | None = Field(description="Percent, over every group.")
    incidents: int
    restore_hours: float
    clusters: list[FailureCluster] = Field(
        description="The groups, the largest share first (of failures or of restore time)."
    )
