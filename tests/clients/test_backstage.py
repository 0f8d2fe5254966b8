"""Backstage through the async client: lookups by entity reference and the KPI facts."""

from __future__ import annotations

from kpi_client import AsyncClient
from kpi_client.models import ServiceIn, TeamIn


async def test_lookups_by_reference_and_the_facts(kpi: AsyncClient) -> None:
    team = await kpi.create_team(TeamIn(slug="payments", name="Payments",
                                        entity_ref="Payments-Team"))  # fmt: skip
    assert team.entity_ref == "group:default/payments-team"
    checkout = await kpi.create_service(ServiceIn(slug="checkout", name="Checkout", tier=1))
    assert checkout.entity_ref == "component:default/checkout"  # from the slug

    assert await kpi.list_teams(ref="group:default/payments-team") == [team]
    assert await kpi.list_services(ref="Component:Default/Checkout") == [checkout]
    assert await kpi.list_services(ref="system:default/checkout") == []

    facts = await kpi.get_backstage_facts()
    # No KPI applies to checkout yet: the entity, with no facts.
    assert [(e.entity.name, e.entity_ref, e.facts) for e in facts.entities] == [
        ("checkout", "component:default/checkout", {}),
    ]
    assert facts.fact_schema == {}
