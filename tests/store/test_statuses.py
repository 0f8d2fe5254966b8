"""The KPI status repository on a real Postgres: statuses written once per closed period (or
replaced when asked), read back typed, one at a time, many at once and as a history; the
scopes each KPI is evaluated for."""

from __future__ import annotations

import datetime as dt

from service import db as dbmod
from service.kpi.periods import Period
from service.models.catalog import Kpi, KpiIn, ServiceIn
from service.models.enums import Aggregation, Cadence, Direction, Status, TargetScope, Trend
from service.models.statuses import OVERALL, KpiStatus, ScopeRef, StatusDriver
from service.store import statuses
from service.usecases import catalog

UTC = dt.UTC
JAN = Period(dt.datetime(2031, 1, 1, tzinfo=UTC), dt.datetime(2031, 2, 1, tzinfo=UTC))
FEB = Period(dt.datetime(2031, 2, 1, tzinfo=UTC), dt.datetime(2031, 3, 1, tzinfo=UTC))
AT = dt.datetime(2031, 3, 2, 8, 0, tzinfo=UTC)


async def make_kpi(con: dbmod.Connection, key: str, cadence: Cadence | None) -> Kpi:
    return await catalog.KPIS.create(con, KpiIn(
        key=key, name=f"KPI {key}", unit="count", direction=Direction.HIGHER_IS_BETTER,
        aggregation=Aggregation.SUM, cadence=cadence,
    ))  # fmt: skip


async def make_service(con: dbmod.Connection, slug: str, tier: int) -> ScopeRef:
    service = await catalog.SERVICES.create(
        con, ServiceIn(slug=slug, name=f"Service {slug}", tier=tier)
    )
    return ScopeRef(service.id, service.slug, service.tier)


def status(kpi: Kpi, ref: ScopeRef, period: Period, value: float, **extra: object) -> KpiStatus:
    fields: dict[str, object] = {
        "kpi": kpi.key, "service": ref.slug, "cadence": Cadence.MONTHLY,
        "period_start": period.start, "period_end": period.end, "value": value,
        "target": 100.0, "warning": 90.0, "target_scope": TargetScope.GLOBAL,
        "status": Status.BREACHED, "previous_value": None, "trend": Trend.UNKNOWN,
        "evaluated_at": None, **extra,
    }  # fmt: skip
    return KpiStatus.model_validate(fields)


async def test_scopes_are_the_kpi_overall_then_its_services_by_slug(
    con: dbmod.Connection,
) -> None:
    kpi = await make_kpi(con, "orders", Cadence.MONTHLY)
    lone = await make_kpi(con, "visits", Cadence.MONTHLY)
    web = await make_service(con, "web", 2)
    erp = await make_service(con, "erp", 1)
    for slug in ("web", "erp"):
        await catalog.link_service(con, kpi="orders", service=slug)
    found = await statuses.kpi_scopes(con, [kpi, lone])
    assert found == {kpi.id: [OVERALL, erp, web], lone.id: [OVERALL]}


async def test_a_status_is_kept_unless_replaced_and_reads_back_typed(
    con: dbmod.Connection,
) -> None:
    kpi = await make_kpi(con, "orders", Cadence.MONTHLY)
    first = status(kpi, OVERALL, JAN, 50.0)
    assert await statuses.insert_status(
        con, kpi_id=kpi.id, service_id=None, status=first, replace=False, now=AT
    )
    later = status(kpi, OVERALL, JAN, 120.0, status=Status.MET)
    assert not await statuses.insert_status(
        con, kpi_id=kpi.id, service_id=None, status=later, replace=False, now=AT
    )
    assert await statuses.has_status(con, kpi.id, Cadence.MONTHLY, JAN.start)
    assert not await statuses.has_status(con, kpi.id, Cadence.MONTHLY, FEB.start)
    read = await statuses.status_of_period(con, kpi, OVERALL, JAN.start)
    assert read == first.model_copy(update={"evaluated_at": AT})

    replaced_at = AT + dt.timedelta(hours=1)
    assert await statuses.insert_status(
        con, kpi_id=kpi.id, service_id=None, status=later, replace=True, now=replaced_at
    )
    read = await statuses.status_of_period(con, kpi, OVERALL, JAN.start)
    assert isinstance(read, KpiStatus)
    assert (read.value, read.status, read.evaluated_at) == (120.0, Status.MET, replaced_at)
    assert await statuses.status_of_period(con, kpi, OVERALL, FEB.start) is None


