"""Teams and services carry their Backstage entity reference: given (in any accepted form,
kept normalised) or taken from the slug, unique, settable through REST, GraphQL and a catalog
file, and accepted by lookups: `GET /v1/services?ref=`, `GET /v1/teams?ref=`, and GraphQL
`service(ref:)` and `team(ref:)`."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from service import db as dbmod
from service.usecases.catalog_file import CatalogFile, apply_catalog

Headers = dict[str, str]


async def created(client: httpx.AsyncClient, admin: Headers, path: str, body: Any) -> Any:
    r = await client.post(path, json=body, headers=admin)
    assert r.status_code == 201, r.text
    return r.json()


def problem_fields(r: httpx.Response, status: int) -> list[str]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    return [e["field"] for e in r.json()["errors"]]


async def gql(client: httpx.AsyncClient, headers: Headers, query: str) -> dict[str, Any]:
    r = await client.post("/graphql", json={"query": query}, headers=headers)
    body: dict[str, Any] = r.json()
    return body


async def test_rest_lookups_by_reference(client: httpx.AsyncClient, admin: Headers,
                                         reader: Headers) -> None:  # fmt: skip
    team = await created(client, admin, "/v1/teams", {
        "slug": "payments", "name": "Payments", "entity_ref": "Payments-Team",
    })  # fmt: skip
    assert team["entity_ref"] == "group:default/payments-team"
    checkout = await created(client, admin, "/v1/services", {
        "slug": "checkout", "name": "Checkout", "tier": 1, "team": "payments",
        "entity_ref": "shop/Checkout-Web",
    })  # fmt: skip
    assert checkout["entity_ref"] == "component:shop/checkout-web"
    ledger = await created(client, admin, "/v1/services", {
        "slug": "ledger", "name": "Ledger", "tier": 2, "entity_ref": "system:finance/ledger",
    })  # fmt: skip
    identity = await created(client, admin, "/v1/services",
                             {"slug": "identity", "name": "Identity", "tier": 2})  # fmt: skip
    assert identity["entity_ref"] == "component:default/identity"  # from the slug

    # Any form of the same reference finds the service; a reference is not a slug.
    for ref, found in [
        ("component:shop/checkout-web", [checkout]),
        ("COMPONENT:Shop/Checkout-Web", [checkout]),
        ("shop/checkout-web", [checkout]),
        ("identity", [identity]),
        ("component:identity", [identity]),
        ("system:finance/ledger", [ledger]),
        ("finance/ledger", []),  # a component of that name: none
        ("checkout", []),  # component:default/checkout: none
    ]:
        r = await client.get("/v1/services", params={"ref": ref}, headers=reader)
        assert (r.status_code, r.json()) == (200, found), ref
    r = await client.get("/v1/teams", params={"ref": "group:default/payments-team"},
                         headers=reader)  # fmt: skip
    assert r.json() == [team]
    r = await client.get("/v1/teams", params={"ref": "payments"}, headers=reader)
    assert r.json() == []
    # Without `ref`, the whole list, as before.
    assert len((await client.get("/v1/services", headers=reader)).json()) == 3

    bad = await client.get("/v1/services", params={"ref": "group:default/payments-team"},
                           headers=reader)  # fmt: skip
    assert problem_fields(bad, 422) == ["ref"]
    assert "must be of kind component or system, not 'group'" in bad.json()["errors"][0]["detail"]
    bad = await client.get("/v1/teams", params={"ref": "default/pay ments"}, headers=reader)
    assert problem_fields(bad, 422) == ["ref"]


async def test_references_are_validated_unique_and_replaced_with_the_item(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    await created(client, admin, "/v1/services",
                  {"slug": "checkout", "name": "Checkout", "tier": 1})  # fmt: skip
    bad = await client.post("/v1/services", json={
        "slug": "web", "name": "Web", "tier": 1, "entity_ref": "group:default/web",
    }, headers=admin)  # fmt: skip
    assert problem_fields(bad, 422) == ["entity_ref"]
    bad = await client.post("/v1/teams", json={
        "slug": "web", "name": "Web", "entity_ref": "group:default/Web Team",
    }, headers=admin)  # fmt: skip
    assert problem_fields(bad, 422) == ["entity_ref"]

    # checkout holds component:default/checkout from its slug: nobody else may claim it.
    taken = await client.post("/v1/services", json={
        "slug": "web", "name": "Web", "tier": 1, "entity_ref": "Checkout",
    }, headers=admin)  # fmt: skip
    assert problem_fields(taken, 409) == ["entity_ref"]
    assert taken.json()["detail"] == "entity_ref 'component:default/checkout' already exists"
    dup = await client.post("/v1/services", json={"slug": "checkout", "name": "C", "tier": 1},
                            headers=admin)  # fmt: skip
    assert problem_fields(dup, 409) == ["slug"]

    # A replacement sets the reference, or (left out) takes the slug's again.
    web = await created(client, admin, "/v1/services", {"slug": "web", "name": "Web", "tier": 1})
    r = await client.put("/v1/services/web", json={
        "slug": "web", "name": "Web", "tier": 1, "entity_ref": "system:web",
    }, headers=admin)  # fmt: skip
    assert r.json()["entity_ref"] == "system:default/web"
    clash = await client.put("/v1/services/web", json={
        "slug": "web", "name": "Web", "tier": 1, "entity_ref": "checkout",
    }, headers=admin)  # fmt: skip
    assert problem_fields(clash, 409) == ["entity_ref"]
    r = await client.put("/v1/services/web", json={"slug": "web", "name": "Web", "tier": 1},
                         headers=admin)  # fmt: skip
    assert r.json() == web


async def test_graphql_lookups_and_mutations(
    client: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    answer = await gql(client, admin, """mutation {
        upsertTeam(input: {slug: "payments", name: "Payments",
                           entityRef: "group:Default/Payments-Team"}) {
            ... on Team { slug entityRef } }
        upsertService(input: {slug: "checkout", name: "Checkout", tier: 1, team: "payments",
                              entityRef: "Checkout-Web"}) {
            ... on Service { slug entityRef } }
        bad: upsertService(input: {slug: "web", name: "Web", tier: 1, entityRef: "api:web"}) {
            ... on Problem { status errors { field } } }
    }""")  # fmt: skip
    assert answer["data"] == {
        "upsertTeam": {"slug": "payments", "entityRef": "group:default/payments-team"},
        "upsertService": {"slug": "checkout", "entityRef": "component:default/checkout-web"},
        "bad": {"status": 422, "errors": [{"field": "entityRef"}]},
    }

    answer = await gql(client, reader, """{
        byRef: service(ref: "Component:Default/Checkout-Web") {
            slug entityRef team { slug entityRef } }
        short: service(ref: "checkout-web") { slug }
        bySlug: service(slug: "checkout") { entityRef }
        none: service(ref: "component:default/checkout") { slug }
        team(ref: "payments-team") { slug services { nodes { slug } } }
        teamBySlug: team(slug: "payments") { entityRef }
    }""")  # fmt: skip
    assert answer["data"] == {
        "byRef": {"slug": "checkout", "entityRef": "component:default/checkout-web",
                  "team": {"slug": "payments", "entityRef": "group:default/payments-team"}},
        "short": {"slug": "checkout"},
        "bySlug": {"entityRef": "component:default/checkout-web"},
        "none": None,
        "team": {"slug": "payments", "services": {"nodes": [{"slug": "checkout"}]}},
        "teamBySlug": {"entityRef": "group:default/payments-team"},
    }  # fmt: skip


@pytest.mark.parametrize(
    ("arguments", "detail"),
    [
        ('(slug: "checkout", ref: "checkout")', "give a slug or a ref"),
        ("", "give a slug or a ref"),
        ('(ref: "group:default/checkout")', "must be of kind component or system"),
    ],
)
async def test_graphql_lookup_errors_name_the_argument(
    client: httpx.AsyncClient, reader: Headers, arguments: str, detail: str
) -> None:
    answer = await gql(client, reader, f"{{ service{arguments} {{ slug }} }}")
    assert answer["data"] == {"service": None}
    (error,) = answer["errors"]
    assert detail in error["message"]
    assert error["message"].startswith("ref: ")


async def test_a_catalog_file_sets_references_and_keeps_them_when_left_out(
    con: dbmod.Connection,
) -> None:
    file = CatalogFile.model_validate({
        "teams": [{"slug": "payments", "name": "Payments", "entity_ref": "payments-team"}],
        "services": [{"slug": "checkout", "name": "Checkout", "tier": 1,
                      "entity_ref": "shop/checkout-web"},
                     {"slug": "ledger", "name": "Ledger", "tier": 2}],
    })  # fmt: skip
    await apply_catalog(con, file, dry_run=False)
    again = CatalogFile.model_validate({
        "teams": [{"slug": "payments", "name": "Payments"}],
        "services": [{"slug": "checkout", "name": "Checkout", "tier": 1},
                     {"slug": "ledger", "name": "Ledger", "tier": 2,
                      "entity_ref": "system:finance/ledger"}],
    })  # fmt: skip
    report = await apply_catalog(con, again, dry_run=False)
    # Left out, checkout's and the team's references stay; ledger's changes from its default.
    assert [(c.kind, c.key, c.fields) for c in report.changes] == [
        ("service", "ledger",
         {"entity_ref": ("component:default/ledger", "system:finance/ledger")}),
    ]  # fmt: skip
    rows = await con.fetch("select slug, entity_ref from business_service order by slug")
    assert [tuple(r) for r in rows] == [
        ("checkout", "component:shop/checkout-web"), ("ledger", "system:finance/ledger"),
    ]  # fmt: skip
    team = await con.fetchval("select entity_ref from team where slug = 'payments'")
    assert team == "group:default/payments-team"


async def test_rows_written_without_a_reference_take_their_slugs(con: dbmod.Connection) -> None:
    # Bulk loads and older writers name no reference: the database gives the slug's.
    await con.execute("insert into team (slug, name) values ('ops', 'Ops')")
    await con.execute("insert into business_service (slug, name, tier) values ('erp', 'ERP', 2)")
    assert await con.fetchval("select entity_ref from team") == "group:default/ops"
    assert await con.fetchval("select entity_ref from business_service") == "component:default/erp"
