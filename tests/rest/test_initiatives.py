"""Initiatives over REST and GraphQL: CRUD with their links, spend against budget, and each
linked KPI before the start against after delivery, worked by hand."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from service import db as dbmod
from service.config import Settings
from tests.conftest import app_client

Json = dict[str, Any]
Headers = dict[str, str]

#: The app's clock in these tests: every window below has ended by then.
NOW = dt.datetime(2026, 11, 15, 12, tzinfo=dt.UTC)

#: Monthly availability of checkout, one point on the 15th of each month.
CHECKOUT = {
    "2026-01": 99.0, "2026-02": 99.2, "2026-03": 99.4,  # baseline of a start in April
    "2026-04": 98.0, "2026-05": 98.3, "2026-06": 98.6,  # during the work
    "2026-07": 99.5, "2026-08": 99.6, "2026-09": 99.7,  # after delivery on 2026-06-20
}  # fmt: skip


@pytest.fixture
async def api(con: dbmod.Connection, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(con, settings, clock=lambda: NOW) as client:
        yield client


async def call(
    client: httpx.AsyncClient, headers: Headers, method: str, path: str, body: Any = None,
    status: int = 200,
) -> Any:  # fmt: skip
    r = await client.request(method, path, json=body, headers=headers)
    assert r.status_code == status, f"{method} {path}: {r.status_code} {r.text}"
    return r.json() if r.content else None


async def seed(client: httpx.AsyncClient, admin: Headers) -> None:
    for slug in ("checkout", "billing"):
        await call(client, admin, "POST", "/v1/services",
                   {"slug": slug, "name": slug.title(), "tier": 1}, 201)  # fmt: skip
    await call(client, admin, "POST", "/v1/kpis", {
        "key": "availability", "name": "Availability", "unit": "percent",
        "direction": "higher_is_better", "aggregation": "avg", "cadence": "monthly",
    }, 201)  # fmt: skip
    points = [
        {"kpi": "availability", "service": "checkout", "ts": f"{month}-15T00:00:00Z",
         "value": value}
        for month, value in CHECKOUT.items()
    ]  # fmt: skip
    # Billing is overall-only data for the KPI overall: 10 in Jan .. Mar, 12 in Jul .. Sep.
    points += [
        {"kpi": "availability", "ts": f"{month}-15T00:00:00Z", "value": value}
        for month, value in (("2026-01", 10), ("2026-02", 10), ("2026-03", 10),
                             ("2026-07", 12), ("2026-08", 12), ("2026-09", 12))
    ]  # fmt: skip
    await call(client, admin, "POST", "/v1/observations", points)


def initiative(key: str = "checkout-resilience", **fields: Any) -> Json:
    return {
        "key": key, "name": "Checkout resilience", "owner": "cto@example.com",
        "sponsor": "cfo@example.com", "status": "delivered", "started_on": "2026-04-10",
        "delivered_on": "2026-06-20", "budget": 100000, "currency": "EUR",
        "services": ["checkout"],
        "kpis": [{"kpi": "availability", "service": "checkout", "expected_change": 0.2,
                  "expected_by": "2026-09-30", "rationale": "Fewer single points of failure."}],
        **fields,
    }  # fmt: skip


async def test_review_of_a_delivered_initiative_met_and_not_met(
    api: httpx.AsyncClient, admin: Headers
) -> None:
    await seed(api, admin)
    body = initiative(kpis=[
        {"kpi": "availability", "service": "checkout", "expected_change": 0.2},
        # The same KPI overall, expected to rise by 3: it rose by 2.
        {"kpi": "availability", "expected_change": 3},
    ])  # fmt: skip
    created = await call(api, admin, "POST", "/v1/initiatives", body, 201)
    assert created["services"] == ["checkout"] and created["review_periods"] == 3
    review = await call(api, admin, "GET", "/v1/initiatives/checkout-resilience/review")
    checkout, overall = review["kpis"]
    # Started 2026-04-10: baseline Jan .. Mar, (99.0 + 99.2 + 99.4) / 3 = 99.2.
    assert checkout["baseline"]["start"] == "2026-01-01T00:00:00Z"
    assert checkout["baseline"]["end"] == "2026-04-01T00:00:00Z"
    assert checkout["baseline"]["mean"] == pytest.approx(99.2)
    assert checkout["baseline"]["periods_with_data"] == 3
    # Delivered 2026-06-20: after window Jul .. Sep, (99.5 + 99.6 + 99.7) / 3 = 99.6.
    assert checkout["after"]["start"] == "2026-07-01T00:00:00Z"
    assert checkout["after"]["end"] == "2026-10-01T00:00:00Z"
    assert checkout["after"]["mean"] == pytest.approx(99.6)
    assert checkout["after"]["ended"] is True
    # 99.6 - 99.2 = +0.4 >= +0.2 expected: met, on three periods each side: no caveat.
    assert checkout["change"] == pytest.approx(0.4)
    assert (checkout["met"], checkout["caveat"], checkout["cadence"]) == (True, None, "monthly")
    # Overall (every point, avg per month): Jan (99.0 + 10) / 2 = 54.5, Feb 54.6, Mar 54.7,
    # mean 54.6; Jul (99.5 + 12) / 2 = 55.75, Aug 55.8, Sep 55.85, mean 55.8: +1.2 < +3.
    assert overall["service"] is None
    assert overall["baseline"]["mean"] == pytest.approx(54.6)
    assert overall["after"]["mean"] == pytest.approx(55.8)
    assert overall["change"] == pytest.approx(1.2)
    assert overall["met"] is False


async def test_thin_baseline_gets_a_caveat(api: httpx.AsyncClient, admin: Headers) -> None:
    await seed(api, admin)
    # Started 2026-02-10: baseline Nov 2025 .. Jan 2026, of which only January has data.
    # Delivered 2026-03-05: after window Apr .. Jun, (98.0 + 98.3 + 98.6) / 3 = 98.3.
    body = initiative("early-fix", started_on="2026-02-10", delivered_on="2026-03-05",
                      kpis=[{"kpi": "availability", "service": "checkout",
                             "expected_change": -0.5}])  # fmt: skip
    await call(api, admin, "POST", "/v1/initiatives", body, 201)
    (review,) = (await call(api, admin, "GET", "/v1/initiatives/early-fix/review"))["kpis"]
    assert review["baseline"]["mean"] == pytest.approx(99.0)
    assert review["baseline"]["periods_with_data"] == 1
    assert review["after"]["mean"] == pytest.approx(98.3)
    # 98.3 - 99.0 = -0.7: it fell, as expected (-0.5), so met; but on one period before.
    assert review["change"] == pytest.approx(-0.7)
    assert review["met"] is True
    assert review["caveat"] == "only 1 period(s) with data before the start (at least 3 wanted)"


async def test_min_periods_is_a_setting(con: dbmod.Connection, settings: Settings,
                                        admin: Headers) -> None:  # fmt: skip
    lenient = settings.model_copy(update={"initiative_min_periods": 1})
    async with app_client(con, lenient, clock=lambda: NOW) as api:
        await seed(api, admin)
        body = initiative("early-fix", started_on="2026-02-10", delivered_on="2026-03-05")
        await call(api, admin, "POST", "/v1/initiatives", body, 201)
        (review,) = (await call(api, admin, "GET", "/v1/initiatives/early-fix/review"))["kpis"]
    assert review["baseline"]["periods_with_data"] == 1
    assert review["caveat"] is None


async def test_undelivered_initiative_has_no_after_window(
    api: httpx.AsyncClient, admin: Headers
) -> None:
    await seed(api, admin)
    body = initiative("in-flight", status="active", delivered_on=None, budget=None,
                      currency=None)  # fmt: skip
    await call(api, admin, "POST", "/v1/initiatives", body, 201)
    review = await call(api, admin, "GET", "/v1/initiatives/in-flight/review")
    (kpi,) = review["kpis"]
    assert kpi["baseline"]["mean"] == pytest.approx(99.2)
    assert (kpi["after"], kpi["change"], kpi["met"]) == (None, None, None)
    assert kpi["caveat"] == "not delivered yet: there is no after window"
    assert review["spend"] == {"budget": None, "currency": None, "spent": None,
                               "remaining": None, "percent_spent": None,
                               "other_currencies": []}  # fmt: skip


async def test_spend_against_budget_with_two_currencies(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers
) -> None:
    await seed(api, admin)
    await call(api, admin, "POST", "/v1/initiatives", initiative(), 201)
    records = [
        {"category": "cloud", "period_start": "2026-05-01", "period_end": "2026-06-01",
         "amount": 20000, "currency": "EUR", "initiative": "checkout-resilience",
         "service": "checkout"},
        {"category": "cloud", "period_start": "2026-06-01", "period_end": "2026-07-01",
         "amount": 15000.50, "currency": "EUR", "initiative": "checkout-resilience"},
        {"category": "licences", "period_start": "2026-05-01", "period_end": "2026-06-01",
         "amount": 5000, "currency": "USD", "initiative": "checkout-resilience"},
        # The same key without the initiative is another record, and not its spend.
        {"category": "cloud", "period_start": "2026-05-01", "period_end": "2026-06-01",
         "amount": 99999, "currency": "EUR", "service": "checkout"},
    ]  # fmt: skip
    result = await call(api, ingester, "POST", "/v1/costs", records)
    assert result["inserted"] == 4
    listed = await call(api, admin, "GET", "/v1/costs?category=licences")
    assert [r["initiative"] for r in listed] == ["checkout-resilience"]
    booked = await call(api, admin, "GET", "/v1/costs?initiative=checkout-resilience")
    assert sorted(r["amount"] for r in booked) == [5000.0, 15000.5, 20000.0]
    r = await api.get("/v1/costs?initiative=nope", headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "#/initiative"
    spend = (await call(api, admin, "GET", "/v1/initiatives/checkout-resilience/review"))["spend"]
    # EUR: 20,000 + 15,000.50 = 35,000.50 of 100,000: 64,999.50 left, 35.0005 % spent.
    assert spend["budget"] == 100000 and spend["currency"] == "EUR"
    assert spend["spent"] == pytest.approx(35000.50)
    assert spend["remaining"] == pytest.approx(64999.50)
    assert spend["percent_spent"] == pytest.approx(35.0005)
    # USD is never converted: listed apart.
    assert spend["other_currencies"] == [{"currency": "USD", "amount": 5000.0, "records": 1}]
    # An initiative carrying spend cannot be deleted.
    await call(api, admin, "DELETE", "/v1/initiatives/checkout-resilience", status=409)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"services": ["nope"]}, "/services/0"),
        ({"services": ["checkout", "checkout"]}, "/services/1"),
        ({"kpis": [{"kpi": "nope", "expected_change": 1}]}, "/kpis/0/kpi"),
        ({"kpis": [{"kpi": "availability", "service": "nope", "expected_change": 1}]},
         "/kpis/0/service"),
        ({"delivered_on": "2026-04-09"}, "/delivered_on"),
        ({"currency": None}, "/currency"),
        ({"budget": None}, "/budget"),
        ({"status": "paused"}, "/status"),
        ({"review_periods": 0}, "/review_periods"),
    ],
)  # fmt: skip
async def test_bad_initiatives_get_a_422_naming_the_field(
    api: httpx.AsyncClient, admin: Headers, change: Json, field: str
) -> None:
    await seed(api, admin)
    r = await api.post("/v1/initiatives", json=initiative(**change), headers=admin)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["pointer"] for e in r.json()["errors"]] == [f"#{field}"]


async def test_cost_record_naming_an_unknown_initiative_is_a_422(
    api: httpx.AsyncClient, ingester: Headers
) -> None:
    record = {"category": "cloud", "period_start": "2026-05-01", "period_end": "2026-06-01",
              "amount": 1, "currency": "EUR", "initiative": "nope"}  # fmt: skip
    r = await api.post("/v1/costs", json=[record], headers=ingester)
    assert r.status_code == 422, r.text
    assert [e["pointer"] for e in r.json()["errors"]] == ["#/0/initiative"]


async def test_crud_replaces_links_and_follows_deletes(
    api: httpx.AsyncClient, admin: Headers
) -> None:
    await seed(api, admin)
    await call(api, admin, "POST", "/v1/initiatives", initiative(), 201)
    await call(api, admin, "POST", "/v1/initiatives", initiative(), 409)
    replaced = await call(api, admin, "PUT", "/v1/initiatives/checkout-resilience",
                          initiative(services=["billing", "checkout"], kpis=[]))  # fmt: skip
    assert (replaced["services"], replaced["kpis"]) == (["billing", "checkout"], [])
    got = await call(api, admin, "GET", "/v1/initiatives/checkout-resilience")
    assert got == replaced
    await call(api, admin, "PUT", "/v1/initiatives/other", initiative(), 422)
    # Deleting a linked service takes the link with it, as the catalog's other links do.
    await call(api, admin, "DELETE", "/v1/services/billing", status=204)
    got = await call(api, admin, "GET", "/v1/initiatives/checkout-resilience")
    assert got["services"] == ["checkout"]
    assert [i["key"] for i in await call(api, admin, "GET", "/v1/initiatives")] == [
        "checkout-resilience"
    ]
    await call(api, admin, "DELETE", "/v1/initiatives/checkout-resilience", status=204)
    await call(api, admin, "GET", "/v1/initiatives/checkout-resilience", status=404)
    await call(api, admin, "GET", "/v1/initiatives/checkout-resilience/review", status=404)


REVIEW_QUERY = """
query ($key: String!) {
  initiative(key: $key) {
    key status budget services { slug }
    kpis { expectedChange kpi { key outcomes { edges { node { outcome { slug } } } } } }
    review {
      initiative status startedOn deliveredOn
      spend { budget currency spent remaining percentSpent
              otherCurrencies { currency amount records } }
      kpis { kpi service cadence expectedChange expectedBy change met caveat
             baseline { start end mean periodsWithData ended }
             after { start end mean periodsWithData ended } }
    }
  }
}
"""


def camel(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k.split("_")[0] + "".join(p.title() for p in k.split("_")[1:]): camel(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [camel(v) for v in value]
    return value


async def test_graphql_gives_the_same_review_as_rest(
    api: httpx.AsyncClient, admin: Headers
) -> None:
    await seed(api, admin)
    await call(api, admin, "POST", "/v1/outcomes",
               {"slug": "protect-revenue", "name": "Protect revenue"}, 201)  # fmt: skip
    await call(api, admin, "PUT", "/v1/kpis/availability/outcomes/protect-revenue",
               {"weight": 1})  # fmt: skip
    await call(api, admin, "POST", "/v1/initiatives", initiative(), 201)
    rest_review = await call(api, admin, "GET", "/v1/initiatives/checkout-resilience/review")
    variables = {"key": "checkout-resilience"}
    r = await api.post("/graphql", headers=admin,
                       json={"query": REVIEW_QUERY, "variables": variables})  # fmt: skip
    body = r.json()
    assert "errors" not in body, body
    node = body["data"]["initiative"]
    assert node["services"] == [{"slug": "checkout"}]
    # The outcome is reachable through the KPI the initiative is meant to move.
    assert node["kpis"][0]["kpi"]["outcomes"]["edges"] == [
        {"node": {"outcome": {"slug": "protect-revenue"}}}
    ]
    # GraphQL names enum values in upper case; everything else is the same.
    rest_review["status"] = rest_review["status"].upper()
    for kpi in rest_review["kpis"]:
        kpi["cadence"] = kpi["cadence"].upper()
    assert node["review"] == camel(rest_review)
    assert node["review"]["kpis"][0]["met"] is True


SIDES_QUERY = """
{ kpi(key: "availability") { initiatives { edges { node { key } } } }
  service(slug: "checkout") { initiatives { edges { node { key name } } } }
  initiatives { edges { node { key } } } }
