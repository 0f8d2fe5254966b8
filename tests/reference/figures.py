"""A service's report over a window, computed from the histories by the definitions alone.

Units are the report's: percent, minutes (lead and recovery times in hours), deployments per
week. The window is measured up to now: [start, min(end, now)).

- Availability = 1 - merged outage seconds / window seconds, counting the incidents at or above
  the service's outage threshold (sev1 is the highest), each by its outage intervals (from impact
  start to the first resolution, then from each reopening to the next, the last open one to
  now), merged and clipped to the window. Error budget remaining = 1 - outage / ((1 - target)
  x window), burn rate = outage / ((1 - target) x window), the target being the tier default.
- MTTD = detected - started, MTTA = acknowledged - detected, MTTR = resolved - detected (to the
  final resolution), time to restore = resolved - started; over incidents whose impact started
  in the window and have both instants; mean, median and p90 as Postgres' percentile_cont.
- Recurrence rate = share of incidents started in the window with an earlier incident of the
  same service and problem key started at most 30 days before.
- DORA over production changes finished in the window with status success, failed or rolled
  back: change failure rate counts the failed, rolled back and linked ones; rework rate the
  hotfixes and rollbacks; lead time is the median over every (deployment, commit) pair of
  finished - commit time; recovery time the median, over deployments whose linked incidents
  are all resolved, of the last resolution - finished.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tests.reference.history import (
    DEPLOYED_STATUSES,
    Change,
    Incident,
    Service,
    severity_rank,
)
from tests.reference.links import links
from tests.reference.timeline import IncidentRecord, fold_change, fold_incident

#: Availability targets by tier when no target is defined.
TIER_TARGET = {1: 0.9995, 2: 0.999, 3: 0.995, 4: 0.99}
RECURRENCE_WINDOW = dt.timedelta(days=30)
DAY = 86_400.0
WEEK = 7 * DAY
MONTH = 30 * DAY
HOUR = 3_600.0


@dataclass(frozen=True)
class Window:
    start: dt.datetime
    end: dt.datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def measured_window(start: dt.datetime, end: dt.datetime, now: dt.datetime) -> Window:
    stop = min(end, now)
    if stop <= start:
        raise ValueError("the window must start before its end and before now")
    return Window(start, stop)


def percentile_cont(values: Iterable[float], fraction: float) -> float | None:
    """Linear interpolation between the closest ranks, as Postgres' percentile_cont."""
    ordered = sorted(values)
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    below, above = math.floor(position), math.ceil(position)
    return ordered[below] + (position - below) * (ordered[above] - ordered[below])


def union_seconds(intervals: Iterable[tuple[dt.datetime, dt.datetime]]) -> float:
    """Length of the union of [start, end) intervals."""
    total, reach = 0.0, None
    for start, end in sorted(intervals):
        if reach is None or start > reach:
            total += (end - start).total_seconds()
            reach = end
        elif end > reach:
            total += (end - reach).total_seconds()
            reach = end
    return total


# Availability and error budget --------------------------------------------------------------


@dataclass(frozen=True)
class Availability:
    availability: float  # percent
    outage_minutes: float
    outage_incidents: int
    target: float  # percent
    error_budget_remaining: float  # percent
    burn_rate: float


def outage_intervals(
    service: Service, incidents: Sequence[Incident], window: Window, now: dt.datetime
) -> dict[str, list[tuple[dt.datetime, dt.datetime]]]:
    """Incident external id -> its outage intervals clipped to the window (non-empty only)."""
    threshold = severity_rank(service.outage_threshold)
    found: dict[str, list[tuple[dt.datetime, dt.datetime]]] = {}
    for incident in incidents:
        if incident.service != service.slug or severity_rank(incident.severity) > threshold:
            continue
        for start, end in fold_incident(incident).outages:
            clipped = (max(start, window.start), min(end or now, window.end))
            if clipped[0] < clipped[1]:
                found.setdefault(incident.external_id, []).append(clipped)
    return found


