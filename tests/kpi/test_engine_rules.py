"""Pure rules of the KPI engine: calendar periods, units, targets, escalation steps, outcome
health and the builtin metric arithmetic, each with hand-worked values."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from service.kpi import builtin, health, periods, units
from service.kpi.builtin import ChangeFigures, IncidentFigures, Outage, Summary
from service.kpi.escalation import EscalationState, due_steps
from service.kpi.metrics import METRICS, Inputs, unit_problem
from service.kpi.targets import Effective, effective
from service.models.catalog import EscalationStep, Target
from service.models.enums import BuiltinMetric, Cadence, Channel, Grain, Status, TargetScope

UTC = dt.UTC


def t(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("grain", "instant", "start", "end"),
    [
        (Grain.HOUR, t(2026, 3, 1, 5, 59), t(2026, 3, 1, 5), t(2026, 3, 1, 6)),
        (Grain.DAY, t(2026, 3, 1, 23, 59), t(2026, 3, 1), t(2026, 3, 2)),
        # 2026-11-23 is a Monday; Sunday the 22nd belongs to the week of Monday the 16th.
        (Grain.WEEK, t(2026, 11, 22, 12), t(2026, 11, 16), t(2026, 11, 23)),
        (Grain.WEEK, t(2026, 11, 23), t(2026, 11, 23), t(2026, 11, 30)),
        (Grain.MONTH, t(2026, 12, 31, 23), t(2026, 12, 1), t(2027, 1, 1)),
        (Grain.QUARTER, t(2026, 11, 5), t(2026, 10, 1), t(2027, 1, 1)),
        (Grain.QUARTER, t(2026, 2, 28), t(2026, 1, 1), t(2026, 4, 1)),
        (Grain.YEAR, t(2026, 7, 4), t(2026, 1, 1), t(2027, 1, 1)),
    ],
)
def test_buckets_start_where_postgres_date_trunc_puts_them(
    grain: Grain, instant: dt.datetime, start: dt.datetime, end: dt.datetime
) -> None:
    assert periods.bucket(grain, instant) == periods.Period(start, end)


def test_an_instant_with_an_offset_is_bucketed_in_utc() -> None:
    # 2026-03-01 01:30 at +02:00 is 2026-02-28 23:30 UTC: February's bucket.
    local = dt.datetime(2026, 3, 1, 1, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert periods.bucket(Grain.MONTH, local).start == t(2026, 2, 1)


def test_buckets_cover_the_window_and_measured_parts_clip_it() -> None:
    got = periods.buckets(Grain.MONTH, t(2026, 1, 15), t(2026, 3, 10))
    assert [b.start for b in got] == [t(2026, 1, 1), t(2026, 2, 1), t(2026, 3, 1)]
    assert periods.measured(got[0], t(2026, 1, 15), t(2026, 3, 10)) == periods.Period(
        t(2026, 1, 15), t(2026, 2, 1)
    )
    assert periods.measured(got[2], t(2026, 1, 15), t(2026, 3, 10)) == periods.Period(
        t(2026, 3, 1), t(2026, 3, 10)
    )
    assert periods.measured(got[2], t(2026, 1, 15), t(2026, 3, 1)) is None


def test_too_many_buckets_is_refused() -> None:
    with pytest.raises(ValueError, match="more than 5000"):
        periods.buckets(Grain.HOUR, t(2020, 1, 1), t(2026, 1, 1))


def test_last_closed_and_previous_periods() -> None:
    now = t(2026, 11, 23, 9)
    assert periods.last_closed(Cadence.MONTHLY, now) == periods.Period(
        t(2026, 10, 1), t(2026, 11, 1)
    )
    assert periods.last_closed(Cadence.QUARTERLY, now).start == t(2026, 7, 1)
    assert periods.last_closed(Cadence.WEEKLY, now).start == t(2026, 11, 16)
    assert periods.last_closed(Cadence.DAILY, now).start == t(2026, 11, 22)
    assert periods.last_closed(Cadence.YEARLY, now).start == t(2025, 1, 1)
    january = periods.period_of(Cadence.MONTHLY, t(2026, 1, 20))
    assert periods.previous(Cadence.MONTHLY, january).start == t(2025, 12, 1)


def test_default_span_counts_back_whole_buckets() -> None:
    # 12 monthly buckets ending with November 2026's: December 2025 .. November 2026.
    assert periods.default_start(Grain.MONTH, t(2026, 11, 23)) == t(2025, 12, 1)


def test_units_convert_seconds_and_shares() -> None:
    assert units.duration(5400, "minutes") == 90
    assert units.duration(5400, "hours") == 1.5
    assert units.duration(86400 * 3, "days") == 3
    assert units.duration(42, "s") == 42
    assert units.duration(None, "minutes") is None
    assert units.rate(0.125, "percent") == 12.5
    assert units.rate(0.125, "%") == 12.5
    assert units.rate(0.125, "ratio") == 0.125
    assert units.as_share(99.9, "percent") == pytest.approx(0.999)
    # Deployment frequency: a count per bucket, or per day or week of what was measured:
    # 6 deploys in a 3-day stretch are 2 a day, 14 a week.
    assert units.deploys(6, 3 * 86400, "deploys") == 6
    assert units.deploys(6, 3 * 86400, "deploys/day") == 2
    assert units.deploys(6, 3 * 86400, "Deploys/Week") == 14


@pytest.mark.parametrize(
    ("metric", "unit", "problem"),
    [
        ("mttr", "minutes", None),
        (
            "mttr",
            "incidents",
            "mttr is reported in a time unit (seconds, minutes, hours or days), not 'incidents'",
        ),
        ("availability", "%", None),
        (
            "availability",
            "nines",
            "availability is reported in percent (or %, pct) or a share "
            "(share, ratio, fraction), not 'nines'",
        ),
        ("deployment_frequency", "deploys/week", None),
        (
            "deployment_frequency",
            "per fortnight",
            "deployment_frequency is reported in deploys "
            "(per bucket), deploys/day or deploys/week, not 'per fortnight'",
        ),
        ("it_spend", "eur", None),
        ("it_spend", "euros", "it_spend is reported in a currency code such as EUR, not 'euros'"),
        ("incident_count", "incidents", None),
    ],
)
def test_builtin_metrics_take_only_their_units(metric: str, unit: str, problem: str | None) -> None:
    assert unit_problem(BuiltinMetric(metric), unit) == problem


def _target(value: float, *, service: str | None = None, tier: int | None = None,
            start: dt.date = dt.date(2026, 1, 1), end: dt.date | None = None,
            warning: float | None = None) -> Target:  # fmt: skip
    return Target(id=1, kpi="k", service=service, tier=tier, value=value, warning=warning,
                  effective_from=start, effective_to=end)  # fmt: skip


def test_the_most_specific_target_in_effect_applies() -> None:
    targets = [
        _target(95, warning=97),
        _target(98, tier=1),
        _target(99, service="checkout"),
        _target(90, start=dt.date(2026, 6, 1)),  # a newer global target from June
    ]
    day = dt.date(2026, 3, 1)
    assert effective(targets, service="checkout", tier=1, day=day) == Effective(
        99, None, TargetScope.SERVICE
    )
    assert effective(targets, service="search", tier=1, day=day).scope is TargetScope.TIER  # type: ignore[union-attr]
    assert effective(targets, service="search", tier=2, day=day) == Effective(
        95, 97, TargetScope.GLOBAL
    )
    assert effective(targets, service=None, tier=None, day=day) == Effective(
        95, 97, TargetScope.GLOBAL
    )
    # From June the newer global one applies.
    july = dt.date(2026, 7, 1)
    assert effective(targets, service="search", tier=2, day=july) == Effective(
        90, None, TargetScope.GLOBAL
    )
    # A target that ended (effective_to exclusive) no longer applies.
    ended = [_target(99, service="checkout", end=dt.date(2026, 3, 1))]
    assert effective(ended, service="checkout", tier=1, day=dt.date(2026, 3, 1)) is None
    assert effective(ended, service="checkout", tier=1, day=dt.date(2026, 2, 28)) is not None


def _step(periods_: int = 1, minutes: int | None = None) -> EscalationStep:
    return EscalationStep(
        who="ops",
        channel=Channel.WEBHOOK,
        address="https://hooks.example/x",
        after_breached_periods=periods_,
        after_unacknowledged_minutes=minutes,
    )


def test_escalation_steps_fire_in_order_when_due() -> None:
    opened = t(2026, 11, 1)
    path = [_step(1), _step(2), _step(1, minutes=30)]
    first = EscalationState(breached_periods=1, steps_fired=0, opened_at=opened, acknowledged=False)
    # Step 2 needs two breached periods, so it holds back step 3 even though 3 is time-based.
    assert due_steps(path, first, opened + dt.timedelta(hours=2)) == [1]
    second = EscalationState(2, 1, opened, False)
    assert due_steps(path, second, opened + dt.timedelta(minutes=29)) == [2]
    assert due_steps(path, second, opened + dt.timedelta(minutes=30)) == [2, 3]
    acked = EscalationState(2, 2, opened, True)
    assert due_steps(path, acked, opened + dt.timedelta(days=1)) == []
    done = EscalationState(5, 3, opened, False)
    assert due_steps(path, done, opened + dt.timedelta(days=1)) == []


def test_outcome_health_is_the_weighted_mean_of_points() -> None:
    # (3 x 1 + 1 x 0 + 1 x 0.5) / 5 = 0.7: at risk (0.6 <= 0.7 < 0.9).
    items = [(3.0, Status.MET), (1.0, Status.BREACHED), (1.0, Status.AT_RISK),
             (10.0, Status.NO_DATA)]  # fmt: skip
    assert health.score(items) == pytest.approx(0.7)
    assert health.status(health.score(items)) is Status.AT_RISK
    assert health.status(0.9) is Status.MET
    assert health.status(0.59) is Status.BREACHED
    assert health.score([(1.0, Status.NO_DATA)]) is None
    assert health.status(None) is Status.NO_DATA


def test_availability_pools_services_and_error_budget_pools_budgets() -> None:
    day = 86400.0
    outages = {1: Outage(864.0, 2), 2: Outage(0.0, 0)}
    # 864 s down out of 2 services x 86,400 s: 1 - 864 / 172,800 = 0.995.
    assert builtin.availability(outages, 2, day) == pytest.approx(0.995)
    assert builtin.availability({}, 0, day) is None
    # Budgets: service 1 at 99 % -> 864 s, service 2 at 99.9 % -> 86.4 s; 950.4 s in all.
    # Spent 864 s: remaining 1 - 864 / 950.4 = 0.0909..., burn 864 / 950.4 = 0.909...
    remaining, burn = builtin.error_budget(outages, {1: 0.99, 2: 0.999}, day)  # type: ignore[misc]
    assert remaining == pytest.approx(1 - 864 / 950.4)
    assert burn == pytest.approx(864 / 950.4)
    assert builtin.error_budget(outages, {1: 1.0}, day) == (-1.0, float("inf"))
    assert builtin.error_budget({}, {1: 1.0}, day) == (1.0, 0.0)


def test_downtime_cost_adds_lost_revenue_and_estimates() -> None:
    # 1.5 h x 2,000 / h + 0.25 h x 400 / h + 500 of estimates = 3,000 + 100 + 500.
    outages = {1: Outage(5400, 1), 2: Outage(900, 1), 3: Outage(600, 1)}
    assert builtin.downtime_cost(outages, {1: 2000.0, 2: 400.0}, 500.0) == pytest.approx(3600)


def test_incident_and_change_values_in_the_kpi_unit() -> None:
    resolve = Summary(n=3, mean=5400.0, median=3600.0, p90=9000.0)
    figures = IncidentFigures(incidents=4, recurring=1, users_affected=1200.0, resolve=resolve)
    week = 7 * 86400.0

    def incident(metric: BuiltinMetric, unit: str) -> object:
        return METRICS[metric].compute(Inputs(week, (1,), incidents=figures), unit)

    assert incident(BuiltinMetric.MTTR, "minutes") == (90.0, 3)
    assert incident(BuiltinMetric.MTTR, "hours") == (1.5, 3)
    assert incident(BuiltinMetric.RECURRENCE_RATE, "percent") == (25.0, 4)
    assert incident(BuiltinMetric.MTTD, "minutes") == (None, 0)
    changes = ChangeFigures(deployments=8, failures=1, rework=2, lead_n=6, lead_median=7200.0)

    def value(metric: BuiltinMetric, unit: str, figures: ChangeFigures = changes) -> object:
        return METRICS[metric].compute(Inputs(week, (1,), changes=figures), unit)

    assert value(BuiltinMetric.CHANGE_FAILURE_RATE, "percent") == (12.5, 8)
    assert value(BuiltinMetric.REWORK_RATE, "ratio") == (0.25, 8)
    assert value(BuiltinMetric.LEAD_TIME, "hours") == (2.0, 6)
    assert value(BuiltinMetric.RECOVERY_TIME, "hours") == (None, 0)
    # 8 deploys over a week: 8 in the bucket, 8 a week, 8 / 7 a day.
    assert value(BuiltinMetric.DEPLOYMENT_FREQUENCY, "deploys") == (8.0, 8)
    assert value(BuiltinMetric.DEPLOYMENT_FREQUENCY, "deploys/week") == (8.0, 8)
    assert value(BuiltinMetric.DEPLOYMENT_FREQUENCY, "deploys/day") == (pytest.approx(8 / 7), 8)
    assert value(BuiltinMetric.CHANGE_FAILURE_RATE, "percent", ChangeFigures()) == (None, 0)


def test_every_builtin_metric_has_its_registry_entry() -> None:
    assert sorted(METRICS) == sorted(BuiltinMetric)
    assert all(name is m.name for name, m in METRICS.items())


def test_the_readme_defines_each_metric_as_its_registry_entry_does() -> None:
    """The README's table of builtin metrics is the registry's, row for row."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    rows = [f"| `{m.name}` | {m.definition} |" for m in METRICS.values()]
    table = "| metric | value per bucket |\n|---|---|\n" + "\n".join(rows) + "\n"
    assert table in readme
