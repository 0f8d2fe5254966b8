"""The quarterly review (GET /v1/reviews/{quarter}): its figures are the API's own reads of
the quarter, its HTML has every section and nothing from elsewhere, and bad quarters are
refused naming `quarter`.

The fixture is the failure-cluster one (tests/usecases/test_failure_clusters.py: changes and
incidents of February and March 2026), reviewed as 2026-Q1 with the clock at 2026-04-02, plus:

- a board-level observed KPI `orders` (monthly, summed, target 140, warning 145) with one
  point a month: 2025-07 80, 2025-08 90, 2025-09 100, 2026-01 100, 2026-02 120, 2026-03 150;
- a delivered initiative `faster-orders` (started 2025-10-05, delivered 2025-12-20, three
  review periods) expecting orders +20;
- a cost record of checkout, cloud, January 2026: 1,000 EUR.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from service import db as dbmod
from service.config import Settings
from tests.conftest import app_client
from tests.usecases.test_failure_clusters import seed
from tests.usecases.test_reports import Headers, send

NOW = dt.datetime(2026, 4, 2, 12, 0, tzinfo=dt.UTC)
QUARTER = {"from": "2026-01-01T00:00:00Z", "to": "2026-04-01T00:00:00Z"}
SECTIONS = ("board", "availability", "incidents", "releases", "clusters", "spend",
            "unit-costs", "initiatives", "governance")  # fmt: skip

ORDERS = [("2025-07-15", 80), ("2025-08-15", 90), ("2025-09-15", 100),
          ("2026-01-15", 100), ("2026-02-15", 120), ("2026-03-15", 150)]  # fmt: skip


@pytest.fixture
async def clocked(con: dbmod.Connection, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(con, settings, lambda: NOW) as client:
        yield client


async def seed_review(client: httpx.AsyncClient, admin: Headers) -> None:
    await seed(client, admin)
    await send(client, admin, "POST", "/v1/kpis", {
        "key": "orders", "name": "Orders", "unit": "orders", "direction": "higher_is_better",
        "aggregation": "sum", "kind": "observed", "cadence": "monthly", "board_level": True,
        "business_owner": "coo@example.com",
    }, status=201)  # fmt: skip
    await send(client, admin, "POST", "/v1/targets", {
        "kpi": "orders", "value": 140, "warning": 145, "effective_from": "2025-01-01",
    }, status=201)  # fmt: skip
    await send(client, admin, "POST", "/v1/observations", [
        {"kpi": "orders", "ts": f"{day}T12:00:00Z", "value": value} for day, value in ORDERS
    ], status=200)  # fmt: skip
    await send(client, admin, "POST", "/v1/costs", [{
        "service": "checkout", "category": "cloud", "period_start": "2026-01-01",
        "period_end": "2026-02-01", "amount": 1000, "currency": "EUR",
    }], status=200)  # fmt: skip
    await send(client, admin, "POST", "/v1/initiatives", {
        "key": "faster-orders", "name": "Faster orders", "owner": "cto@example.com",
        "status": "delivered", "started_on": "2025-10-05", "delivered_on": "2025-12-20",
        "review_periods": 3, "kpis": [{"kpi": "orders", "expected_change": 20}],
    }, status=201)  # fmt: skip


async def get(client: httpx.AsyncClient, headers: Headers, path: str, **params: Any) -> Any:
    return await send(client, headers, "GET", path, params=params or None, status=200)


async def test_the_json_review_gives_the_apis_figures_for_the_quarter(
    clocked: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await seed_review(clocked, admin)
    review = await get(clocked, reader, "/v1/reviews/2026-Q1", format="json")
    assert (review["quarter"], review["start"], review["end"]) == (
        "2026-Q1",
        "2026-01-01T00:00:00Z",
        "2026-04-01T00:00:00Z",
    )
    # Board: the scorecard an instant before the quarter's end, i.e. March for a monthly KPI.
    scorecard = await get(clocked, reader, "/v1/scorecard", period="2026-03-31T23:59:59Z")
    assert [t["status"] for t in review["board"]] == scorecard["items"]
    (orders,) = review["board"]
    # March: one point of 150; 150 >= the warning 145, so met; February was 120, improving.
    assert (orders["status"]["value"], orders["status"]["status"]) == (150.0, "met")
    assert (orders["status"]["previous_value"], orders["status"]["trend"]) == (120.0, "improving")
    year = {"from": "2025-04-01T00:00:00Z", "to": "2026-04-01T00:00:00Z"}
    series = await get(clocked, reader, "/v1/kpis/orders/series", grain="month", **year)
    assert orders["trend"] == series["points"]
    assert [p["value"] for p in orders["trend"]] == [80, 90, 100, 100, 120, 150]
    # Every service's report over the quarter, by tier.
    by_tier = {t["tier"]: [s["service"] for s in t["services"]] for t in review["tiers"]}
    assert by_tier == {1: ["checkout"], 2: ["billing", "search"]}
    for tier in review["tiers"]:
        for report in tier["services"]:
            slug = report["service"]
            assert report == await get(clocked, reader, f"/v1/services/{slug}/report", **QUARTER)
        assert tier["downtime_cost"] == sum(
            s["incidents"]["downtime_cost"] for s in tier["services"]
        )
    # Failure clusters of the quarter: 7 production changes (c0 c1 c2 c3 b1 b2 s1), failed
    # c0 c1 c2 b2 = 4; checkout holds 3 of the 4 (75 %), billing 1 (25 %), search none.
    clusters = await get(clocked, reader, "/v1/failure-clusters", by="service", **QUARTER)
    assert review["clusters_by_service"] == clusters
    assert [(c["key"], c["failures"], c["share_of_failures"])
            for c in clusters["clusters"]] == [("checkout", 3, 75.0), ("billing", 1, 25.0),
                                               ("search", 0, 0.0)]  # fmt: skip
    vendors = await get(clocked, reader, "/v1/failure-clusters", by="service_attribute",
                        name="vendor", **QUARTER)  # fmt: skip
    assert review["clusters_by_vendor"] == vendors
    # acme: checkout's 4 changes and search's 1, 3 failures; globex: billing's 2, 1 failure.
    assert [(c["key"], c["changes"], c["failures"]) for c in vendors["clusters"]] == [
        ("acme", 5, 3),
        ("globex", 2, 1),
    ]
    # Spend: the one cost record of January.
    assert review["spend"]["currencies"] == [{"currency": "EUR", "total": 1000.0,
        "by_category": [{"category": "cloud", "amount": 1000.0}]}]  # fmt: skip
    # The initiative: July-September 2025 (80, 90, 100: mean 90) before, January-March 2026
    # (100, 120, 150: mean 123.33) after: +33.33 against an expected +20, met.
    (initiative,) = review["initiatives"]
    assert initiative["review"] == await get(
        clocked, reader, "/v1/initiatives/faster-orders/review"
    )
    (moved,) = initiative["review"]["kpis"]
    assert moved["change"] == pytest.approx(370 / 3 - 90) and moved["met"] is True
    assert review["governance_gaps"] == await get(clocked, reader, "/v1/governance-gaps")
    assert review["open_escalations"] == await get(clocked, reader, "/v1/escalations",
                                                   state="open")  # fmt: skip
    # The fixture has no budget or ratio KPI.
    assert (review["budget"], review["unit_costs"]) == ([], [])


async def test_the_html_review_has_every_section_and_nothing_from_elsewhere(
    clocked: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await seed_review(clocked, admin)
    r = await clocked.get("/v1/reviews/2026-Q1", headers={**reader, "Accept": "text/html"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["vary"] == "Accept"
    html = r.text
    for section in SECTIONS:
        assert f'<section class="first" id="{section}">' in html or (
            f'<section id="{section}">' in html
        ), section
    assert re.findall(r"(?:https?:)?//[\w.-]+", html) == []
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert "@page" in html and "break-before: page" in html
    # The board's row: March's 150 against 140, with the status as a word beside its colour.
    assert '<td class="num">150.00</td>' in html and '<td class="num">140.00</td>' in html
    assert '<span class="status status-met">Met</span>' in html
    assert html.count("<svg ") >= 2  # the sparkline and the clusters' bars
    # Text from the data is escaped: a KPI name with markup shows as text.
    await send(clocked, admin, "PUT", "/v1/kpis/orders", {
        "key": "orders", "name": "Orders <b>all</b>", "unit": "orders",
        "direction": "higher_is_better", "aggregation": "sum", "kind": "observed",
        "cadence": "monthly", "board_level": True,
    })  # fmt: skip
    html = (
        await clocked.get("/v1/reviews/2026-Q1", headers={**reader, "Accept": "text/html"})
    ).text
    assert "Orders &lt;b&gt;all&lt;/b&gt;" in html and "<b>all</b>" not in html


@pytest.mark.parametrize(
    ("quarter", "detail"),
    [("2026-Q5", "is not a calendar quarter"), ("2026Q1", "is not a calendar quarter"),
     ("2026-Q2", "has not ended yet"), ("1969-Q4", "the year must be between 1970 and 2200")],
)  # fmt: skip
async def test_a_malformed_or_unfinished_quarter_is_a_422_naming_quarter(
    clocked: httpx.AsyncClient, reader: Headers, quarter: str, detail: str
) -> None:
    r = await clocked.get(f"/v1/reviews/{quarter}", headers=reader)
    assert r.status_code == 422, r.text
    (error,) = r.json()["errors"]
    assert error["field"] == "quarter" and detail in error["detail"]


async def test_json_unless_html_is_asked_and_406_for_other_formats(
    clocked: httpx.AsyncClient, reader: Headers
) -> None:
    path = "/v1/reviews/2026-Q1"
    assert (await clocked.get(path, headers=reader)).headers["content-type"] == "application/json"
    browser = {**reader, "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    assert (
        (await clocked.get(path, headers=browser)).headers["content-type"].startswith("text/html")
    )
    asked = await clocked.get(path, headers=browser, params={"format": "json"})
    assert asked.headers["content-type"] == "application/json"
    r = await clocked.get(path, headers=reader, params={"format": "xlsx"})
    assert r.status_code == 406 and r.json()["errors"][0]["field"] == "format"
    r = await clocked.get(path, headers={**reader, "Accept": "text/csv"})
    assert r.status_code == 406
