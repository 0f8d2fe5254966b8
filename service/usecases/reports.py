"""Answers to leaders' questions (service reports over a window, the scorecard, outcome
health, services at risk, governance gaps), assembled from the metrics and the statuses."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from service.clock import rfc3339
from service.db import Connection
from service.errors import invalid
from service.kpi import bands, builtin, health
from service.kpi.builtin import ChangeFigures, IncidentFigures, Outage, Summary
from service.kpi.periods import Period
from service.models.catalog import Kpi
from service.models.enums import BuiltinMetric, Severity, Status, Trend
from service.models.reports import (
    AvailabilityReport,
    BandedValue,
    CategoryAmount,
    CurrencySpend,
    DoraReport,
    DurationStats,
    GovernanceGap,
    IncidentGroup,
    IncidentReport,
    KpiHealth,
    OutageNow,
    OutcomeHealth,
    Scorecard,
    ScorecardItem,
    ServiceAtRisk,
    SpendReport,
    Window,
)
from service.models.statuses import KpiStatus
from service.store import kpis as kpi_store
from service.store import links as link_store
from service.store import metrics, money
from service.store import reports as store
from service.store import services as service_store
from service.store.metrics import MetricScope
from service.usecases.statuses import overall_statuses

#: A board reads a scorecard best with at most this many KPIs.
BOARD_LIMIT = 8
WEEK_SECONDS = 7 * 86400


def measured_window(start: dt.datetime, end: dt.datetime, now: dt.datetime) -> Period:
    """[start, min(end, now)): a window is measured up to now."""
    stop = min(end, now)
    if stop <= start:
        raise invalid("from", "the window must start before its end and before now")
    return Period(start, stop)


def percent(share: float | None) -> float | None:
    return None if share is None else share * 100


def _minutes(value: float | None) -> float | None:
    return None if value is None else value / 60


def _hours(value: float | None) -> float | None:
    return None if value is None else value / 3600


async def availability_kpi(con: Connection, key: str | None) -> Kpi | None:
    """The availability KPI a report is asked against (checked to be one), if any."""
    if key is None:
        return None
    found = await kpi_store.list_kpis(con, keys=[key])
    if not found or found[0].metric is not BuiltinMetric.AVAILABILITY:
        raise invalid("kpi", f"{key!r} is not a builtin availability KPI")
    return found[0]


def report_window(window: Period, now: dt.datetime) -> Window:
    """A report's window: complete unless it runs up to now (measured_window cut it there)."""
    return Window(start=window.start, end=window.end, complete=window.end < now)


async def availability(
    con: Connection, scope: MetricScope, window: Period, now: dt.datetime,
    kpi: Kpi | None = None,
) -> AvailabilityReport:  # fmt: skip
    """A service's availability report (a scope of one service)."""
    (sid,) = scope.service_ids
    return (await availability_by_service(con, [sid], window, now, kpi))[sid]


async def availability_by_service(
    con: Connection, service_ids: Sequence[int], window: Period, now: dt.datetime,
    kpi: Kpi | None = None,
) -> dict[int, AvailabilityReport]:  # fmt: skip
    """Each service's own availability report, from one outage query for all of them, against
    the targets of `kpi` (an availability KPI), else of the availability KPI that applies to
    each service."""
    together = MetricScope("services", None, tuple(service_ids))
    (cell,) = await metrics.outages(con, together, [window], now)
    found = await metrics.availability_targets(con, service_ids, kpi)
    targets = found.on(window.start.date())
    out = {}
    for sid, (target, target_scope) in targets.items():
        own = {sid: cell[sid]} if sid in cell else {}
        budget = builtin.error_budget(own, {sid: target}, window.seconds)
        objective = found.kpis.get(sid)
        out[sid] = AvailabilityReport(
            window=report_window(window, now),
            availability=percent(builtin.availability(own, 1, window.seconds)),
            outage_minutes=sum(o.seconds for o in own.values()) / 60,
            outage_incidents=sum(o.incidents for o in own.values()),
            planned_downtime_minutes=sum(o.planned_seconds for o in own.values()) / 60,
            target=target * 100,
            target_scope=target_scope,
            target_kpi=objective.key if objective else None,
            error_budget_remaining=percent(budget[0]) if budget else None,
            burn_rate=budget[1] if budget else None,
        )
    return out


