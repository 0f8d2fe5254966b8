"""Builtin metrics: the SQL aggregation per window (sql/queries/metrics.sql), combined into
values by the pure rules of service.kpi.builtin.

A scope is one service, a team's services, a tier's services or the whole fleet. Windows are
the measured parts of buckets or periods: clipped to the requested range and to `now`, so an
open incident counts up to now and a bucket in progress is measured over its elapsed part.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from service.db import Connection, sql
from service.errors import invalid
from service.kpi import builtin
from service.kpi.builtin import ChangeFigures, IncidentFigures, Outage, Summary
from service.kpi.periods import Period, buckets, measured
from service.kpi.targets import DEFAULT_AVAILABILITY, TargetScope, effective
from service.kpi.units import rate, share
from service.models.catalog import Kpi, Service, Target
from service.models.enums import BuiltinMetric, Grain, KpiKind, Severity
from service.models.observations import SeriesPoint
from service.store import catalog


def q(name: str) -> str:
    return sql("metrics", name)


@dataclass(frozen=True)
class MetricScope:
    """The services a metric is computed over. `whole_estate` also takes in cost records that
    belong to no service (fleet scope only)."""

    kind: str
    name: str | None
    service_ids: tuple[int, ...]
    whole_estate: bool = False


async def resolve_scope(
    con: Connection, *, service: str | None = None, team: str | None = None,
    tier: int | None = None,
) -> MetricScope:  # fmt: skip
    given = [n for n, v in (("service", service), ("team", team), ("tier", tier)) if v is not None]
    if len(given) > 1:
        raise invalid(given[1], f"give one of service, team or tier, not {' and '.join(given)}")
    if service is not None:
        (sid,) = await catalog.service_ids(con, [service], field="service")
        return MetricScope("service", service, (sid,))
    if team is not None:
        team_id = await con.fetchval(catalog.q("team_id_by_slug"), team)
        if team_id is None:
            raise invalid("team", f"unknown team {team!r}")
        ids = await con.fetchval(q("scope_team_services"), team_id)
        return MetricScope("team", team, tuple(ids))
    if tier is not None:
        if not 1 <= tier <= 4:
            raise invalid("tier", "must be between 1 and 4")
        ids = await con.fetchval(q("scope_tier_services"), tier)
        return MetricScope("tier", str(tier), tuple(ids))
    ids = await con.fetchval(q("scope_all_services"))
    return MetricScope("fleet", None, tuple(ids), whole_estate=True)


async def _fetch_planned(con: Connection, name: str, *args: Any) -> list[Any]:
    """The rows of a metric query, planned for these very arguments.

    A statement from asyncpg's cache may, after five executions on a connection, run on a
    generic plan, one that assumes a few services and rows whatever the scope and windows (for
    a fleet-year: nested loops over hundreds of thousands of rows). A statement prepared for
    this call is planned for its arguments, at the cost of one more round trip."""
    statement = await con.prepare(q(name))
    rows: list[Any] = await statement.fetch(*args)
    return rows


def _arrays(windows: Sequence[Period]) -> tuple[list[dt.datetime], list[dt.datetime]]:
    return [w.start for w in windows], [w.end for w in windows]


def _span(windows: Sequence[Period]) -> tuple[dt.datetime, dt.datetime]:
    """The earliest start and the latest end: the rows a metric query reads."""
    return min(w.start for w in windows), max(w.end for w in windows)


async def outages(
    con: Connection, scope: MetricScope, windows: Sequence[Period], now: dt.datetime
) -> list[dict[int, Outage]]:
    """Per window, each service's merged outage seconds (services without outage absent)."""
    result: list[dict[int, Outage]] = [{} for _ in windows]
    if not windows or not scope.service_ids:
        return result
    starts, ends = _arrays(windows)
    rows = await _fetch_planned(
        con, "outage_seconds", list(scope.service_ids), starts, ends, now, *_span(windows)
    )
    for r in rows:
        result[r["n"] - 1][r["service_id"]] = Outage(r["seconds"], r["incidents"])
    return result


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
    con: Connection, scope: MetricScope, windows: Sequence[Period]
) -> list[IncidentBreakdown]:
    """Per window, incident figures overall, by severity and by service."""
    overall: list[IncidentFigures] = [IncidentFigures() for _ in windows]
    by_severity: list[dict[Severity, IncidentFigures]] = [{} for _ in windows]
    by_service: list[dict[int, IncidentFigures]] = [{} for _ in windows]
    if windows and scope.service_ids:
        starts, ends = _arrays(windows)
        rows = await _fetch_planned(
            con, "incident_stats", list(scope.service_ids), starts, ends, *_span(windows)
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
    con: Connection, scope: MetricScope, windows: Sequence[Period]
) -> list[ChangeFigures]:
    result = [ChangeFigures() for _ in windows]
    if windows and scope.service_ids:
        starts, ends = _arrays(windows)
        rows = await _fetch_planned(
            con, "change_stats", list(scope.service_ids), starts, ends, *_span(windows)
        )
        for r in rows:
            data = dict(r.items())
            index = data.pop("n") - 1
            result[index] = ChangeFigures(**data)
    return result


@dataclass(frozen=True)
class Spend:
    currency: str
    by_category: dict[str, float]
    records: int

    @property
    def total(self) -> float:
        return sum(self.by_category.values())


