"""The pure steps of evaluation, as plain functions with hand-worked numbers: a period's status
from its series, the effective target (the tier default for availability), the roll-up of a
KPI overall without a target of its own; and when a failed notification is given up."""

from __future__ import annotations

import datetime as dt

from service.kpi.periods import Period
from service.kpi.targets import Effective
from service.models.catalog import Kpi, Target
from service.models.enums import (
    Aggregation,
    BuiltinMetric,
    Cadence,
    Direction,
    KpiKind,
    Status,
    TargetScope,
    Trend,
)
from service.models.notifications import AttemptOutcome
from service.models.observations import SeriesPoint
from service.models.statuses import OVERALL, ScopeRef
from service.usecases import notifications
from service.usecases.evaluation import rolled_up, status_of_points, target_for

UTC = dt.UTC
JAN, FEB, MAR = (dt.datetime(2031, m, 1, tzinfo=UTC) for m in (1, 2, 3))
FEBRUARY = Period(FEB, MAR)
ERP = ScopeRef(7, "erp", 1)
WEB = ScopeRef(8, "web", 2)


def orders() -> Kpi:
    return Kpi(
        id=1, key="orders", name="Orders", unit="count", direction=Direction.HIGHER_IS_BETTER,
        aggregation=Aggregation.SUM, cadence=Cadence.MONTHLY,
    )  # fmt: skip


def target(value: float, warning: float | None = None, service: str | None = None) -> Target:
    return Target(id=1, kpi="orders", service=service, value=value, warning=warning,
                  effective_from=dt.date(2030, 1, 1))  # fmt: skip


def point(bucket: dt.datetime, value: float) -> SeriesPoint:
    return SeriesPoint(bucket=bucket, value=value, count=1)


def test_a_value_between_target_and_warning_is_at_risk_and_improving() -> None:
    points = [point(JAN, 90.0), point(FEB, 105.0)]
    st = status_of_points(orders(), OVERALL, Cadence.MONTHLY, FEBRUARY, [target(100, 110)],
                          points, now=MAR + dt.timedelta(days=1))  # fmt: skip
    assert (st.value, st.previous_value, st.target, st.warning) == (105.0, 90.0, 100.0, 110.0)
    assert (st.status, st.trend, st.target_scope) == (
        Status.AT_RISK, Trend.IMPROVING, TargetScope.GLOBAL)  # fmt: skip
    assert st.complete and st.evaluated_at is None


def test_a_period_under_way_is_incomplete_and_without_points_has_no_data() -> None:
    st = status_of_points(orders(), OVERALL, Cadence.MONTHLY, FEBRUARY, [target(100)], [],
                          now=FEB + dt.timedelta(days=3))  # fmt: skip
    assert (st.status, st.trend, st.complete) == (Status.NO_DATA, Trend.UNKNOWN, False)


def test_availability_without_targets_takes_the_tier_default() -> None:
    kpi = Kpi(id=2, key="availability", name="Availability", unit="percent",
              direction=Direction.HIGHER_IS_BETTER, kind=KpiKind.BUILTIN,
              metric=BuiltinMetric.AVAILABILITY, cadence=Cadence.MONTHLY)  # fmt: skip
    found = target_for(kpi, [], ERP, FEB.date())
    assert found == Effective(99.95, None, TargetScope.DEFAULT)
    assert target_for(kpi, [], OVERALL, FEB.date()) is None  # overall has no tier
    assert target_for(orders(), [], ERP, FEB.date()) is None  # not availability


def test_a_kpi_without_a_target_takes_its_worst_service() -> None:
    kpi, now = orders(), MAR + dt.timedelta(days=1)
    targets = [target(100, service="erp"), target(50, service="web")]
    services = [
        status_of_points(kpi, ref, Cadence.MONTHLY, FEBRUARY, targets, [point(FEB, value)], now)
        for ref, value in ((ERP, 80.0), (WEB, 60.0))
    ]
    overall = status_of_points(kpi, OVERALL, Cadence.MONTHLY, FEBRUARY, targets,
                               [point(FEB, 140.0)], now)  # fmt: skip
    assert overall.status is Status.NO_DATA
    rolled = rolled_up(kpi, overall, services)
    assert (rolled.status, rolled.target_scope, rolled.value) == (
        Status.BREACHED, TargetScope.SERVICES, 140.0)  # fmt: skip
    assert rolled.driver is not None
    assert (rolled.driver.service, rolled.driver.value, rolled.driver.target) == (
        "erp",
        80.0,
        100.0,
    )
    # A KPI with a target of its own keeps its own status.
    own = overall.model_copy(update={"target": 100.0, "status": Status.MET})
    assert rolled_up(kpi, own, services) is own


def test_a_failed_notification_is_given_up_on_410_or_after_the_last_attempt() -> None:
    def outcome(status_code: int | None, attempts: int) -> AttemptOutcome:
        return AttemptOutcome(1, attempts, status_code, None, 1.0)

    assert notifications.is_final(outcome(410, 1))
    assert not notifications.is_final(outcome(500, 1))
    assert not notifications.is_final(outcome(None, notifications.MAX_ATTEMPTS - 1))
    assert notifications.is_final(outcome(None, notifications.MAX_ATTEMPTS))
    assert outcome(204, 1).delivered and not outcome(302, 1).delivered
    assert notifications.backoff(0) == notifications.backoff(1) == dt.timedelta(seconds=10)
    assert notifications.backoff(99) == dt.timedelta(hours=2)
