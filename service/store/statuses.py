"""KPI statuses (sql/queries/statuses.sql): one stored per KPI, scope, cadence and closed
period, read back as KpiStatus; the services each KPI is evaluated for; and the lock of the
process that evaluates in the background."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from service.db import Connection, fetch_grouped, statements
from service.kpi.periods import Period
from service.models.catalog import Kpi
from service.models.enums import Cadence
from service.models.statuses import OVERALL, KpiStatus, ScopeRef, StatusDriver

q = statements("statuses")


async def kpi_scopes(con: Connection, kpis: Sequence[Kpi]) -> dict[int, list[ScopeRef]]:
    """What each KPI is evaluated for, by KPI id: overall first, then its services by slug."""
    linked = await fetch_grouped(
        con, q("kpi_scopes"), [k.id for k in kpis],
        lambda r: ScopeRef(r["id"], r["slug"], r["tier"]),
    )  # fmt: skip
    return {k.id: [OVERALL, *linked[k.id]] for k in kpis}


async def insert_status(
    con: Connection, *, kpi_id: int, service_id: int | None, status: KpiStatus, replace: bool,
    now: dt.datetime, driver_id: int | None = None,
) -> bool:  # fmt: skip
    """Stores the status of a closed period; whether it was written (False: a stored one
    was kept). `driver_id`: the id of the service a rolled-up status names."""
    st, d = status, status.driver
    at = await con.fetchval(
        q("insert_status"), kpi_id, service_id, st.cadence.value, st.period_start,
        st.period_end, st.value, st.target, st.warning,
        st.target_scope.value if st.target_scope else None, st.status.value, st.previous_value,
        st.trend.value, replace, now, driver_id, d.value if d else None,
        d.target if d else None, d.target_scope.value if d and d.target_scope else None,
    )  # fmt: skip
    return at is not None


def as_status(row: Mapping[str, Any], kpi_key: str, slug: str | None) -> KpiStatus:
    """A stored status (of a closed period) as read back from kpi_status_read."""
    data = dict(row.items())
    for name in ("kpi_id", "service_id"):
        data.pop(name, None)
    driver = {k: data.pop(f"driver_{k}") for k in ("service", "value", "target", "target_scope")}
    return KpiStatus(
        kpi=kpi_key, service=slug, **data,
        driver=StatusDriver(**driver) if driver["service"] is not None else None,
    )  # fmt: skip


async def stored_overall_statuses(
    con: Connection, wanted: Sequence[tuple[Kpi, Period]]
) -> dict[int, KpiStatus]:
    """The stored overall status of each KPI for its period, by KPI id (the stored ones only),
    in one statement. The KPIs have a cadence."""
    keys = {k.id: k.key for k, _ in wanted}
    rows = await con.fetch(
        q("stored_overall_statuses"), [k.id for k, _ in wanted], [k.cadence for k, _ in wanted],
        [p.start for _, p in wanted],
    )  # fmt: skip
    return {r["kpi_id"]: as_status(r, keys[r["kpi_id"]], None) for r in rows}


async def stored_service_statuses(
    con: Connection, wanted: Sequence[tuple[Kpi, ScopeRef, Period]]
) -> dict[tuple[int, int], KpiStatus]:
    """The stored status of each (KPI, service) for its period, by (KPI id, service id) (the
    stored ones only), in one statement. The KPIs have a cadence."""
    rows = await con.fetch(
        q("stored_service_statuses"), [k.id for k, _, _ in wanted],
        [r.service_id for _, r, _ in wanted], [k.cadence for k, _, _ in wanted],
        [p.start for _, _, p in wanted],
    )  # fmt: skip
    slugs = {r.service_id: r.slug for _, r, _ in wanted}
    keys = {k.id: k.key for k, _, _ in wanted}
    return {
        (r["kpi_id"], r["service_id"]): as_status(r, keys[r["kpi_id"]], slugs[r["service_id"]])
        for r in rows
    }


async def status_history(
    con: Connection, kpi: Kpi, *, service_id: int | None, slug: str | None,
    before: dt.datetime | None, limit: int,
) -> list[KpiStatus]:  # fmt: skip
    """The stored statuses of (KPI, scope), newest period first, before `before` if given."""
    rows = await con.fetch(q("status_history"), kpi.id, service_id, before, limit)
    return [as_status(r, kpi.key, slug) for r in rows]


async def has_status(con: Connection, kpi_id: int, cadence: Cadence, start: dt.datetime) -> bool:
    """Whether the KPI overall has a stored status for the period starting at `start`."""
    return bool(await con.fetchval(q("has_status"), kpi_id, cadence.value, start))


async def kpis_with_cadence(con: Connection) -> list[int]:
    """The ids of the KPIs that have a reporting cadence, in id order."""
    return [r["id"] for r in await con.fetch(q("kpis_with_cadence"))]


async def status_of_period(
    con: Connection, kpi: Kpi, ref: ScopeRef, start: dt.datetime
) -> KpiStatus | None:
    """The latest stored status of (KPI, scope) for the period starting at `start`."""
    row = await con.fetchrow(q("status_of_period"), kpi.id, ref.service_id, start)
    return as_status(row, kpi.key, ref.slug) if row is not None else None
