"""Burn-rate alerts: a KPI's policy set and read, and the leader's round that evaluates every
policy at each background tick, fires and resolves alerts and notifies them through the KPI's
escalation path and the signed outbox.

A round reads each KPI's error ratio over every window its rules name, ending now (outage
seconds for availability, events for ratio KPIs), and compares the burn rates with the rules
(service/kpi/burn_rate.py). A rule that fires and has no firing alert opens one; a firing
alert whose rule no longer fires (or is gone, or whose policy is) is resolved. Each change and
its notifications are committed together; the partial unique index on firing alerts keeps a
rule from firing twice whatever the processes.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from service.clock import rfc3339
from service.db import Connection
from service.errors import NotFound, invalid
from service.kpi import burn_rate
from service.kpi.burn_rate import Reading, Rule
from service.kpi.periods import Period
from service.kpi.targets import effective
from service.kpi.units import as_share
from service.models.burn_alerts import BurnAlert, BurnAlertState, BurnPolicy, BurnPolicyIn
from service.models.catalog import Kpi
from service.models.enums import BuiltinMetric, Channel, Direction, KpiKind
from service.store import burn_alerts as store
from service.store import kpis as kpi_store
from service.store import leases, metrics
from service.store import targets as target_store
from service.usecases import audit, evaluation, notifications

log = logging.getLogger(__name__)

FIRED_EVENT = "kpi.burn_alert.fired"
RESOLVED_EVENT = "kpi.burn_alert.resolved"


def kind_problem(kpi: Kpi) -> str | None:
    """Why the KPI cannot have burn-rate alerts, or None when it can."""
    if kpi.kind is KpiKind.BUILTIN and kpi.metric is BuiltinMetric.AVAILABILITY:
        return None
    if kpi.kind is KpiKind.RATIO:
        return None
    return "burn-rate alerts watch builtin availability KPIs and ratio KPIs only"


async def _ratio_sides(con: Connection, kpi: Kpi) -> list[Kpi]:
    """A ratio KPI's numerator and denominator, which must be observed KPIs (their events)."""
    assert kpi.numerator is not None and kpi.denominator is not None
    found = {
        k.key: k for k in await kpi_store.list_kpis(con, keys=[kpi.numerator, kpi.denominator])
    }
    sides = [found[kpi.numerator], found[kpi.denominator]]
    for side, k in zip(("numerator", "denominator"), sides, strict=True):
        if k.kind is not KpiKind.OBSERVED:
            raise invalid("kpi", f"the ratio's {side} {k.key!r} must be an observed KPI "
                                 "(its events are counted over each window)")  # fmt: skip
    return sides


async def set_policy(
    con: Connection, *, kpi: str, policy: BurnPolicyIn, now: dt.datetime
) -> BurnPolicy:
    """Creates or replaces the KPI's policy; the next round applies it."""
    found = await kpi_store.get_kpi(con, key=kpi)
    problem = kind_problem(found)
    if problem is not None:
        raise invalid("kpi", f"{problem}; {kpi!r} is {found.metric or found.kind}")
    if found.kind is KpiKind.RATIO:
        await _ratio_sides(con, found)
    stored = BurnPolicy(kpi=kpi, **policy.model_dump())
    async with audit.atomic(con):
        before = await store.get_policy(con, found.id)
        await store.put_policy(con, found.id, stored, now)
        await audit.record(con, "burn-policy", kpi, before, stored)
    return stored


async def get_policy(con: Connection, *, kpi: str) -> BurnPolicy:
    found = await kpi_store.get_kpi(con, key=kpi)
    policy = await store.get_policy(con, found.id)
    if policy is None:
        raise NotFound(f"KPI {kpi!r} has no burn-rate policy")
    return policy


async def delete_policy(con: Connection, *, kpi: str) -> None:
    """Removes the policy; its firing alerts are resolved by the next round."""
    found = await kpi_store.get_kpi(con, key=kpi)
    async with audit.atomic(con):
        before = await store.get_policy(con, found.id)
        if not await store.delete_policy(con, found.id):
            raise NotFound(f"KPI {kpi!r} has no burn-rate policy")
        await audit.record(con, "burn-policy", kpi, before, None)


