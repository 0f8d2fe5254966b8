"""Initiatives through the async client: written, listed, reviewed, with their spend."""

from __future__ import annotations

import pytest
from kpi_client import AsyncClient, Conflict, ValidationFailed
from kpi_client.models import CostIn, InitiativeIn, InitiativeKpiIn

from tests.clients.catalog_data import at, make_catalog


async def test_initiative_written_and_reviewed(kpi: AsyncClient) -> None:
    await make_catalog(kpi)
    # Orders (sum, monthly): November 2030 3 + 4 = 7, January 2031 10.
    await kpi.ingest_observations([
        {"kpi": "orders", "service": "checkout", "ts": at(2030, 11, 5), "value": 3},
        {"kpi": "orders", "service": "checkout", "ts": at(2030, 11, 20), "value": 4},
        {"kpi": "orders", "service": "checkout", "ts": at(2031, 1, 9), "value": 10},
    ])  # fmt: skip
    body = InitiativeIn(
        key="faster-checkout", name="Faster checkout", started_on="2030-12-10",
        delivered_on="2030-12-20", status="delivered", budget=2000, currency="EUR",
        review_periods=1, services=["checkout"],
        kpis=[InitiativeKpiIn(kpi="orders", service="checkout", expected_change=2)],
    )  # fmt: skip
    created = await kpi.create_initiative(body)
    assert (created.key, created.services, created.kpis[0].expected_change) == (
        "faster-checkout", ["checkout"], 2.0,
    )  # fmt: skip
    with pytest.raises(Conflict):
        await kpi.create_initiative(body)
    await kpi.ingest_costs([
        CostIn(category="cloud", period_start="2030-12-01", period_end="2031-01-01",
               amount=500, currency="EUR", initiative="faster-checkout"),
    ])  # fmt: skip
    (listed,) = await kpi.list_costs(initiative="faster-checkout")
    assert listed.initiative == "faster-checkout"
    review = await kpi.review_initiative("faster-checkout")
    # 500 of 2,000 EUR: 1,500 left, 25 % spent.
    assert (review.spend.spent, review.spend.remaining, review.spend.percent_spent) == (
        500.0, 1500.0, 25.0,
    )  # fmt: skip
    (orders,) = review.kpis
    # One period each side: November 7 before, January 10 after: +3 against +2 expected.
    assert orders.baseline.start == at(2030, 11, 1) and orders.baseline.mean == 7
    assert orders.after is not None and orders.after.start == at(2031, 1, 1)
    assert (orders.after.mean, orders.change, orders.met) == (10, 3, True)
    assert orders.caveat == (
        "only 1 period(s) with data before the start (at least 3 wanted); "
        "only 1 period(s) with data after delivery (at least 3 wanted)"
    )
    assert [i.key for i in await kpi.list_initiatives()] == ["faster-checkout"]
    replaced = await kpi.replace_initiative(
        "faster-checkout", body.model_copy(update={"kpis": [], "services": []})
    )
    assert (replaced.kpis, replaced.services) == ([], [])
    with pytest.raises(Conflict):
        await kpi.delete_initiative("faster-checkout")


async def test_unknown_kpi_is_refused_naming_the_field(kpi: AsyncClient) -> None:
    await make_catalog(kpi)
    with pytest.raises(ValidationFailed) as caught:
        await kpi.create_initiative({
            "key": "x", "name": "X", "started_on": "2031-01-01",
            "kpis": [{"kpi": "nope", "expected_change": 1}],
        })  # fmt: skip
    assert [e.pointer for e in caught.value.errors] == ["#/kpis/0/kpi"]
