"""Builtin KPIs count exactly what they say: filters (severities, environments, change kinds),
the services they apply to, units they are reported in, error budgets against the objectives
of the availability KPI they name, statuses that explain themselves and periods under way.

The estate is test_builtin_metrics': shop (tier 1) and ledger (tier 2, outage threshold sev3)
of team payments, search (tier 2) and infra (tier 3) of team platform. The clock: Friday
20 March 2026, noon UTC.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pytest import approx

from service import db as dbmod
from service.config import Settings
from tests.kpi.test_builtin_metrics import (
    Headers,
    add_kpi,
    add_target,
    clocked_client,
    estate,
    incident,
    send,
    series,
)


@pytest.fixture
async def api(con: dbmod.Connection, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with clocked_client(con, settings) as client:
        yield client


async def link(client: httpx.AsyncClient, admin: Headers, kpi: str, service: str) -> None:
    await send(client, admin, "PUT", f"/v1/kpis/{kpi}/services/{service}", status=(200, 201))


async def change(
    client: httpx.AsyncClient, headers: Headers, external_id: str, service: str, finished: str,
    **fields: Any,
) -> None:  # fmt: skip
    body = {"external_id": external_id, "service": service, "environment": "production",
            "status": "success", "finished_at": finished, **fields}  # fmt: skip
    await send(client, headers, "POST", "/v1/changes", body)


async def test_a_severity_filter_counts_only_those_incidents(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    """Time to restore of sev1-sev2 incidents: shop's sev1 of 60 min and sev2 of 30 min count,
    its sev3 of 300 min does not: (60 + 30) / 2 = 45 min (all three: 130 min)."""
    await estate(api, admin)
    await add_kpi(api, admin, "restore_all", "time_to_restore", "minutes")
    await add_kpi(api, admin, "restore_major", "time_to_restore", "minutes",
                  filter={"severities": ["sev1", "sev2"]})  # fmt: skip
    await incident(api, ingester, "a", "shop", "sev1", "2026-03-10 10:00", "2026-03-10 11:00")
    await incident(api, ingester, "b", "shop", "sev2", "2026-03-10 12:00", "2026-03-10 12:30")
    await incident(api, ingester, "c", "shop", "sev3", "2026-03-10 13:00", "2026-03-10 18:00")
    window = ("restore_major", "day", "2026-03-10", "2026-03-11")
    assert await series(api, reader, *window, service="shop") == [("2026-03-10", approx(45), 2)]
    assert await series(api, reader, "restore_all", "day", "2026-03-10", "2026-03-11",
                        service="shop") == [("2026-03-10", approx(130), 3)]  # fmt: skip
    body = await send(api, reader, "GET", "/v1/kpis/restore_major", status=200)
    assert body["filter"] == {"severities": ["sev1", "sev2"], "environments": None,
                              "change_kinds": None}  # fmt: skip


async def test_environment_and_kind_filters_choose_the_changes(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    """shop: 2 production deploys, 1 production hotfix, 1 staging deploy on 10 March.
    All production deploys: 3 a day. Hotfixes only: 1. Staging only (a non-production
    environment, named): 1."""
    await estate(api, admin)
    for key, f in (("deploys", None), ("hotfixes", {"change_kinds": ["hotfix"]}),
                   ("staging", {"environments": ["Staging"]})):  # fmt: skip
        extra = {"filter": f} if f else {}
        await add_kpi(api, admin, key, "deployment_frequency", "deploys", **extra)
    await change(api, ingester, "d1", "shop", "2026-03-10T09:00:00Z")
    await change(api, ingester, "d2", "shop", "2026-03-10T10:00:00Z")
    await change(api, ingester, "h1", "shop", "2026-03-10T11:00:00Z", kind="hotfix")
    await change(api, ingester, "s1", "shop", "2026-03-10T12:00:00Z", environment="staging")
    got = {}
    for key in ("deploys", "hotfixes", "staging"):
        got[key] = await series(api, reader, key, "day", "2026-03-10", "2026-03-11",
                                service="shop")  # fmt: skip
    assert got == {
        "deploys": [("2026-03-10", 3.0, 3)],
        "hotfixes": [("2026-03-10", 1.0, 1)],
        "staging": [("2026-03-10", 1.0, 1)],
    }


async def test_a_filter_a_metric_cannot_use_is_refused_naming_the_field(
    api: httpx.AsyncClient, admin: Headers
) -> None:
    body = {"key": "cfr", "name": "CFR", "unit": "percent", "direction": "lower_is_better",
            "kind": "builtin", "metric": "change_failure_rate",
            "filter": {"severities": ["sev1"]}}  # fmt: skip
    answer = await send(api, admin, "POST", "/v1/kpis", body, status=422)
    assert answer["errors"] == [{"pointer": "#/filter/severities", "field": "filter.severities",
                                 "detail": "change_failure_rate counts no incidents"}]  # fmt: skip
    observed = {"key": "orders", "name": "Orders", "unit": "count",
                "direction": "higher_is_better", "aggregation": "sum",
                "filter": {"severities": ["sev1"]}}  # fmt: skip
    answer = await send(api, admin, "POST", "/v1/kpis", observed, status=422)
    assert [e["field"] for e in answer["errors"]] == ["filter"]


async def test_a_unit_the_metric_is_not_reported_in_is_refused(
    api: httpx.AsyncClient, admin: Headers
) -> None:
    """It was silently read as minutes before."""
    body = {"key": "mttr", "name": "MTTR", "unit": "incidents", "direction": "lower_is_better",
            "kind": "builtin", "metric": "mttr"}  # fmt: skip
    answer = await send(api, admin, "POST", "/v1/kpis", body, status=422)
    assert answer["errors"] == [{
        "pointer": "#/unit", "field": "unit",
        "detail": "mttr is reported in a time unit (seconds, minutes, hours or days), not "
        "'incidents'",
    }]  # fmt: skip


async def test_aggregation_is_needed_by_observed_kpis_only(
    api: httpx.AsyncClient, admin: Headers
) -> None:
    builtin = {"key": "mttr", "name": "MTTR", "unit": "minutes",
               "direction": "lower_is_better", "kind": "builtin", "metric": "mttr"}  # fmt: skip
    created = await send(api, admin, "POST", "/v1/kpis", builtin, status=201)
    assert created["aggregation"] is None
    observed = {"key": "orders", "name": "Orders", "unit": "count",
                "direction": "higher_is_better"}  # fmt: skip
    answer = await send(api, admin, "POST", "/v1/kpis", observed, status=422)
    assert answer["errors"] == [{"pointer": "#/aggregation", "field": "aggregation",
                                 "detail": "required for an observed KPI"}]  # fmt: skip


async def test_deployment_frequency_names_its_period_in_its_unit(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    """14 deploys of shop in the week of 9 March: 14 in the week's bucket (deploys), 14 a
    week (deploys/week), 2 a day (deploys/day); at a day's grain, 10 March holds 2: 2 in its
    bucket, 14 a week (2 / (1 / 7)), 2 a day."""
    await estate(api, admin)
    for unit in ("deploys", "deploys/week", "deploys/day"):
        key = unit.replace("/", "_per_")
        await add_kpi(api, admin, key, "deployment_frequency", unit)
    for day in range(9, 16):
        for hour in (9, 15):
            await change(
                api, ingester, f"d{day}-{hour}", "shop", f"2026-03-{day:02d}T{hour:02d}:00:00Z"
            )
    weekly = {}
    daily = {}
    for key in ("deploys", "deploys_per_week", "deploys_per_day"):
        weekly[key] = await series(api, reader, key, "week", "2026-03-09", "2026-03-16")
        daily[key] = await series(api, reader, key, "day", "2026-03-10", "2026-03-11")
    assert weekly == {"deploys": [("2026-03-09", 14.0, 14)],
                      "deploys_per_week": [("2026-03-09", approx(14.0), 14)],
                      "deploys_per_day": [("2026-03-09", approx(2.0), 14)]}  # fmt: skip
    assert daily == {"deploys": [("2026-03-10", 2.0, 2)],
                     "deploys_per_week": [("2026-03-10", approx(14.0), 2)],
                     "deploys_per_day": [("2026-03-10", approx(2.0), 2)]}  # fmt: skip


async def test_a_builtin_kpi_overall_covers_the_services_it_applies_to(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    """MTTR applying to shop and ledger: search's 600-minute incident is not part of it.
    shop 60 min, ledger 120 min: (60 + 120) / 2 = 90 min overall; unlinked, with search's:
    (60 + 120 + 600) / 3 = 260 min."""
    await estate(api, admin)
    await add_kpi(api, admin, "mttr", "mttr", "minutes")
    await incident(api, ingester, "a", "shop", "sev1", "2026-03-10 10:00", "2026-03-10 11:00")
    await incident(api, ingester, "b", "ledger", "sev2", "2026-03-10 10:00", "2026-03-10 12:00")
    await incident(api, ingester, "c", "search", "sev2", "2026-03-10 00:00", "2026-03-10 10:00")
    window = ("mttr", "day", "2026-03-10", "2026-03-11")
    assert await series(api, reader, *window) == [("2026-03-10", approx(260), 3)]
    await link(api, admin, "mttr", "shop")
    await link(api, admin, "mttr", "ledger")
    assert await series(api, reader, *window) == [("2026-03-10", approx(90), 2)]
    # A scope asked for is taken as asked.
    assert await series(api, reader, *window, team="platform") == [("2026-03-10", approx(600), 1)]


async def test_an_error_budget_takes_its_objectives_from_the_availability_kpi_it_names(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    """Two availability KPIs: `availability` (no targets) and `checkout_slo` (shop 99 %).
    shop down 432 s on 10 March (86,400 s). Against checkout_slo: budget 1 % = 864 s,
    1 - 432/864 = 50 %. Against `availability` (tier-1 default 99.95 %, 43.2 s):
    1 - 432/43.2 = -900 %. Whichever KPI was created first no longer matters."""
    await estate(api, admin)
    await add_kpi(api, admin, "availability", "availability", "percent")
    await add_kpi(api, admin, "checkout_slo", "availability", "percent")
    await add_target(api, admin, "checkout_slo", 99.0, service="shop")
    await add_kpi(api, admin, "budget_slo", "error_budget_remaining", "percent",
                  availability_kpi="checkout_slo")  # fmt: skip
    await add_kpi(api, admin, "budget_default", "error_budget_remaining", "percent",
                  availability_kpi="availability")  # fmt: skip
    await incident(api, ingester, "a", "shop", "sev1", "2026-03-10 10:00", "2026-03-10 10:07:12")
    window = ("day", "2026-03-10", "2026-03-11")
    assert await series(api, reader, "budget_slo", *window, service="shop") == [
        ("2026-03-10", approx(50.0), 1)
    ]
    assert await series(api, reader, "budget_default", *window, service="shop") == [
        ("2026-03-10", approx(-900.0), 1)
    ]
    wrong = {"key": "budget_wrong", "name": "Budget", "unit": "percent",
             "direction": "higher_is_better", "kind": "builtin",
             "metric": "error_budget_remaining", "availability_kpi": "budget_slo"}  # fmt: skip
    answer = await send(api, admin, "POST", "/v1/kpis", wrong, status=422)
    assert answer["errors"][0]["field"] == "availability_kpi"
    # The KPI setting a budget's objectives cannot be deleted from under it.
    answer = await send(api, admin, "DELETE", "/v1/kpis/checkout_slo", status=409)
    assert "budget_slo" in answer["detail"]


async def test_a_rolled_up_status_names_the_service_that_set_it(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    """Availability in February (672 h = 40,320 min), no global target: each service's tier
    target. shop (tier 1, 99.95 %) down 60 min: 1 - 60/40,320 = 99.851 %, breached by
    0.099 points. ledger (tier 2, 99.9 %, sev3 threshold) down 120 min: 99.702 %, breached by
    0.198 points, the furthest behind: it drives the KPI's status."""
    await estate(api, admin)
    await add_kpi(api, admin, "availability", "availability", "percent", cadence="monthly")
    for tier, value in ((1, 99.95), (2, 99.9)):
        await add_target(api, admin, "availability", value, tier=tier)
    for slug in ("shop", "ledger"):
        await link(api, admin, "availability", slug)
    await incident(api, ingester, "a", "shop", "sev1", "2026-02-10 10:00", "2026-02-10 11:00")
    await incident(api, ingester, "b", "ledger", "sev3", "2026-02-11 10:00", "2026-02-11 12:00")
    status = await send(api, reader, "GET", "/v1/kpis/availability/status", status=200)
    assert (status["status"], status["target"], status["target_scope"]) == (
        "breached", None, "services"
    )  # fmt: skip
    assert status["driver"] == {
        "service": "ledger", "value": approx(100 * (1 - 120 / 40320)), "target": 99.9,
        "target_scope": "tier",
    }  # fmt: skip
    # Evaluated and stored, it still says so; so does the scorecard.
    await send(api, admin, "POST", "/v1/evaluate", {"kpi": "availability"}, status=200)
    stored = await send(api, reader, "GET", "/v1/kpis/availability/status", status=200)
    assert stored["evaluated_at"] is not None
    assert stored["driver"] == status["driver"]