async def list_alerts(
    con: Connection, *, kpi: str | None = None, state: BurnAlertState | None = None,
    before_id: int | None = None, limit: int = 100,
) -> list[BurnAlert]:  # fmt: skip
    """Alerts newest first, of one KPI or all."""
    kpi_id = None if kpi is None else (await kpi_store.get_kpi(con, key=kpi)).id
    return await store.list_alerts(
        con, kpi_id=kpi_id, state=state, before_id=before_id, limit=limit
    )


# The leader's round ---------------------------------------------------------------------------


async def objective_of(con: Connection, kpi: Kpi, policy: BurnPolicy, day: dt.date) -> float | None:
    """The policy's objective, else the KPI's global target in effect on `day` as a share
    (1 - target for a lower-is-better ratio); None without either."""
    if policy.objective is not None:
        return policy.objective
    targets = (await target_store.targets_by_kpi(con, [kpi.id]))[kpi.id]
    found = effective(targets, service=None, tier=None, day=day)
    if found is None:
        return None
    share = as_share(found.value, kpi.unit) if kpi.kind is KpiKind.BUILTIN else found.value
    if kpi.direction is Direction.LOWER_IS_BETTER:
        share = 1 - share
    share = round(share, 12)  # 99.9 / 100 is 0.9990000000000001 in binary: keep 0.999
    return share if 0 < share < 1 else None


async def error_ratios(
    con: Connection, kpi: Kpi, spans: Sequence[dt.timedelta], now: dt.datetime
) -> dict[dt.timedelta, float] | None:
    """The KPI's error ratio over each window ending `now` (one statement for all of them);
    None when there is nothing to watch (an availability KPI without services)."""
    windows = [Period(now - span, now) for span in spans]
    if kpi.kind is KpiKind.RATIO:
        good, total = await _ratio_sides(con, kpi)
        values = await store.observed_in_windows(con, [good, total], windows)
        bad = kpi.direction is Direction.LOWER_IS_BETTER
        return {
            span: burn_rate.events_error_ratio(num, den, bad=bad)
            for span, (num, den) in zip(spans, values, strict=True)
        }
    scope = await metrics.kpi_scope(con, kpi)
    if not scope.service_ids:
        return None
    found = await metrics.outages(con, scope, windows, now, metrics.MetricFilter.of(kpi))
    count = len(scope.service_ids)
    return {
        span: sum(o.seconds for o in down.values()) / (w.seconds * count)
        for span, w, down in zip(spans, windows, found, strict=True)
    }


def _rule_data(rule: Rule) -> dict[str, Any]:
    return {"name": rule.name, "severity": rule.severity, "burn_rate": rule.burn_rate}


