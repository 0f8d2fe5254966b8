"""The leaders' report reads on a real Postgres, typed: governance gaps, dependency closure
and the latest breached statuses (outages under way are pinned end to end by
tests/usecases/test_reports_board.py)."""

from __future__ import annotations

import datetime as dt

from service import db as dbmod
from service.models.catalog import KpiIn, ServiceIn
from service.models.enums import Aggregation, Cadence, Direction, Status, TargetScope, Trend
from service.models.reports import BreachedStatus, GovernanceGap
from service.models.statuses import KpiStatus
from service.store import reports, statuses
from service.usecases import catalog

UTC = dt.UTC
JAN, FEB, MAR = (dt.datetime(2031, m, 1, tzinfo=UTC) for m in (1, 2, 3))


async def make_service(con: dbmod.Connection, slug: str, depends_on: list[str]) -> int:
    service = await catalog.SERVICES.create(
        con, ServiceIn(slug=slug, name=f"Service {slug}", tier=1, depends_on=depends_on)
    )
    return service.id


async def test_every_kpi_is_listed_with_what_it_misses(con: dbmod.Connection) -> None:
    await catalog.KPIS.create(con, KpiIn(
        key="zz_orders", name="Orders", unit="count", direction=Direction.HIGHER_IS_BETTER,
        aggregation=Aggregation.SUM, cadence=Cadence.MONTHLY, business_owner="sales@example.com",
    ))  # fmt: skip
    gaps = await reports.governance_gaps(con)
    (gap,) = [g for g in gaps if g.kpi == "zz_orders"]
    assert gap == GovernanceGap(
        kpi="zz_orders", missing=["technology_owner", "target", "escalation_path"]
    )
    assert [g.kpi for g in gaps] == sorted(g.kpi for g in gaps)


async def test_dependencies_are_reached_through_the_chain(con: dbmod.Connection) -> None:
    db_id = await make_service(con, "st-db", [])
    api_id = await make_service(con, "st-api", ["st-db"])
    web_id = await make_service(con, "st-web", ["st-api"])
    found = await reports.dependency_closure(con, [web_id])
    assert found == {api_id: [web_id], db_id: [web_id]}
    assert await reports.dependency_closure(con, [db_id]) == {}


async def test_only_a_latest_status_that_is_breached_counts(con: dbmod.Connection) -> None:
    kpi = await catalog.KPIS.create(con, KpiIn(
        key="orders", name="Orders", unit="count", direction=Direction.HIGHER_IS_BETTER,
        aggregation=Aggregation.SUM, cadence=Cadence.MONTHLY,
    ))  # fmt: skip
    erp, web = await make_service(con, "st-erp", []), await make_service(con, "st-web2", [])
    rows = [(erp, JAN, Status.MET), (erp, FEB, Status.BREACHED), (web, JAN, Status.BREACHED),
            (web, FEB, Status.MET)]  # fmt: skip
    for sid, start, status in rows:
        st = KpiStatus(
            kpi="orders", service=None, cadence=Cadence.MONTHLY, period_start=start,
            period_end=start + dt.timedelta(days=28), value=1.0, target=2.0, warning=None,
            target_scope=TargetScope.GLOBAL, status=status, previous_value=None,
            trend=Trend.UNKNOWN, evaluated_at=None,
        )  # fmt: skip
        await statuses.insert_status(
            con, kpi_id=kpi.id, service_id=sid, status=st, replace=False, now=MAR
        )
    found = await reports.breached_latest(con, [kpi.id], [erp, web])
    assert found == [BreachedStatus(kpi_id=kpi.id, key="orders", service_id=erp, period_start=FEB)]
