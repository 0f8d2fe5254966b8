"""Sending CDEvents to a cdevents source through the real endpoint, as a CloudEvents producer
does: binary mode (ce-* headers, the CDEvent as the body), structured mode (the CDEvent in
`data`) or a batch (a JSON array of structured events)."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import orjson

from tests.ingest.fixtures import fixture

Json = dict[str, Any]
Headers = dict[str, str]

SECRET = "cdevents-bearer-token"
SOURCE: Json = {
    "name": "cdevents-acme",
    "kind": "cdevents",
    "secret": SECRET,
    # The conformance examples deploy to "test123"; the scenarios here to "production".
    "production_envs": ["production", "test123"],
    "service_rules": [
        {"match": {"ref": "mySubject123"}, "service": "my-app"},
        {"match": {"ref": "myApp"}, "service": "my-app"},
        {"match": {"ref": "myPipeline"}, "service": "my-app"},
    ],
}
URL = f"/v1/webhooks/{SOURCE['name']}"
AUTH = {"Authorization": f"Bearer {SECRET}"}


async def register(client: httpx.AsyncClient, admin: Headers) -> None:
    body = {"slug": "my-app", "name": "My app", "tier": 2}
    resp = await client.post("/v1/services", json=body, headers=admin)
    assert resp.status_code == 201, resp.text
    resp = await client.post("/v1/sources", json=SOURCE, headers=admin)
    assert resp.status_code == 201, resp.text


def example(relative: str, **context: str) -> Json:
    """A conformance example (tests/fixtures/webhooks/cdevents/), with context members
    replaced (a fresh id, another time) for scenarios made of several events."""
    event: Json = copy.deepcopy(fixture(f"cdevents/{relative}"))
    event["context"].update(context)
    return event


def envelope(event: Json) -> Json:
    """The structured-mode CloudEvent carrying the CDEvent."""
    ctx = event["context"]
    return {
        "specversion": "1.0", "id": ctx["id"], "source": ctx["source"], "type": ctx["type"],
        "time": ctx["timestamp"], "datacontenttype": "application/json", "data": event,
    }  # fmt: skip


async def send_binary(
    client: httpx.AsyncClient, event: Json, auth: Headers = AUTH, body: bytes | None = None
) -> httpx.Response:
    ctx = event["context"]
    headers = {
        "ce-specversion": "1.0", "ce-id": ctx["id"], "ce-source": ctx["source"],
        "ce-type": ctx["type"], "ce-time": ctx["timestamp"], "content-type": "application/json",
    }  # fmt: skip
    content = orjson.dumps(event) if body is None else body
    return await client.post(URL, content=content, headers=headers | auth)


async def send_structured(client: httpx.AsyncClient, event: Json) -> httpx.Response:
    headers = {"content-type": "application/cloudevents+json"} | AUTH
    return await client.post(URL, content=orjson.dumps(envelope(event)), headers=headers)


async def send_batch(client: httpx.AsyncClient, events: list[Json]) -> httpx.Response:
    headers = {"content-type": "application/cloudevents-batch+json"} | AUTH
    body = orjson.dumps([envelope(e) for e in events])
    return await client.post(URL, content=body, headers=headers)


async def record(client: httpx.AsyncClient, reader: Headers, path: str) -> Json:
    resp = await client.get(path, headers=reader)
    assert resp.status_code == 200, resp.text
    body: Json = resp.json()
    return body
