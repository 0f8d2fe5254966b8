"""Burn-rate policies and alerts through the async client: set, read, listed after the
leader's round fired an alert, removed; a bad policy refused naming the field."""

from __future__ import annotations

import datetime as dt

import pytest
from kpi_client import AsyncClient, NotFound, ValidationFailed
from kpi_client.models import BurnPolicyIn, BurnRule, IncidentIn, KpiIn, ServiceIn

from service import db as dbmod
from service.usecases import burn_alerts

T0 = dt.datetime(2031, 2, 10, 10, 0, tzinfo=dt.UTC)


async def test_policy_and_alerts_through_the_client(
    kpi: AsyncClient, con: dbmod.Connection
) -> None:
    await kpi.create_service(ServiceIn(slug="shop", name="Shop", tier=1))
    await kpi.create_kpi(KpiIn(key="shop_up", name="Shop availability", unit="percent",
                               direction="higher_is_better", kind="builtin",
                               metric="availability"))  # fmt: skip
    await kpi.link_kpi_service("shop_up", "shop")
    await kpi.upsert_incident(IncidentIn(
        external_id="INC-1", service="shop", severity="sev1", status="resolved",
        started_at=T0, resolved_at=T0 + dt.timedelta(minutes=20)))  # fmt: skip
    fast = BurnRule(name="fast", severity="page", burn_rate=14.4, long_window_minutes=60,
                    short_window_minutes=5)  # fmt: skip
    policy = await kpi.set_burn_policy("shop_up", BurnPolicyIn(objective=0.999, rules=[fast]))
    assert (policy.kpi, policy.objective, [r.name for r in policy.rules]) == (
        "shop_up", 0.999, ["fast"])  # fmt: skip
    assert (await kpi.get_burn_policy("shop_up")).rules == [fast]

    # 2 minutes into the outage: 120 / 3600 / 0.001 = 33.3 over the hour, 400 over 5 min.
    assert await burn_alerts.evaluate_policies(con, T0 + dt.timedelta(minutes=2)) == 1
    (alert,) = await kpi.list_burn_alerts(state="firing")
    assert (alert.kpi, alert.rule, alert.severity, alert.fired_at) == (
        "shop_up", "fast", "page", T0 + dt.timedelta(minutes=2))  # fmt: skip
    assert alert.long_burn_rate == pytest.approx(120 / 3.6)
    assert [a.id for a in await kpi.list_kpi_burn_alerts("shop_up")] == [alert.id]
    assert await kpi.list_burn_alerts(state="resolved") == []

    await kpi.delete_burn_policy("shop_up")
    with pytest.raises(NotFound):
        await kpi.get_burn_policy("shop_up")
    bad = {"rules": [{**fast.model_dump(), "short_window_minutes": 90}]}
    with pytest.raises(ValidationFailed) as caught:
        await kpi.set_burn_policy("shop_up", bad)
    assert [e.field for e in caught.value.errors] == ["rules.0.short_window_minutes"]
