"""The PagerDuty adapter against the published v3 and v2 payloads, and malformed shapes."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from service.ingest.model import AdapterOptions, Delivery, PayloadError, Unsupported
from service.ingest.sources.pagerduty import adapter as pagerduty
from service.ingest.sources.pagerduty import replay as pagerduty_replay
from service.models.enums import IncidentStep, Severity
from service.models.events import IncidentEvent
from tests.ingest.fixtures import all_fixtures, fixture

TRIGGERED = "pagerduty/v3/incident.triggered/zulip_triggered_v3.json"
ACKNOWLEDGED = "pagerduty/v3/incident.acknowledged/zulip_acknowledged_v3.json"
RESOLVED = "pagerduty/v3/incident.resolved/zulip_resolved_v3.json"
PRIORITY = "pagerduty/v3/incident.priority_updated/go-pagerduty_webhookv3_test_signed_body.json"
V2_TRIGGER = "pagerduty/v2/incident.trigger/go-pagerduty_webhook_test_payload.json"

PIG208 = {"service_id": "PA2P440", "service_name": "pig208"}


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=dt.UTC)


#: fixture -> (event type, delivery key without X-Webhook-Id, the events it gives)
CASES: dict[str, tuple[str, str, list[IncidentEvent]]] = {
    TRIGGERED: (
        "incident.triggered",
        "01BZYIL05THJDFF2Y08X9SVMTU",
        [
            IncidentEvent(
                external_id="PFQZPSY",
                event_key="01BZYIL05THJDFF2Y08X9SVMTU",
                step=IncidentStep.TRIGGERED,
                status="open",
                occurred_at=utc(2021, 6, 4, 13, 35, 29, 781000),
                detected_at=utc(2021, 6, 4, 13, 35, 29, 781000),
                title="Test Incident 3",
                url="https://pig208.pagerduty.com/incidents/PFQZPSY",
                service_ref="pig208",
                service_labels=PIG208,
                severity=Severity.SEV2,
                severity_raw="high",
                text="Test Incident 3",
            )
        ],
    ),
    ACKNOWLEDGED: (
        "incident.acknowledged",
        "01BZYK8N47N5JG55J1EEEHPEJI",
        [
            IncidentEvent(
                external_id="PQ1K5C8",
                event_key="01BZYK8N47N5JG55J1EEEHPEJI",
                step=IncidentStep.ACKNOWLEDGED,
                status="acknowledged",
                occurred_at=utc(2021, 6, 4, 13, 55, 30, 394000),
                title="Test Incident",
                url="https://pig208.pagerduty.com/incidents/PQ1K5C8",
                service_ref="pig208",
                service_labels=PIG208,
                severity=Severity.SEV2,
                severity_raw="high",
                text="Test Incident",
            )
        ],
    ),
    RESOLVED: (
        "incident.resolved",
        "01BZYH1JJY09P9LEIST8HG2PMN",
        [
            IncidentEvent(
                external_id="PCPZE64",
                event_key="01BZYH1JJY09P9LEIST8HG2PMN",
                step=IncidentStep.RESOLVED,
                status="resolved",
                occurred_at=utc(2021, 6, 4, 13, 16, 53, 816000),
                title="Test Incident",
                url="https://pig208.pagerduty.com/incidents/PCPZE64",
                service_ref="pig208",
                service_labels=PIG208,
                severity=Severity.SEV2,
                severity_raw="high",
                text="Test Incident",
            )
        ],
    ),
    PRIORITY: (
        "incident.priority_updated",
        "01BWDWL3NYY7LUFPZCC28QUCMK",
        [
            IncidentEvent(
                external_id="PGR0VU2",
                event_key="01BWDWL3NYY7LUFPZCC28QUCMK",
                step=IncidentStep.UPDATED,
                status="open",  # data.status "triggered"
                occurred_at=utc(2021, 4, 26, 17, 36, 27, 458000),
                title="A little bump in the road",
                url="https://acme.pagerduty.com/incidents/PGR0VU2",
                service_ref="API Service",
                service_labels={"service_id": "PF9KMXH", "service_name": "API Service"},
                priority="P1",
                severity=Severity.SEV1,
                severity_raw="P1",
                text="A little bump in the road",
            )
        ],
    ),
    V2_TRIGGER: (
        "incident.trigger",
        "69a7ced0-a2cd-11e7-a799-22000a15839c",
        [
            IncidentEvent(
                external_id="PRORDTY",
                event_key="69a7ced0-a2cd-11e7-a799-22000a15839c",
                step=IncidentStep.TRIGGERED,
                status="open",
                occurred_at=utc(2017, 9, 26, 15, 14, 36),
                detected_at=utc(2017, 9, 26, 15, 14, 36),
                title="My new incident",
                url="https://webdemo.pagerduty.com/incidents/PRORDTY",
                service_ref="Production XDB Cluster",
                service_labels={"service_id": "PN49J75", "service_name": "Production XDB Cluster"},
                severity=Severity.SEV2,
                severity_raw="high",
                text="My new incident",
            )
        ],
    ),
}


def delivery(payload: Any, headers: dict[str, str] | None = None) -> Delivery:
    return Delivery(headers=headers or {}, payload=payload)


def parse(payload: Any) -> list[IncidentEvent]:
    return pagerduty.parse(delivery(payload), AdapterOptions()).incidents


def test_every_pagerduty_fixture_is_covered() -> None:
    assert sorted(CASES) == [f for f in all_fixtures() if f.startswith("pagerduty/")]


@pytest.mark.parametrize("name", sorted(CASES))
def test_fixture(name: str) -> None:
    kind, key, events = CASES[name]
    given = delivery(fixture(name))
    assert pagerduty.KIND == "pagerduty"
    assert pagerduty.event_type(given) == kind
    assert pagerduty_replay.delivery_key(given) == key
    assert pagerduty.parse(given, AdapterOptions()).incidents == events


def test_delivery_key_and_event_type_of_garbage_do_not_raise() -> None:
    assert pagerduty_replay.delivery_key(delivery([1, 2])) is None
    assert pagerduty.event_type(delivery("text")) == "unknown"
    # An empty event_type names no event (found by tests/security/test_adapter_fuzz.py).
    assert pagerduty.event_type(delivery({"event": {"event_type": ""}})) == "unknown"
    assert pagerduty_replay.delivery_key(delivery({"messages": []})) is None


def v3(event_type: str, **data: Any) -> Any:
    payload = copy.deepcopy(fixture(PRIORITY))
    payload["event"]["event_type"] = event_type
    payload["event"]["data"].update(data)
    return payload


@pytest.mark.parametrize(
    ("event_type", "step"),
    [
        ("incident.reopened", IncidentStep.REOPENED),
        ("incident.unacknowledged", IncidentStep.UNACKNOWLEDGED),
        ("incident.escalated", IncidentStep.UPDATED),
        ("incident.reassigned", IncidentStep.UPDATED),
        ("incident.delegated", IncidentStep.UPDATED),
        ("incident.responder.added", IncidentStep.UPDATED),
    ],
)
def test_v3_steps(event_type: str, step: IncidentStep) -> None:
    [event] = parse(v3(event_type))
    assert (event.external_id, event.step, event.detected_at) == ("PGR0VU2", step, None)


def test_v3_created_at_is_the_detection_time_and_description_is_searchable() -> None:
    payload = v3(
        "incident.triggered",
        created_at="2021-04-26T17:30:00Z",
        description="root cause: 1a2b3c4d5e",
        priority=None,
        urgency="low",
    )
    [event] = parse(payload)
    assert event.detected_at == utc(2021, 4, 26, 17, 30)
    assert event.text == "A little bump in the road\nroot cause: 1a2b3c4d5e"
    assert (event.priority, event.severity, event.severity_raw) == (None, Severity.SEV4, "low")


def test_v3_custom_priority_name_falls_back_to_urgency() -> None:
    payload = v3("incident.priority_updated")
    payload["event"]["data"]["priority"]["summary"] = "SEV-A"
    [event] = parse(payload)
    assert (event.priority, event.severity, event.severity_raw) == ("SEV-A", Severity.SEV2, "SEV-A")


def test_v3_note_names_its_incident_and_carries_its_text() -> None:
    payload = copy.deepcopy(fixture(PRIORITY))
    payload["event"]["event_type"] = "incident.annotated"
    payload["event"]["data"] = {
        "id": "P7CTIG1",
        "type": "incident_note",
        "content": "root cause: 0fe1d2c3b4a5",
        "incident": {
            "id": "PGR0VU2",
            "type": "incident_reference",
            "html_url": "https://acme.pagerduty.com/incidents/PGR0VU2",
        },
    }
    assert parse(payload) == [
        IncidentEvent(
            external_id="PGR0VU2",
            event_key="01BWDWL3NYY7LUFPZCC28QUCMK",
            step=IncidentStep.UPDATED,
            occurred_at=utc(2021, 4, 26, 17, 36, 27, 458000),
            url="https://acme.pagerduty.com/incidents/PGR0VU2",
            text="root cause: 0fe1d2c3b4a5",
        )
    ]


@pytest.mark.parametrize(
    ("resource_type", "event_type", "reason"),
    [
        ("service", "service.updated", "PagerDuty service events are not incidents"),
        ("pagey", "pagey.ping", "PagerDuty pagey events are not incidents"),
        ("incident", "incident.workflow.started", "incident.workflow.started is not used"),
    ],
)
def test_v3_unsupported(resource_type: str, event_type: str, reason: str) -> None:
    payload = copy.deepcopy(fixture(TRIGGERED))
    payload["event"].update(resource_type=resource_type, event_type=event_type)
    with pytest.raises(Unsupported, match=reason):
        parse(payload)


def test_v2_skips_messages_it_does_not_use() -> None:
    payload = copy.deepcopy(fixture(V2_TRIGGER))
    second = copy.deepcopy(payload["messages"][0])
    second.update(event="incident.resolve", id="msg-2", created_on="2017-09-26T16:00:00Z")
    third = copy.deepcopy(second)
    third.update(event="incident.custom", id="msg-3")
    payload["messages"] += [second, third]
    events = parse(payload)
    trigger_id = "69a7ced0-a2cd-11e7-a799-22000a15839c"
    assert [(e.event_key, e.step, e.occurred_at) for e in events] == [
        (trigger_id, IncidentStep.TRIGGERED, utc(2017, 9, 26, 15, 14, 36)),
        ("msg-2", IncidentStep.RESOLVED, utc(2017, 9, 26, 16)),
    ]
    assert (
        pagerduty.event_type(delivery(payload))
        == "incident.trigger,incident.resolve,incident.custom"
    )


def test_v2_with_no_used_message_is_unsupported() -> None:
    payload = copy.deepcopy(fixture(V2_TRIGGER))
    payload["messages"][0]["event"] = "incident.custom"
    with pytest.raises(Unsupported, match=r"no PagerDuty v2 message .*\(incident.custom\)"):
        parse(payload)


def test_v2_title_falls_back_to_the_trigger_summary() -> None:
    payload = copy.deepcopy(fixture(V2_TRIGGER))
    incident = payload["messages"][0]["incident"]
    del incident["title"]
    incident["trigger_summary_data"] = {"subject": "CPU high"}
    assert parse(payload)[0].title == "CPU high"


def _without(name: str, *path: str | int) -> Any:
    payload = copy.deepcopy(fixture(name))
    target = payload
    for part in path[:-1]:
        target = target[part]
    del target[path[-1]]
    return payload


def _replace(name: str, value: Any, *path: str | int) -> Any:
    payload = copy.deepcopy(fixture(name))
    target = payload
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return payload


@pytest.mark.parametrize(
    ("payload", "pointer"),
    [
        pytest.param([], "", id="not-an-object"),
        pytest.param({"hello": 1}, "", id="neither-v3-nor-v2"),
        pytest.param({"event": "x"}, "/event", id="event-not-an-object"),
        pytest.param(_without(TRIGGERED, "event", "data"), "/event/data", id="data-missing"),
        pytest.param(_without(TRIGGERED, "event", "id"), "/event/id", id="event-id-missing"),
        pytest.param(_without(TRIGGERED, "event", "event_type"), "/event/event_type", id="type"),
        pytest.param(_without(TRIGGERED, "event", "data", "id"), "/event/data/id", id="data-id"),
        pytest.param(
            _replace(TRIGGERED, "yesterday", "event", "occurred_at"),
            "/event/occurred_at",
            id="bad-time",
        ),
        pytest.param(
            _replace(TRIGGERED, "pig208", "event", "data", "service"),
            "/event/data/service",
            id="service-not-an-object",
        ),
        pytest.param(
            _replace(TRIGGERED, "x" * 201, "event", "data", "id"), "/event/data", id="id-too-long"
        ),
        pytest.param({"messages": {}}, "/messages", id="messages-not-a-list"),
        pytest.param(
            _without(V2_TRIGGER, "messages", 0, "incident"),
            "/messages/0/incident",
            id="v2-incident-missing",
        ),
        pytest.param(
            _without(V2_TRIGGER, "messages", 0, "created_on"),
            "/messages/0/created_on",
            id="v2-time-missing",
        ),
    ],
)
def test_malformed(payload: Any, pointer: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse(payload)
    assert caught.value.pointer == pointer
