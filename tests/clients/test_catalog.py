"""Catalog endpoints through the async client: create, read, replace, delete, with the values
read back."""

from __future__ import annotations

import datetime as dt

import pytest
from kpi_client import AsyncClient, Conflict, NotFound
from kpi_client.models import (
    EscalationStepIn,
    KpiIn,
    OutcomeIn,
    OutcomeLinkIn,
    ServiceIn,
    TargetIn,
    TeamIn,
)

from tests.clients.catalog_data import make_catalog


async def test_teams_round_trip(kpi: AsyncClient) -> None:
    created = await kpi.create_team(TeamIn(slug="payments", name="Payments"))
    assert (created.slug, created.name, created.email) == ("payments", "Payments", None)
    assert created.id > 0
    assert await kpi.get_team("payments") == created
    replaced = await kpi.replace_team(
        "payments", {"slug": "payments", "name": "Payments Team", "email": "pay@example.com"}
    )
    assert (replaced.id, replaced.name, replaced.email) == (
        created.id,
        "Payments Team",
        "pay@example.com",
    )
    assert [t.slug for t in await kpi.list_teams()] == ["payments"]
    await kpi.delete_team("payments")
    assert await kpi.list_teams() == []
    with pytest.raises(NotFound):
        await kpi.get_team("payments")


async def test_services_round_trip(kpi: AsyncClient) -> None:
    await kpi.create_team(TeamIn(slug="shop", name="Shop"))
    await kpi.create_service(ServiceIn(slug="identity", name="Identity", tier=1))
    body = ServiceIn(
        slug="checkout",
        name="Checkout",
        tier=1,
        team="shop",
        business_owner="cfo@example.com",
        technology_owner="cto@example.com",
        revenue_per_hour=1234.5,
        users=5000,
        outage_threshold="sev3",
        depends_on=["identity"],
        entity_ref="Component:Checkout",
    )
    created = await kpi.create_service(body)
    # The reference comes back whole and in lower case, as Backstage compares it.
    # team_since is written only (the ownership history keeps it).
    expected = body.model_dump(exclude={"team_since"}) | {
        "entity_ref": "component:default/checkout"
    }
    assert created.model_dump(exclude={"id"}) == expected
    assert await kpi.get_service("checkout") == created
    with pytest.raises(Conflict):
        await kpi.create_service(body)
    replaced = await kpi.replace_service("checkout", body.model_copy(update={"tier": 2}))
    assert (replaced.tier, replaced.depends_on) == (2, ["identity"])
    assert {s.slug for s in await kpi.list_services()} == {"checkout", "identity"}
    await kpi.delete_service("checkout")
    with pytest.raises(NotFound):
        await kpi.get_service("checkout")


async def test_outcomes_round_trip(kpi: AsyncClient) -> None:
    created = await kpi.create_outcome(
        OutcomeIn(slug="grow-revenue", name="Grow revenue", owner="ceo@example.com")
    )
    assert (created.slug, created.owner, created.description) == (
        "grow-revenue",
        "ceo@example.com",
        None,
    )
    assert await kpi.get_outcome("grow-revenue") == created
    replaced = await kpi.replace_outcome(
        "grow-revenue", OutcomeIn(slug="grow-revenue", name="Grow", description="Sell more")
    )
    assert (replaced.name, replaced.description, replaced.owner) == ("Grow", "Sell more", None)
    assert [o.slug for o in await kpi.list_outcomes()] == ["grow-revenue"]
    await kpi.delete_outcome("grow-revenue")
    assert await kpi.list_outcomes() == []


async def test_kpis_round_trip(kpi: AsyncClient) -> None:
    body = KpiIn(
        key="orders",
        name="Orders",
        unit="count",
        direction="higher_is_better",
        aggregation="sum",
        cadence="monthly",
        strategic_question="Do we sell?",
        business_owner="sales@example.com",
        board_level=True,
        tags=["sales"],
        escalation_path=[EscalationStepIn(who="ops", channel="email", address="ops@example.com")],
    )
    created = await kpi.create_kpi(body)
    assert created.key == "orders" and created.kind == "observed"
    assert created.escalation_path[0].address == "ops@example.com"
    assert created.escalation_path[0].after_breached_periods == 1
    assert (created.board_level, created.tags, created.cadence) == (True, ["sales"], "monthly")
    assert await kpi.get_kpi("orders") == created
    assert created.time_zone is None
    replaced = await kpi.replace_kpi(
        "orders", body.model_copy(update={"cadence": "weekly", "time_zone": "Europe/Berlin"})
    )
    assert (replaced.cadence, replaced.time_zone) == ("weekly", "Europe/Berlin")
    assert (await kpi.get_kpi("orders")).time_zone == "Europe/Berlin"
    assert [k.key for k in await kpi.list_kpis()] == ["orders"]
    await kpi.delete_kpi("orders")
    with pytest.raises(NotFound):
        await kpi.get_kpi("orders")


async def test_targets_round_trip(kpi: AsyncClient) -> None:
    await make_catalog(kpi)
    created = await kpi.create_target(
        TargetIn(kpi="orders", value=100, warning=120, effective_from=dt.date(2031, 1, 1))
    )
    assert (created.kpi, created.value, created.warning, created.service) == (
        "orders",
        100.0,
        120.0,
        None,
    )
    assert await kpi.get_target(created.id) == created
    replaced = await kpi.replace_target(
        created.id,
        {"kpi": "orders", "value": 90, "service": "checkout", "effective_from": "2031-01-01"},
    )
    assert (replaced.id, replaced.value, replaced.service, replaced.warning) == (
        created.id,
        90.0,
        "checkout",
        None,
    )
    assert [t.id for t in await kpi.list_targets(kpi="orders")] == [created.id]
    assert await kpi.list_targets(kpi="availability") == []
    await kpi.delete_target(created.id)
    with pytest.raises(NotFound):
        await kpi.get_target(created.id)


async def test_kpi_links_round_trip(kpi: AsyncClient) -> None:
    await make_catalog(kpi)
    await kpi.create_outcome(OutcomeIn(slug="revenue", name="Revenue"))
    link = await kpi.link_kpi_outcome("orders", "revenue", OutcomeLinkIn(weight=2, rationale="$"))
    assert (link.kpi, link.outcome, link.weight, link.rationale) == ("orders", "revenue", 2.0, "$")
    default = await kpi.link_kpi_outcome("availability", "revenue")
    assert default.weight == 1.0
    assert await kpi.list_kpi_outcomes("orders") == [link]
    await kpi.unlink_kpi_outcome("orders", "revenue")
    assert await kpi.list_kpi_outcomes("orders") == []

    service_link = await kpi.link_kpi_service("orders", "checkout")
    assert (service_link.kpi, service_link.service) == ("orders", "checkout")
    assert await kpi.list_kpi_services("orders") == [service_link]
    await kpi.unlink_kpi_service("orders", "checkout")
    assert await kpi.list_kpi_services("orders") == []
    with pytest.raises(NotFound):
        await kpi.list_kpi_services("no_such_kpi")


async def test_path_segments_are_escaped(kpi: AsyncClient) -> None:
    with pytest.raises(NotFound):
        await kpi.get_team("a/../../v1/kpis")
