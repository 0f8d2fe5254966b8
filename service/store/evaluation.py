"""Evaluating KPIs per period of their cadence, storing the statuses, and escalating breaches.

A KPI is evaluated overall (every point, or the whole fleet for builtin metrics) and for each
service it applies to, against the effective target (service, else tier, else global; the
tier default for availability). Statuses are stored: the background evaluation keeps the first
one of a period, so later target changes leave history alone; an on-demand evaluation replaces
the period's status. A KPI overall without a target of its own
takes the worst status of its services (and escalates through them). A breached period opens
or advances an escalation along the KPI's path; a later period that is not breached (met or
at risk) closes it as recovered.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from service import outbound
from service.clock import rfc3339
from service.db import Connection, fetch_grouped, sql
from service.errors import Conflict, NotFound, invalid
from service.kpi import periods
from service.kpi import status as rules
from service.kpi.escalation import EscalationState, due_steps
from service.kpi.periods import CADENCE_GRAIN, Period
from service.kpi.targets import DEFAULT_AVAILABILITY, Effective, effective
from service.kpi.units import rate
from service.models.catalog import Kpi
from service.models.enums import BuiltinMetric, Cadence, Channel, KpiKind, Status, TargetScope
from service.models.observations import SeriesPoint
from service.models.statuses import Escalation, EscalationEvent, KpiStatus, StatusDriver
from service.notify import outbox
from service.store import kpis as kpi_store
from service.store import metrics, series
from service.store import services as service_store
from service.store import targets as target_store
from service.store.metrics import MetricScope
from service.usecases import measure

log = logging.getLogger(__name__)


def q(name: str) -> str:
    return sql("evaluation", name)


@dataclass(frozen=True)
class ScopeRef:
    """What a status is about: the KPI overall (service None) or one service."""

    service_id: int | None
    slug: str | None
    tier: int | None


async def scopes_of(con: Connection, kpis: Sequence[Kpi]) -> dict[int, list[ScopeRef]]:
    linked = await fetch_grouped(
        con, q("kpi_scopes"), [k.id for k in kpis],
        lambda r: ScopeRef(r["id"], r["slug"], r["tier"]),
    )  # fmt: skip
    return {k.id: [ScopeRef(None, None, None), *linked[k.id]] for k in kpis}


async def _metric_scope(con: Connection, kpi: Kpi, ref: ScopeRef) -> MetricScope:
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
    before = periods.previous(cadence, period)
    scope = scope or await _metric_scope(con, kpi, ref)
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
    before = periods.previous(cadence, period)
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
    before = periods.previous(cadence, period)
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


async def store(
    con: Connection, kpi: Kpi, ref: ScopeRef, st: KpiStatus, *, replace: bool, now: dt.datetime,
    driver_id: int | None = None,
) -> bool:  # fmt: skip
    """Stores the status of a closed period; whether it was written (False: a stored one
    was kept). `driver_id`: the id of the service a rolled-up status names."""
    assert st.complete, "statuses are stored for closed periods only"
    d = st.driver
    at = await con.fetchval(
        q("insert_status"), kpi.id, ref.service_id, st.cadence.value, st.period_start,
        st.period_end, st.value, st.target, st.warning,
        st.target_scope.value if st.target_scope else None, st.status.value, st.previous_value,
        st.trend.value, replace, now, driver_id, d.value if d else None,
        d.target if d else None, d.target_scope.value if d and d.target_scope else None,
    )  # fmt: skip
    return at is not None


def _payload(kind: str, kpi: Kpi, st: KpiStatus | None, esc_id: int, service: str | None,
             breached: int, position: int | None, who: str | None) -> dict[str, Any]:  # fmt: skip
    body: dict[str, Any] = {
        "type": kind,
        "escalation_id": esc_id,
        "kpi": {"key": kpi.key, "name": kpi.name, "unit": kpi.unit,
                "direction": kpi.direction.value},
        "service": service,
        "breached_periods": breached,
        "owners": {"business": kpi.business_owner, "technology": kpi.technology_owner},
    }  # fmt: skip
    if position is not None:
        body["step"] = {"position": position, "who": who}
    if st is not None:
        body["period"] = {"start": rfc3339(st.period_start), "end": rfc3339(st.period_end)}
        body["value"], body["target"], body["warning"] = st.value, st.target, st.warning
        body["status"] = st.status.value
    return body


async def _event(
    con: Connection, esc_id: int, kind: str, position: int | None, now: dt.datetime, detail: str
) -> bool:
    """Records an escalation event once; whether this call recorded it."""
    return await con.fetchval(q("record_event"), esc_id, kind, position, now, detail) is not None


async def fire_steps(
    con: Connection, kpi: Kpi, esc: dict[str, Any], service: str | None, now: dt.datetime,
    st: KpiStatus | None,
) -> list[int]:  # fmt: skip
    """Fires the escalation's due steps in order: each recorded once, webhooks queued."""
    state = EscalationState(
        esc["breached_periods"], esc["steps_fired"], esc["opened_at"],
        esc["state"] == "acknowledged",
    )  # fmt: skip
    fired = []
    for position in due_steps(kpi.escalation_path, state, now):
        step = kpi.escalation_path[position - 1]
        # Every read token can list events: a webhook is named by its host alone (the URL is
        # in the outbox, which admins read).
        address = outbound.shown_url(step.address, admin=step.channel is Channel.EMAIL)
        detail = f"{step.who} via {step.channel.value} {address}"
        if step.channel is Channel.EMAIL:
            detail += " (recorded; this service sends no e-mail, use a webhook step to notify)"
        if not await _event(con, esc["id"], "step", position, now, detail):
            continue  # fired already, by another evaluation
        if step.channel is Channel.WEBHOOK:
            await outbox.enqueue(
                con, escalation_id=esc["id"], position=position, url=step.address,
                event_type="kpi.escalation.step",
                payload=_payload("kpi.escalation.step", kpi, st, esc["id"], service,
                                 esc["breached_periods"], position, step.who),
            )  # fmt: skip
        fired.append(position)
    if fired:
        await con.execute(q("set_steps_fired"), esc["id"], fired[-1])
    return fired


