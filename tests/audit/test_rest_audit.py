"""The audit trail over REST: each kind of catalog change recorded with its token, how, and
the entity before and after as the API reads it; a change that changes nothing, or that fails,
records nothing; filters and pages; admins only."""

from __future__ import annotations

from typing import Any

import httpx

from service import db as dbmod
from service.models.enums import Scope
from service.usecases import tokens
from tests.rest.test_catalog import (
    get_json,
    kpi_body,
    outcome_body,
    post,
    service_body,
    step,
    target_body,
    team_body,
)

Headers = dict[str, str]
Json = dict[str, Any]


async def entries(client: httpx.AsyncClient, admin: Headers, **query: Any) -> list[Json]:
    r = await client.get("/v1/audit", params=query, headers=admin)
    assert r.status_code == 200, r.text
    found: list[Json] = r.json()
    return found


async def token_named(client: httpx.AsyncClient, admin: Headers, name: str) -> Json:
    (found,) = [t for t in await get_json(client, admin, "/v1/tokens") if t["name"] == name]
    token: Json = found
    return token


async def send(
    client: httpx.AsyncClient, admin: Headers, method: str, path: str, body: Any = None
) -> httpx.Response:
    r = await client.request(method, path, json=body, headers=admin)
    assert r.status_code < 300, r.text
    return r


def by_rest_admin(entry: Json, token: Json) -> None:
    assert (entry["actor_name"], entry["actor_token_id"], entry["via"]) == (
        "admin",
        token["id"],
        "rest",
    )
    assert entry["file_name"] is None and entry["file_sha256"] is None


