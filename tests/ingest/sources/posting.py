"""Posting a source's payloads through the real endpoint, POST /v1/webhooks/{name}, and
reading back what they became (GET /v1/incidents/{id}, GET /v1/changes/{id})."""

from __future__ import annotations

from typing import Any

import httpx

from tests.ingest.fixtures import fixture_bytes

Json = dict[str, Any]
Headers = dict[str, str]

INCIDENT_FIELDS = (
    "external_id", "service", "severity", "priority", "status", "title", "url", "started_at",
    "detected_at", "acknowledged_at", "resolved_at",
)  # fmt: skip


async def register(client: httpx.AsyncClient, admin: Headers, source: Json, *services: str) -> None:
    """The business services, then the source (POST /v1/services, POST /v1/sources)."""
    for slug in services:
        body = {"slug": slug, "name": f"Service {slug}", "tier": 2}
        resp = await client.post("/v1/services", json=body, headers=admin)
        assert resp.status_code == 201, resp.text
    resp = await client.post("/v1/sources", json=source, headers=admin)
    assert resp.status_code == 201, resp.text


async def post(
    client: httpx.AsyncClient, name: str, body: bytes, headers: Headers
) -> httpx.Response:
    return await client.post(
        f"/v1/webhooks/{name}", content=body, headers={"Content-Type": "application/json"} | headers
    )


async def post_fixture(
    client: httpx.AsyncClient, name: str, relative: str, headers: Headers
) -> httpx.Response:
    """The fixture's exact bytes."""
    return await post(client, name, fixture_bytes(relative), headers)


def one_byte_changed(body: bytes, old: bytes, new: bytes) -> bytes:
    """The body with the first `old` byte replaced by `new`."""
    assert len(old) == len(new) == 1 and old in body
    return body.replace(old, new, 1)


async def incident_view(client: httpx.AsyncClient, reader: Headers, incident_id: int) -> Json:
    """The incident's fields and its timeline as (at, what)."""
    resp = await client.get(f"/v1/incidents/{incident_id}", headers=reader)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    view: Json = {name: body[name] for name in INCIDENT_FIELDS}
    view["timeline"] = [(entry["at"], entry["what"]) for entry in body["timeline"]]
    return view
