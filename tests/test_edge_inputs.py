"""Inputs at the edges of what Postgres takes: refused as 422 naming the field, never a 500."""

from __future__ import annotations

import base64

import httpx

from service import db as dbmod
from service.app import all_endpoints
from service.openapi import build_openapi

Headers = dict[str, str]


async def _service(client: httpx.AsyncClient, admin: Headers, slug: str = "erp") -> None:
    r = await client.post("/v1/services", json={"slug": slug, "name": slug, "tier": 2},
                          headers=admin)  # fmt: skip
    assert r.status_code == 201, r.text


async def test_ids_and_instants_out_of_range(
    client: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await _service(client, admin)
    for path in ("/v1/incidents", "/v1/changes", "/v1/deliveries"):
        r = await client.get(path, params={"before": "99999999999999999999"}, headers=admin)
        assert r.status_code == 422, (path, r.text)
        assert [e["field"] for e in r.json()["errors"]] == ["before"]
    r = await client.get(
        "/v1/incidents", params={"from": "0001-01-01T00:00:00+14:00"}, headers=reader
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "from"
    r = await client.post(
        "/v1/incidents",
        json={"external_id": "x", "service": "erp", "started_at": "9999-12-31T23:59:59-14:00"},
        headers=admin,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "started_at"


async def test_graphql_refuses_huge_cursors_and_zoneless_windows(
    client: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await _service(client, admin)
    cursor = base64.urlsafe_b64encode(b"id:" + b"9" * 21).decode()
    r = await client.post(
        "/graphql", json={"query": f'{{ services(after: "{cursor}") {{ nodes {{ slug }} }} }}'},
        headers=reader,
    )  # fmt: skip
    assert "invalid cursor" in r.json()["errors"][0]["message"]
    query = '{ services { nodes { incidents(from: "2026-01-01T00:00:00") { nodes { id } } } } }'
    r = await client.post("/graphql", json={"query": query}, headers=reader)
    assert "from: give a time zone offset" in r.json()["errors"][0]["message"]


async def test_nul_in_a_signed_delivery_is_invalid_and_logged(
    client: httpx.AsyncClient, admin: Headers, con: dbmod.Connection
) -> None:
    await _service(client, admin)
    r = await client.post("/v1/sources", headers=admin, json={
        "name": "am", "kind": "alertmanager", "secret": "tok",
        "service_rules": [{"match": {"ref": "erp"}, "service": "erp"}]})  # fmt: skip
    assert r.status_code == 201, r.text
    body = (
        b'{"version":"4","status":"firing","groupKey":"g","alerts":[{"status":"firing",'
        b'"labels":{"alertname":"Down","service":"erp"},"annotations":{"summary":"bad \\u0000"},'
        b'"startsAt":"2026-03-01T10:00:00Z","endsAt":"0001-01-01T00:00:00Z",'
        b'"fingerprint":"abc123"}]}'
    )
    r = await client.post("/v1/webhooks/am", content=body, headers={"Authorization": "Bearer tok"})
    assert r.status_code == 422, r.text
    assert await con.fetchval("select status from delivery") == "invalid"
    assert await con.fetchval("select count(*) from incident") == 0


async def test_nul_in_source_settings_is_422(client: httpx.AsyncClient, admin: Headers) -> None:
    r = await client.post("/v1/sources", headers=admin, json={
        "name": "am", "kind": "alertmanager", "secret": "tok",
        "production_envs": ["prod\u0000"]})  # fmt: skip
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "production_envs.0"


async def test_an_empty_source_secret_is_422_and_the_spec_says_so(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    r = await client.post("/v1/sources", headers=admin,
                          json={"name": "am", "kind": "alertmanager", "secret": ""})  # fmt: skip
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "secret"
    # Documented, so that a client (or a schema-driven test) does not take "" as valid.
    secret = build_openapi(all_endpoints())["components"]["schemas"]["SourceIn"]["properties"][
        "secret"
    ]
    assert {"type": "string", "format": "password", "minLength": 1, "writeOnly": True} in (
        secret["anyOf"]
    )


async def test_a_service_with_incidents_cannot_be_deleted(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    await _service(client, admin)
    r = await client.post(
        "/v1/incidents", json={"external_id": "i1", "service": "erp"}, headers=admin
    )
    assert r.status_code == 200, r.text
    r = await client.delete("/v1/services/erp", headers=admin)
    assert r.status_code == 409


async def test_cause_references_match_shas_by_prefix_only(
    client: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await _service(client, admin)
    sha = "abcdef1234567890abcdef1234567890abcdef12"
    r = await client.post("/v1/changes", headers=admin, json={
        "external_id": "d1", "service": "erp", "status": "success", "commit_sha": sha.upper(),
        "finished_at": "2026-03-01T09:00:00Z"})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["commit_sha"] == sha
    wildcard = await client.post("/v1/incidents", headers=admin, json={
        "external_id": "i1", "service": "erp", "caused_by": "%%%%%%%",
        "started_at": "2026-03-01T12:00:00Z"})  # fmt: skip
    assert wildcard.json()["link_kind"] is None
    upper = await client.post("/v1/incidents", headers=admin, json={
        "external_id": "i2", "service": "erp", "caused_by": "ABCDEF12",
        "started_at": "2026-03-01T12:00:00Z"})  # fmt: skip
    assert upper.json()["link_kind"] == "explicit"


async def test_a_blank_name_or_owner_is_422_naming_it(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    # A no-break space alone is one character (the spec's minLength 1) but names nothing: it
    # is refused, saying why; spaces around a name are dropped.
    team = await client.post("/v1/teams", json={"slug": "t1", "name": "\u00a0 "}, headers=admin)
    assert team.status_code == 422, team.text
    [error] = team.json()["errors"]
    assert error["field"] == "name"
    assert "must not be blank" in error["detail"]
    kept = await client.post("/v1/teams", json={"slug": "t2", "name": " Payments "}, headers=admin)
    assert kept.status_code == 201, kept.text
    assert kept.json()["name"] == "Payments"