def availability(
    service: Service, incidents: Sequence[Incident], window: Window, now: dt.datetime
) -> Availability:
    clipped = outage_intervals(service, incidents, window, now)
    down = union_seconds(i for intervals in clipped.values() for i in intervals)
    target = TIER_TARGET[service.tier]
    budget = (1 - target) * window.seconds
    return Availability(
        availability=(1 - down / window.seconds) * 100,
        outage_minutes=down / 60,
        outage_incidents=len(clipped),
        target=target * 100,
        error_budget_remaining=(1 - down / budget) * 100,
        burn_rate=down / budget,
    )


# Incident response ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Durations:
    n: int
    mean: float | None  # minutes
    median: float | None
    p90: float | None


@dataclass(frozen=True)
class IncidentGroup:
    incidents: int
    mttd: Durations
    mtta: Durations
    mttr: Durations
    time_to_restore: Durations


@dataclass(frozen=True)
class IncidentFigures:
    overall: IncidentGroup
    by_severity: dict[str, IncidentGroup]
    recurrence_rate: float | None  # percent
    users_affected: float
    downtime_cost: float


def durations(values: Sequence[float]) -> Durations:
    """Seconds in, minutes out."""
    minutes = [v / 60 for v in values]
    return Durations(
        n=len(minutes),
        mean=sum(minutes) / len(minutes) if minutes else None,
        median=percentile_cont(minutes, 0.5),
        p90=percentile_cont(minutes, 0.9),
    )


def _between(end: dt.datetime | None, start: dt.datetime | None) -> float | None:
    return None if end is None or start is None else (end - start).total_seconds()


def incident_group(records: Sequence[IncidentRecord]) -> IncidentGroup:
    def known(values: Iterable[float | None]) -> list[float]:
        return [v for v in values if v is not None]

    return IncidentGroup(
        incidents=len(records),
        mttd=durations(known(_between(r.detected_at, r.started_at) for r in records)),
        mtta=durations(known(_between(r.acknowledged_at, r.detected_at) for r in records)),
        mttr=durations(known(_between(r.resolved_at, r.detected_at) for r in records)),
        time_to_restore=durations(known(_between(r.resolved_at, r.started_at) for r in records)),
    )


def recurs(incident: Incident, incidents: Sequence[Incident]) -> bool:
    """Whether an earlier incident of the same service and problem key started at most 30
    days before this one."""
    if incident.problem_key is None:
        return False
    started = fold_incident(incident).started_at
    return any(
        other.service == incident.service
        and other.problem_key == incident.problem_key
        and started - RECURRENCE_WINDOW <= fold_incident(other).started_at < started
        for other in incidents
    )


def incident_figures(
    service: Service, incidents: Sequence[Incident], window: Window, now: dt.datetime
) -> IncidentFigures:
    own = [
        i
        for i in incidents
        if i.service == service.slug and window.start <= fold_incident(i).started_at < window.end
    ]
    by_severity: dict[str, list[IncidentRecord]] = defaultdict(list)
    for incident in own:
        by_severity[incident.severity].append(fold_incident(incident))
    clipped = outage_intervals(service, incidents, window, now)
    down = union_seconds(i for intervals in clipped.values() for i in intervals)
    return IncidentFigures(
        overall=incident_group([fold_incident(i) for i in own]),
        by_severity={sev: incident_group(records) for sev, records in by_severity.items()},
        recurrence_rate=(sum(recurs(i, incidents) for i in own) / len(own) * 100 if own else None),
        users_affected=float(sum(i.users_affected or 0 for i in own)),
        downtime_cost=down / HOUR * service.revenue_per_hour
        + sum(i.cost_estimate or 0.0 for i in own),
    )


# DORA ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Banded:
    value: float | None
    band: str | None


@dataclass(frozen=True)
class Dora:
    deployments: int
    deployments_per_week: Banded
    lead_time: Banded  # hours
    change_failure_rate: Banded  # percent
    recovery_time: Banded  # hours
    rework_rate: float | None  # percent


