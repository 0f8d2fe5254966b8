"""What the end-to-end tests of a source package read back through the API: an incident as
the test writes it out, and an unmapped delivery replayed once a rule maps it."""

from __future__ import annotations

from collections.abc import Iterable

import httpx

from tests.ingest.test_pipeline import Headers, Json


async def incident_view(
    client: httpx.AsyncClient, reader: Headers, incident_id: int, fields: Iterable[str]
) -> Json:
    """GET /v1/incidents/{id}: the fields named, and the timeline as (at, what, event key)."""
    answer = await client.get(f"/v1/incidents/{incident_id}", headers=reader)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    view = {name: body[name] for name in fields if name != "timeline"}
    # Steps at the same instant in the order of their keys (the API lists them as stored).
    view["timeline"] = sorted((e["at"], e["what"], e["event_key"]) for e in body["timeline"])
    return view


async def replayed_with_rule(
    client: httpx.AsyncClient, admin: Headers, source: Json, rule: Json, delivery_id: int
) -> list[int]:
    """The source given `rule` as its only service rule, then the unmapped delivery replayed
    (POST /v1/deliveries/{id}/replay): the incidents it applied to."""
    answer = await client.put(
        f"/v1/sources/{source['name']}", headers=admin, json={**source, "service_rules": [rule]}
    )
    assert answer.status_code == 200, answer.text
    replayed = await client.post(f"/v1/deliveries/{delivery_id}/replay", headers=admin)
    assert replayed.status_code == 200, replayed.text
    incidents: list[int] = replayed.json()["incidents"]
    return incidents
