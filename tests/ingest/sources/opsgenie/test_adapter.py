"""The Opsgenie adapter against the published alert payloads, and malformed shapes."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from service.ingest.model import AdapterOptions, Delivery, PayloadError, Unsupported
from service.ingest.sources.opsgenie import adapter as opsgenie
from service.ingest.sources.opsgenie import replay as opsgenie_replay
from service.models.enums import IncidentStep, Severity
from service.models.events import IncidentEvent
from tests.ingest.fixtures import all_fixtures, fixture

CREATE = "opsgenie/Create/zulip_create.json"
ACKNOWLEDGE = "opsgenie/Acknowledge/zulip_acknowledge.json"
CLOSE = "opsgenie/Close/zulip_close.json"

ALERT = "052652ac-5d1c-464a-812a-7dd18bbfba8c"
FILI = "fili@ifountain.com"


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=dt.UTC)


#: fixture -> the one event it gives; its event key is also the delivery key.
CASES: dict[str, IncidentEvent] = {
    CREATE: IncidentEvent(
        external_id="ec03dad6-62c8-4c94-b38b-d88f398e900f",
        event_key="ec03dad6-62c8-4c94-b38b-d88f398e900f:Create:df3ad546-c7b6-4520-8de3-52bb12d1e99a",
        step=IncidentStep.TRIGGERED,
        # createdAt 1502709956288 (ms)
        occurred_at=utc(2017, 8, 14, 11, 25, 56, 288000),
        detected_at=utc(2017, 8, 14, 11, 25, 56, 288000),
        title="another alert",
        service_ref="Server",
        service_labels={"vip": "true", "source": "test@example.com"},
        priority="P3",
        severity=Severity.SEV3,
        severity_raw="P3",
        text="another alert",
    ),
    ACKNOWLEDGE: IncidentEvent(
        external_id=ALERT,
        event_key=f"{ALERT}:Acknowledge:1420452224764002246",
        step=IncidentStep.ACKNOWLEDGED,
        # updatedAt 1420452224764002246 (ns); createdAt 1420452191104 (ms)
        occurred_at=utc(2015, 1, 5, 10, 3, 44, 764002),
        detected_at=utc(2015, 1, 5, 10, 3, 11, 104000),
        title="test alert",
        service_ref=FILI,
        service_labels={"tag1": "true", "tag2": "true", "source": FILI},
        text="test alert",
    ),
    CLOSE: IncidentEvent(
        external_id=ALERT,
        event_key=f"{ALERT}:Close:1420452374669001603",
        step=IncidentStep.RESOLVED,
        # updatedAt 1420452374669001603 (ns), truncated to whole microseconds
        occurred_at=utc(2015, 1, 5, 10, 6, 14, 669001),
        detected_at=utc(2015, 1, 5, 10, 3, 11, 104000),
        title="test alert",
        service_ref=FILI,
        service_labels={"source": FILI},
        text="test alert",
    ),
}


def delivery(payload: Any) -> Delivery:
    return Delivery(headers={}, payload=payload)


def parse(payload: Any) -> list[IncidentEvent]:
    return opsgenie.parse(delivery(payload), AdapterOptions()).incidents


def changed(name: str, **alert: Any) -> Any:
    payload = copy.deepcopy(fixture(name))
    payload["alert"].update(alert)
    return payload


def test_every_opsgenie_fixture_is_covered() -> None:
    assert sorted(CASES) == [f for f in all_fixtures() if f.startswith("opsgenie/")]


@pytest.mark.parametrize("name", sorted(CASES))
def test_fixture(name: str) -> None:
    given = delivery(fixture(name))
    assert opsgenie.KIND == "opsgenie"
    assert opsgenie.event_type(given) == name.split("/")[1]
    assert opsgenie_replay.delivery_key(given) == CASES[name].event_key
    assert opsgenie.parse(given, AdapterOptions()).incidents == [CASES[name]]


def test_acknowledge_and_close_are_steps_of_one_incident() -> None:
    [ack], [close] = parse(fixture(ACKNOWLEDGE)), parse(fixture(CLOSE))
    assert ack.external_id == close.external_id
    assert ack.event_key != close.event_key
    assert ack.occurred_at < close.occurred_at


def test_other_actions_on_an_alert_are_updates() -> None:
    payload = changed(ACKNOWLEDGE, note="root cause: 9f8e7d6c5b")
    payload["action"] = "AddNote"
    [event] = parse(payload)
    assert event.step is IncidentStep.UPDATED
    assert event.event_key == f"{ALERT}:AddNote:1420452224764002246"
    assert event.text == "test alert\nroot cause: 9f8e7d6c5b"


def test_an_action_without_an_alert_is_unsupported() -> None:
    with pytest.raises(Unsupported, match="Opsgenie action TestAction is not about an alert"):
        parse({"action": "TestAction"})


@pytest.mark.parametrize(
    ("priority", "severity"),
    [("P1", Severity.SEV1), ("p2", Severity.SEV2), ("P5", Severity.SEV5), (4, Severity.SEV4)],
)
def test_priority_gives_severity(priority: object, severity: Severity) -> None:
    [event] = parse(changed(CREATE, priority=priority))
    assert event.severity is severity
    assert event.severity_raw == event.priority == (f"P{priority}" if priority == 4 else priority)


def test_service_ref_falls_back_to_the_first_team() -> None:
    [event] = parse(changed(ACKNOWLEDGE, teams=["payments", "core"]))
    assert event.service_ref == "payments"
    [event] = parse(changed(ACKNOWLEDGE, teams=[{"id": "t1", "name": "checkout"}]))
    assert event.service_ref == "checkout"


def test_delivery_key_of_garbage_is_none() -> None:
    assert opsgenie_replay.delivery_key(delivery([])) is None
    assert opsgenie_replay.delivery_key(delivery({"action": "Create"})) is None
    assert opsgenie.event_type(delivery(None)) == "unknown"


def _without(name: str, *path: str) -> Any:
    payload = copy.deepcopy(fixture(name))
    target = payload
    for part in path[:-1]:
        target = target[part]
    del target[path[-1]]
    return payload


@pytest.mark.parametrize(
    ("payload", "pointer"),
    [
        pytest.param("Create", "", id="not-an-object"),
        pytest.param(_without(CREATE, "action"), "/action", id="action-missing"),
        pytest.param(_without(CREATE, "alert"), "/alert", id="alert-missing"),
        pytest.param({"action": "AddNote", "alert": []}, "/alert", id="alert-not-an-object"),
        pytest.param(_without(CREATE, "alert", "alertId"), "/alert/alertId", id="alert-id"),
        pytest.param(_without(CREATE, "alert", "createdAt"), "/alert/createdAt", id="created"),
        pytest.param(_without(CLOSE, "alert", "updatedAt"), "/alert/updatedAt", id="updated"),
        pytest.param(changed(CLOSE, updatedAt="soon"), "/alert/updatedAt", id="bad-updated"),
        pytest.param(changed(CREATE, priority=["P1"]), "/alert/priority", id="bad-priority"),
        pytest.param(changed(CREATE, alertId="a" * 201), "/alert", id="id-too-long"),
    ],
)
def test_malformed(payload: Any, pointer: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse(payload)
    assert caught.value.pointer == pointer
