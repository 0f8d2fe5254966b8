"""Reading KPI statuses: the status of a period (stored if evaluated, else computed now
without storing it), for one KPI or many at once, and a scope's stored history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from service.db import Connection
from service.errors import Conflict, invalid
from service.kpi import periods
from service.kpi.periods import CADENCE_GRAIN, DEFAULT, Calendar, Period
from service.models.catalog import Kpi
from service.models.enums import Cadence, KpiKind
from service.models.observations import SeriesPoint
from service.models.statuses import OVERALL, KpiStatus, ScopeRef
from service.store import metrics, series, statuses
from service.store import services as service_store
from service.store import targets as target_store
from service.store.metrics import MetricScope
from service.usecases import calendars
from service.usecases.evaluation import compute, compute_services, rolled_up, status_of_points


def period_asked(
    cadence: Cadence, on: dt.datetime | None, now: dt.datetime, cal: Calendar = DEFAULT
) -> Period:
    """The period holding `on`, else the last closed one (in the KPI's calendar)."""
    return periods.period_of(cadence, on, cal) if on else periods.last_closed(cadence, now, cal)


async def status_for(
    con: Connection, kpi: Kpi, *, service: str | None, on: dt.datetime | None,
    now: dt.datetime,
) -> KpiStatus:  # fmt: skip
    """The status of the period holding `on` (default: the last closed one), overall or for
    one service: stored if evaluated, else computed now without storing it (evaluated_at
    null)."""
    if kpi.cadence is None:
        raise Conflict(f"KPI {kpi.key!r} has no reporting cadence, so no periods", kpi=kpi.key)
    if service is None:
        return (await overall_statuses(con, [kpi], on=on, now=now))[kpi.id]
    found = await service_store.list_services(con, slugs=[service])
    if not found:
        raise invalid("service", f"unknown service {service!r}")
    ref = ScopeRef(found[0].id, found[0].slug, found[0].tier)
    return (await service_statuses(con, [(kpi, ref)], on=on, now=now))[(kpi.id, found[0].id)]


async def service_statuses(
    con: Connection, pairs: Sequence[tuple[Kpi, ScopeRef]], *, on: dt.datetime | None,
    now: dt.datetime,
) -> dict[tuple[int, int], KpiStatus]:  # fmt: skip
    """status_for of many (KPI, service) pairs, by (KPI id, service id), for the KPIs with a
    cadence: the stored statuses read in one statement; the rest computed, each KPI's
    services together. The statements do not grow with the number of services."""
    wanted = [
        (k, r, period_asked(k.cadence, on, now, calendars.of_kpi(k)))
        for k, r in pairs if k.cadence
    ]  # fmt: skip
    out = await statuses.stored_service_statuses(con, wanted)
    missing: dict[tuple[int, Period], list[ScopeRef]] = {}
    kpis = {}
    for k, r, p in wanted:
        assert r.service_id is not None
        if (k.id, r.service_id) not in out:
            if p.start >= now:
                raise invalid("period", "the period has not started yet")
            missing.setdefault((k.id, p), []).append(r)
            kpis[k.id] = k
    targets = await target_store.targets_by_kpi(con, list(kpis)) if kpis else {}
    for (kpi_id, period), refs in missing.items():
        kpi = kpis[kpi_id]
        assert kpi.cadence is not None
        computed = await compute_services(con, kpi, refs, kpi.cadence, period, targets[kpi_id], now)
        for ref, st in zip(refs, computed, strict=True):
            assert ref.service_id is not None
            out[(kpi_id, ref.service_id)] = st
    return out


async def overall_statuses(
    con: Connection, kpis: Sequence[Kpi], *, on: dt.datetime | None, now: dt.datetime
) -> dict[int, KpiStatus]:
    """status_for(service=None) of many KPIs, by KPI id (those with a cadence): the stored
    statuses read in one statement, and only the KPIs with none computed now, their targets,
    services and scopes read once for all of them."""
    wanted = {
        k.id: period_asked(k.cadence, on, now, calendars.of_kpi(k))
        for k in kpis if k.cadence is not None
    }  # fmt: skip
    by_id = {k.id: k for k in kpis}
    out = await statuses.stored_overall_statuses(con, [(by_id[i], p) for i, p in wanted.items()])
    missing = [by_id[i] for i in wanted if i not in out]
    if missing:
        out.update(await _computed_overall(con, missing, wanted, now))
    return out


async def _computed_overall(
    con: Connection, kpis: Sequence[Kpi], wanted: Mapping[int, Period], now: dt.datetime
) -> dict[int, KpiStatus]:
    """The overall statuses of KPIs (with a cadence) computed now, for their periods."""
    if any(wanted[k.id].start >= now for k in kpis):
        raise invalid("period", "the period has not started yet")
    targets = await target_store.targets_by_kpi(con, [k.id for k in kpis])
    linked = await statuses.kpi_scopes(con, kpis)
    points = await _observed_points(con, kpis, wanted)
    fleet: dict[str, MetricScope] = {}
    out = {}
    for kpi in kpis:
        assert kpi.cadence is not None
        period, own, services = wanted[kpi.id], targets[kpi.id], linked[kpi.id][1:]
        if kpi.id in points:
            st = status_of_points(kpi, OVERALL, kpi.cadence, period, own, points[kpi.id], now)
        else:
            scope = await _overall_scope(con, kpi, services, fleet)
            st = await compute(con, kpi, OVERALL, kpi.cadence, period, own, now, scope)
        if st.target is None:
            # A KPI without a target of its own takes the worst status of its services.
            found = await compute_services(con, kpi, services, kpi.cadence, period, own, now)
            st = rolled_up(kpi, st, found)
        out[kpi.id] = st
    return out


async def _observed_points(
    con: Connection, kpis: Sequence[Kpi], wanted: Mapping[int, Period]
) -> dict[int, list[SeriesPoint]]:
    """The overall series of the observed KPIs in the default calendar over their period and
    the one before, in one statement (those in another calendar are computed one by one)."""
    windows = [
        (k, CADENCE_GRAIN[k.cadence], periods.previous(k.cadence, wanted[k.id]).start,
         wanted[k.id].end)
        for k in kpis
        if k.kind is KpiKind.OBSERVED and k.cadence is not None
        and calendars.of_kpi(k).is_default
    ]  # fmt: skip
    return await series.observed_overall(con, windows) if windows else {}


async def _overall_scope(
    con: Connection, kpi: Kpi, services: Sequence[ScopeRef], fleet: dict[str, MetricScope]
) -> MetricScope:
    """What a KPI overall is measured over: the services a builtin KPI applies to, else the
    whole fleet (resolved once per call, kept in `fleet`)."""
    if kpi.kind is KpiKind.BUILTIN and services:
        ids = tuple(r.service_id for r in services if r.service_id is not None)
        return MetricScope("kpi", kpi.key, ids)
    if "fleet" not in fleet:
        fleet["fleet"] = await metrics.resolve_scope(con)
    return fleet["fleet"]


async def history(
    con: Connection, kpi: Kpi, *, service_id: int | None, slug: str | None,
    before: dt.datetime | None, limit: int,
) -> list[KpiStatus]:  # fmt: skip
    """The stored statuses of (KPI, scope), newest period first."""
    return await statuses.status_history(
        con, kpi, service_id=service_id, slug=slug, before=before, limit=limit
    )
