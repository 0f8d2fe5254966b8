"""Planned downtime and the deploy gate's rule as plain functions with hand-worked numbers,
and the SQL of planned downtime agreeing with the Python rule on random timelines."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from service import db as dbmod
from service.kpi.deploy_gate import Budget, decide
from service.kpi.intervals import Window
from service.kpi.maintenance import merged, planned_seconds
from service.kpi.periods import Period
from service.store import maintenance

T0 = dt.datetime(2026, 11, 10, tzinfo=dt.UTC)
DAY = Window(T0, T0 + dt.timedelta(days=1))


def h(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def test_planned_seconds_is_the_overlap_of_the_two_unions() -> None:
    # Outage 01:30-03:30, window 02:00-05:00: 1.5 h planned.
    assert planned_seconds([(h(1.5), h(3.5))], [(h(2), h(5))], DAY, h(24)) == 1.5 * 3600
    # Overlapping outages (01:00-02:30, 02:15-03:15) and windows (02:00-03:00, 02:30-04:00):
    # unions 01:00-03:15 and 02:00-04:00, overlap 02:00-03:15 = 75 min.
    outages = [(h(1), h(2.5)), (h(2.25), h(3.25))]
    windows = [(h(2), h(3)), (h(2.5), h(4))]
    assert planned_seconds(outages, windows, DAY, h(24)) == 75 * 60
    # An open outage runs to now (03:00): 02:00-03:00 inside.
    assert planned_seconds([(h(1), None)], [(h(2), h(5))], DAY, h(3)) == 3600
    # Clipped at the window's edges: a window from the day before to 01:00 holds 1 h of an
    # outage that started before the day.
    before = (T0 - dt.timedelta(hours=2), h(1))
    assert planned_seconds([before], [before], DAY, h(24)) == 3600
    # Outage and window side by side, touching at 02:00: nothing planned.
    assert planned_seconds([(h(1), h(2))], [(h(2), h(3))], DAY, h(24)) == 0
    assert merged([(h(2), h(3)), (h(1), h(2))], DAY, h(24)) == [(h(1), h(3))]


def test_the_gate_freezes_only_a_spent_budget_under_a_freezing_policy() -> None:
    passing = frozenset({"hotfix", "rollback"})
    # 30 days at 99.95 %: 21.6 min allowed.
    spent = Budget(target=0.9995, window_seconds=30 * 86400, spent_seconds=30 * 60)
    assert spent.allowed_seconds == pytest.approx(21.6 * 60)
    assert spent.remaining_seconds == pytest.approx(-8.4 * 60)
    assert decide(spent, "deploy", has_policy=True, freeze=True, passing=passing)[0] == "freeze"
    assert decide(spent, "hotfix", has_policy=True, freeze=True, passing=passing) == (
        "allow",
        "error budget exhausted, but a hotfix passes the freeze",
    )
    assert decide(spent, "deploy", has_policy=True, freeze=False, passing=passing)[0] == "allow"
    assert decide(spent, "deploy", has_policy=False, freeze=True, passing=passing)[0] == "allow"
    # Exactly the budget spent (21.6 min) is exhausted; a second less is not.
    exact = Budget(target=0.9995, window_seconds=30 * 86400, spent_seconds=21.6 * 60)
    assert exact.exhausted
    assert not Budget(
        target=0.9995, window_seconds=30 * 86400, spent_seconds=21.6 * 60 - 1
    ).exhausted
    # A target of 100 % has no budget: no outage allows, any outage freezes.
    assert not Budget(target=1.0, window_seconds=86400, spent_seconds=0).exhausted
    assert Budget(target=1.0, window_seconds=86400, spent_seconds=1).exhausted


async def test_sql_planned_downtime_agrees_with_the_rule(con: dbmod.Connection) -> None:
    rng = random.Random(35)
    sid = await con.fetchval(
        "insert into business_service (slug, name, tier) values ('svc', 'Svc', 1) returning id"
    )
    await con.execute("select set_config('kpi.clock', '2000-01-01T00:00:00Z', true)")
    outages: list[tuple[dt.datetime, dt.datetime | None]] = []
    windows: list[tuple[dt.datetime, dt.datetime]] = []
    for i in range(30):
        start = h(rng.uniform(-6, 30))
        end = None if i == 0 else start + dt.timedelta(hours=rng.uniform(0.1, 4))
        outages.append((start, end))
        await con.execute(
            """insert into incident (source_id, external_id, service_id, severity, status,
                                     started_at, resolved_at)
               values ((select id from source where name = 'api'), $1, $2, 'sev1', $3, $4, $5)""",
            f"i{i}", sid, "open" if end is None else "resolved", start, end,
        )  # fmt: skip
    for _ in range(8):
        start = h(rng.uniform(-6, 30))
        end = start + dt.timedelta(hours=rng.uniform(0.5, 5))
        windows.append((start, end))
        await con.execute(
            "insert into maintenance_window (service_id, starts_at, ends_at, reason, created_by)"
            " values ($1, $2, $3, 'r', 't')", sid, start, end,
        )  # fmt: skip
    now = h(26)
    periods = [Period(h(0), h(24)), Period(h(-6), h(6)), Period(h(12), h(26))]
    found = await maintenance.planned_outage_seconds(con, [sid], periods, now, None)
    assert sum(found.values()) > 3600  # the random timeline does overlap
    for n, p in enumerate(periods):
        expected = planned_seconds(outages, windows, Window(p.start, p.end), now)
        assert found.get((n, sid), 0.0) == pytest.approx(expected), n