def rate_band(share: float) -> str:
    """Change failure rate: 5 / 10 / 15 %; a rate on a threshold is in the better band."""
    for band, limit in (("elite", 0.05), ("high", 0.10), ("medium", 0.15)):
        if share <= limit:
            return band
    return "low"


def duration_band(seconds: float, elite: float, high: float, medium: float) -> str:
    """Under each threshold; a duration on a threshold is in the worse band."""
    for band, limit in (("elite", elite), ("high", high), ("medium", medium)):
        if seconds < limit:
            return band
    return "low"


def frequency_band(deployments: int, seconds: float) -> str:
    """On demand (daily or more), weekly, monthly, else low."""
    per_day = deployments / (seconds / DAY)
    for band, least in (("elite", 1.0), ("high", 1 / 7), ("medium", 1 / 30)):
        if per_day >= least:
            return band
    return "low"


def commit_times(changes: Sequence[Change]) -> dict[str, dt.datetime]:
    """Every commit time stated, the earliest per sha."""
    known: dict[str, dt.datetime] = {}
    for change in changes:
        for commit in change.commits:
            sha = commit.sha.lower()
            known[sha] = min(known.get(sha, commit.committed_at), commit.committed_at)
    return known


def dora(
    service: Service, changes: Sequence[Change], incidents: Sequence[Incident], window: Window
) -> Dora:
    caused: dict[str, list[IncidentRecord]] = defaultdict(list)
    by_id = {i.external_id: i for i in incidents}
    for incident_id, link in links(incidents, changes).items():
        caused[link.change].append(fold_incident(by_id[incident_id]))
    known = commit_times(changes)
    deployed, failures, rework, leads, recoveries = 0, 0, 0, [], []
    for change in changes:
        rec = fold_change(change)
        if not (
            change.service == service.slug
            and rec.is_production
            and rec.status in DEPLOYED_STATUSES
            and rec.finished_at is not None
            and window.start <= rec.finished_at < window.end
        ):
            continue
        deployed += 1
        failed = rec.status in ("failed", "rolled_back") or bool(caused[change.external_id])
        failures += failed
        rework += change.kind in ("hotfix", "rollback")
        shas = {c.sha.lower() for c in change.commits}
        if change.commit_sha is not None and change.commit_sha.lower() in known:
            shas.add(change.commit_sha.lower())
        leads += [(rec.finished_at - known[sha]).total_seconds() for sha in sorted(shas)]
        linked = caused[change.external_id]
        if linked and all(r.resolved_at is not None for r in linked):
            last = max(r.resolved_at for r in linked if r.resolved_at is not None)
            recoveries.append((last - rec.finished_at).total_seconds())
    lead, recovery = percentile_cont(leads, 0.5), percentile_cont(recoveries, 0.5)
    cfr = failures / deployed if deployed else None
    return Dora(
        deployments=deployed,
        deployments_per_week=Banded(
            deployed / (window.seconds / WEEK), frequency_band(deployed, window.seconds)
        ),
        lead_time=Banded(
            None if lead is None else lead / HOUR,
            None if lead is None else duration_band(lead, DAY, WEEK, MONTH),
        ),
        change_failure_rate=Banded(
            None if cfr is None else cfr * 100, None if cfr is None else rate_band(cfr)
        ),
        recovery_time=Banded(
            None if recovery is None else recovery / HOUR,
            None if recovery is None else duration_band(recovery, HOUR, DAY, WEEK),
        ),
        rework_rate=rework / deployed * 100 if deployed else None,
    )


# The whole report ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceReport:
    availability: Availability
    incidents: IncidentFigures
    dora: Dora


def service_report(
    service: Service,
    incidents: Sequence[Incident],
    changes: Sequence[Change],
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
) -> ServiceReport:
    """`incidents` and `changes` are everything stated (every service): links and commit
    times may cross services."""
    window = measured_window(start, end, now)
    return ServiceReport(
        availability=availability(service, incidents, window, now),
        incidents=incident_figures(service, incidents, window, now),
        dora=dora(service, changes, incidents, window),
    )