async def test_a_rolled_up_status_names_its_driving_service(con: dbmod.Connection) -> None:
    kpi = await make_kpi(con, "orders", Cadence.MONTHLY)
    erp = await make_service(con, "erp", 1)
    assert erp.service_id is not None
    driver = StatusDriver(service="erp", value=40.0, target=100.0, target_scope=TargetScope.TIER)
    rolled = status(kpi, OVERALL, JAN, 70.0, target=None, warning=None,
                    target_scope=TargetScope.SERVICES, driver=driver)  # fmt: skip
    await statuses.insert_status(
        con, kpi_id=kpi.id, service_id=None, status=rolled, replace=False, now=AT,
        driver_id=erp.service_id,
    )  # fmt: skip
    read = await statuses.status_of_period(con, kpi, OVERALL, JAN.start)
    assert read is not None and read.driver == driver


async def test_many_stored_statuses_are_read_at_once(con: dbmod.Connection) -> None:
    orders = await make_kpi(con, "orders", Cadence.MONTHLY)
    visits = await make_kpi(con, "visits", Cadence.MONTHLY)
    erp = await make_service(con, "erp", 1)
    web = await make_service(con, "web", 2)
    for kpi, ref, value in ((orders, OVERALL, 1.0), (orders, erp, 2.0), (visits, web, 3.0)):
        await statuses.insert_status(
            con, kpi_id=kpi.id, service_id=ref.service_id,
            status=status(kpi, ref, JAN, value), replace=False, now=AT,
        )  # fmt: skip

    overall = await statuses.stored_overall_statuses(con, [(orders, JAN), (visits, JAN)])
    assert list(overall) == [orders.id]
    assert (overall[orders.id].kpi, overall[orders.id].service) == ("orders", None)

    wanted = [(orders, erp, JAN), (visits, web, JAN), (orders, web, JAN), (visits, erp, FEB)]
    found = await statuses.stored_service_statuses(con, wanted)
    assert erp.service_id is not None and web.service_id is not None
    assert {k: (s.kpi, s.service, s.value) for k, s in found.items()} == {
        (orders.id, erp.service_id): ("orders", "erp", 2.0),
        (visits.id, web.service_id): ("visits", "web", 3.0),
    }


async def test_history_is_newest_period_first_and_pages(con: dbmod.Connection) -> None:
    kpi = await make_kpi(con, "orders", Cadence.MONTHLY)
    for period, value in ((JAN, 1.0), (FEB, 2.0)):
        await statuses.insert_status(
            con, kpi_id=kpi.id, service_id=None, status=status(kpi, OVERALL, period, value),
            replace=False, now=AT,
        )  # fmt: skip
    found = await statuses.status_history(
        con, kpi, service_id=None, slug=None, before=None, limit=10
    )
    assert [(s.period_start, s.value) for s in found] == [(FEB.start, 2.0), (JAN.start, 1.0)]
    older = await statuses.status_history(
        con, kpi, service_id=None, slug=None, before=FEB.start, limit=10
    )
    assert [s.value for s in older] == [1.0]


async def test_only_kpis_with_a_cadence_are_listed(con: dbmod.Connection) -> None:
    monthly = await make_kpi(con, "orders", Cadence.MONTHLY)
    never = await make_kpi(con, "visits", None)
    found = await statuses.kpis_with_cadence(con)
    assert monthly.id in found and never.id not in found
    assert found == sorted(found)
