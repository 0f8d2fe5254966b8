"""What builtin metrics read: the scope's services, and per window the incident, change and
outage figures (sql/queries/metrics.sql), each in one statement over every window; the
availability objectives and revenue they weigh by. Spend and budgets are in
service/store/money.py. service/usecases/measure.py computes
the metrics from these.

A scope is one service, a team's services, a tier's services or the whole fleet.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from service.db import Connection, statements
from service.errors import invalid
from service.kpi.builtin import ChangeFigures, IncidentFigures, Outage, Summary
from service.kpi.periods import Period
from service.kpi.targets import DEFAULT_AVAILABILITY, effective
from service.kpi.units import as_share
from service.models.catalog import Kpi, Service, Target
from service.models.enums import KpiKind, Severity, TargetScope
from service.store import kpis as kpi_store
from service.store import maintenance, teams
from service.store import services as service_store
from service.store import targets as target_store

T = TypeVar("T")
A = TypeVar("A")


q = statements("metrics")


@dataclass(frozen=True)
class MetricScope:
    """The services a metric is computed over. `whole_estate` also takes in cost records that
    belong to no service (fleet scope only)."""

    kind: str
    name: str | None
    service_ids: tuple[int, ...]
    whole_estate: bool = False


@dataclass(frozen=True)
class MetricFilter:
    """Which incidents and changes a figure counts (None: no restriction; for changes, the
    production ones)."""

    severities: list[str] | None = None
    environments: list[str] | None = None
    change_kinds: list[str] | None = None

    @classmethod
    def of(cls, kpi: Kpi) -> MetricFilter:
        f = kpi.filter
        if f is None:
            return NO_FILTER
        return cls(
            severities=[s.value for s in f.severities] if f.severities else None,
            environments=[e.casefold() for e in f.environments] if f.environments else None,
            change_kinds=[k.value for k in f.change_kinds] if f.change_kinds else None,
        )


NO_FILTER = MetricFilter()


async def scope_of_kpi(
    con: Connection, kpi: Kpi, *, service: str | None = None, team: str | None = None,
    tier: int | None = None,
) -> MetricScope:  # fmt: skip
    """The scope asked for (one of service, team or tier), else the KPI's own (kpi_scope)."""
    if service is None and team is None and tier is None:
        return await kpi_scope(con, kpi)
    return await resolve_scope(con, service=service, team=team, tier=tier)


async def kpi_scope(con: Connection, kpi: Kpi) -> MetricScope:
    """What a KPI's overall figure is about: a builtin KPI's the services it applies to when
    it names any, else (and for observed and ratio KPIs) the whole fleet."""
    if kpi.kind is KpiKind.BUILTIN:
        ids = await services_of_kpi(con, kpi.id)
        if ids:
            return MetricScope("kpi", kpi.key, tuple(ids))
    return await resolve_scope(con)


async def resolve_scope(
    con: Connection, *, service: str | None = None, team: str | None = None,
    tier: int | None = None,
) -> MetricScope:  # fmt: skip
    given = [n for n, v in (("service", service), ("team", team), ("tier", tier)) if v is not None]
    if len(given) > 1:
        raise invalid(given[1], f"give one of service, team or tier, not {' and '.join(given)}")
    if service is not None:
        (sid,) = await service_store.service_ids(con, [service], field="service")
        return MetricScope("service", service, (sid,))
    if team is not None:
        team_id = await teams.team_id_by_slug(con, team)
        if team_id is None:
            raise invalid("team", f"unknown team {team!r}")
        ids = await scope_team_services(con, team_id)
        return MetricScope("team", team, tuple(ids))
    if tier is not None:
        if not 1 <= tier <= 4:
            raise invalid("tier", "must be between 1 and 4")
        ids = await scope_tier_services(con, tier)
        return MetricScope("tier", str(tier), tuple(ids))
    ids = await scope_all_services(con)
    return MetricScope("fleet", None, tuple(ids), whole_estate=True)


async def services_of_kpi(con: Connection, kpi_id: int) -> list[int]:
    """The services a KPI applies to."""
    return list(await con.fetchval(q("services_of_kpi"), kpi_id))


async def scope_team_services(con: Connection, team_id: int) -> list[int]:
    return list(await con.fetchval(q("scope_team_services"), team_id))


async def scope_tier_services(con: Connection, tier: int) -> list[int]:
    return list(await con.fetchval(q("scope_tier_services"), tier))


async def scope_all_services(con: Connection) -> list[int]:
    return list(await con.fetchval(q("scope_all_services")))


