"""The audit trail through GraphQL: mutations recorded as `graphql` with the caller's token,
and `auditEntries` read by admins only, filtered and paged by cursor."""

from __future__ import annotations

from typing import Any

import httpx

from tests.graphql.helpers import Headers, gql, gql_data
from tests.graphql.test_mutations import (
    CREATE_TARGET,
    KPI_BASE,
    UPSERT_KPI,
    UPSERT_OUTCOME,
    UPSERT_SERVICE,
    UPSERT_TEAM,
    mutate,
)

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


async def test_each_kind_of_mutation_is_recorded_with_the_entity_as_rest_reads_it(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    await mutate(client, admin, UPSERT_SERVICE, {"input": {"slug": "shop", "name": "Shop",
                                                           "tier": 2}})  # fmt: skip
    await mutate(client, admin, UPSERT_OUTCOME, {"input": {"slug": "grow", "name": "Grow"}})
    await mutate(
        client, admin, UPSERT_KPI, {"input": {**KPI_BASE, "key": "sales", "name": "Sales"}}
    )
    goal = {"kpi": "sales", "value": 10, "effectiveFrom": "2024-01-01"}
    target = await mutate(client, admin, CREATE_TARGET, {"input": goal})
    links = """mutation {
      linkKpiOutcome(input: {kpi: "sales", outcome: "grow", weight: 2}) { __typename }
      linkKpiService(kpi: "sales", service: "shop") { __typename }
    }"""
    await gql_data(client, admin, links)
    read = {path: (await client.get(path, headers=admin)).json()
            for path in ("/v1/services/shop", "/v1/outcomes/grow", "/v1/kpis/sales",
                         f"/v1/targets/{target['id']}")}  # fmt: skip
    deletes = f"""mutation {{
      deleteTarget(id: {target["id"]}) {{ __typename }}
      deleteKpi(key: "sales") {{ __typename }}
      deleteService(slug: "shop") {{ __typename }}
    }}"""
    await gql_data(client, admin, deletes)

    nodes = (await audit_entries(client, admin, first=50))["nodes"]
    ours = [(e["entityKind"], e["entityKey"], e["action"]) for e in reversed(nodes)
            if e["via"] == "GRAPHQL"]  # fmt: skip
    tid = str(target["id"])
    assert ours == [
        ("service", "shop", "CREATE"),
        ("outcome", "grow", "CREATE"),
        ("kpi", "sales", "CREATE"),
        ("target", tid, "CREATE"),
        ("kpi-outcome", "sales/grow", "CREATE"),
        ("kpi-service", "sales/shop", "CREATE"),
        ("target", tid, "DELETE"),
        ("kpi", "sales", "DELETE"),
        ("service", "shop", "DELETE"),
    ]
    after = {(e["entityKind"], e["action"]): e for e in nodes}
    assert after["service", "CREATE"]["after"] == read["/v1/services/shop"]
    assert after["outcome", "CREATE"]["after"] == read["/v1/outcomes/grow"]
    assert after["kpi", "CREATE"]["after"] == read["/v1/kpis/sales"]
    assert after["kpi", "DELETE"]["before"] == read["/v1/kpis/sales"]
    assert after["target", "DELETE"]["before"] == read[f"/v1/targets/{tid}"]
    assert after["kpi-outcome", "CREATE"]["after"] == {
        "kpi": "sales",
        "outcome": "grow",
        "weight": 2.0,
        "rationale": None,
    }
    # Deleting the KPI dropped its links with it: the KPI's entry is their record.
    assert ("kpi-service", "DELETE") not in after


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
