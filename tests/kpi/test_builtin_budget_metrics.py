"""Budget variance, the spend forecast and opex stability end to end: budgets and cost records
posted through REST, builtin KPIs created, their series and statuses read back.

The estate is the one of tests.kpi.test_builtin_metrics (shop and ledger in team payments).
Every expected figure is worked by hand in the comments next to it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from pytest import approx

from service import db as dbmod
from service.config import Settings
from service.kpi.periods import Period
from service.store import kpis, services
from service.usecases import measure
from tests.kpi.test_builtin_metrics import (
    Headers,
    add_kpi,
    clocked_client,
    estate,
    send,
    series,
)


def at(year: int, month: int) -> dt.datetime:
    return dt.datetime(year, month, 1, tzinfo=dt.UTC)


#: The clock of the forecast and stability tests: 20 May 2026, in April 2026 - March 2027.
MAY = dt.datetime(2026, 5, 20, 12, 0, tzinfo=dt.UTC)


def record(service: str | None, category: str, start: str, end: str, amount: float,
           currency: str = "EUR") -> dict[str, Any]:  # fmt: skip
    body: dict[str, Any] = {"category": category, "period_start": start, "period_end": end,
                            "amount": amount, "currency": currency}  # fmt: skip
    if service is not None:
        body["service"] = service
    return body


@pytest.fixture
def april_settings(settings: Settings) -> Iterator[Settings]:
    """The settings with a fiscal year starting in April; the process's calendar is put back
    afterwards."""
    yield settings.model_copy(update={"fiscal_year_start_month": 4})
    measure.use_settings(settings)


@pytest.fixture
async def api(con: dbmod.Connection, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with clocked_client(con, settings) as client:
        yield client


@pytest.fixture
async def fiscal_api(
    con: dbmod.Connection, april_settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    async with clocked_client(con, april_settings, MAY) as client:
        yield client


# Variance ---------------------------------------------------------------------------------------


async def variance_records(client: httpx.AsyncClient, ingester: Headers) -> None:
    """Late 2025, in EUR:

    shop   cloud     November             spent 3,000 (100 a day)  budget 2,700 (90 a day)
    ledger licences  Q4 (92 days)         spent 8,280 (90 a day)   budget 9,200 (100 a day)
    shop   cloud     December             spent   310 (no budget for December)
    search cloud     November             budget 999 USD (another currency)
    """
    costs = [
        record("shop", "cloud", "2025-11-01", "2025-12-01", 3000.0),
        record("ledger", "licences", "2025-10-01", "2026-01-01", 8280.0),
        record("shop", "cloud", "2025-12-01", "2026-01-01", 310.0),
    ]
    budgets = [
        record("shop", "cloud", "2025-11-01", "2025-12-01", 2700.0),
        record("ledger", "licences", "2025-10-01", "2026-01-01", 9200.0),
        record("search", "cloud", "2025-11-01", "2025-12-01", 999.0, "USD"),
    ]
    await send(client, ingester, "POST", "/v1/costs", costs, status=200)
    stored = await send(client, ingester, "POST", "/v1/budgets", budgets, status=200)
    assert stored == {"records": 3, "inserted": 3, "updated": 0, "unchanged": 0}


async def test_budget_variance_over_a_month_and_a_quarter_cut_by_the_window(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await estate(api, admin)
    await add_kpi(api, admin, "variance", "budget_variance", "EUR")
    await add_kpi(api, admin, "variance_share", "budget_variance_share", "percent")
    await variance_records(api, ingester)
    months = ("month", "2025-11-01", "2026-01-01")

    # shop, November: 3,000 - 2,700 = 300 (one record, one budget); 300 / 2,700 = 11.11 %.
    # December: spent 310 but no budget: no value (not 0), the one record behind it.
    assert await series(api, reader, "variance", *months, service="shop") == [
        ("2025-11-01", approx(300.0), 2), ("2025-12-01", None, 1),
    ]  # fmt: skip
    assert await series(api, reader, "variance_share", *months, service="shop") == [
        ("2025-11-01", approx(100 * 300 / 2700), 2), ("2025-12-01", None, 1),
    ]  # fmt: skip
    # ledger: the quarter's records cut by each month, like with like. November (30 days):
    # 30 x 90 - 30 x 100 = 2,700 - 3,000 = -300, -300 / 3,000 = -10 %. December (31 days):
    # 2,790 - 3,100 = -310, -10 %.
    assert await series(api, reader, "variance", *months, service="ledger") == [
        ("2025-11-01", approx(-300.0), 2), ("2025-12-01", approx(-310.0), 2),
    ]  # fmt: skip
    assert await series(api, reader, "variance_share", *months, service="ledger") == [
        ("2025-11-01", approx(-10.0), 2), ("2025-12-01", approx(-10.0), 2),
    ]  # fmt: skip
    # A week cut from the quarter (24 - 30 November, 7 days): 630 - 700 = -70.
    week = await series(api, reader, "variance", "week", "2025-11-24", "2025-12-01",
                        service="ledger")  # fmt: skip
    assert week == [("2025-11-24", approx(-70.0), 2)]
    # Team payments, November: (3,000 + 2,700) - (2,700 + 3,000) = 0. December: 310 + 2,790
    # spent, 3,100 budgeted (ledger's only): 0. Four records and budgets in each month
    # (December: shop's record, ledger's record and budget: 3).
    assert await series(api, reader, "variance", *months, team="payments") == [
        ("2025-11-01", approx(0.0, abs=1e-6), 4), ("2025-12-01", approx(0.0, abs=1e-6), 3),
    ]  # fmt: skip
    # The share is in the one currency of the scope's money: the fleet's is in EUR and USD,
    # so it has no value; the EUR variance of the fleet is that of team payments.
    assert await series(api, reader, "variance_share", *months) == [
        ("2025-11-01", None, 0), ("2025-12-01", None, 0),
    ]  # fmt: skip
    assert await series(api, reader, "variance", *months) == [
        ("2025-11-01", approx(0.0, abs=1e-6), 4), ("2025-12-01", approx(0.0, abs=1e-6), 3),
    ]  # fmt: skip


async def test_a_budget_variance_takes_targets_statuses_and_escalations(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    """A builtin budget KPI applying to shop and ledger, target 200 (lower is better,
    warning 100), evaluated for November 2025: overall (3,000 + 2,700) - (2,700 + 3,000) = 0
    is met; shop's 300 is over the target, breached, and opens an escalation; ledger's -300
    is met."""
    await estate(api, admin)
    path = [{"who": "CFO", "channel": "email", "address": "cfo@example.com",
             "after_breached_periods": 1}]  # fmt: skip
    await add_kpi(api, admin, "variance", "budget_variance", "EUR",
                  direction="lower_is_better", cadence="monthly", escalation_path=path)  # fmt: skip
    for service in ("shop", "ledger"):
        await send(api, admin, "PUT", f"/v1/kpis/variance/services/{service}",
                   status=(200, 201, 204))  # fmt: skip
    await send(api, admin, "POST", "/v1/targets", {
        "kpi": "variance", "value": 200, "warning": 100, "effective_from": "2025-01-01",
    }, status=201)  # fmt: skip
    await variance_records(api, ingester)
    evaluated = await send(
        api,
        admin,
        "POST",
        "/v1/evaluate",
        {"kpi": "variance", "period": "2025-11-15T00:00:00Z"},
        status=200,
    )
    found = {st["service"]: (st["value"], st["status"]) for st in evaluated}
    assert found == {
        None: (approx(0.0, abs=1e-6), "met"),
        "shop": (approx(300.0), "breached"),
        "ledger": (approx(-300.0), "met"),
    }
    status = await send(
        api,
        reader,
        "GET",
        "/v1/kpis/variance/status",
        params={"period": "2025-11-15T00:00:00Z", "service": "shop"},
        status=200,
    )
    assert (status["value"], status["target"], status["status"]) == (approx(300.0), 200, "breached")
    escalations = await send(api, reader, "GET", "/v1/escalations", status=200)
    assert [(e["kpi"], e["service"], e["state"]) for e in escalations] == [
        ("variance", "shop", "open")
    ]


# Forecast and stability -------------------------------------------------------------------------


async def monthly_spend(client: httpx.AsyncClient, ingester: Headers) -> None:
    """shop, cloud: 100 a month April - December 2025, then 130, 160, 190 and 220 (January -
    April 2026), and 250 for May 2026 (a month in progress at MAY)."""
    amounts = {**{(2025, m): 100.0 for m in range(4, 13)}, (2026, 1): 130.0, (2026, 2): 160.0,
               (2026, 3): 190.0, (2026, 4): 220.0, (2026, 5): 250.0}  # fmt: skip
    costs = []
    for (year, month), amount in amounts.items():
        end = dt.date(year + (month == 12), month % 12 + 1, 1)
        costs.append(record("shop", "cloud", f"{year}-{month:02}-01", end.isoformat(), amount))
    await send(client, ingester, "POST", "/v1/costs", costs, status=200)


async def test_spend_forecast_across_the_fiscal_year_boundary(
    fiscal_api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    api = fiscal_api
    await estate(api, admin)
    await add_kpi(api, admin, "forecast", "spend_forecast", "EUR",
                  direction="lower_is_better", cadence="monthly")  # fmt: skip
    await monthly_spend(api, ingester)
    points = await series(api, reader, "forecast", "month", "2026-02-01", "2026-06-01")
    assert points == [
        # February (fiscal year April 2025 - March 2026): spent 900 + 130 + 160 = 1,190; run
        # rate (December, January, February) (100 + 130 + 160) / 3 = 130; one month left:
        # 1,320. Records read: April 2025 - February 2026, 11.
        ("2026-02-01", approx(1320.0), 11),
        # March, the year's last month: spent 1,380; no month left: 1,380 (12 records).
        ("2026-03-01", approx(1380.0), 12),
        # April, a new fiscal year: April's 220 so far; run rate (February, March, April)
        # (160 + 190 + 220) / 3 = 190; eleven months left: 220 + 2,090 = 2,310. Records read:
        # February - April, 3.
        ("2026-04-01", approx(2310.0), 3),
        # May, measured to the 20th 12:00 (19.5 of 31 days): spent 220 + 250 x 19.5 / 31 =
        # 377.258; run rate still (160 + 190 + 220) / 3 = 190 (May is not whole); months
        # left: 11.5 / 31 of May + 10 = 10.370968: 377.258 + 1,970.484 = 2,347.742.
        ("2026-05-01", approx(220 + 250 * 19.5 / 31 + 190 * (10 + 11.5 / 31)), 4),
    ]
    # Its status for February against a target of 1,350 (warning 1,250): 1,320 is at risk.
    await send(api, admin, "POST", "/v1/targets", {
        "kpi": "forecast", "value": 1350, "warning": 1250, "effective_from": "2025-01-01",
    }, status=201)  # fmt: skip
    status = await send(api, reader, "GET", "/v1/kpis/forecast/status",
                        params={"period": "2026-02-10T00:00:00Z"}, status=200)  # fmt: skip
    assert (status["value"], status["status"]) == (approx(1320.0), "at_risk")


async def test_opex_stability_over_quarters(
    fiscal_api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    api = fiscal_api
    await estate(api, admin)
    await add_kpi(api, admin, "stability", "opex_stability", "percent",
                  direction="lower_is_better", cadence="quarterly")  # fmt: skip
    await monthly_spend(api, ingester)
    points = await series(api, reader, "stability", "quarter", "2025-10-01", "2026-07-01",
                          service="shop")  # fmt: skip
    assert points == [
        # Q4 2025: 100, 100, 100: no variation, 0 %.
        ("2025-10-01", 0.0, 3),
        # Q1 2026: 130, 160, 190: mean 160, population standard deviation sqrt(600) =
        # 24.4949: 15.3093 %.
        ("2026-01-01", approx(15.3093, abs=1e-4), 3),
        # Q2 2026 measured to 20 May: April alone is whole: no value.
        ("2026-04-01", None, 2),
    ]
    # A monthly bucket never holds two whole months: no value.
    month = await series(api, reader, "stability", "month", "2026-01-01", "2026-02-01")
    assert month == [("2026-01-01", None, 1)]


async def test_each_service_apart_takes_the_statements_of_one(
    api: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, ingester: Headers
) -> None:
    """values_by_service (GraphQL pages, evaluation per service) reads the budget metrics of
    any number of services in as many statements as for one (per currency), each service with
    its own figures in its own currency."""
    await estate(api, admin)
    keys = {
        "variance": ("budget_variance", "EUR"),
        "share": ("budget_variance_share", "percent"),
        "forecast": ("spend_forecast", "EUR"),
        "stability": ("opex_stability", "percent"),
    }
    for key, (metric, unit) in keys.items():
        await add_kpi(api, admin, key, metric, unit)
    await variance_records(api, ingester)
    slugs = ["shop", "ledger", "search", "infra"]
    shop, ledger, search, infra = await services.service_ids(con, slugs, field="service")
    windows = [Period(at(2025, 11), at(2025, 12)), Period(at(2025, 10), at(2026, 1))]
    now = at(2026, 3)
    statements: list[str] = []

    def log(record: Any) -> None:
        statements.append(record.query)

    found: dict[str, dict[int, list[Any]]] = {}
    con.add_query_logger(log)
    try:
        for key in keys:
            kpi = await kpis.get_kpi(con, key=key)
            counted = []
            for chosen in ([shop], [shop, ledger, infra], [shop, ledger, search, infra]):
                statements.clear()
                found[key] = await measure.values_by_service(con, kpi, chosen, windows, now)
                counted.append(len(statements))
            # One statement per input (and one for the currencies of a share or percent),
            # whatever the services; search's budget in USD adds the inputs' statements
            # once more to the share and stability (a second currency).
            inputs = 2 if key in ("variance", "share") else 1
            rate = key in ("share", "stability")
            assert counted == [inputs + rate, inputs + rate, inputs + rate * (1 + inputs)], key
    finally:
        con.remove_query_logger(log)
    nothing = [(None, 0), (None, 0)]
    # November, then Q4 2025. shop: 3,000 - 2,700 = 300 (2 records); Q4: 3,000 + 310 spent
    # against 2,700: 610 (3). ledger: 2,700 - 3,000 = -300; Q4 8,280 - 9,200 = -920. search:
    # no EUR budget, infra nothing: no value.
    variance = found["variance"]
    assert variance[shop] == [(approx(300.0), 2), (approx(610.0), 3)]
    assert variance[ledger] == [(approx(-300.0), 2), (approx(-920.0), 2)]
    assert variance[search] == variance[infra] == nothing
    # The share, each service in its own currency: shop 300 / 2,700 = 11.11 %, 610 / 2,700 =
    # 22.59 %; ledger -10 % both; search's USD budget of 999 with nothing spent in USD:
    # -100 %; infra has no money at all.
    share = found["share"]
    assert share[shop] == [(approx(100 * 300 / 2700), 2), (approx(100 * 610 / 2700), 3)]
    assert share[ledger] == [(approx(-10.0), 2), (approx(-10.0), 2)]
    assert share[search] == [(approx(-100.0), 1), (approx(-100.0), 1)]
    assert share[infra] == nothing
    # Stability over Q4 (November alone is one month: no value). shop: October 0, November
    # 3,000, December 310: mean 1,103.33, population standard deviation 1,347.10: 122.094 %.
    # ledger: 31, 30 and 31 days of 90: 2,790, 2,700, 2,790: mean 2,760, deviations 30, -60,
    # 30, standard deviation sqrt(1,800) = 42.43: 1.5372 %.
    stability = found["stability"]
    assert stability[shop] == [(None, 1), (approx(122.094, abs=1e-3), 2)]
    assert stability[ledger] == [(None, 1), (approx(1.5372, abs=1e-4), 1)]
    assert stability[search] == stability[infra] == nothing
