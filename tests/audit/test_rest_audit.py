"""The audit trail over REST: each kind of catalog change recorded with its token, before and
after, in the request's transaction; filters and pages; admins only."""

from __future__ import annotations

from typing import Any

import httpx

from tests.rest.test_catalog import team_body

Headers = dict[str, str]


async def entries(client: httpx.AsyncClient, admin: Headers, **query: Any) -> list[dict[str, Any]]:
    r = await client.get("/v1/audit", params=query, headers=admin)
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()
    return found


async def admin_token(client: httpx.AsyncClient, admin: Headers) -> dict[str, Any]:
    """The admin fixture's own token, as the token list shows it."""
    r = await client.get("/v1/tokens", headers=admin)
    (mine,) = [t for t in r.json() if t["name"] == "admin"]
    token: dict[str, Any] = mine
    return token


async def test_a_team_created_replaced_and_deleted_is_three_entries_with_before_and_after(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    me = await admin_token(client, admin)
    r = await client.post("/v1/teams", json=team_body("payments", email="pay@example.com"),
                          headers=admin)  # fmt: skip
    assert r.status_code == 201, r.text
    r = await client.put("/v1/teams/payments", json=team_body("payments", name="Payments"),
                         headers=admin)  # fmt: skip
    assert r.status_code == 200, r.text
    assert (await client.delete("/v1/teams/payments", headers=admin)).status_code == 204

    found = await entries(client, admin, kind="team", key="payments")
    assert [e["action"] for e in found] == ["delete", "update", "create"]
    deleted, updated, created = found
    team_id = created["after"]["id"]
    created_team = {"id": team_id, "slug": "payments", "name": "Team payments",
                    "email": "pay@example.com", "entity_ref": "group:default/payments"}  # fmt: skip
    renamed = {**created_team, "name": "Payments", "email": None}
    assert created["before"] is None
    assert created["after"] == created_team
    assert updated["before"] == created_team
    assert updated["after"] == renamed
    assert deleted["before"] == renamed
    assert deleted["after"] is None
    for e in found:
        assert e["actor_name"] == "admin"
        assert e["actor_token_id"] == me["id"]
        assert e["via"] == "rest"
        assert e["file_name"] is None and e["file_sha256"] is None