async def test_a_period_under_way_is_marked_and_never_stored(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    """On 20 March the March bucket is under way: incomplete in the series; evaluating March
    answers its status, marked incomplete, and stores nothing; February is complete."""
    await estate(api, admin)
    await add_kpi(api, admin, "mttr", "mttr", "minutes", cadence="monthly",
                  direction="lower_is_better")  # fmt: skip
    await add_target(api, admin, "mttr", 60)
    await incident(api, ingester, "a", "shop", "sev1", "2026-02-10 10:00", "2026-02-10 10:30")
    await incident(api, ingester, "b", "shop", "sev1", "2026-03-10 10:00", "2026-03-10 11:30")
    body = await send(api, reader, "GET", "/v1/kpis/mttr/series", status=200,
                      params={"grain": "month", "from": "2026-02-01T00:00:00Z"})  # fmt: skip
    assert [(p["bucket"], p["value"], p["complete"]) for p in body["points"]] == [
        ("2026-02-01T00:00:00Z", 30.0, True),
        ("2026-03-01T00:00:00Z", 90.0, False),
    ]
    answer = await send(api, admin, "POST", "/v1/evaluate",
                        {"kpi": "mttr", "period": "2026-03-10T00:00:00Z"}, status=200)  # fmt: skip
    [march] = answer
    assert (march["value"], march["status"], march["complete"], march["evaluated_at"]) == (
        90.0, "breached", False, None
    )  # fmt: skip
    history = await send(api, reader, "GET", "/v1/kpis/mttr/status-history", status=200)
    assert history == []