def _durations(s: Summary) -> DurationStats:
    return DurationStats(
        n=s.n, mean=_minutes(s.mean), median=_minutes(s.median), p90=_minutes(s.p90)
    )


def _group(
    f: IncidentFigures, severity: Severity | None = None, service: str | None = None
) -> IncidentGroup:
    return IncidentGroup(
        severity=severity,
        service=service,
        incidents=f.incidents,
        mttd=_durations(f.detect),
        mtta=_durations(f.acknowledge),
        mttr=_durations(f.resolve),
        time_to_restore=_durations(f.restore),
    )


async def incident_report(
    con: Connection, scope: MetricScope, window: Period, now: dt.datetime
) -> IncidentReport:
    (b,) = await metrics.incidents(con, scope, [window])
    (cell,) = await metrics.outages(con, scope, [window], now)
    revenue = await metrics.revenue_per_hour(con, scope.service_ids)
    slugs = {s.id: s.slug for s in await service_store.services_by_id(con, list(b.by_service))}
    return _incident_report(b, cell, revenue, slugs, window, now)


async def incident_report_by_service(
    con: Connection, service_ids: Sequence[int], window: Period, now: dt.datetime
) -> dict[int, IncidentReport]:
    """Each service's own `incident_report`, from the same statements for all of them."""
    found = await metrics.incidents_by_service(con, service_ids, [window])
    together = MetricScope("services", None, tuple(service_ids))
    (cell,) = await metrics.outages(con, together, [window], now)
    services = await service_store.services_by_id(con, service_ids)
    revenue = {s.id: s.revenue_per_hour or 0.0 for s in services}
    slugs = {s.id: s.slug for s in services}
    return {
        sid: _incident_report(b, {sid: cell[sid]} if sid in cell else {}, revenue, slugs,
                              window, now)
        for sid, (b,) in found.items()
    }  # fmt: skip


async def resolution_by_severity_by_service(
    con: Connection, service_ids: Sequence[int], window: Period, now: dt.datetime
) -> dict[int, IncidentReport]:
    """Each service's incident report with its MTTR by severity (and each severity's count)
    alone, from one statement for all of them: for a caller that asks for nothing else (a
    GraphQL selection). Every other figure of the report is left empty (zero, no group)."""
    found = await metrics.incidents_by_service(
        con, service_ids, [window], figures=metrics.IncidentFigureSet.RESOLUTION_BY_SEVERITY
    )
    return {
        sid: IncidentReport(
            window=report_window(window, now),
            overall=_group(b.overall),
            by_severity=[_group(f, severity=sev) for sev, f in sorted(b.by_severity.items())],
            by_service=[],
            recurrence_rate=None,
            users_affected=0.0,
            downtime_cost=0.0,
        )
        for sid, (b,) in found.items()
    }


def _incident_report(
    b: metrics.IncidentBreakdown, cell: dict[int, Outage], revenue: dict[int, float],
    slugs: dict[int, str], window: Period, now: dt.datetime,
) -> IncidentReport:  # fmt: skip
    return IncidentReport(
        window=report_window(window, now),
        overall=_group(b.overall),
        by_severity=[_group(f, severity=sev) for sev, f in sorted(b.by_severity.items())],
        by_service=[
            _group(f, service=slugs[sid])
            for sid, f in sorted(b.by_service.items(), key=lambda i: slugs[i[0]])
        ],
        recurrence_rate=percent(builtin.ratio(b.overall.recurring, b.overall.incidents)),
        users_affected=b.overall.users_affected or 0.0,
        downtime_cost=builtin.downtime_cost(cell, revenue, b.overall.cost_estimate),
    )