async def advance_escalation(
    con: Connection, kpi: Kpi, ref: ScopeRef, st: KpiStatus, now: dt.datetime
) -> None:
    """Opens, advances or closes the escalation of (KPI, scope) after a period's status."""
    esc = await con.fetchrow(q("lock_open_escalation"), kpi.id, ref.service_id)
    if st.status is Status.BREACHED:
        if esc is None:
            settled = await con.fetchval(q("last_resolved_period"), kpi.id, ref.service_id)
            if settled is not None and st.period_start <= settled:
                return  # a period an earlier escalation already covered: no new page
            esc_id = await con.fetchval(q("open_escalation"), kpi.id, ref.service_id, now,
                                        st.period_start)  # fmt: skip
            if esc_id is not None:
                since = st.period_start.date()
                await _event(
                    con, esc_id, "opened", None, now, f"breached in the period from {since}"
                )
            esc = await con.fetchrow(q("lock_open_escalation"), kpi.id, ref.service_id)
            if esc is None:
                return
        elif st.period_start > esc["last_period"]:
            await con.execute(q("breached_again"), esc["id"], st.period_start)
            since = st.period_start.date()
            await _event(con, esc["id"], "breached_again", None, now, f"breached from {since}")
            esc = await con.fetchrow(q("lock_open_escalation"), kpi.id, ref.service_id)
            assert esc is not None
        await fire_steps(con, kpi, dict(esc.items()), ref.slug, now, st)
    elif st.status in (Status.MET, Status.AT_RISK) and esc is not None:
        if st.period_start > esc["last_period"]:
            await con.execute(q("recover"), esc["id"], now, st.period_start)
            since = st.period_start.date()
            await _event(con, esc["id"], "recovered", None, now, f"{st.status} from {since}")


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
    period = period or periods.last_closed(cadence, now)
    if period.start >= now:
        raise invalid("period", "the period has not started yet")
    targets = (await target_store.targets_by_kpi(con, [kpi.id]))[kpi.id]
    overall, *linked = (await scopes_of(con, [kpi]))[kpi.id]
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
            driver_id = ids[st.driver.service] if st.driver else None
            if await store(con, kpi, ref, st, replace=replace, now=now, driver_id=driver_id):
                # A status rolled up from the services escalates through them, not twice
                # (but may still close an escalation opened under an earlier global target).
                rolled = st.target_scope is TargetScope.SERVICES
                if escalate and (not rolled or st.status is not Status.BREACHED):
                    await advance_escalation(con, kpi, ref, st, now)
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
        period = periods.period_of(chosen, on) if on is not None and chosen else None
        out += await evaluate_kpi(con, k, cadence=chosen, period=period, now=now, replace=True)
    return out