async def _fetch_planned(con: Connection, name: str, *args: Any) -> list[Any]:
    """The rows of a metric query, planned for these very arguments.

    A statement from asyncpg's cache may, after five executions on a connection, run on a
    generic plan, one that assumes a few services and rows whatever the scope and windows (for
    a fleet-year: nested loops over hundreds of thousands of rows). A statement prepared for
    this call is planned for its arguments, at the cost of one more round trip."""
    statement = await con.prepare(q(name))
    rows: list[Any] = await statement.fetch(*args)
    return rows


def window_arrays(windows: Sequence[Period]) -> tuple[list[dt.datetime], list[dt.datetime]]:
    return [w.start for w in windows], [w.end for w in windows]


def _span(windows: Sequence[Period]) -> tuple[dt.datetime, dt.datetime]:
    """The earliest start and the latest end: the rows a metric query reads."""
    return min(w.start for w in windows), max(w.end for w in windows)


async def outage_seconds(
    con: Connection, service_ids: Sequence[int], windows: Sequence[Period], now: dt.datetime,
    severities: list[str] | None,
) -> list[Any]:  # fmt: skip
    """Rows (n: window number from 1, service_id, seconds, incidents) of the services'
    merged outage seconds in each window."""
    starts, ends = window_arrays(windows)
    return await _fetch_planned(
        con, "outage_seconds", list(service_ids), starts, ends, now, *_span(windows), severities
    )


async def incident_stats(
    con: Connection, service_ids: Sequence[int], windows: Sequence[Period],
    severities: list[str] | None, window_services: Sequence[int] | None = None,
    window_groups: Sequence[int] | None = None,
) -> list[Any]:  # fmt: skip
    """Rows of incident figures per window (n from 1): overall (level 3), by service (level
    2) and by severity (with `window_services`, each window that one service's only; with
    `window_groups`, n numbers the group of windows counted together)."""
    starts, ends = window_arrays(windows)
    return await _fetch_planned(
        con, "incident_stats", list(service_ids), starts, ends, *_span(windows), severities,
        None if window_services is None else list(window_services),
        None if window_groups is None else list(window_groups),
    )  # fmt: skip


async def incident_resolution_by_severity(
    con: Connection, service_ids: Sequence[int], windows: Sequence[Period],
    severities: list[str] | None, window_services: Sequence[int] | None = None,
    window_groups: Sequence[int] | None = None,
) -> list[Any]:  # fmt: skip
    """Rows (n, severity, incidents, ttr_n, ttr_mean, ttr_median, ttr_p90) of resolution
    times by severity per window, with the arguments of `incident_stats`."""
    starts, ends = window_arrays(windows)
    return await _fetch_planned(
        con, "incident_resolution_by_severity", list(service_ids), starts, ends,
        *_span(windows), severities,
        None if window_services is None else list(window_services),
        None if window_groups is None else list(window_groups),
    )  # fmt: skip


async def change_stats(
    con: Connection, service_ids: Sequence[int], windows: Sequence[Period], only: MetricFilter,
    window_services: Sequence[int] | None, window_groups: Sequence[int] | None = None,
) -> list[Any]:  # fmt: skip
    """Rows of DORA figures per window (n from 1; with `window_groups`, per group)."""
    starts, ends = window_arrays(windows)
    return await _fetch_planned(
        con, "change_stats", list(service_ids), starts, ends, *_span(windows),
        only.environments, only.change_kinds,
        None if window_services is None else list(window_services),
        None if window_groups is None else list(window_groups),
    )  # fmt: skip


async def outages(
    con: Connection, scope: MetricScope, windows: Sequence[Period], now: dt.datetime,
    only: MetricFilter = NO_FILTER,
) -> list[dict[int, Outage]]:  # fmt: skip
    """Per window, each service's merged outage seconds (services without outage absent),
    the part inside maintenance windows set apart as planned downtime."""
    result: list[dict[int, Outage]] = [{} for _ in windows]
    if not windows or not scope.service_ids:
        return result
    rows = await outage_seconds(con, scope.service_ids, windows, now, only.severities)
    planned = await maintenance.planned_outage_seconds(
        con, scope.service_ids, windows, now, only.severities
    )
    for r in rows:
        inside = planned.get((r["n"] - 1, r["service_id"]), 0.0)
        result[r["n"] - 1][r["service_id"]] = Outage(
            max(r["seconds"] - inside, 0.0), r["incidents"], inside
        )
    return result