async def dora(con: Connection, scope: MetricScope, window: Period, now: dt.datetime) -> DoraReport:
    (f,) = await metrics.changes(con, scope, [window])
    return _dora(f, window, now)


async def dora_by_service(
    con: Connection, service_ids: Sequence[int], window: Period, now: dt.datetime
) -> dict[int, DoraReport]:
    """Each service's own `dora`, from one statement for all of them."""
    found = await metrics.changes_by_service(con, service_ids, [window])
    return {sid: _dora(f, window, now) for sid, (f,) in found.items()}


def _dora(f: ChangeFigures, window: Period, now: dt.datetime) -> DoraReport:
    span = dt.timedelta(seconds=window.seconds)
    cfr = builtin.ratio(f.failures, f.deployments)
    lead = f.lead_median
    recovery = f.recovery_median
    return DoraReport(
        window=report_window(window, now),
        deployments=f.deployments,
        deployments_per_week=BandedValue(
            value=f.deployments / (window.seconds / WEEK_SECONDS),
            band=bands.deployment_frequency_band(f.deployments, span),
        ),
        lead_time=BandedValue(
            value=_hours(lead),
            band=None if lead is None else bands.lead_time_band(dt.timedelta(seconds=lead)),
        ),
        change_failure_rate=BandedValue(
            value=percent(cfr), band=None if cfr is None else bands.change_failure_rate_band(cfr)
        ),
        recovery_time=BandedValue(
            value=_hours(recovery),
            band=None
            if recovery is None
            else bands.recovery_time_band(dt.timedelta(seconds=recovery)),
        ),
        rework_rate=percent(builtin.ratio(f.rework, f.deployments)),
    )


async def spend(
    con: Connection, scope: MetricScope, window: Period, now: dt.datetime
) -> SpendReport:
    out = []
    for currency in await money.currencies(con, scope):
        (s,) = await money.spend(con, scope, [window], currency)
        if s.records:
            out.append(_currency_spend(s))
    return SpendReport(window=report_window(window, now), currencies=out)


async def spend_by_service(
    con: Connection, service_ids: Sequence[int], window: Period, now: dt.datetime
) -> dict[int, SpendReport]:
    """Each service's own `spend`, from one statement per currency for all of them."""
    together = MetricScope("services", None, tuple(service_ids))
    out: dict[int, list[CurrencySpend]] = {sid: [] for sid in service_ids}
    for currency in await money.currencies(con, together):
        found = await money.spend_by_service(con, service_ids, [window], currency)
        for sid, (s,) in found.items():
            if s.records:
                out[sid].append(_currency_spend(s))
    return {
        sid: SpendReport(window=report_window(window, now), currencies=c) for sid, c in out.items()
    }


def _currency_spend(s: money.Spend) -> CurrencySpend:
    return CurrencySpend(
        currency=s.currency,
        total=s.total,
        by_category=[
            CategoryAmount(category=c, amount=a) for c, a in sorted(s.by_category.items())
        ],
    )


async def scorecard(con: Connection, on: dt.datetime | None, now: dt.datetime) -> Scorecard:
    """The board-level KPIs for the period of their cadence holding `on` (default: each
    KPI's last closed period), overall."""
    kpis = await kpi_store.list_kpis(con, board_level=True)
    warnings = []
    if len(kpis) > BOARD_LIMIT:
        warnings.append(
            f"{len(kpis)} KPIs are flagged board-level; a board scorecard should hold at most "
            f"{BOARD_LIMIT}"
        )
    statuses = await overall_statuses(con, kpis, on=on, now=now)
    items = []
    for kpi in kpis:
        if kpi.cadence is None:
            warnings.append(f"KPI {kpi.key!r} has no reporting cadence, so no status")
        items.append(scorecard_item(kpi, statuses.get(kpi.id)))
    return Scorecard(on=on or now, items=items, board_level=len(kpis), warnings=warnings)


