"""Posting a source's payloads through the real endpoint, POST /v1/webhooks/{name}, and
reading back what they became (GET /v1/incidents/{id}, GET /v1/changes/{id})."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from service import db as dbmod
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


async def deploy(
    client: httpx.AsyncClient, ingester: Headers, external_id: str, service: str,
    status: str, finished: str, sha: str,
) -> int:  # fmt: skip
    """A production deploy of one commit through POST /v1/changes; its id."""
    body = {
        "external_id": external_id, "service": service, "environment": "production",
        "kind": "deploy", "status": status, "finished_at": finished, "commit_sha": sha,
    }  # fmt: skip
    resp = await client.post("/v1/changes", json=body, headers=ingester)
    assert resp.status_code in (200, 201), resp.text
    change_id: int = resp.json()["id"]
    return change_id


async def dora(
    client: httpx.AsyncClient, reader: Headers, service: str, start: str, end: str
) -> tuple[int, float | None, float | None]:
    """Deployments, change failure rate and rework rate (percent) of the service's report."""
    resp = await client.get(
        f"/v1/services/{service}/report", params={"from": start, "to": end}, headers=reader
    )
    assert resp.status_code == 200, resp.text
    report = resp.json()["dora"]
    return report["deployments"], report["change_failure_rate"]["value"], report["rework_rate"]


async def change_reasons(
    client: httpx.AsyncClient, reader: Headers, change_id: int
) -> tuple[str, str | None, str | None]:
    """The change's status, and why it counts as failed or as rework by a revert."""
    resp = await client.get(f"/v1/changes/{change_id}", headers=reader)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    return body["status"], body["reverted_by"], body["reverts"]


#: Posts one payload, by its fixture path, as the source's tool sends it.
Deliver = Callable[[str], Awaitable[httpx.Response]]


async def one_incident(deliver: Deliver, *relatives: str) -> int:
    """Posts each payload in turn (each applied) and returns the one incident they made."""
    ids = set()
    for relative in relatives:
        resp = await deliver(relative)
        assert resp.status_code == 200, resp.text
        ids.update(resp.json()["incidents"])
    [incident_id] = ids
    return incident_id


async def unmapped_detail(con: dbmod.Connection, deliver: Deliver, relative: str) -> str:
    """Posts the payload, which must be kept as unmapped (202); the reason given."""
    resp = await deliver(relative)
    assert resp.status_code == 202, resp.text
    problem = resp.json()
    row = await con.fetchrow(
        "select status, detail from delivery where id = $1", problem["delivery_id"]
    )
    assert row is not None and (row["status"], row["detail"]) == ("unmapped", problem["detail"])
    detail: str = problem["detail"]
    return detail


async def posted_twice(deliver: Deliver, relative: str) -> int:
    """Posts the payload twice: the second is a duplicate of the first, whose incident this
    returns."""
    first = await deliver(relative)
    again = await deliver(relative)
    assert again.status_code == 200, again.text
    assert again.json() == {
        "delivery_id": first.json()["delivery_id"], "status": "duplicate",
        "detail": "already received (first outcome: applied)", "incidents": [], "changes": [],
        "commits": 0,
    }  # fmt: skip
    [incident_id] = first.json()["incidents"]
    return incident_id


def source(name: str, kind: str, secret: str, *rules: tuple[str, str, str], **extra: Any) -> Json:
    """The body of POST /v1/sources; each rule (attribute, value, service) maps the events
    whose attribute has that value to the business service."""
    service_rules = [{"match": {key: value}, "service": slug} for key, value, slug in rules]
    return {"name": name, "kind": kind, "secret": secret, "service_rules": service_rules, **extra}


async def incident_after(
    client: httpx.AsyncClient, reader: Headers, deliver: Deliver, *relatives: str
) -> Json:
    """The one incident the payloads make, posted in this order (see incident_view)."""
    return await incident_view(client, reader, await one_incident(deliver, *relatives))