def _counted(windows: Sequence[Period], window_groups: Sequence[int] | None) -> int:
    """How many figures a reading gives: one per window, or per group (numbered from 1)."""
    return len(windows) if window_groups is None else max(window_groups, default=0)


class IncidentFigureSet(enum.Enum):
    """Which incident figures a reading computes."""

    #: Every figure of incident_stats: four durations overall, by severity and by service,
    #: recurrence, users affected and cost.
    ALL = "all"
    #: The count and the resolution times (MTTR) by severity only; every other figure of the
    #: breakdown is left at its empty value.
    RESOLUTION_BY_SEVERITY = "resolution_by_severity"


@dataclass(frozen=True)
class IncidentBreakdown:
    overall: IncidentFigures = field(default_factory=IncidentFigures)
    by_severity: dict[Severity, IncidentFigures] = field(default_factory=dict)
    by_service: dict[int, IncidentFigures] = field(default_factory=dict)


def _summary(r: Any, prefix: str) -> Summary:
    return Summary(r[f"{prefix}_n"], r[f"{prefix}_mean"], r[f"{prefix}_median"], r[f"{prefix}_p90"])


def _incident_figures(r: Any) -> IncidentFigures:
    return IncidentFigures(
        incidents=r["incidents"],
        recurring=r["recurring"],
        users_affected=r["users_affected"],
        cost_estimate=r["cost_estimate"],
        detect=_summary(r, "ttd"),
        acknowledge=_summary(r, "tta"),
        resolve=_summary(r, "ttr"),
        restore=_summary(r, "restore"),
    )


async def incidents(
    con: Connection, scope: MetricScope, windows: Sequence[Period],
    only: MetricFilter = NO_FILTER, window_services: Sequence[int] | None = None,
    window_groups: Sequence[int] | None = None,
    figures: IncidentFigureSet = IncidentFigureSet.ALL,
) -> list[IncidentBreakdown]:  # fmt: skip
    """Per window, incident figures overall, by severity and by service (with
    `window_services`, each window counts that one service's incidents only; with
    `window_groups`, per group of windows, numbered from 1); `figures` says which."""
    count = _counted(windows, window_groups)
    overall: list[IncidentFigures] = [IncidentFigures() for _ in range(count)]
    by_severity: list[dict[Severity, IncidentFigures]] = [{} for _ in range(count)]
    by_service: list[dict[int, IncidentFigures]] = [{} for _ in range(count)]
    if windows and scope.service_ids and figures is IncidentFigureSet.RESOLUTION_BY_SEVERITY:
        for r in await incident_resolution_by_severity(
            con, scope.service_ids, windows, only.severities, window_services, window_groups
        ):
            by_severity[r["n"] - 1][Severity(r["severity"])] = IncidentFigures(
                incidents=r["incidents"], resolve=_summary(r, "ttr")
            )
    elif windows and scope.service_ids:
        rows = await incident_stats(
            con, scope.service_ids, windows, only.severities, window_services, window_groups
        )
        for r in rows:
            i = r["n"] - 1
            if r["level"] == 3:
                overall[i] = _incident_figures(r)
            elif r["level"] == 2:
                by_service[i][r["service_id"]] = _incident_figures(r)
            elif r["severity"] is not None:
                by_severity[i][Severity(r["severity"])] = _incident_figures(r)
    return [
        IncidentBreakdown(*parts) for parts in zip(overall, by_severity, by_service, strict=True)
    ]


async def changes(
    con: Connection, scope: MetricScope, windows: Sequence[Period],
    only: MetricFilter = NO_FILTER, window_services: Sequence[int] | None = None,
    window_groups: Sequence[int] | None = None,
) -> list[ChangeFigures]:  # fmt: skip
    """Per window, DORA figures of the scope's changes (with `window_services`, each window
    counts that one service's changes only; with `window_groups`, per group of windows)."""
    result = [ChangeFigures() for _ in range(_counted(windows, window_groups))]
    if windows and scope.service_ids:
        rows = await change_stats(
            con, scope.service_ids, windows, only, window_services, window_groups
        )
        for r in rows:
            data = dict(r.items())
            index = data.pop("n") - 1
            result[index] = ChangeFigures(**data)
    return result


#: A reading of figures per window whose windows may each count one service's records alone:
#: (con, scope, windows, filter or currency, the service of each window).
PerWindow = Callable[
    [Connection, MetricScope, Sequence[Period], A, Sequence[int] | None], Awaitable[list[T]]
]


