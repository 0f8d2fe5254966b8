"""The escalation repository on a real Postgres: one open escalation per KPI and scope,
advanced and closed, its events recorded once, read back typed."""

from __future__ import annotations

import datetime as dt

from service import db as dbmod
from service.models.catalog import EscalationStep, Kpi, KpiIn
from service.models.enums import Aggregation, Cadence, Channel, Direction
from service.models.statuses import Escalation, OpenEscalation
from service.store import escalations
from service.usecases import catalog

UTC = dt.UTC
JAN, FEB, MAR = (dt.datetime(2031, m, 1, tzinfo=UTC) for m in (1, 2, 3))
AT = dt.datetime(2031, 2, 1, 9, 0, tzinfo=UTC)


async def make_kpi(con: dbmod.Connection, key: str, steps: int = 0) -> Kpi:
    path = [
        EscalationStep(who=f"level-{n}", channel=Channel.EMAIL, address="ops@example.com",
                       after_breached_periods=n)
        for n in range(1, steps + 1)
    ]  # fmt: skip
    return await catalog.KPIS.create(con, KpiIn(
        key=key, name=f"KPI {key}", unit="count", direction=Direction.HIGHER_IS_BETTER,
        aggregation=Aggregation.SUM, cadence=Cadence.MONTHLY, escalation_path=path,
    ))  # fmt: skip


async def test_one_escalation_is_open_per_kpi_and_scope(con: dbmod.Connection) -> None:
    kpi = await make_kpi(con, "orders")
    assert await escalations.lock_open_escalation(con, kpi.id, None) is None
    esc_id = await escalations.open_escalation(con, kpi.id, None, AT, JAN)
    assert esc_id is not None
    assert await escalations.open_escalation(con, kpi.id, None, AT, FEB) is None
    assert await escalations.lock_open_escalation(con, kpi.id, None) == OpenEscalation(
        id=esc_id, kpi_id=kpi.id, service_id=None, state="open", opened_at=AT, last_period=JAN,
        breached_periods=1, steps_fired=0,
    )  # fmt: skip

    await escalations.breached_again(con, esc_id, FEB)
    await escalations.set_steps_fired(con, esc_id, 2)
    await escalations.set_steps_fired(con, esc_id, 1)  # never goes back
    found = await escalations.lock_open_escalation(con, kpi.id, None)
    assert found is not None
    assert (found.last_period, found.breached_periods, found.steps_fired) == (FEB, 2, 2)


async def test_an_event_is_recorded_once(con: dbmod.Connection) -> None:
    kpi = await make_kpi(con, "orders")
    esc_id = await escalations.open_escalation(con, kpi.id, None, AT, JAN)
    assert esc_id is not None
    assert await escalations.record_event(con, esc_id, "step", 1, AT, "level-1")
    assert not await escalations.record_event(con, esc_id, "step", 1, AT, "level-1 again")
    assert await escalations.record_event(con, esc_id, "step", 2, AT, "level-2")
    (esc,) = await escalations.list_escalations(con, escalation_id=esc_id)
    assert isinstance(esc, Escalation)
    assert [(e.kind, e.position, e.detail) for e in esc.events] == [
        ("step", 1, "level-1"), ("step", 2, "level-2")]  # fmt: skip


async def test_recovery_closes_and_settles_its_periods(con: dbmod.Connection) -> None:
    kpi = await make_kpi(con, "orders")
    esc_id = await escalations.open_escalation(con, kpi.id, None, AT, JAN)
    assert esc_id is not None
    assert await escalations.last_resolved_period(con, kpi.id, None) is None
    await escalations.recover(con, esc_id, AT, FEB)
    assert await escalations.lock_open_escalation(con, kpi.id, None) is None
    assert await escalations.last_resolved_period(con, kpi.id, None) == FEB
    (esc,) = await escalations.list_escalations(con, escalation_id=esc_id)
    assert (esc.state, esc.resolution, esc.resolved_by) == ("resolved", "recovered", "recovery")


async def test_acknowledging_and_resolving_by_hand(con: dbmod.Connection) -> None:
    kpi = await make_kpi(con, "orders")
    esc_id = await escalations.open_escalation(con, kpi.id, None, AT, JAN)
    assert esc_id is not None
    assert await escalations.acknowledge(con, esc_id, AT, "ops-lead")
    assert not await escalations.acknowledge(con, esc_id, AT, "ops-lead")  # not open any more
    assert await escalations.escalation_state(con, esc_id) == "acknowledged"
    assert await escalations.resolve(con, esc_id, AT, "director")
    assert not await escalations.resolve(con, esc_id, AT, "director")
    assert await escalations.escalation_state(con, esc_id) == "resolved"
    assert await escalations.escalation_state(con, esc_id + 1000) is None


async def test_waiting_escalations_are_open_ones_with_steps_left(con: dbmod.Connection) -> None:
    two_steps = await make_kpi(con, "orders", steps=2)
    no_steps = await make_kpi(con, "visits")
    waiting = await escalations.open_escalation(con, two_steps.id, None, AT, JAN)
    await escalations.open_escalation(con, no_steps.id, None, AT, JAN)
    assert waiting is not None
    assert [e.id for e in await escalations.waiting_escalations(con)] == [waiting]
    await escalations.set_steps_fired(con, waiting, 2)
    assert await escalations.waiting_escalations(con) == []


async def test_escalations_list_newest_first_and_filter(con: dbmod.Connection) -> None:
    orders, visits = await make_kpi(con, "orders"), await make_kpi(con, "visits")
    first = await escalations.open_escalation(con, orders.id, None, AT, JAN)
    second = await escalations.open_escalation(con, visits.id, None, AT, MAR)
    assert first is not None and second is not None
    await escalations.resolve(con, first, AT, "director")
    listed = await escalations.list_escalations(con, limit=1000)
    ids = [e.id for e in listed if e.id in (first, second)]
    assert ids == [second, first]
    assert [e.id for e in await escalations.list_escalations(con, kpi="orders")] == [first]
    assert [e.id for e in await escalations.list_escalations(con, state="open")] == [second]
    assert [e.id for e in await escalations.list_escalations(con, before_id=second)] == [first]
