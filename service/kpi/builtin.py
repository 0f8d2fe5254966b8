"""Builtin metrics from the figures SQL aggregates per window: pure arithmetic, no I/O.

Definitions (DESIGN):
- availability = 1 - outage seconds / (services x window seconds): each service's outages are
  merged first (overlaps count once), then the scope's services are pooled;
- error budget remaining = 1 - outage seconds / budget seconds, the budget being
  (1 - availability target) x window seconds summed over the scope's services; burn rate =
  outage seconds / budget seconds (1 spends exactly the budget over the window);
- downtime cost = outage hours x the service's revenue per hour, plus explicit estimates;
- recurrence rate = recurring incidents / incidents; change failure rate = failures /
  deployments; rework rate = hotfixes and rollbacks / deployments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from service.kpi import units
from service.models.enums import BuiltinMetric


@dataclass(frozen=True)
class Outage:
    seconds: float
    incidents: int


@dataclass(frozen=True)
class Summary:
    """Mean, median and p90 of a duration in seconds over n incidents."""

    n: int = 0
    mean: float | None = None
    median: float | None = None
    p90: float | None = None


@dataclass(frozen=True)
class IncidentFigures:
    incidents: int = 0
    recurring: int = 0
    users_affected: float | None = None
    cost_estimate: float | None = None
    detect: Summary = field(default_factory=Summary)
    acknowledge: Summary = field(default_factory=Summary)
    resolve: Summary = field(default_factory=Summary)
    restore: Summary = field(default_factory=Summary)


@dataclass(frozen=True)
class ChangeFigures:
    deployments: int = 0
    failures: int = 0
    rework: int = 0
    lead_n: int = 0
    lead_median: float | None = None
    recovery_n: int = 0
    recovery_median: float | None = None


def availability(outages: Mapping[int, Outage], services: int, seconds: float) -> float | None:
    if services == 0 or seconds <= 0:
        return None
    down = sum(o.seconds for o in outages.values())
    return 1 - down / (services * seconds)


def error_budget(
    outages: Mapping[int, Outage], targets: Mapping[int, float], seconds: float
) -> tuple[float, float] | None:
    """(remaining, burn rate) of the pooled budget of the services in `targets` (share each)."""
    if not targets or seconds <= 0:
        return None
    budget = sum((1 - t) * seconds for t in targets.values())
    spent = sum(o.seconds for sid, o in outages.items() if sid in targets)
    if budget <= 0:
        return (1.0, 0.0) if spent <= 0 else (-1.0, float("inf"))
    return 1 - spent / budget, spent / budget


def downtime_cost(
    outages: Mapping[int, Outage], revenue_per_hour: Mapping[int, float], estimates: float | None
) -> float:
    lost = sum(o.seconds / 3600 * revenue_per_hour.get(sid, 0.0) for sid, o in outages.items())
    return lost + (estimates or 0.0)


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


INCIDENT_METRICS = frozenset({
    BuiltinMetric.MTTD, BuiltinMetric.MTTA, BuiltinMetric.MTTR, BuiltinMetric.TIME_TO_RESTORE,
    BuiltinMetric.INCIDENT_COUNT, BuiltinMetric.RECURRENCE_RATE, BuiltinMetric.USERS_AFFECTED,
})  # fmt: skip
CHANGE_METRICS = frozenset({
    BuiltinMetric.DEPLOYMENT_FREQUENCY, BuiltinMetric.LEAD_TIME,
    BuiltinMetric.CHANGE_FAILURE_RATE, BuiltinMetric.RECOVERY_TIME, BuiltinMetric.REWORK_RATE,
})  # fmt: skip
OUTAGE_METRICS = frozenset({
    BuiltinMetric.AVAILABILITY, BuiltinMetric.ERROR_BUDGET_REMAINING, BuiltinMetric.DOWNTIME_COST,
})  # fmt: skip


def incident_value(
    metric: BuiltinMetric, figures: IncidentFigures, unit: str
) -> tuple[float | None, int]:
    """The metric's value in the KPI's unit, and the incidents behind it."""
    f = figures
    by_summary = {
        BuiltinMetric.MTTD: f.detect,
        BuiltinMetric.MTTA: f.acknowledge,
        BuiltinMetric.MTTR: f.resolve,
        BuiltinMetric.TIME_TO_RESTORE: f.restore,
    }
    if metric in by_summary:
        summary = by_summary[metric]
        return units.duration(summary.mean, unit), summary.n
    if metric is BuiltinMetric.INCIDENT_COUNT:
        return float(f.incidents), f.incidents
    if metric is BuiltinMetric.RECURRENCE_RATE:
        return units.rate(share(f.recurring, f.incidents), unit), f.incidents
    if metric is BuiltinMetric.USERS_AFFECTED:
        return (f.users_affected or 0.0), f.incidents
    raise ValueError(f"{metric} is not an incident metric")


def change_value(
    metric: BuiltinMetric, figures: ChangeFigures, unit: str, seconds: float
) -> tuple[float | None, int]:
    """The metric's value in the KPI's unit, and the changes behind it (`seconds`: how much of
    the bucket was measured, for a frequency per day or week)."""
    f = figures
    if metric is BuiltinMetric.DEPLOYMENT_FREQUENCY:
        return units.deploys(f.deployments, seconds, unit), f.deployments
    if metric is BuiltinMetric.LEAD_TIME:
        return units.duration(f.lead_median, unit), f.lead_n
    if metric is BuiltinMetric.CHANGE_FAILURE_RATE:
        return units.rate(share(f.failures, f.deployments), unit), f.deployments
    if metric is BuiltinMetric.RECOVERY_TIME:
        return units.duration(f.recovery_median, unit), f.recovery_n
    if metric is BuiltinMetric.REWORK_RATE:
        return units.rate(share(f.rework, f.deployments), unit), f.deployments
    raise ValueError(f"{metric} is not a change metric")