async def each_service_apart(
    figures: PerWindow[A, T], con: Connection, service_ids: Sequence[int],
    windows: Sequence[Period], arg: A,
) -> dict[int, list[T]]:  # fmt: skip
    """`figures` of each service apart, in one statement: the windows repeated for each
    service, each window counting that service's own records."""
    repeated = [w for _ in service_ids for w in windows]
    owners = [s for s in service_ids for _ in windows]
    scope = MetricScope("services", None, tuple(service_ids))
    found = await figures(con, scope, repeated, arg, owners)
    per = len(windows)
    return {sid: found[i * per : (i + 1) * per] for i, sid in enumerate(service_ids)}


async def changes_by_service(
    con: Connection, service_ids: Sequence[int], windows: Sequence[Period],
    only: MetricFilter = NO_FILTER,
) -> dict[int, list[ChangeFigures]]:  # fmt: skip
    """`changes` of each service apart, in one statement."""
    return await each_service_apart(changes, con, service_ids, windows, only)


async def incidents_by_service(
    con: Connection, service_ids: Sequence[int], windows: Sequence[Period],
    only: MetricFilter = NO_FILTER, figures: IncidentFigureSet = IncidentFigureSet.ALL,
) -> dict[int, list[IncidentBreakdown]]:  # fmt: skip
    """`incidents` of each service apart, in one statement (`figures`: which)."""

    async def read(
        con: Connection, scope: MetricScope, windows: Sequence[Period], only: MetricFilter,
        owners: Sequence[int] | None,
    ) -> list[IncidentBreakdown]:  # fmt: skip
        return await incidents(con, scope, windows, only, owners, figures=figures)

    return await each_service_apart(read, con, service_ids, windows, only)


@dataclass(frozen=True)
class AvailabilityTargets:
    """The services' availability targets, each from an availability KPI's targets (the
    service's own, else its tier's, else the global one), else the tier default."""

    services: list[Service]
    #: The availability KPI whose targets apply to each service (absent: the tier default).
    kpis: dict[int, Kpi]
    targets: dict[int, list[Target]]

    def on(self, day: dt.date) -> dict[int, tuple[float, TargetScope]]:
        """Each service's target on `day` as a share, and where it comes from."""
        result = {}
        for s in self.services:
            kpi = self.kpis.get(s.id)
            found = None
            if kpi is not None:
                found = effective(self.targets[kpi.id], service=s.slug, tier=s.tier, day=day)
            if kpi is None or found is None:
                result[s.id] = (DEFAULT_AVAILABILITY[s.tier], TargetScope.DEFAULT)
            else:
                result[s.id] = (as_share(found.value, kpi.unit), found.scope)
        return result


async def availability_targets(
    con: Connection, service_ids: Sequence[int], kpi: Kpi | None = None
) -> AvailabilityTargets:
    """The targets of `kpi` (an availability KPI) for every service; without one, each
    service's from the builtin availability KPI that applies to it (the first by key), else
    from the only one there is."""
    services = await service_store.services_by_id(con, service_ids)
    if kpi is not None:
        chosen = {s.id: kpi for s in services}
    else:
        pairs = await availability_kpis_of_services(con, service_ids)
        found = {k.id: k for k in await kpi_store.list_kpis(con, ids=[k for _, k in pairs])}
        chosen = {service_id: found[kpi_id] for service_id, kpi_id in pairs}
    ids = sorted({k.id for k in chosen.values()})
    return AvailabilityTargets(services, chosen, await target_store.targets_by_kpi(con, ids))


async def objective_targets(
    con: Connection, kpi: Kpi, service_ids: Sequence[int]
) -> AvailabilityTargets:
    """An error budget KPI's objectives: the targets of the availability KPI it names, else
    the tier defaults."""
    services = await service_store.services_by_id(con, service_ids)
    if kpi.availability_kpi is None:
        return AvailabilityTargets(services, {}, {})
    objective = await kpi_store.get_kpi(con, key=kpi.availability_kpi)
    return await availability_targets(con, service_ids, objective)


async def revenue_per_hour(con: Connection, service_ids: Sequence[int]) -> dict[int, float]:
    services = await service_store.services_by_id(con, service_ids)
    return {s.id: s.revenue_per_hour or 0.0 for s in services}


async def availability_kpis_of_services(
    con: Connection, service_ids: Sequence[int]
) -> list[tuple[int, int]]:
    """(service id, KPI id): the builtin availability KPI whose targets apply to each service."""
    rows = await con.fetch(q("availability_kpis_of_services"), list(service_ids))
    return [(r["service_id"], r["kpi_id"]) for r in rows]
