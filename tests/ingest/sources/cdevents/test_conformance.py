"""Every conformance example of the CDEvents spec, versions 0.4.1, 0.5.1 and the 0.6.0 draft
(tests/fixtures/webhooks/cdevents/, copied unchanged), through POST /v1/webhooks/{source} in
binary and in structured mode, with the record each must give written out.

All examples share one CloudEvent id per kind of subject, so each is sent to a fresh source
(the test's transaction is rolled back). Their deploys go to environment "test123", which the
source lists as production; the service and pipeline are mapped by the source's rules.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.ingest.fixtures import all_fixtures, fixture
from tests.ingest.sources.cdevents.helpers import (
    Headers,
    Json,
    record,
    register,
    send_binary,
    send_structured,
)
from tests.ingest.test_webhook_fixtures import CHANGE_FIELDS as WEBHOOK_CHANGE_FIELDS
from tests.ingest.test_webhook_fixtures import INCIDENT_FIELDS

VERSIONS = ("v0.4.1", "v0.5.1", "main-8917b18")
#: The CloudEvent identity (id@source) of every example but the incidents.
EVENT = "271069a8-fc18-44f1-b38f-9d70a1695819@/event/source/123"
#: The incident examples' CloudEvent identity, and the incident's (subject id@source).
INCIDENT_EVENT = "F4BD2B55-B6F6-4F44-AF72-BD2D0E7A8708@/monitoring/prod1"
INCIDENT = "incident-123@/monitoring/prod1"
ARTIFACT = "pkg:oci/myapp@sha256%3A0b31b1c02ff458ad9b7b81cbdf8f028bd54699fa151f221d1e8de6817db93427"
#: context.timestamp of the examples (service, pipeline run) and of the incident examples, as
#: the API writes them (microseconds).
AT = "2023-03-20T14:27:05.315384Z"
INCIDENT_AT = "2022-11-11T13:52:20.079000Z"
USED = (
    "only service.deployed, service.upgraded, service.rolledback, pipelinerun.finished, "
    "incident.detected, incident.reported, incident.resolved"
)


def deploy(kind: str) -> Json:
    """service.deployed / .upgraded (kind deploy) or .rolledback (kind rollback) of service
    mySubject123 to test123 at AT: one successful production change, the artifact its title.
    A rollback alone has no earlier deploy to count against."""
    return {
        "change": {
            "external_id": EVENT, "service": "my-app", "environment": "test123",
            "is_production": True, "kind": kind, "status": "success", "started_at": None,
            "finished_at": AT, "commit_sha": None, "commit_time": None, "title": ARTIFACT,
            "url": None,
            "rolled_back_change_id": None, "rollback_link_kind": None,
            "timeline": [(AT, "success")],
        }
    }  # fmt: skip


def pipeline(url: str) -> Json:
    """pipelinerun.finished, outcome failure: a failed change of pipeline myPipeline, with no
    environment (so not production)."""
    return {
        "change": {
            "external_id": "pipelinerun:mySubject123@/event/source/123", "service": "my-app",
            "environment": None, "is_production": False, "kind": "deploy", "status": "failed",
            "started_at": None, "finished_at": AT, "commit_sha": None, "commit_time": None,
            "title": "myPipeline",
            "url": url, "rolled_back_change_id": None, "rollback_link_kind": None,
            "timeline": [(AT, "failed")],
        }
    }  # fmt: skip


def incident(step: str) -> Json:
    """incident.detected / .reported (opened at INCIDENT_AT) or .resolved (resolved then: with
    no opening known, it also started and was detected then), of service myApp; the
    description is the title."""
    opened = step == "triggered"
    title = (
        "Response time above threshold of 100ms" if opened else "Response time restored below 100ms"
    )
    return {
        "incident": {
            "external_id": INCIDENT, "service": "my-app", "severity": None, "priority": None,
            "status": "open" if opened else "resolved", "title": title, "url": None,
            "started_at": INCIDENT_AT, "detected_at": INCIDENT_AT,
            "acknowledged_at": None, "resolved_at": None if opened else INCIDENT_AT,
            "timeline": [(INCIDENT_AT, step)],
        }
    }  # fmt: skip


def unused(name: str) -> Json:
    return {"unmapped": f"CDEvent {name} is not used ({USED})"}


#: Per example (the same in the three versions but where a version differs): what it gives.
EXPECTED: dict[str, Json] = {
    "change_abandoned": unused("change.abandoned"),
    "change_created": unused("change.created"),
    "change_merged": unused("change.merged"),
    "change_reviewed": unused("change.reviewed"),
    "change_updated": unused("change.updated"),
    "environment_created": unused("environment.created"),
    "environment_deleted": unused("environment.deleted"),
    "environment_modified": unused("environment.modified"),
    "incident_detected": incident("triggered"),
    "incident_reported": incident("triggered"),
    "incident_resolved": incident("resolved"),
    # 0.4.1 calls the run's address `url`, 0.5.1 and later `uri`: the same value.
    "pipelinerun_finished": pipeline("https://www.example.com/mySubject123"),
    "pipelinerun_queued": unused("pipelinerun.queued"),
    "pipelinerun_started": unused("pipelinerun.started"),
    "service_deployed": deploy("deploy"),
    "service_published": unused("service.published"),
    "service_removed": unused("service.removed"),
    "service_rolledback": deploy("rollback"),
    "service_upgraded": deploy("deploy"),
}
CASES = [f"{version}/{name}.json" for version in VERSIONS for name in EXPECTED]
CHANGE_FIELDS = (*WEBHOOK_CHANGE_FIELDS, "title", "rolled_back_change_id", "rollback_link_kind")


def view(body: Json, fields: tuple[str, ...]) -> Json:
    got = {name: body[name] for name in fields}
    got["timeline"] = [(entry["at"], entry["what"]) for entry in body["timeline"]]
    return got


def test_every_conformance_example_is_exercised() -> None:
    assert sorted(f"cdevents/{case}" for case in CASES) == sorted(
        f for f in all_fixtures() if f.startswith("cdevents/")
    )
    assert len(CASES) == 57


@pytest.mark.parametrize("mode", ["binary", "structured"])
@pytest.mark.parametrize("case", CASES)
async def test_conformance_example(
    client: httpx.AsyncClient, admin: Headers, reader: Headers, case: str, mode: str
) -> None:
    await register(client, admin)
    event: Json = fixture(f"cdevents/{case}")
    send = send_binary if mode == "binary" else send_structured
    resp = await send(client, event)
    expected = EXPECTED[case.split("/")[1].removesuffix(".json")]
    if "unmapped" in expected:
        assert resp.status_code == 202, resp.text
        assert resp.json()["detail"] == expected["unmapped"]
        return
    assert resp.status_code == 200, resp.text
    outcome: dict[str, Any] = resp.json()
    assert outcome["status"] == "applied"
    if "change" in expected:
        assert (len(outcome["changes"]), outcome["incidents"]) == (1, [])
        body = await record(client, reader, f"/v1/changes/{outcome['changes'][0]}")
        assert view(body, CHANGE_FIELDS) == expected["change"]
    else:
        assert (outcome["changes"], len(outcome["incidents"])) == ([], 1)
        body = await record(client, reader, f"/v1/incidents/{outcome['incidents'][0]}")
        assert view(body, INCIDENT_FIELDS) == expected["incident"]
    key = INCIDENT_EVENT if "incident" in expected else EVENT
    assert [entry["event_key"] for entry in body["timeline"]] == [key]
