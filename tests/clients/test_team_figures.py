"""A team's figures and DORA trend through the async client, on a parent over one team."""

from __future__ import annotations

from kpi_client import AsyncClient, NotFound
from kpi_client.models import ChangeIn, IncidentIn, ServiceIn, TeamIn

from tests.clients.catalog_data import at


async def test_team_figures_and_dora_trend(kpi: AsyncClient) -> None:
    await kpi.create_team(TeamIn(slug="org", name="Org"))
    team = await kpi.create_team(TeamIn(slug="shop", name="Shop", parent="org"))
    assert team.parent == "org"
    await kpi.create_service(ServiceIn(slug="till", name="Till", tier=2, team="shop",
                                       users=40, team_since=at(2026, 1, 1)))  # fmt: skip
    await kpi.upsert_incident(IncidentIn(external_id="i1", service="till", severity="sev1",
                                         status="resolved", started_at=at(2031, 1, 5, 10),
                                         resolved_at=at(2031, 1, 5, 11)))  # fmt: skip
    await kpi.upsert_change(ChangeIn(external_id="c1", service="till", status="failed",
                                     environment="production",
                                     finished_at=at(2031, 1, 20)))  # fmt: skip

    figures = await kpi.get_team_figures("org", from_=at(2031, 1, 1), to=at(2031, 2, 1))
    # January: 31 days = 44,640 minutes of till, 60 down.
    assert figures.team == "org"
    assert figures.availability.service_minutes == 44_640
    assert figures.availability.outage_minutes == 60
    assert figures.incidents.overall.incidents == 1
    assert (figures.dora.deployments, figures.dora.change_failure_rate.value) == (1, 100.0)

    trend = await kpi.get_team_dora_trend(
        "org", from_=at(2031, 1, 1), to=at(2031, 4, 1), grain="month"
    )
    assert [(b.window.start.month, b.deployments) for b in trend.buckets] == [
        (1, 1), (2, 0), (3, 0)]  # fmt: skip
    try:
        await kpi.get_team_figures("nobody", from_=at(2031, 1, 1))
    except NotFound:
        pass
    else:
        raise AssertionError("an unknown team is a 404")