async def spend(
    con: Connection, scope: MetricScope, windows: Sequence[Period], currency: str
) -> list[Spend]:
    """Per window, spend in `currency` by category, cost records spread evenly over their days."""
    cells: list[dict[str, float]] = [{} for _ in windows]
    records = [0 for _ in windows]
    if windows and (scope.service_ids or scope.whole_estate):
        starts, ends = _arrays(windows)
        rows = await con.fetch(
            q("spend"), list(scope.service_ids), starts, ends, currency, scope.whole_estate
        )
        for r in rows:
            cells[r["n"] - 1][r["category"]] = r["amount"]
            records[r["n"] - 1] += r["records"]
    return [Spend(currency, c, n) for c, n in zip(cells, records, strict=True)]


async def currencies(con: Connection, scope: MetricScope) -> list[str]:
    rows = await con.fetch(q("currencies_in_scope"), list(scope.service_ids), scope.whole_estate)
    return [r["currency"] for r in rows]


@dataclass(frozen=True)
class AvailabilityTargets:
    """The services' availability targets: the targets of the first builtin availability KPI
    (service, else tier, else global), else the tier default."""

    services: list[Service]
    targets: list[Target]
    unit: str

    def on(self, day: dt.date) -> dict[int, tuple[float, TargetScope]]:
        """Each service's target on `day` as a share, and where it comes from."""
        result = {}
        for s in self.services:
            found = effective(self.targets, service=s.slug, tier=s.tier, day=day)
            if found is None:
                result[s.id] = (DEFAULT_AVAILABILITY[s.tier], TargetScope.DEFAULT)
            else:
                result[s.id] = (share(found.value, self.unit), found.scope)
        return result


async def availability_targets(con: Connection, service_ids: Sequence[int]) -> AvailabilityTargets:
    services = await catalog.services_by_id(con, service_ids)
    kpi_id = await con.fetchval(q("availability_kpi"))
    if kpi_id is None:
        return AvailabilityTargets(services, [], "percent")
    (kpi,) = await catalog.list_kpis(con, ids=[kpi_id])
    return AvailabilityTargets(
        services, (await catalog.targets_by_kpi(con, [kpi_id]))[kpi_id], kpi.unit
    )


async def revenue_per_hour(con: Connection, service_ids: Sequence[int]) -> dict[int, float]:
    services = await catalog.services_by_id(con, service_ids)
    return {s.id: s.revenue_per_hour or 0.0 for s in services}


async def values(
    con: Connection, kpi: Kpi, scope: MetricScope, windows: Sequence[Period], now: dt.datetime
) -> list[tuple[float | None, int]]:
    """The builtin KPI's value (in its unit) and record count for each window."""
    assert kpi.kind is KpiKind.BUILTIN and kpi.metric is not None
    metric, unit = kpi.metric, kpi.unit
    if metric in builtin.INCIDENT_METRICS:
        return [
            builtin.incident_value(metric, b.overall, unit)
            for b in await incidents(con, scope, windows)
        ]
    if metric in builtin.CHANGE_METRICS:
        return [builtin.change_value(metric, f, unit) for f in await changes(con, scope, windows)]
    if metric is BuiltinMetric.IT_SPEND:
        return [(s.total if s.records else None, s.records)
                for s in await spend(con, scope, windows, unit.upper())]  # fmt: skip
    per_window = await outages(con, scope, windows, now)
    counts = [sum(o.incidents for o in cell.values()) for cell in per_window]
    if metric is BuiltinMetric.AVAILABILITY:
        return [
            (rate(builtin.availability(cell, len(scope.service_ids), w.seconds), unit), n)
            for cell, w, n in zip(per_window, windows, counts, strict=True)
        ]
    if metric is BuiltinMetric.ERROR_BUDGET_REMAINING:
        out: list[tuple[float | None, int]] = []
        targets = await availability_targets(con, scope.service_ids)
        for cell, w, n in zip(per_window, windows, counts, strict=True):
            shares = {sid: t for sid, (t, _) in targets.on(w.start.date()).items()}
            budget = builtin.error_budget(cell, shares, w.seconds)
            out.append((rate(budget[0] if budget else None, unit), n))
        return out
    assert metric is BuiltinMetric.DOWNTIME_COST
    revenue = await revenue_per_hour(con, scope.service_ids)
    estimates = await incidents(con, scope, windows)
    # The count is the incidents whose impact started in the window (an outage running on
    # from an earlier window adds to the value, not to the count).
    return [
        (builtin.downtime_cost(cell, revenue, b.overall.cost_estimate), b.overall.incidents)
        for cell, b in zip(per_window, estimates, strict=True)
    ]


def series_windows(
    grain: Grain, start: dt.datetime, end: dt.datetime, now: dt.datetime
) -> tuple[list[Period], list[Period]]:
    """The buckets of [start, end) that have begun by `now`, and their measured parts."""
    try:
        whole = buckets(grain, start, end)
    except ValueError as exc:
        raise invalid("from", str(exc)) from exc
    kept, parts = [], []
    for b in whole:
        part = measured(b, start, min(end, now))
        if part is not None:
            kept.append(b)
            parts.append(part)
    return kept, parts


async def series(
    con: Connection, *, kpi: Kpi, scope: MetricScope, grain: Grain, start: dt.datetime,
    end: dt.datetime, now: dt.datetime,
) -> list[SeriesPoint]:  # fmt: skip
    """A builtin KPI's series: every bucket of the window up to now, null where undefined."""
    kept, parts = series_windows(grain, start, end, now)
    figures = await values(con, kpi, scope, parts, now)
    return [
        SeriesPoint(bucket=b.start, value=v, count=n)
        for b, (v, n) in zip(kept, figures, strict=True)
    ]
