"""Builtin metrics from the figures SQL aggregates per window: pure arithmetic, no I/O.

Definitions (DESIGN):
- availability = 1 - outage seconds / (services x window seconds): each service's outages are
  merged first (overlaps count once), then the scope's services are pooled;
- error budget remaining = 1 - outage seconds / budget seconds, the budget being
  (1 - availability target) x window seconds summed over the scope's services; burn rate =
  outage seconds / budget seconds (1 spends exactly the budget over the window);
- outage inside a maintenance window is planned downtime: left out of availability and the
  error budget, reported on its own (service/kpi/maintenance.py);
- downtime cost = outage hours (planned downtime included) x the service's revenue per hour,
  plus explicit estimates;
- recurrence rate = recurring incidents / incidents; change failure rate = failures /
  deployments; rework rate = hotfixes, rollbacks and reverts shipped / deployments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Outage:
    """A service's outage within a window: the merged time down outside maintenance windows
    (what availability and the error budget count), the incidents behind it, and the time
    down inside maintenance windows (planned downtime, service/kpi/maintenance.py)."""

    seconds: float
    incidents: int
    planned_seconds: float = 0.0

    @property
    def hours(self) -> float:
        return self.seconds / 3600


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
    # Planned downtime loses revenue as well: the cost counts all the time down.
    lost = sum(
        (o.seconds + o.planned_seconds) / 3600 * revenue_per_hour.get(sid, 0.0)
        for sid, o in outages.items()
    )
    return lost + (estimates or 0.0)


def ratio(part: int, whole: int) -> float | None:
    """part / whole as a share (0..1); undefined (None) without a whole."""
    return part / whole if whole else None