def alert_data(
    kpi: Kpi, alert_id: int, rule: Rule, reading: Reading | None, objective: float,
    fired_at: dt.datetime, resolved_at: dt.datetime | None,
) -> dict[str, Any]:  # fmt: skip
    """The `data` of a burn-rate alert notification."""
    windows = {}
    for name, span in (("long", rule.long_window), ("short", rule.short_window)):
        seen = None
        if reading is not None:
            seen = reading.long_burn_rate if name == "long" else reading.short_burn_rate
        windows[name] = {"minutes": int(span.total_seconds()) // 60, "burn_rate": seen}
    return {
        "alert_id": alert_id,
        "kpi": {"key": kpi.key, "name": kpi.name, "unit": kpi.unit,
                "direction": kpi.direction.value},
        "rule": _rule_data(rule),
        "severity": rule.severity,
        "state": "firing" if resolved_at is None else "resolved",
        "objective": objective,
        "windows": windows,
        "budget_spent": burn_rate.budget_spent(rule.burn_rate, rule.long_window),
        "fired_at": rfc3339(fired_at),
        "resolved_at": rfc3339(resolved_at) if resolved_at else None,
        "owners": {"business": kpi.business_owner, "technology": kpi.technology_owner},
    }  # fmt: skip


async def notify(
    con: Connection, kpi: Kpi, event_type: str, at: dt.datetime, data: dict[str, Any]
) -> int:
    """Queues the notification for each webhook step of the KPI's path that a first breach
    reaches at once (after one breached period, no wait for an acknowledgement); how many."""
    queued = 0
    for step in kpi.escalation_path:
        if step.channel is not Channel.WEBHOOK or step.after_breached_periods != 1:
            continue
        if step.after_unacknowledged_minutes is not None:
            continue
        await notifications.enqueue(
            con, escalation_id=None, position=None, url=step.address, event_type=event_type,
            occurred_at=at, data={**data, "who": step.who},
        )  # fmt: skip
        queued += 1
    return queued


async def _fire(
    con: Connection, kpi: Kpi, reading: Reading, objective: float, now: dt.datetime
) -> bool:
    alert_id = await store.fire_alert(con, kpi.id, reading, objective, now)
    if alert_id is None:
        return False
    data = alert_data(kpi, alert_id, reading.rule, reading, objective, now, None)
    await notify(con, kpi, FIRED_EVENT, now, data)
    return True


async def _resolve(
    con: Connection, kpi: Kpi | None, alert_id: int, reading: Reading | None, now: dt.datetime
) -> bool:
    if not await store.resolve_alert(con, alert_id, now, reading):
        return False
    if kpi is not None:
        (alert,) = await store.list_alerts(con, alert_id=alert_id, limit=1)
        rule = Rule(alert.rule, alert.severity.value, alert.threshold,
                    dt.timedelta(minutes=alert.long_window_minutes),
                    dt.timedelta(minutes=alert.short_window_minutes))  # fmt: skip
        data = alert_data(kpi, alert_id, rule, reading, alert.objective, alert.fired_at, now)
        await notify(con, kpi, RESOLVED_EVENT, now, data)
    return True


async def _evaluate_policy(
    con: Connection, kpi: Kpi, policy: BurnPolicy, firing: dict[tuple[int, str], int],
    now: dt.datetime,
) -> int:  # fmt: skip
    """Fires and resolves the alerts of one KPI's rules: how many changed."""
    changed = 0
    rules = [r.rule() for r in policy.rules]
    objective = await objective_of(con, kpi, policy, now.date())
    ratios = None
    if objective is not None and kind_problem(kpi) is None:
        ratios = await error_ratios(con, kpi, burn_rate.windows(rules), now)
    if objective is None or ratios is None:
        return 0  # nothing to compare with: its firing alerts stay as they are
    for reading in burn_rate.assess(rules, objective, ratios):
        key = (kpi.id, reading.rule.name)
        if reading.firing and key not in firing:
            changed += await _fire(con, kpi, reading, objective, now)
        elif not reading.firing and key in firing:
            changed += await _resolve(con, kpi, firing[key], reading, now)
    names = {r.name for r in rules}
    for (kpi_id, name), alert_id in firing.items():
        if kpi_id == kpi.id and name not in names:  # a rule taken out of the policy
            changed += await _resolve(con, kpi, alert_id, None, now)
    return changed


async def evaluate_policies(con: Connection, now: dt.datetime) -> int:
    """One round over every policy, in one transaction (each KPI in a savepoint of its own, so
    one that fails is logged and retried next round): the alerts fired and resolved."""
    changed = 0
    async with con.transaction():
        firing = await store.firing_alerts(con)
        policies = await store.list_policies(con)
        ids = sorted({p.kpi_id for p in policies} | {k for k, _ in firing})
        kpis = {k.id: k for k in await kpi_store.list_kpis(con, ids=ids)}
        for p in policies:
            kpi = kpis[p.kpi_id]
            try:
                async with con.transaction():
                    changed += await _evaluate_policy(con, kpi, p.policy, firing, now)
            except Exception:
                log.exception("burn-rate alerts of %s failed; retried next round", kpi.key)
        with_policy = {p.kpi_id for p in policies}
        for (kpi_id, _), alert_id in firing.items():
            if kpi_id not in with_policy:  # its policy was deleted
                changed += await _resolve(con, kpis.get(kpi_id), alert_id, None, now)
    return changed


async def evaluate_due(
    con: Connection, now: dt.datetime, *, holder: str | None = None,
    lease_seconds: float = evaluation.DEFAULT_LEASE_SECONDS,
) -> int:  # fmt: skip
    """The leader's burn-rate round (nothing, 0, when another process holds the leader
    lease): the same lease as the period evaluation's, taken or renewed here."""
    holder = holder or evaluation.process_holder()
    if not await leases.take_lease(con, evaluation.LEADER_LEASE, holder, lease_seconds):
        return 0
    return await evaluate_policies(con, now)
