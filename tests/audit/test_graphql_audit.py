"""The audit trail through GraphQL: mutations recorded as `graphql` with the caller's token,
and `auditEntries` read by admins only, filtered and paged by cursor."""

from __future__ import annotations

from typing import Any

import httpx

from tests.graphql.helpers import Headers, gql, gql_data
from tests.graphql.test_mutations import UPSERT_TEAM

AUDIT = """query($kind: String, $key: String, $actor: String, $first: Int, $after: String) {
  auditEntries(kind: $kind, key: $key, actor: $actor, first: $first, after: $after) {
    nodes { id actorName actorTokenId via entityKind entityKey action before after
            fileName fileSha256 }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def audit_entries(
    client: httpx.AsyncClient, admin: Headers, **variables: Any
) -> dict[str, Any]:
    found: dict[str, Any] = (await gql_data(client, admin, AUDIT, variables))["auditEntries"]
    return found


async def test_mutations_are_recorded_as_graphql_with_the_callers_token(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    (me,) = [t for t in (await client.get("/v1/tokens", headers=admin)).json()
             if t["name"] == "admin"]  # fmt: skip
    team = {"slug": "payments", "name": "Payments"}
    await gql_data(client, admin, UPSERT_TEAM, {"input": team})
    await gql_data(client, admin, UPSERT_TEAM, {"input": {**team, "email": "p@example.com"}})
    # The same again changes nothing: no entry.
    await gql_data(client, admin, UPSERT_TEAM, {"input": {**team, "email": "p@example.com"}})
    read = (await client.get("/v1/teams/payments", headers=admin)).json()

    page = await audit_entries(client, admin, kind="team", key="payments")
    updated, created = page["nodes"]
    assert (created["action"], created["before"]) == ("CREATE", None)
    assert created["after"] == {**read, "email": None}
    assert (updated["action"], updated["before"], updated["after"]) == (
        "UPDATE",
        {**read, "email": None},
        read,
    )
    for e in page["nodes"]:
        assert (e["actorName"], e["actorTokenId"], e["via"]) == ("admin", me["id"], "GRAPHQL")
        assert (e["fileName"], e["fileSha256"]) == (None, None)


async def test_a_refused_mutation_records_nothing(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    delete = 'mutation { deleteKpi(key: "missing") { __typename } }'
    assert (await gql_data(client, admin, delete))["deleteKpi"]["__typename"] == "Problem"
    assert (await audit_entries(client, admin, kind="kpi"))["nodes"] == []


async def test_entries_page_by_cursor_newest_first(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    for slug in ("a", "b", "c"):
        await gql_data(client, admin, UPSERT_TEAM, {"input": {"slug": slug, "name": slug}})
    first = await audit_entries(client, admin, kind="team", first=2)
    assert [e["entityKey"] for e in first["nodes"]] == ["c", "b"]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = await audit_entries(client, admin, kind="team", first=2,
                               after=first["pageInfo"]["endCursor"])  # fmt: skip
    assert [e["entityKey"] for e in rest["nodes"]] == ["a"]
    assert rest["pageInfo"]["hasNextPage"] is False
    assert (await audit_entries(client, admin, actor="nobody"))["nodes"] == []


async def test_only_admins_read_audit_entries(client: httpx.AsyncClient, reader: Headers) -> None:
    body = await gql(client, reader, "{ auditEntries { nodes { id } } }")
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert error["extensions"]["required_scope"] == "admin"
