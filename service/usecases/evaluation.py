"""Evaluating KPIs per period of their cadence and storing the statuses; the background
evaluation round of the leader.

A KPI is evaluated overall (every point, or the whole fleet for builtin metrics) and for each
service it applies to, against the effective target (service, else tier, else global; the
tier default for availability). Statuses are stored: the background evaluation keeps the first
one of a period, so later target changes leave history alone; an on-demand evaluation replaces
the period's status. A KPI overall without a target of its own takes the worst status of its
services (and escalates through them). Each stored status then opens, advances or closes an
escalation (service/usecases/escalation.py).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import socket
import time
from collections.abc import Sequence
from typing import Any

from service.db import Connection
from service.errors import invalid
from service.kpi import periods
from service.kpi import status as rules
from service.kpi.periods import CADENCE_GRAIN, Period
from service.kpi.targets import DEFAULT_AVAILABILITY, Effective, effective
from service.kpi.units import rate
from service.models.catalog import Kpi
from service.models.enums import BuiltinMetric, Cadence, Status, TargetScope
from service.models.observations import SeriesPoint
from service.models.statuses import KpiStatus, ScopeRef, StatusDriver
from service.store import kpis as kpi_store
from service.store import leases, metrics, statuses
from service.store import targets as target_store
from service.store.metrics import MetricScope
from service.usecases import calendars, escalation, measure

log = logging.getLogger(__name__)

#: The evaluating leader's lease; each schema has its own lease table, so deployments
#: sharing a database lead apart.
LEADER_LEASE = "kpi-evaluation"
#: How long a lease lasts unless renewed (KPI_LEADER_LEASE_SECONDS sets the app's).
DEFAULT_LEASE_SECONDS = 90.0
_INSTANCE = secrets.token_hex(4)


def process_holder() -> str:
    """This process as a lease holder: host, process id, and a part drawn at start (a new
    process reusing the id is someone else)."""
    return f"{socket.gethostname()}:{os.getpid()}:{_INSTANCE}"


async def metric_scope(con: Connection, kpi: Kpi, ref: ScopeRef) -> MetricScope:
    """What the KPI's metric counts for the scope: the KPI's own scope overall, else the
    service alone."""
    if ref.service_id is None:
        return await metrics.kpi_scope(con, kpi)
    return MetricScope("service", ref.slug, (ref.service_id,))


def target_for(kpi: Kpi, targets: Sequence[Any], ref: ScopeRef, day: dt.date) -> Effective | None:
    found = effective(targets, service=ref.slug, tier=ref.tier, day=day)
    if found is None and kpi.metric is BuiltinMetric.AVAILABILITY and ref.tier is not None:
        default = rate(DEFAULT_AVAILABILITY[ref.tier], kpi.unit)
        assert default is not None
        return Effective(default, None, TargetScope.DEFAULT)
    return found


async def compute(
    con: Connection, kpi: Kpi, ref: ScopeRef, cadence: Cadence, period: Period,
    targets: Sequence[Any], now: dt.datetime, scope: MetricScope | None = None,
) -> KpiStatus:  # fmt: skip
    """The KPI's status for one scope and period, with the previous period and the trend.
    `scope` is the metric scope of `ref` when the caller has resolved it already."""
    before = periods.previous(cadence, period, calendars.of_kpi(kpi))
    scope = scope or await metric_scope(con, kpi, ref)
    points = await measure.series(
        con, kpi=kpi, scope=scope, grain=CADENCE_GRAIN[cadence], start=before.start,
        end=period.end, now=now,
    )  # fmt: skip
    return status_of_points(kpi, ref, cadence, period, targets, points, now)


async def compute_services(
    con: Connection, kpi: Kpi, refs: Sequence[ScopeRef], cadence: Cadence, period: Period,
    targets: Sequence[Any], now: dt.datetime,
) -> list[KpiStatus]:  # fmt: skip
    """`compute` for each service of `refs`, in the statements of one (their number does not
    grow with the services)."""
    if not refs:
        return []
    before = periods.previous(cadence, period, calendars.of_kpi(kpi))
    ids = [r.service_id for r in refs if r.service_id is not None]
    assert len(ids) == len(refs), "service scopes only"
    found = await measure.series_by_service(
        con, kpi=kpi, service_ids=ids, grain=CADENCE_GRAIN[cadence], start=before.start,
        end=period.end, now=now,
    )  # fmt: skip
    return [
        status_of_points(kpi, r, cadence, period, targets, found[sid], now)
        for r, sid in zip(refs, ids, strict=True)
    ]


def status_of_points(
    kpi: Kpi, ref: ScopeRef, cadence: Cadence, period: Period, targets: Sequence[Any],
    points: Sequence[SeriesPoint], now: dt.datetime,
) -> KpiStatus:  # fmt: skip
    """The status from the KPI's series over the period and the one before it."""
    before = periods.previous(cadence, period, calendars.of_kpi(kpi))
    by_bucket = {p.bucket: p.value for p in points}
    value, previous = by_bucket.get(period.start), by_bucket.get(before.start)
    target = target_for(kpi, targets, ref, period.start.date())
    return KpiStatus(
        kpi=kpi.key,
        service=ref.slug,
        cadence=cadence,
        period_start=period.start,
        period_end=period.end,
        value=value,
        target=target.value if target else None,
        warning=target.warning if target else None,
        target_scope=target.scope if target else None,
        status=rules.evaluate(
            value,
            target.value if target else None,
            target.warning if target else None,
            kpi.direction,
        ),
        previous_value=previous,
        trend=rules.trend(value, previous, kpi.direction),
        complete=period.end <= now,
        evaluated_at=None,
    )


