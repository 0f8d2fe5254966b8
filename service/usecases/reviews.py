"""The quarterly review: the leaders' reads of one closed calendar quarter, assembled from the
use cases that answer them one by one (scorecard, series, service reports, failure clusters,
initiative reviews, governance gaps, escalations), so every figure is the API's own."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from service.db import Connection
from service.kpi.periods import CADENCE_GRAIN, Period
from service.kpi.quarters import ended_quarter
from service.models.catalog import Kpi
from service.models.enums import (
    BuiltinMetric,
    Cadence,
    ClusterDimension,
    InitiativeStatus,
    KpiKind,
)
from service.models.observations import SeriesPoint
from service.models.reports import FailureClusters, ServiceReport
from service.models.reviews import InitiativeInReview, KpiTrend, QuarterlyReview, TierReview
from service.store import initiatives as initiative_store
from service.store import kpis as kpi_store
from service.store import metrics
from service.store import services as service_store
from service.usecases import clusters, escalation, initiatives, observations, reports
from service.usecases.statuses import overall_statuses

#: The builtin metrics that compare spend with budgets or forecast it.
BUDGET_METRICS = (
    BuiltinMetric.BUDGET_VARIANCE,
    BuiltinMetric.BUDGET_VARIANCE_SHARE,
    BuiltinMetric.SPEND_FORECAST,
    BuiltinMetric.OPEX_STABILITY,
)
#: Clusters a review shows per dimension: where most failures come from.
TOP_CLUSTERS = 3
#: Escalations not yet resolved.
UNRESOLVED = ("open", "acknowledged")


def status_instant(quarter: Period) -> dt.datetime:
    """The instant the review's statuses are read at: the last second of the quarter, so each
    KPI shows the last period of its cadence inside it (the quarter for a quarterly KPI)."""
    return quarter.end - dt.timedelta(seconds=1)


async def trend(
    con: Connection, key: str, cadence: Cadence | None, quarter: Period, now: dt.datetime
) -> list[SeriesPoint]:
    """The KPI's series (GET /v1/kpis/{key}/series) at its cadence's grain, monthly without
    one, over the four quarters ending with `quarter`."""
    year_before = quarter.end.replace(year=quarter.end.year - 1)
    series = await observations.series(
        con, key=key, service=None, team=None, tier=None,
        grain=CADENCE_GRAIN[cadence or Cadence.MONTHLY], start=year_before, end=quarter.end,
        now=now,
    )  # fmt: skip
    return series.points


async def kpi_trends(
    con: Connection, kpis: Sequence[Kpi], quarter: Period, now: dt.datetime
) -> list[KpiTrend]:
    """Each KPI's status at the quarter's end (as the scorecard gives it) and its trend."""
    found = await overall_statuses(con, kpis, on=status_instant(quarter), now=now)
    return [
        KpiTrend(
            status=reports.scorecard_item(kpi, found.get(kpi.id)),
            trend=await trend(con, kpi.key, kpi.cadence, quarter, now),
        )
        for kpi in kpis
    ]


async def tier_reviews(con: Connection, quarter: Period, now: dt.datetime) -> list[TierReview]:
    """Every service's report over the quarter (as GET /v1/services/{slug}/report), by tier."""
    services = sorted(await service_store.list_services(con), key=lambda s: s.slug)
    ids = [s.id for s in services]
    availability = await reports.availability_by_service(con, ids, quarter, now)
    incidents = await reports.incident_report_by_service(con, ids, quarter, now)
    dora = await reports.dora_by_service(con, ids, quarter, now)
    spend = await reports.spend_by_service(con, ids, quarter, now)
    tiers: dict[int, list[ServiceReport]] = {}
    for s in services:
        tiers.setdefault(s.tier, []).append(
            ServiceReport(service=s.slug, availability=availability[s.id],
                          incidents=incidents[s.id], dora=dora[s.id], spend=spend[s.id])
        )  # fmt: skip
    return [
        TierReview(
            tier=tier,
            services=found,
            downtime_cost=sum(r.incidents.downtime_cost for r in found),
        )
        for tier, found in sorted(tiers.items())
    ]


async def top_clusters(
    con: Connection, quarter: Period, now: dt.datetime, by: ClusterDimension,
    name: str | None = None,
) -> FailureClusters:  # fmt: skip
    fleet = await metrics.resolve_scope(con)
    found = await clusters.failure_clusters(con, fleet, quarter, now, by=by, name=name)
    return found.model_copy(update={"clusters": found.clusters[:TOP_CLUSTERS]})


async def initiative_reviews(
    con: Connection, now: dt.datetime, min_periods: int
) -> list[InitiativeInReview]:
    shown = (InitiativeStatus.ACTIVE, InitiativeStatus.DELIVERED)
    return [
        InitiativeInReview(
            name=i.name,
            review=await initiatives.review(con, key=i.key, now=now, min_periods=min_periods),
        )
        for i in await initiative_store.list_initiatives(con)
        if i.status in shown
    ]


async def quarterly_review(
    con: Connection, *, quarter: str, now: dt.datetime, min_periods: int
) -> QuarterlyReview:
    """The review of a closed quarter (a 422 naming `quarter` for a malformed one or one not
    ended yet)."""
    period = ended_quarter(quarter, now)
    catalog = await kpi_store.list_kpis(con)
    scorecard = await reports.scorecard(con, status_instant(period), now)
    fleet = await metrics.resolve_scope(con)
    vendors = await top_clusters(con, period, now, ClusterDimension.SERVICE_ATTRIBUTE, "vendor")
    unresolved = [
        e for state in UNRESOLVED for e in await escalation.list_escalations(con, state=state)
    ]
    return QuarterlyReview(
        quarter=quarter.strip().upper(), start=period.start, end=period.end, generated_at=now,
        board=[
            KpiTrend(status=i, trend=await trend(con, i.kpi, i.cadence, period, now))
            for i in scorecard.items
        ], board_warnings=scorecard.warnings,
        tiers=await tier_reviews(con, period, now),
        incidents=await reports.incident_report(con, fleet, period, now),
        dora=await reports.dora(con, fleet, period, now),
        clusters_by_service=await top_clusters(con, period, now, ClusterDimension.SERVICE),
        clusters_by_vendor=vendors if any(c.key is not None for c in vendors.clusters) else None,
        spend=await reports.spend(con, fleet, period, now),
        budget=await kpi_trends(
            con, [k for k in catalog if k.metric in BUDGET_METRICS], period, now
        ),
        unit_costs=await kpi_trends(
            con, [k for k in catalog if k.kind is KpiKind.RATIO], period, now
        ),
        initiatives=await initiative_reviews(con, now, min_periods),
        governance_gaps=await reports.governance_gaps(con),
        open_escalations=sorted(unresolved, key=lambda e: e.opened_at, reverse=True),
    )  # fmt: skip