async def test_a_team_created_replaced_and_deleted_is_three_entries_with_before_and_after(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    me = await token_named(client, admin, "admin")
    await post(client, admin, "/v1/teams", team_body("payments", email="pay@example.com"))
    await send(client, admin, "PUT", "/v1/teams/payments", team_body("payments", name="Payments"))
    await send(client, admin, "DELETE", "/v1/teams/payments")

    found = await entries(client, admin, kind="team", key="payments")
    assert [e["action"] for e in found] == ["delete", "update", "create"]
    deleted, updated, created = found
    team = {"id": created["after"]["id"], "slug": "payments", "name": "Team payments",
            "email": "pay@example.com", "parent": None,
            "entity_ref": "group:default/payments"}  # fmt: skip
    # The replace left out the e-mail: it is cleared.
    renamed = {**team, "name": "Payments", "email": None}
    assert (created["before"], created["after"]) == (None, team)
    assert (updated["before"], updated["after"]) == (team, renamed)
    assert (deleted["before"], deleted["after"]) == (renamed, None)
    for e in found:
        by_rest_admin(e, me)
        assert (e["entity_kind"], e["entity_key"]) == ("team", "payments")


async def test_a_replace_that_changes_nothing_records_nothing(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    await post(client, admin, "/v1/teams", team_body("ops"))
    await send(client, admin, "PUT", "/v1/teams/ops", team_body("ops"))
    assert [e["action"] for e in await entries(client, admin, kind="team")] == ["create"]


async def test_services_outcomes_and_kpis_are_recorded_as_the_api_reads_them(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    await post(client, admin, "/v1/teams", team_body("payments"))
    await post(client, admin, "/v1/services", service_body("identity"))
    await post(client, admin, "/v1/services", service_body("checkout", team="payments"))
    before_service = await get_json(client, admin, "/v1/services/checkout")
    changed = service_body("checkout", team="payments", tier=1, depends_on=["identity"])
    await send(client, admin, "PUT", "/v1/services/checkout", changed)
    after_service = await get_json(client, admin, "/v1/services/checkout")
    await post(client, admin, "/v1/outcomes", outcome_body("protect-revenue"))
    outcome = await get_json(client, admin, "/v1/outcomes/protect-revenue")
    path = [step("on-call", "email", "oncall@example.com", after_breached_periods=2)]
    await post(client, admin, "/v1/kpis", kpi_body("orders", escalation_path=path))
    kpi = await get_json(client, admin, "/v1/kpis/orders")
    await send(client, admin, "DELETE", "/v1/kpis/orders")

    service_entries = await entries(client, admin, kind="service", key="checkout")
    assert [e["action"] for e in service_entries] == ["update", "create"]
    updated, created = service_entries
    assert created["after"] == before_service
    assert (updated["before"], updated["after"]) == (before_service, after_service)
    # The update raised the tier from 2 to 1 and added the dependency.
    assert (updated["before"]["tier"], updated["after"]["tier"]) == (2, 1)
    assert (updated["before"]["depends_on"], updated["after"]["depends_on"]) == ([], ["identity"])
    (made,) = await entries(client, admin, kind="outcome")
    assert (made["action"], made["before"], made["after"]) == ("create", None, outcome)
    kpi_entries = await entries(client, admin, kind="kpi", key="orders")
    assert [(e["action"], e["before"], e["after"]) for e in kpi_entries] == [
        ("delete", kpi, None),
        ("create", None, kpi),
    ]
    # The escalation path is part of the KPI's record.
    assert kpi["escalation_path"][0]["address"] == "oncall@example.com"


async def test_targets_and_links_are_recorded(client: httpx.AsyncClient, admin: Headers) -> None:
    await post(client, admin, "/v1/services", service_body("checkout"))
    await post(client, admin, "/v1/outcomes", outcome_body("protect-revenue"))
    await post(client, admin, "/v1/kpis", kpi_body("orders"))
    target = await post(client, admin, "/v1/targets", target_body("orders", value=100.0))
    tid = target["id"]
    await send(client, admin, "PUT", f"/v1/targets/{tid}", target_body("orders", value=120.0))
    await send(client, admin, "DELETE", f"/v1/targets/{tid}")
    link = {"weight": 0.5, "rationale": "Orders are revenue."}
    await send(client, admin, "PUT", "/v1/kpis/orders/outcomes/protect-revenue", link)
    await send(client, admin, "PUT", "/v1/kpis/orders/outcomes/protect-revenue",
               {**link, "weight": 0.8})  # fmt: skip
    await send(client, admin, "DELETE", "/v1/kpis/orders/outcomes/protect-revenue")
    await send(client, admin, "PUT", "/v1/kpis/orders/services/checkout")
    await send(client, admin, "PUT", "/v1/kpis/orders/services/checkout")  # again: no change
    await send(client, admin, "DELETE", "/v1/kpis/orders/services/checkout")

    targets = await entries(client, admin, kind="target", key=str(tid))
    assert [e["action"] for e in targets] == ["delete", "update", "create"]
    deleted, updated, created = targets
    assert created["after"] == target
    assert (updated["before"]["value"], updated["after"]["value"]) == (100.0, 120.0)
    assert deleted["before"] == {**target, "value": 120.0} and deleted["after"] is None

    outcome_links = await entries(client, admin, kind="kpi-outcome", key="orders/protect-revenue")
    edge = {"kpi": "orders", "outcome": "protect-revenue", **link}
    assert [(e["action"], e["before"], e["after"]) for e in outcome_links] == [
        ("delete", {**edge, "weight": 0.8}, None),
        ("update", edge, {**edge, "weight": 0.8}),
        ("create", None, edge),
    ]
    service_links = await entries(client, admin, kind="kpi-service", key="orders/checkout")
    applies = {"kpi": "orders", "service": "checkout"}
    assert [(e["action"], e["before"], e["after"]) for e in service_links] == [
        ("delete", applies, None),
        ("create", None, applies),
    ]


async def test_sources_are_recorded_without_their_secret(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    await post(client, admin, "/v1/services", service_body("checkout"))
    body = {"name": "alerts", "kind": "alertmanager", "secret": "first-secret-value"}
    await post(client, admin, "/v1/sources", body)
    rule = {"match": {"ref": "checkout"}, "service": "checkout"}
    # Rules changed and the secret kept, then the secret alone changed.
    await send(client, admin, "PUT", "/v1/sources/alerts",
               {"name": "alerts", "kind": "alertmanager", "service_rules": [rule]})  # fmt: skip
    await send(client, admin, "PUT", "/v1/sources/alerts",
               {**body, "secret": "second-secret-value", "service_rules": [rule]})  # fmt: skip
    shown = await get_json(client, admin, "/v1/sources/alerts")
    await send(client, admin, "DELETE", "/v1/sources/alerts")

    found = await entries(client, admin, kind="source", key="alerts")
    assert [e["action"] for e in found] == ["delete", "update", "update", "create"]
    deleted, secret, rules, created = found
    assert created["after"]["has_secret"] is True and created["after"]["secret_changed"] is True
    assert (rules["before"]["service_rules"], rules["after"]["service_rules"]) == ([], [rule])
    assert rules["after"]["secret_changed"] is False
    # Only the secret changed: the entry says so, and the rest reads the same.
    assert secret["after"] == {**shown, "secret_changed": True}
    assert secret["before"] == {**shown, "secret_changed": False}
    assert deleted["before"] == {**shown, "secret_changed": False}
    assert "secret-value" not in str(found)


async def test_tokens_are_recorded_without_their_secret_or_hash(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    me = await token_named(client, admin, "admin")
    made = await post(client, admin, "/v1/tokens", {"name": "ci", "scopes": ["ingest"]})
    await send(client, admin, "DELETE", f"/v1/tokens/{made['id']}")
    revoked = await token_named(client, admin, "ci")

    found = await entries(client, admin, kind="token", key=str(made["id"]))
    assert [e["action"] for e in found] == ["update", "create"]
    revoke, create = found
    issued = {k: v for k, v in made.items() if k != "token"}
    assert (create["before"], create["after"]) == (None, issued)
    assert (revoke["before"], revoke["after"]) == (issued, revoked)
    assert revoke["after"]["revoked_at"] is not None
    assert made["token"] not in str(found) and "hash" not in str(found)
    for e in found:
        by_rest_admin(e, me)


async def test_initiatives_are_recorded(client: httpx.AsyncClient, admin: Headers) -> None:
    await post(client, admin, "/v1/services", service_body("checkout"))
    body = {"key": "resilience", "name": "Checkout resilience", "owner": "cto@example.com",
            "status": "active", "started_on": "2026-04-10", "services": ["checkout"]}  # fmt: skip
    created = await post(client, admin, "/v1/initiatives", body)
    (entry,) = await entries(client, admin, kind="initiative", key="resilience")
    assert (entry["action"], entry["before"], entry["after"]) == ("create", None, created)


async def test_a_change_that_fails_after_its_write_leaves_no_entry(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    # The apply creates the team (and records it), then the KPI's target names a service that
    # does not exist: the whole apply is a 422 and rolled back, its audit entry with it.
    body = {"teams": [team_body("payments")],
            "kpis": [{**kpi_body("orders"),
                      "targets": [{"value": 1, "effective_from": "2026-01-01",
                                   "service": "nowhere"}]}]}  # fmt: skip
    before = await entries(client, admin)
    r = await client.post("/v1/catalog/apply", json=body, headers=admin)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "kpis.0.service"
    assert await entries(client, admin) == before
    assert await get_json(client, admin, "/v1/teams") == []


async def test_a_replace_refused_after_its_write_leaves_no_entry(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    await post(client, admin, "/v1/services", service_body("a"))
    await post(client, admin, "/v1/services", service_body("b", depends_on=["a"]))
    # a -> b closes a cycle: refused once a's row is already updated (its tier), so rolled back.
    r = await client.put("/v1/services/a", json=service_body("a", tier=1, depends_on=["b"]),
                         headers=admin)  # fmt: skip
    assert r.status_code == 422, r.text
    assert [e["entity_key"] for e in await entries(client, admin, kind="service")] == ["b", "a"]


async def test_entries_filter_by_entity_actor_token_and_time_and_page_by_id(
    client: httpx.AsyncClient, admin: Headers, con: dbmod.Connection
) -> None:
    other = await tokens.create_token(con, name="platform-admin", scopes=[Scope.ADMIN])
    second = {"Authorization": f"Bearer {other.token}"}
    await post(client, admin, "/v1/teams", team_body("a"))
    await post(client, second, "/v1/teams", team_body("b"))
    await post(client, admin, "/v1/outcomes", outcome_body("c"))

    teams = await entries(client, admin, kind="team")
    assert [e["entity_key"] for e in teams] == ["b", "a"]
    assert [e["entity_key"] for e in await entries(client, admin, actor="platform-admin")] == ["b"]
    assert [e["entity_key"] for e in await entries(client, admin, token_id=other.id)] == ["b"]
    assert [e["entity_key"] for e in await entries(client, admin, key="c")] == ["c"]
    # The three were made in this test's one transaction: all at the same instant.
    at = teams[0]["at"]
    assert len(await entries(client, admin, **{"from": at})) >= 3
    assert await entries(client, admin, to=at) == [
        e for e in await entries(client, admin, to=at) if e["at"] < at
    ]
    assert [e for e in await entries(client, admin, to=at) if e["entity_kind"] != "token"] == []
    # Pages of one, newest first, each below the last id seen.
    first = await entries(client, admin, kind="team", limit=1)
    rest = await entries(client, admin, kind="team", limit=1, before=first[0]["id"])
    assert [e["entity_key"] for e in [*first, *rest]] == ["b", "a"]
    assert await entries(client, admin, kind="team", before=rest[0]["id"]) == []


async def test_only_admins_read_the_audit_trail(
    client: httpx.AsyncClient, reader: Headers, ingester: Headers
) -> None:
    for headers in (reader, ingester):
        r = await client.get("/v1/audit", headers=headers)
        assert r.status_code == 403, r.text
        assert r.json()["required_scope"] == "admin"
    assert (await client.get("/v1/audit")).status_code == 401


async def test_bad_filters_are_refused_naming_the_field(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    query = {"from": "yesterday", "limit": 0, "actor": "a\x00b", "key": "k" * 501}
    r = await client.get("/v1/audit", params=query, headers=admin)
    assert r.status_code == 422, r.text
    assert sorted(e["field"] for e in r.json()["errors"]) == ["actor", "from", "key", "limit"]


async def test_the_api_offers_no_way_to_change_or_delete_entries(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        r = await client.request(method, "/v1/audit", headers=admin)
        assert r.status_code == 405, (method, r.text)