async def advance_waiting(con: Connection, now: dt.datetime) -> int:
    """Fires time-based steps (T unacknowledged) of open escalations; the steps fired."""
    fired = 0
    async with con.transaction():
        rows = await con.fetch(q("waiting_escalations"))
        kpis = {k.id: k for k in await kpi_store.list_kpis(con, ids=[r["kpi_id"] for r in rows])}
        for r in rows:
            kpi = kpis[r["kpi_id"]]
            slug = None
            if r["service_id"] is not None:
                (svc,) = await service_store.services_by_id(con, [r["service_id"]])
                slug = svc.slug
            # The notification names the latest breach, as the period-driven steps do.
            row = await con.fetchrow(
                q("status_of_period"), kpi.id, r["service_id"], r["last_period"]
            )
            st = stored_status(row, kpi.key, slug) if row is not None else None
            fired += len(await fire_steps(con, kpi, dict(r.items()), slug, now, st))
    return fired


async def evaluate_due(con: Connection, now: dt.datetime) -> int:
    """The leader's round: each KPI with a cadence evaluated for its last closed period unless
    stored already, then time-based escalation steps. Returns the statuses stored; does
    nothing (0) when another process holds the leader lock."""
    if not await con.fetchval(q("try_leader_lock")):
        return 0
    stored = 0
    try:
        ids = [r["id"] for r in await con.fetch(q("kpis_with_cadence"))]
        for kpi in await kpi_store.list_kpis(con, ids=ids):
            assert kpi.cadence is not None
            period = periods.last_closed(kpi.cadence, now)
            if await con.fetchval(q("has_status"), kpi.id, kpi.cadence.value, period.start):
                continue
            try:
                stored += len(await evaluate_kpi(con, kpi, period=period, now=now, replace=False))
            except Exception:
                log.exception("evaluating %s failed; retried next round", kpi.key)
        await advance_waiting(con, now)
    finally:
        try:
            await con.execute(q("leader_unlock"))
        except BaseException:
            # The lock belongs to the session: a connection that could not let go of it must
            # not go back to the pool (no other process could lead until it was closed).
            con.terminate()
            raise
    return stored


def stored_status(r: Any, kpi_key: str, slug: str | None) -> KpiStatus:
    """A stored status (of a closed period) as read back from kpi_status_read."""
    data = dict(r.items())
    for name in ("kpi_id", "service_id"):
        data.pop(name, None)
    driver = {k: data.pop(f"driver_{k}") for k in ("service", "value", "target", "target_scope")}
    return KpiStatus(
        kpi=kpi_key, service=slug, **data,
        driver=StatusDriver(**driver) if driver["service"] is not None else None,
    )  # fmt: skip