def scorecard_item(kpi: Kpi, st: KpiStatus | None) -> ScorecardItem:
    return ScorecardItem(
        kpi=kpi.key,
        name=kpi.name,
        unit=kpi.unit,
        cadence=kpi.cadence,
        period_start=st.period_start if st else None,
        period_end=st.period_end if st else None,
        value=st.value if st else None,
        target=st.target if st else None,
        warning=st.warning if st else None,
        target_scope=st.target_scope if st else None,
        status=st.status if st else Status.NO_DATA,
        driver=st.driver if st else None,
        previous_value=st.previous_value if st else None,
        trend=st.trend if st else Trend.UNKNOWN,
        complete=st.complete if st else True,
        business_owner=kpi.business_owner,
        technology_owner=kpi.technology_owner,
        evaluated_at=st.evaluated_at if st else None,
    )


async def outcome_health(
    con: Connection, outcome_id: int, on: dt.datetime | None, now: dt.datetime
) -> OutcomeHealth:
    links = (await link_store.kpi_links_by_outcome(con, [outcome_id]))[outcome_id]
    weights = {link["id"]: link["weight"] for link in links}
    kpis = await kpi_store.list_kpis(con, ids=list(weights))
    statuses = await overall_statuses(con, kpis, on=on, now=now)
    rows = [
        KpiHealth(
            kpi=kpi.key,
            weight=weights[kpi.id],
            status=statuses[kpi.id].status if kpi.id in statuses else Status.NO_DATA,
        )
        for kpi in kpis
    ]
    value = health.score((r.weight, r.status) for r in rows)
    return OutcomeHealth(score=value, status=health.status(value), kpis=rows)


async def services_at_risk(
    con: Connection, outcome_id: int, now: dt.datetime
) -> list[ServiceAtRisk]:
    """Services the outcome relies on whose KPIs are breached (latest stored status) or that
    are down now, and services down now that a critical (tier 1) one of them depends on."""
    kpi_ids = [
        link["id"]
        for link in (await link_store.kpi_links_by_outcome(con, [outcome_id]))[outcome_id]
    ]
    service_ids = (await link_store.services_by_outcome(con, [outcome_id]))[outcome_id]
    services = {s.id: s for s in await service_store.services_by_id(con, service_ids)}
    reasons: dict[tuple[int, int | None], list[str]] = defaultdict(list)
    for b in await store.breached_latest(con, kpi_ids, service_ids):
        reasons[(b.service_id, None)].append(
            f"KPI {b.key!r} breached in the period from {b.period_start.date()}"
        )
    for o in await store.outages_now(con, service_ids, now):
        reasons[(o.service_id, None)].append(_outage_reason(o))
    critical = [sid for sid, s in services.items() if s.tier == 1]
    roots = await store.dependency_closure(con, critical)
    for o in await store.outages_now(con, list(roots), now):
        for root in roots[o.service_id]:
            reasons[(o.service_id, root)].append(_outage_reason(o))
    known = {
        s.id: s.slug for s in await service_store.services_by_id(con, [sid for sid, _ in reasons])
    }
    known.update({sid: s.slug for sid, s in services.items()})
    return sorted(
        (
            ServiceAtRisk(service=known[sid], reasons=why, via=known[via] if via else None)
            for (sid, via), why in reasons.items()
        ),
        key=lambda r: (r.service, r.via or ""),
    )


def _outage_reason(o: OutageNow) -> str:
    return f"down: {o.incidents} open outage incident(s), worst {o.worst}, since {rfc3339(o.since)}"


async def governance_gaps(con: Connection) -> list[GovernanceGap]:
    """The KPIs missing an owner, a cadence, a target or an escalation path, by key."""
    return [gap for gap in await store.governance_gaps(con) if gap.missing]


#: Reports of figures already read: team roll-ups read theirs per group of windows
#: (service/usecases/team_figures.py) and report them as a service's are.
incident_report_of = _incident_report
dora_of = _dora