"""


async def test_graphql_links_from_kpis_and_services_and_mutations(
    api: httpx.AsyncClient, admin: Headers
) -> None:
    await seed(api, admin)
    upsert = """
    mutation ($input: InitiativeInput!) {
      upsertInitiative(input: $input) {
        __typename ... on Initiative { key kpis { expectedChange } }
        ... on Problem { errors { pointer } } } }
    """
    created = (await api.post("/graphql", headers=admin, json={
        "query": upsert, "variables": {"input": camel(initiative(status="DELIVERED"))},
    })).json()  # fmt: skip
    assert "errors" not in created, created
    assert created["data"]["upsertInitiative"] == {
        "__typename": "Initiative", "key": "checkout-resilience",
        "kpis": [{"expectedChange": 0.2}],
    }  # fmt: skip
    bad = (await api.post("/graphql", headers=admin, json={
        "query": upsert,
        "variables": {"input": camel(initiative(status="DELIVERED", services=["nope"]))},
    })).json()  # fmt: skip
    assert bad["data"]["upsertInitiative"]["errors"] == [{"pointer": "#/services/0"}]
    data = (await api.post("/graphql", headers=admin, json={"query": SIDES_QUERY})).json()
    assert data["data"] == {
        "kpi": {"initiatives": {"edges": [{"node": {"key": "checkout-resilience"}}]}},
        "service": {"initiatives": {"edges": [
            {"node": {"key": "checkout-resilience", "name": "Checkout resilience"}}]}},
        "initiatives": {"edges": [{"node": {"key": "checkout-resilience"}}]},
    }  # fmt: skip
    deleted = (await api.post("/graphql", headers=admin, json={
        "query": 'mutation { deleteInitiative(key: "checkout-resilience") '
                 "{ ... on Deleted { ok } } }"})).json()  # fmt: skip
    assert deleted["data"]["deleteInitiative"] == {"ok": True}


async def test_review_at_the_edges_of_the_date_range(
    api: httpx.AsyncClient, admin: Headers
) -> None:
    await seed(api, admin)
    await call(api, admin, "POST", "/v1/kpis", {
        "key": "uptime", "name": "Uptime", "unit": "percent", "direction": "higher_is_better",
        "kind": "builtin", "metric": "availability", "cadence": "monthly",
    }, 201)  # fmt: skip
    # The baseline of a start in January 1970 lies before 1970: it has no data, and no error.
    links = [{"kpi": "availability", "expected_change": 1},
             {"kpi": "uptime", "service": "checkout", "expected_change": 1}]  # fmt: skip
    body = initiative("early", started_on="1970-01-05", delivered_on="2200-01-01", budget=0,
                      kpis=links)  # fmt: skip
    await call(api, admin, "POST", "/v1/initiatives", body, 201)
    review = await call(api, admin, "GET", "/v1/initiatives/early/review")
    kpi, uptime = review["kpis"]
    assert uptime["after"]["mean"] is None and uptime["change"] is None
    assert kpi["baseline"]["start"] == "1969-10-01T00:00:00Z"
    assert kpi["baseline"]["periods_with_data"] == 0
    # Delivered on 2200-01-01: the after window has not begun, nothing is read for it.
    assert kpi["after"]["start"] == "2200-01-01T00:00:00Z"
    assert (kpi["after"]["mean"], kpi["after"]["ended"]) == (None, False)
    # A zero budget has no percentage spent.
    assert (review["spend"]["spent"], review["spend"]["percent_spent"]) == (0.0, None)
