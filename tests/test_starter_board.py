"""The starter catalog's board, on a small hand-written estate: each board KPI's figure for its
last closed period is worked out by hand below, and the service answers exactly it.

The clock: Wednesday 8 April 2026, noon. Last closed periods: March 2026 (31 days = 44,640
minutes), the week of Monday 30 March to Sunday 5 April, the first quarter of 2026.

The estate is the starter catalog's six services (checkout, payments-api and identity tier 1;
mobile-app and erp tier 2, erp's outage threshold sev3; data-warehouse tier 3, threshold
sev3). What the tools sent, through the real endpoints:

incidents (impact start - resolution)
  checkout        sev1  10 Mar 10:00 - 11:00   60 min
  payments-api    sev2  15 Mar 10:00 - 10:30   30 min, caused by deploy pay-1
  identity        sev3  12 Mar 09:00 - 13:00  240 min, below identity's sev2 threshold
  erp             sev3  20 Mar 08:00 - 10:00  120 min, at erp's sev3 threshold
  data-warehouse  sev1  22 Mar 00:00 - 04:00  240 min
production deploys (finished)
  checkout  c-1 3 Mar success, c-2 12 Mar failed, c-3 31 Mar success
  payments-api  pay-1 15 Mar 09:00 success, pay-2 3 Apr success
  mobile-app  m-1 1 Apr success
  erp  e-1 20 Mar failed
costs (March): checkout cloud 28,000 EUR; estate staff 1,372,000 EUR
observations: active_users 130,000 (10 Mar) and 150,000 (20 Mar); revenue_growth 7.5
  (28 Feb) and 9.0 (31 Mar); customer_retention 91.0 (15 Mar) and 93.5 (31 Mar);
  security_incidents 1 (5 Mar) and 1 (19 Mar)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from service import db as dbmod
from service.config import Settings
from service.demo import starter_catalog
from service.usecases.catalog_file import apply_catalog
from tests.conftest import app_client

NOW = dt.datetime(2026, 4, 8, 12, 0, tzinfo=dt.UTC)
MARCH = 44_640


@pytest.fixture
async def api(con: dbmod.Connection, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(con, settings, lambda: NOW) as client:
        yield client


async def post(client: httpx.AsyncClient, headers: dict[str, str], path: str, body: Any) -> None:
    r = await client.post(path, json=body, headers=headers)
    assert r.status_code in (200, 201), r.text


async def estate(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    for service, severity, start, end, caused_by in (
        ("checkout", "sev1", "2026-03-10T10:00:00Z", "2026-03-10T11:00:00Z", None),
        ("payments-api", "sev2", "2026-03-15T10:00:00Z", "2026-03-15T10:30:00Z", "pay-1"),
        ("identity", "sev3", "2026-03-12T09:00:00Z", "2026-03-12T13:00:00Z", None),
        ("erp", "sev3", "2026-03-20T08:00:00Z", "2026-03-20T10:00:00Z", None),
        ("data-warehouse", "sev1", "2026-03-22T00:00:00Z", "2026-03-22T04:00:00Z", None),
    ):
        body = {"external_id": f"inc-{service}", "service": service, "severity": severity,
                "started_at": start, "resolved_at": end, "status": "resolved"}  # fmt: skip
        if caused_by:
            body["caused_by"] = caused_by
        await post(client, admin, "/v1/incidents", body)
    for external_id, service, finished, status in (
        ("c-1", "checkout", "2026-03-03T12:00:00Z", "success"),
        ("c-2", "checkout", "2026-03-12T16:00:00Z", "failed"),
        ("c-3", "checkout", "2026-03-31T12:00:00Z", "success"),
        ("pay-1", "payments-api", "2026-03-15T09:00:00Z", "success"),
        ("pay-2", "payments-api", "2026-04-03T12:00:00Z", "success"),
        ("m-1", "mobile-app", "2026-04-01T12:00:00Z", "success"),
        ("e-1", "erp", "2026-03-20T06:00:00Z", "failed"),
    ):
        await post(client, admin, "/v1/changes", {
            "external_id": external_id, "service": service, "environment": "production",
            "status": status, "finished_at": finished,
        })  # fmt: skip
    await post(client, admin, "/v1/costs", [
        {"service": "checkout", "category": "cloud", "period_start": "2026-03-01",
         "period_end": "2026-04-01", "amount": 28000, "currency": "EUR"},
        {"category": "staff", "period_start": "2026-03-01", "period_end": "2026-04-01",
         "amount": 1372000, "currency": "EUR"},
    ])  # fmt: skip
    points = [
        ("active_users", "2026-03-10", 130000), ("active_users", "2026-03-20", 150000),
        ("revenue_growth", "2026-02-28", 7.5), ("revenue_growth", "2026-03-31", 9.0),
        ("customer_retention", "2026-03-15", 91.0), ("customer_retention", "2026-03-31", 93.5),
        ("security_incidents", "2026-03-05", 1), ("security_incidents", "2026-03-19", 1),
    ]  # fmt: skip
    await post(
        client,
        admin,
        "/v1/observations",
        [{"kpi": k, "ts": f"{day}T12:00:00Z", "value": v} for k, day, v in points],
    )


async def test_each_board_kpi_is_the_figure_worked_by_hand(
    api: httpx.AsyncClient, con: dbmod.Connection, admin: dict[str, str],
    reader: dict[str, str],
) -> None:  # fmt: skip
    await apply_catalog(con, starter_catalog(), dry_run=False)
    await estate(api, admin)
    r = await api.get("/v1/scorecard", headers=reader)
    assert r.status_code == 200, r.text
    card = {i["kpi"]: i for i in r.json()["items"]}

    def shown(key: str) -> tuple[Any, ...]:
        i = card[key]
        return (i["period_start"], i["value"], i["target"], i["target_scope"], i["status"],
                i["complete"])  # fmt: skip

    # Business service availability, March, over its six services: outage 60 (checkout) +
    # 30 (payments-api) + 120 (erp, at its sev3 threshold) + 240 (data-warehouse, sev1 above
    # its sev3 threshold) = 450 min; identity's sev3 is below its threshold. Six services x
    # 44,640 min = 267,840: 1 - 450 / 267,840 = 99.83199 %. No global target: the worst of the
    # services against their tier targets, all four down are breached; erp is furthest behind
    # (tier 2, 99.9 %): 1 - 120 / 44,640 = 99.73118 %, (99.9 - 99.73118) / 99.9 = 0.00169,
    # against checkout 0.00084, data-warehouse 0.00038, payments-api 0.00017.
    assert shown("service_availability") == (
        "2026-03-01T00:00:00Z", pytest.approx(100 * (1 - 450 / (6 * MARCH))), None, "services",
        "breached", True,
    )  # fmt: skip
    assert card["service_availability"]["driver"] == {
        "service": "erp", "value": pytest.approx(100 * (1 - 120 / MARCH)), "target": 99.9,
        "target_scope": "tier",
    }  # fmt: skip
    # Mean time to restore (sev1-sev2) of its five services: checkout's sev1 (60 min) and
    # payments-api's sev2 (30 min): 45 min; erp's sev3 and data-warehouse (not listed) are
    # left out. Global target 60, warning 45: 45 is at the warning: met.
    assert shown("incident_mttr") == ("2026-03-01T00:00:00Z", 45.0, 60.0, "global", "met", True)
    # Change failure rate, March, checkout, payments-api and mobile-app: deploys c-1, c-2,
    # c-3, pay-1 (m-1 and pay-2 are April's, e-1 is erp's) = 4; failed: c-2 (failed) and pay-1
    # (caused payments-api's incident) = 2: 50 %, beyond the 15 % target.
    assert shown("change_failure_rate") == (
        "2026-03-01T00:00:00Z", 50.0, 15.0, "global", "breached", True
    )  # fmt: skip
    # IT cost per active customer, March: spend 28,000 + 1,372,000 = 1,400,000 EUR over the
    # mean of 130,000 and 150,000 customers (140,000) = 10.0 EUR: on the target, above the
    # warning of 9 (lower is better): at risk.
    assert shown("it_unit_cost") == ("2026-03-01T00:00:00Z", 10.0, 10.0, "global", "at_risk", True)
    # Production deploys per week, the week from 30 March: c-3 (31 Mar), m-1 (1 Apr), pay-2
    # (3 Apr) = 3 a week, under the target of 10: breached.
    assert shown("deploys_per_week") == (
        "2026-03-30T00:00:00Z", 3.0, 10.0, "global", "breached", True
    )  # fmt: skip
    # Revenue growth, Q1 2026, its last point: 9.0; target 8, warning 10: at risk.
    assert shown("revenue_growth") == ("2026-01-01T00:00:00Z", 9.0, 8.0, "global", "at_risk", True)
    # Customer retention, March, its last point: 93.5; target 90, warning 92: met.
    assert shown("customer_retention") == (
        "2026-03-01T00:00:00Z", 93.5, 90.0, "global", "met", True
    )  # fmt: skip
    # Security incidents, March, summed: 2; target 2, warning 1 (lower is better): at risk.
    assert shown("security_incidents") == (
        "2026-03-01T00:00:00Z", 2.0, 2.0, "global", "at_risk", True
    )  # fmt: skip
    assert sorted(card) == sorted([
        "service_availability", "incident_mttr", "change_failure_rate", "it_unit_cost",
        "deploys_per_week", "revenue_growth", "customer_retention", "security_incidents",
    ])  # fmt: skip