def _period_asked(cadence: Cadence, on: dt.datetime | None, now: dt.datetime) -> Period:
    """The period holding `on`, else the last closed one."""
    return periods.period_of(cadence, on) if on else periods.last_closed(cadence, now)


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
    wanted = [(k, r, _period_asked(k.cadence, on, now)) for k, r in pairs if k.cadence]
    rows = await con.fetch(
        q("stored_service_statuses"), [k.id for k, _, _ in wanted],
        [r.service_id for _, r, _ in wanted], [k.cadence for k, _, _ in wanted],
        [p.start for _, _, p in wanted],
    )  # fmt: skip
    slugs = {r.service_id: r.slug for _, r, _ in wanted}
    by_key = {k.id: k.key for k, _, _ in wanted}
    out = {
        (r["kpi_id"], r["service_id"]): stored_status(
            r, by_key[r["kpi_id"]], slugs[r["service_id"]]
        )
        for r in rows
    }
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
    wanted = {k.id: _period_asked(k.cadence, on, now) for k in kpis if k.cadence is not None}
    by_id = {k.id: k for k in kpis}
    rows = await con.fetch(
        q("stored_overall_statuses"), list(wanted),
        [by_id[i].cadence for i in wanted], [p.start for p in wanted.values()],
    )  # fmt: skip
    out = {r["kpi_id"]: stored_status(r, by_id[r["kpi_id"]].key, None) for r in rows}
    missing = [by_id[i] for i in wanted if i not in out]
    if not missing:
        return out
    if any(wanted[k.id].start >= now for k in missing):
        raise invalid("period", "the period has not started yet")
    targets = await target_store.targets_by_kpi(con, [k.id for k in missing])
    linked = await scopes_of(con, missing)
    overall = ScopeRef(None, None, None)
    observed = [k for k in missing if k.kind is KpiKind.OBSERVED and k.cadence is not None]
    points = await series.observed_overall(
        con,
        [(k, CADENCE_GRAIN[k.cadence], periods.previous(k.cadence, wanted[k.id]).start,
          wanted[k.id].end) for k in observed if k.cadence is not None],
    ) if observed else {}  # fmt: skip
    fleet: MetricScope | None = None
    for kpi in missing:
        assert kpi.cadence is not None
        period, own, services = wanted[kpi.id], targets[kpi.id], linked[kpi.id][1:]
        if kpi.id in points:
            st = status_of_points(kpi, overall, kpi.cadence, period, own, points[kpi.id], now)
        else:
            if kpi.kind is KpiKind.BUILTIN and services:
                ids = tuple(r.service_id for r in services if r.service_id is not None)
                scope = MetricScope("kpi", kpi.key, ids)
            else:
                fleet = fleet or await metrics.resolve_scope(con)
                scope = fleet
            st = await compute(con, kpi, overall, kpi.cadence, period, own, now, scope)
        if st.target is None:
            # A KPI without a target of its own takes the worst status of its services.
            found = await compute_services(con, kpi, services, kpi.cadence, period, own, now)
            st = rolled_up(kpi, st, found)
        out[kpi.id] = st
    return out


async def history(
    con: Connection, kpi: Kpi, *, service_id: int | None, slug: str | None,
    before: dt.datetime | None, limit: int,
) -> list[KpiStatus]:  # fmt: skip
    rows = await con.fetch(q("status_history"), kpi.id, service_id, before, limit)
    return [stored_status(r, kpi.key, slug) for r in rows]


async def list_escalations(
    con: Connection, *, state: str | None = None, kpi: str | None = None,
    escalation_id: int | None = None, before_id: int | None = None, limit: int = 100,
) -> list[Escalation]:  # fmt: skip
    rows = await con.fetch(q("list_escalations"), state, kpi, escalation_id, limit, before_id)
    events = await fetch_grouped(
        con, q("escalation_events"), [r["id"] for r in rows], lambda d: EscalationEvent(**d)
    )
    return [Escalation(**dict(r.items()), events=events[r["id"]]) for r in rows]


async def act(
    con: Connection, escalation_id: int, action: str, by: str, note: str | None,
    now: dt.datetime,
) -> Escalation:  # fmt: skip
    """Acknowledge (stops time-based steps) or resolve an escalation by hand."""
    async with con.transaction():
        done = await con.fetchval(q(action), escalation_id, now, by)
        if done is None:
            current = await con.fetchval(q("escalation_state"), escalation_id)
            if current is None:
                raise NotFound(f"no escalation {escalation_id}")
            raise Conflict(f"escalation {escalation_id} is {current}; cannot {action} it",
                           state=current)  # fmt: skip
        kind = "acknowledged" if action == "acknowledge" else "resolved"
        detail = by + (f": {note}" if note else "")
        await _event(con, escalation_id, kind, None, now, detail)
    (esc,) = await list_escalations(con, escalation_id=escalation_id, limit=1)
    return esc
