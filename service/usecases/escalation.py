"""Escalations: opened, advanced and closed by the statuses of closed periods, their steps
fired along the KPI's path (the pure rules of service/kpi/escalation.py decide which are due),
webhook steps queued in the notification outbox, and acknowledging or resolving by hand.

A breached period opens or advances the escalation of (KPI, scope); a later period that is
not breached (met or at risk) closes it as recovered. A breach in a period an earlier
escalation already covered opens nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from service.clock import rfc3339
from service.db import Connection
from service.errors import Conflict, NotFound
from service.kpi.escalation import EscalationState, due_steps
from service.models.catalog import Kpi
from service.models.enums import Channel, Status
from service.models.statuses import Escalation, KpiStatus, OpenEscalation, ScopeRef
from service.models.urls import shown_url
from service.store import escalations, services, statuses
from service.store import kpis as kpi_store
from service.usecases import notifications

#: The event type of the notification a webhook step sends.
STEP_EVENT = "kpi.escalation.step"


def step_data(
    kpi: Kpi, st: KpiStatus | None, esc: OpenEscalation, service: str | None,
    position: int | None, who: str | None,
) -> dict[str, Any]:  # fmt: skip
    """The `data` of a notification about an escalation step."""
    body: dict[str, Any] = {
        "escalation_id": esc.id,
        "kpi": {"key": kpi.key, "name": kpi.name, "unit": kpi.unit,
                "direction": kpi.direction.value},
        "service": service,
        "breached_periods": esc.breached_periods,
        "owners": {"business": kpi.business_owner, "technology": kpi.technology_owner},
    }  # fmt: skip
    if position is not None:
        body["step"] = {"position": position, "who": who}
    if st is not None:
        body["period"] = {"start": rfc3339(st.period_start), "end": rfc3339(st.period_end)}
        body["value"], body["target"], body["warning"] = st.value, st.target, st.warning
        body["status"] = st.status.value
    return body


async def fire_steps(
    con: Connection, kpi: Kpi, esc: OpenEscalation, service: str | None, now: dt.datetime,
    st: KpiStatus | None,
) -> list[int]:  # fmt: skip
    """Fires the escalation's due steps in order: each recorded once, webhooks queued."""
    state = EscalationState(
        esc.breached_periods, esc.steps_fired, esc.opened_at, esc.state == "acknowledged"
    )
    fired = []
    for position in due_steps(kpi.escalation_path, state, now):
        step = kpi.escalation_path[position - 1]
        # Every read token can list events: a webhook is named by its host alone (the URL is
        # in the outbox, which admins read).
        address = shown_url(step.address, admin=step.channel is Channel.EMAIL)
        detail = f"{step.who} via {step.channel.value} {address}"
        if step.channel is Channel.EMAIL:
            detail += " (recorded; this service sends no e-mail, use a webhook step to notify)"
        if not await escalations.record_event(con, esc.id, "step", position, now, detail):
            continue  # fired already, by another evaluation
        if step.channel is Channel.WEBHOOK:
            await notifications.enqueue(
                con, escalation_id=esc.id, position=position, url=step.address,
                event_type=STEP_EVENT, occurred_at=now,
                data=step_data(kpi, st, esc, service, position, step.who),
            )  # fmt: skip
        fired.append(position)
    if fired:
        await escalations.set_steps_fired(con, esc.id, fired[-1])
    return fired


async def _open(
    con: Connection, kpi: Kpi, ref: ScopeRef, st: KpiStatus, now: dt.datetime
) -> OpenEscalation | None:
    """Opens the escalation of a breach (None when an earlier one covered its period)."""
    settled = await escalations.last_resolved_period(con, kpi.id, ref.service_id)
    if settled is not None and st.period_start <= settled:
        return None  # a period an earlier escalation already covered: no new page
    esc_id = await escalations.open_escalation(con, kpi.id, ref.service_id, now, st.period_start)
    if esc_id is not None:
        since = st.period_start.date()
        await escalations.record_event(
            con, esc_id, "opened", None, now, f"breached in the period from {since}"
        )
    return await escalations.lock_open_escalation(con, kpi.id, ref.service_id)


async def advance_escalation(
    con: Connection, kpi: Kpi, ref: ScopeRef, st: KpiStatus, now: dt.datetime
) -> None:
    """Opens, advances or closes the escalation of (KPI, scope) after a period's status."""
    esc = await escalations.lock_open_escalation(con, kpi.id, ref.service_id)
    since = st.period_start.date()
    if st.status is Status.BREACHED:
        if esc is None:
            esc = await _open(con, kpi, ref, st, now)
            if esc is None:
                return
        elif st.period_start > esc.last_period:
            await escalations.breached_again(con, esc.id, st.period_start)
            await escalations.record_event(
                con, esc.id, "breached_again", None, now, f"breached from {since}"
            )
            esc = await escalations.lock_open_escalation(con, kpi.id, ref.service_id)
            assert esc is not None
        await fire_steps(con, kpi, esc, ref.slug, now, st)
    elif st.status in (Status.MET, Status.AT_RISK) and esc is not None:
        if st.period_start > esc.last_period:
            await escalations.recover(con, esc.id, now, st.period_start)
            await escalations.record_event(
                con, esc.id, "recovered", None, now, f"{st.status} from {since}"
            )


async def advance_waiting(con: Connection, now: dt.datetime) -> int:
    """Fires time-based steps (T unacknowledged) of open escalations; the steps fired."""
    fired = 0
    async with con.transaction():
        waiting = await escalations.waiting_escalations(con)
        kpis = {k.id: k for k in await kpi_store.list_kpis(con, ids=[e.kpi_id for e in waiting])}
        for esc in waiting:
            kpi = kpis[esc.kpi_id]
            ref = ScopeRef(esc.service_id, None, None)
            if esc.service_id is not None:
                (svc,) = await services.services_by_id(con, [esc.service_id])
                ref = ScopeRef(svc.id, svc.slug, svc.tier)
            # The notification names the latest breach, as the period-driven steps do.
            st = await statuses.status_of_period(con, kpi, ref, esc.last_period)
            fired += len(await fire_steps(con, kpi, esc, ref.slug, now, st))
    return fired


async def list_escalations(
    con: Connection, *, state: str | None = None, kpi: str | None = None,
    escalation_id: int | None = None, before_id: int | None = None, limit: int = 100,
) -> list[Escalation]:  # fmt: skip
    return await escalations.list_escalations(
        con, state=state, kpi=kpi, escalation_id=escalation_id, before_id=before_id, limit=limit
    )


async def act(
    con: Connection, escalation_id: int, action: str, by: str, note: str | None,
    now: dt.datetime,
) -> Escalation:  # fmt: skip
    """Acknowledge (stops time-based steps) or resolve an escalation by hand."""
    change = {"acknowledge": escalations.acknowledge, "resolve": escalations.resolve}[action]
    async with con.transaction():
        if not await change(con, escalation_id, now, by):
            current = await escalations.escalation_state(con, escalation_id)
            if current is None:
                raise NotFound(f"no escalation {escalation_id}")
            raise Conflict(f"escalation {escalation_id} is {current}; cannot {action} it",
                           state=current)  # fmt: skip
        kind = "acknowledged" if action == "acknowledge" else "resolved"
        detail = by + (f": {note}" if note else "")
        await escalations.record_event(con, escalation_id, kind, None, now, detail)
    (esc,) = await list_escalations(con, escalation_id=escalation_id, limit=1)
    return esc
