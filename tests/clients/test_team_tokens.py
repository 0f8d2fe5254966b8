"""The Python client creates a token limited to a team; that token reports its own team's
changes and is refused (Forbidden, naming the service) another team's."""

from __future__ import annotations

import httpx
import pytest
from kpi_client import AsyncClient, Forbidden

from tests.clients.conftest import async_client


def change(service: str) -> dict[str, object]:
    return {
        "source": "api", "external_id": f"deploy-{service}", "service": service,
        "environment": "production", "kind": "deploy", "status": "success",
        "started_at": "2026-10-18T14:52:28Z", "finished_at": "2026-10-18T15:04:28Z",
    }  # fmt: skip


async def test_a_team_token_reports_only_its_teams_changes(
    kpi: AsyncClient, asgi: httpx.ASGITransport
) -> None:
    await kpi.apply_catalog({
        "teams": [{"slug": "payments", "name": "Payments"}, {"slug": "search", "name": "Search"}],
        "services": [
            {"slug": "checkout", "name": "Checkout", "tier": 1, "team": "payments"},
            {"slug": "search-api", "name": "Search API", "tier": 2, "team": "search"},
        ],
    })  # fmt: skip
    made = await kpi.create_token("payments-ci", ["ingest"], team="payments")
    assert (made.team, made.read_scope) == ("payments", "all")
    listed = {t.id: t for t in await kpi.list_tokens()}
    assert listed[made.id].team == "payments"
    async with async_client(asgi, {"Authorization": f"Bearer {made.token}"}) as ci:
        assert (await ci.upsert_change(change("checkout"))).service == "checkout"
        with pytest.raises(Forbidden) as refused:
            await ci.upsert_change(change("search-api"))
    assert "service 'search-api' is not one of the services of team 'payments'" in str(
        refused.value
    )
