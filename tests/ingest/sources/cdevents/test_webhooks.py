"""CDEvents scenarios through POST /v1/webhooks/{source}: rollbacks counted against the deploy
they undid, incident steps out of order, batches, duplicates, refusals and malformed events.

The events are the spec's conformance examples (v0.5.1) given their own ids, times and
environments, as a producer would send several.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from service import db as dbmod
from service.ingest.model import AdapterOptions, Delivery
from service.ingest.sources.cdevents import adapter
from service.kpi.periods import Period
from service.store import metrics
from tests.ingest.sources.cdevents.helpers import (
    AUTH,
    URL,
    Headers,
    Json,
    envelope,
    example,
    record,
    register,
    send_batch,
    send_binary,
    send_structured,
)

USED = (
    "only service.deployed, service.upgraded, service.rolledback, pipelinerun.finished, "
    "incident.detected, incident.reported, incident.resolved"
)


def service_event(name: str, event_id: str, at: str, environment: str) -> Json:
    event = example(f"v0.5.1/service_{name}.json", id=event_id, timestamp=at)
    event["subject"]["content"]["environment"]["id"] = environment
    return event


def key(event_id: str) -> str:
    return f"{event_id}@/event/source/123"


# Rollbacks ----------------------------------------------------------------------------------

D1 = service_event("deployed", "d1", "2026-03-02T10:00:00Z", "production")
D2 = service_event("upgraded", "d2", "2026-03-02T11:00:00Z", "production")
STAGING = service_event("deployed", "s1", "2026-03-02T11:30:00Z", "staging")
ROLLBACK = service_event("rolledback", "r1", "2026-03-02T12:00:00Z", "production")


@pytest.mark.parametrize("order", ["in-order", "rollback-first"])
async def test_rollback_counts_against_the_last_production_deploy_before_it(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, reader: Headers, order: str
) -> None:
    await register(client, admin)
    events = [D1, D2, STAGING, ROLLBACK]
    ids: dict[str, int] = {}
    for event in events if order == "in-order" else events[::-1]:
        resp = await send_binary(client, event)
        assert resp.status_code == 200, resp.text
        [ids[event["context"]["id"]]] = resp.json()["changes"]

    links = {}
    for name, change_id in ids.items():
        body = await record(client, reader, f"/v1/changes/{change_id}")
        links[name] = (body["kind"], body["is_production"], body["status"],
                       body["rolled_back_change_id"], body["rollback_link_kind"])  # fmt: skip
    # The rollback at 12:00 undid d2 (11:00), the last successful production deploy before it;
    # s1 (11:30) went to staging, which the source does not count as production.
    assert links == {
        "d1": ("deploy", True, "success", None, None),
        "d2": ("deploy", True, "success", None, None),
        "s1": ("deploy", False, "success", None, None),
        "r1": ("rollback", True, "success", ids["d2"], "inferred"),
    }

    # Change failure: 3 production changes (d1, d2, r1), of which d2 failed (rolled back);
    # rework: the rollback.
    service = await con.fetchval("select id from business_service where slug = 'my-app'")
    day = Period(dt.datetime(2026, 3, 2, tzinfo=dt.UTC), dt.datetime(2026, 3, 3, tzinfo=dt.UTC))
    [row] = await metrics.change_stats(con, [service], [day], metrics.NO_FILTER, None)
    assert (row["deployments"], row["failures"], row["rework"]) == (3, 1, 1)


async def test_a_rollback_with_no_deploy_before_it_is_linked_to_none(
    client: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    """d2 finished after the rollback, in the same environment: it is not what was undone."""
    await register(client, admin)
    early = service_event("rolledback", "r0", "2026-03-02T09:00:00Z", "production")
    changes = []
    for event in (early, D2):
        resp = await send_binary(client, event)
        assert resp.status_code == 200, resp.text
        changes += resp.json()["changes"]
    body = await record(client, reader, f"/v1/changes/{changes[0]}")
    assert (body["kind"], body["rolled_back_change_id"], body["rollback_link_kind"]) == (
        "rollback", None, None,
    )  # fmt: skip


# Incidents ----------------------------------------------------------------------------------


async def test_incident_resolved_before_detected_is_one_resolved_incident(
    client: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await register(client, admin)
    detected = example("v0.5.1/incident_detected.json", id="i1", timestamp="2026-03-02T12:00:00Z")
    resolved = example("v0.5.1/incident_resolved.json", id="i2", timestamp="2026-03-02T13:00:00Z")
    incident_ids = []
    for event in (resolved, detected):
        resp = await send_structured(client, event)
        assert resp.status_code == 200, resp.text
        incident_ids += resp.json()["incidents"]
    assert incident_ids[0] == incident_ids[1]
    body = await record(client, reader, f"/v1/incidents/{incident_ids[0]}")
    assert {
        k: body[k]
        for k in ("external_id", "status", "started_at", "detected_at", "resolved_at", "title")
    } == {
        "external_id": "incident-123@/monitoring/prod1",
        "status": "resolved",
        "started_at": "2026-03-02T12:00:00Z",
        "detected_at": "2026-03-02T12:00:00Z",
        "resolved_at": "2026-03-02T13:00:00Z",
        # The latest step's description.
        "title": "Response time restored below 100ms",
    }
    assert [(e["at"], e["what"], e["event_key"]) for e in body["timeline"]] == [
        ("2026-03-02T12:00:00Z", "triggered", "i1@/monitoring/prod1"),
        ("2026-03-02T13:00:00Z", "resolved", "i2@/monitoring/prod1"),
    ]


# Batches and duplicates ---------------------------------------------------------------------

MERGED = example("v0.5.1/change_merged.json", id="m1")
OPENED = example("v0.5.1/incident_detected.json", id="i1", timestamp="2026-03-02T12:30:00Z")


async def test_a_batch_applies_the_events_it_can_use_once(
    client: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await register(client, admin)
    resp = await send_batch(client, [D1, MERGED, OPENED])
    assert resp.status_code == 200, resp.text
    outcome = resp.json()
    assert (outcome["status"], len(outcome["changes"]), len(outcome["incidents"])) == (
        "applied", 1, 1,
    )  # fmt: skip
    again = await send_batch(client, [D1, MERGED, OPENED])
    assert again.json() == {
        "delivery_id": outcome["delivery_id"], "status": "duplicate",
        "detail": "already received (first outcome: applied)", "incidents": [], "changes": [],
        "commits": 0,
    }  # fmt: skip
    # d1 sent again alone: a delivery of its own, but the same deploy, still one report.
    alone = await send_binary(client, D1)
    assert (alone.json()["status"], alone.json()["changes"]) == ("applied", outcome["changes"])
    body = await record(client, reader, f"/v1/changes/{outcome['changes'][0]}")
    assert [(e["at"], e["what"], e["event_key"]) for e in body["timeline"]] == [
        ("2026-03-02T10:00:00Z", "success", key("d1"))
    ]


async def test_a_batch_of_events_not_used_is_unmapped_with_each_reason(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    await register(client, admin)
    created = example("v0.5.1/environment_created.json", id="e1")
    resp = await send_batch(client, [MERGED, created])
    assert resp.status_code == 202, resp.text
    assert resp.json()["detail"] == (
        f"CDEvent change.merged is not used ({USED}); "
        f"CDEvent environment.created is not used ({USED})"
    )


async def test_the_same_event_in_either_mode_is_a_duplicate(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    await register(client, admin)
    first = await send_binary(client, D1)
    assert first.status_code == 200, first.text
    again = await send_structured(client, D1)
    assert again.status_code == 200, again.text
    assert (again.json()["status"], again.json()["delivery_id"]) == (
        "duplicate", first.json()["delivery_id"],
    )  # fmt: skip


async def test_an_unknown_service_is_kept_as_unmapped(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    await register(client, admin)
    event = service_event("deployed", "x1", "2026-03-02T10:00:00Z", "production")
    event["subject"]["id"] = "billing"
    resp = await send_binary(client, event)
    assert resp.status_code == 202, resp.text
    assert resp.json()["detail"].startswith(
        f"no business service for change '{key('x1')}' from 'billing'"
    )


async def test_a_spec_version_not_read_is_kept_as_unmapped(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    await register(client, admin)
    event = example("v0.5.1/service_deployed.json", id="v1", specversion="0.3.0")
    resp = await send_binary(client, event)
    assert resp.status_code == 202, resp.text
    assert resp.json()["detail"] == (
        "CDEvents spec version 0.3.0 is not read (only 0.4.1, 0.5.1, 0.6.0-draft)"
    )


# Refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "auth",
    [{"Authorization": "Bearer cdevents-bearer-tokeN"}, {}],
    ids=["one-byte-changed", "none"],
)
async def test_a_wrong_token_is_refused_and_nothing_is_logged(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, auth: Headers
) -> None:
    await register(client, admin)
    assert AUTH["Authorization"][-1] == "n"  # the token above differs by its last byte
    resp = await send_binary(client, D1, auth=auth)
    assert resp.status_code == 401, resp.text
    assert await con.fetchval("select count(*) from delivery") == 0
    assert await con.fetchval("select count(*) from change") == 0


def without(event: Json, name: str) -> Json:
    return {k: v for k, v in event.items() if k != name}


def _without_subject_id() -> Json:
    event = example("v0.5.1/service_deployed.json")
    del event["subject"]["id"]
    return event


def _environment_number() -> Json:
    event = example("v0.5.1/service_deployed.json")
    event["subject"]["content"]["environment"]["id"] = 7
    return event


MALFORMED: dict[str, tuple[Any, Headers, str]] = {
    # (body, content type or ce-* headers, the pointer named)
    "subject id missing": (
        envelope(_without_subject_id()),
        {"content-type": "application/cloudevents+json"},
        "#/data/subject/id",
    ),
    "environment id not a string": (
        envelope(_environment_number()),
        {"content-type": "application/cloudevents+json"},
        "#/data/subject/content/environment/id",
    ),
    "timestamp not a time": (
        without(envelope(example("v0.5.1/service_deployed.json", timestamp="yesterday")), "time"),
        {"content-type": "application/cloudevents+json"},
        "#/data/context/timestamp",
    ),
    "cloudevent time not a time": (
        envelope(D1) | {"time": "yesterday"},
        {"content-type": "application/cloudevents+json"},
        "#/time",
    ),
    "cloudevent id missing": (
        without(envelope(D1), "id"),
        {"content-type": "application/cloudevents+json"},
        "#/id",
    ),
    "types differ": (
        D1,
        {
            "ce-specversion": "1.0",
            "ce-id": "d1",
            "ce-source": "/event/source/123",
            "ce-type": "dev.cdevents.service.removed.0.3.0",
        },
        "#/context/type",
    ),
    "batch not an array": (
        envelope(D1),
        {"content-type": "application/cloudevents-batch+json"},
        "#",
    ),
    "batch element without data": (
        [envelope(D1), without(envelope(D2), "data")],
        {"content-type": "application/cloudevents-batch+json"},
        "#/1/data",
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
async def test_a_malformed_event_is_a_422_naming_the_field(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, case: str
) -> None:
    await register(client, admin)
    body, headers, pointer = MALFORMED[case]
    resp = await client.post(URL, content=orjson.dumps(body), headers=headers | AUTH)
    assert resp.status_code == 422, resp.text
    assert [e["pointer"] for e in resp.json()["errors"]] == [pointer]
    assert await con.fetchval("select status from delivery") == "invalid"


async def test_binary_mode_without_an_id_names_the_header(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    await register(client, admin)
    headers = {"ce-specversion": "1.0", "ce-source": "/event/source/123",
               "ce-type": D1["context"]["type"], "content-type": "application/json"}  # fmt: skip
    resp = await client.post(URL, content=orjson.dumps(D1), headers=headers | AUTH)
    assert resp.status_code == 422, resp.text
    assert (resp.json()["header"], resp.json()["errors"][0]["pointer"]) == ("ce-id", "#")


# The sender example of setup.md -------------------------------------------------------------

SETUP = Path(__file__).resolve().parents[4] / "service/ingest/sources/cdevents/setup.md"


def test_the_setup_example_is_a_deploy_the_adapter_reads() -> None:
    """The curl of setup.md: its ce-* headers and --data body make one production deploy."""
    text = SETUP.read_text()
    headers = dict(re.findall(r"-H '(ce-[a-z]+|content-type): ([^']+)'", text))
    body = json.loads(text.split("--data '", 1)[1].split("'\n", 1)[0])
    mapped = adapter.parse(Delivery(headers=headers, payload=body), AdapterOptions())
    [deploy] = mapped.changes
    assert (deploy.external_id, deploy.service_ref, deploy.environment, deploy.title) == (
        "6f1c2a44-deploy-1042@/ci/payments", "payments", "production",
        "pkg:oci/payments@sha256%3A4d2f",
    )  # fmt: skip
