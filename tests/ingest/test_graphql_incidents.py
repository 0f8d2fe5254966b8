"""The graph of incidents and changes: on services, with timelines and cause links, batched."""

from __future__ import annotations

from typing import Any

import httpx

from service import db as dbmod

Headers = dict[str, str]

QUERY = """
query ($from: DateTime, $sev: [Severity!]) {
  services(first: 100) { nodes {
    slug
    incidents(from: $from, severity: $sev) { nodes {
      externalId severity status startedAt resolvedAt linkKind
      timeline { nodes { what at } }
      causedBy { externalId commitSha commitTime }
    } }
    changes { nodes { externalId status isProduction incidents { nodes { externalId } } } }
  } }
}
"""


async def _post(client: httpx.AsyncClient, path: str, body: Any, headers: Headers) -> Any:
    r = await client.post(path, json=body, headers=headers)
    assert r.status_code in (200, 201), r.text
    return r.json()


async def _catalog(client: httpx.AsyncClient, admin: Headers, services: int) -> None:
    for i in range(services):
        slug = f"svc-{i:02d}"
        await _post(client, "/v1/services", {"slug": slug, "name": slug, "tier": 2}, admin)
        await _post(client, "/v1/changes", {
            "external_id": f"deploy-{i}", "service": slug, "environment": "production",
            "status": "success", "started_at": "2026-03-01T09:00:00Z",
            "finished_at": "2026-03-01T09:10:00Z", "commit_sha": f"{i:02d}" + "ab" * 19,
            "commits": [{"sha": f"{i:02d}" + "ab" * 19, "committed_at": "2026-02-28T17:00:00Z"}],
        }, admin)  # fmt: skip
        await _post(client, "/v1/incidents", {
            "external_id": f"inc-{i}", "service": slug, "severity": "sev1",
            "started_at": "2026-03-01T09:30:00Z", "resolved_at": "2026-03-01T10:00:00Z",
            "status": "resolved", "caused_by": f"deploy-{i}",
        }, admin)  # fmt: skip
        await _post(client, "/v1/incidents", {
            "external_id": f"minor-{i}", "service": slug, "severity": "sev4",
            "started_at": "2026-01-01T00:00:00Z",
        }, admin)  # fmt: skip


async def test_incidents_and_changes_on_services(
    client: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await _catalog(client, admin, 2)
    r = await client.post(
        "/graphql",
        json={"query": QUERY, "variables": {"from": "2026-02-01T00:00:00Z", "sev": ["SEV1"]}},
        headers=reader,
    )
    body = r.json()
    assert "errors" not in body, body
    first = body["data"]["services"]["nodes"][0]
    assert first["slug"] == "svc-00"
    assert first["incidents"]["nodes"] == [{
        "externalId": "inc-0", "severity": "SEV1", "status": "resolved",
        "startedAt": "2026-03-01T09:30:00Z", "resolvedAt": "2026-03-01T10:00:00Z",
        "linkKind": "explicit",
        "timeline": {"nodes": [
            {"what": "triggered", "at": "2026-03-01T09:30:00Z"},
            {"what": "resolved", "at": "2026-03-01T10:00:00Z"},
            # The record's fields, as of the latest time it states.
            {"what": "updated", "at": "2026-03-01T10:00:00Z"},
        ]},
        "causedBy": {"externalId": "deploy-0", "commitSha": "00" + "ab" * 19,
                     "commitTime": "2026-02-28T17:00:00Z"},
    }]  # fmt: skip
    assert first["changes"]["nodes"] == [{
        "externalId": "deploy-0", "status": "SUCCESS", "isProduction": True,
        "incidents": {"nodes": [{"externalId": "inc-0"}]},
    }]  # fmt: skip


async def _count_statements(
    client: httpx.AsyncClient, con: dbmod.Connection, reader: Headers
) -> int:
    statements: list[str] = []

    def log(record: Any) -> None:
        statements.append(record.query)

    con.add_query_logger(log)
    try:
        r = await client.post("/graphql", json={"query": QUERY}, headers=reader)
    finally:
        con.remove_query_logger(log)
    assert "errors" not in r.json(), r.json()
    return len(statements)


async def test_statement_count_does_not_grow_with_services(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, reader: Headers
) -> None:
    await _catalog(client, admin, 3)
    few = await _count_statements(client, con, reader)
    await _catalog_more(client, admin, 3, 30)
    many = await _count_statements(client, con, reader)
    assert few == many


async def _catalog_more(client: httpx.AsyncClient, admin: Headers, start: int, end: int) -> None:
    for i in range(start, end):
        slug = f"svc-{i:02d}"
        await _post(client, "/v1/services", {"slug": slug, "name": slug, "tier": 3}, admin)
        await _post(client, "/v1/incidents", {
            "external_id": f"inc-{i}", "service": slug, "severity": "sev2",
            "started_at": "2026-03-02T00:00:00Z",
        }, admin)  # fmt: skip


async def test_deliveries_need_admin(
    client: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    query = {"query": "{ deliveries { nodes { id status source } } }"}
    refused = (await client.post("/graphql", json=query, headers=reader)).json()
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    await _catalog(client, admin, 1)
    allowed = (await client.post("/graphql", json=query, headers=admin)).json()
    deliveries = allowed["data"]["deliveries"]["nodes"]
    assert [d["status"] for d in deliveries] == ["applied"] * 3
    assert {d["source"] for d in deliveries} == {"api"}