def rolled_up(kpi: Kpi, overall: KpiStatus, services: Sequence[KpiStatus]) -> KpiStatus:
    """The KPI overall without a target of its own takes the worst status of its services,
    and names the service that set it (with that service's value and target)."""
    if overall.target is not None or not services:
        return overall
    index = rules.driver([(st.status, st.value, st.target) for st in services], kpi.direction)
    if index is None:
        return overall
    worst = services[index]
    assert worst.service is not None
    return overall.model_copy(update={
        "status": worst.status, "target_scope": TargetScope.SERVICES,
        "driver": StatusDriver(service=worst.service, value=worst.value, target=worst.target,
                               target_scope=worst.target_scope),
    })  # fmt: skip


async def evaluate_kpi(
    con: Connection, kpi: Kpi, *, cadence: Cadence | None = None, period: Period | None = None,
    now: dt.datetime, replace: bool, escalate: bool = True,
) -> list[KpiStatus]:  # fmt: skip
    """Evaluates one KPI for one period (default: the last closed period of its cadence) for
    every scope, stores each status and (unless told not to) escalates; one transaction. A
    period under way is computed and answered, never stored (its figures still move):
    nothing escalates on it."""
    cadence = cadence or kpi.cadence
    if cadence is None:
        raise invalid("cadence", f"KPI {kpi.key!r} has no reporting cadence; give one")
    period = period or periods.last_closed(cadence, now, calendars.of_kpi(kpi))
    if period.start >= now:
        raise invalid("period", "the period has not started yet")
    targets = (await target_store.targets_by_kpi(con, [kpi.id]))[kpi.id]
    overall, *linked = (await statuses.kpi_scopes(con, [kpi]))[kpi.id]
    services = await compute_services(con, kpi, linked, cadence, period, targets, now)
    whole = rolled_up(kpi, await compute(con, kpi, overall, cadence, period, targets, now),
                      services)  # fmt: skip
    computed = [(overall, whole), *zip(linked, services, strict=True)]
    if period.end > now:
        return [st for _, st in computed]
    ids = {r.slug: r.service_id for r in linked}
    out = []
    async with con.transaction():
        for ref, st in computed:
            assert st.complete, "statuses are stored for closed periods only"
            driver_id = ids[st.driver.service] if st.driver else None
            if await statuses.insert_status(
                con, kpi_id=kpi.id, service_id=ref.service_id, status=st, replace=replace,
                now=now, driver_id=driver_id,
            ):  # fmt: skip
                # A status rolled up from the services escalates through them, not twice
                # (but may still close an escalation opened under an earlier global target).
                rolled = st.target_scope is TargetScope.SERVICES
                if escalate and (not rolled or st.status is not Status.BREACHED):
                    await escalation.advance_escalation(con, kpi, ref, st, now)
                st = st.model_copy(update={"evaluated_at": now})
                out.append(st)
    return out


async def evaluate_on_demand(
    con: Connection, *, kpi: str | None, on: dt.datetime | None, cadence: Cadence | None,
    now: dt.datetime,
) -> list[KpiStatus]:  # fmt: skip
    """One KPI (or every KPI with a cadence) for the period holding `on` (default: the last
    closed one), statuses replaced: what `kpi evaluate`, POST /v1/evaluate and the
    `evaluate` mutation do."""
    if kpi is not None:
        kpis = [await kpi_store.get_kpi(con, key=kpi)]
    else:
        kpis = [k for k in await kpi_store.list_kpis(con) if k.cadence is not None]
    out: list[KpiStatus] = []
    for k in kpis:
        chosen = cadence or k.cadence
        cal = calendars.of_kpi(k)
        period = periods.period_of(chosen, on, cal) if on is not None and chosen else None
        out += await evaluate_kpi(con, k, cadence=chosen, period=period, now=now, replace=True)
    return out


async def evaluate_due(
    con: Connection, now: dt.datetime, *, holder: str | None = None,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
) -> int:  # fmt: skip
    """The leader's round: each KPI with a cadence evaluated for its last closed period unless
    stored already, then time-based escalation steps. Returns the statuses stored; does
    nothing (0) when another process holds an unexpired leader lease.

    The lease is a row (no session state, so it holds behind a transaction-mode pooler): taken
    or renewed at the start of the round and again whenever a third of it has passed, kept
    between rounds, taken over by another process once it has expired."""
    holder = holder or process_holder()
    if not await leases.take_lease(con, LEADER_LEASE, holder, lease_seconds):
        return 0
    renewed = time.monotonic()
    stored = 0
    ids = await statuses.kpis_with_cadence(con)
    for kpi in await kpi_store.list_kpis(con, ids=ids):
        assert kpi.cadence is not None
        if time.monotonic() - renewed > lease_seconds / 3:
            if not await leases.take_lease(con, LEADER_LEASE, holder, lease_seconds):
                log.warning("leader lease lost mid-round; another process leads")
                return stored
            renewed = time.monotonic()
        period = periods.last_closed(kpi.cadence, now, calendars.of_kpi(kpi))
        if await statuses.has_status(con, kpi.id, kpi.cadence, period.start):
            continue
        try:
            stored += len(await evaluate_kpi(con, kpi, period=period, now=now, replace=False))
        except Exception:
            log.exception("evaluating %s failed; retried next round", kpi.key)
    await escalation.advance_waiting(con, now)
    return stored
