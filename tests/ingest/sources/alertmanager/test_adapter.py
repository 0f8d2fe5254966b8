"""The Alertmanager adapter against the published v4 notifications, and malformed shapes."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
from typing import Any

import pytest

from service.clock import rfc3339
from service.ingest.model import AdapterOptions, Delivery, PayloadError, Unsupported
from service.ingest.sources.alertmanager import adapter as alertmanager
from service.ingest.sources.alertmanager import replay as alertmanager_replay
from service.models.enums import IncidentStep, Severity
from service.models.events import IncidentEvent
from tests.ingest.fixtures import all_fixtures, fixture

BOT_FIRING = "alertmanager/firing/alertmanager-bot_firing_sh_body.json"
BOT_RESOLVED = "alertmanager/resolved/alertmanager-bot_resolved_sh_body.json"
MSTEAMS = "alertmanager/firing/prometheus-msteams_prom_post_request.json"
ZULIP = "alertmanager/firing/zulip_alert.json"

#: No fingerprint in the bot's payloads: the id derived from {alertname=Fire, severity=critical}.
FIRE_ID = "labels-d5e10d7b75435f55"
#: The incident: one firing episode of that alert, named by its fingerprint and start.
FIRE_EPISODE = f"{FIRE_ID}@2018-11-04T21:43:58.283995Z"
#: The firing alert's endsAt, 2018-11-04T22:46:58.283995108+01:00: when it would end unless
#: refreshed.
FIRE_UNTIL = dt.datetime(2018, 11, 4, 21, 46, 58, 283995, tzinfo=dt.UTC)
FIRE_LABELS = {"alertname": "Fire", "severity": "critical"}
FIRE_URL = "http://localhost:9090/graph?g0.expr=vector%28666%29&g0.tab=1"
#: startsAt 2018-11-04T22:43:58.283995108+01:00
FIRE_START = dt.datetime(2018, 11, 4, 21, 43, 58, 283995, tzinfo=dt.UTC)
MSTEAMS_ID = "labels-dcb8f3f3db95181f"
#: startsAt 2018-03-07T06:33:21.873077559-05:00
MSTEAMS_START = dt.datetime(2018, 3, 7, 11, 33, 21, 873077, tzinfo=dt.UTC)
#: startsAt 2020-02-06T00:17:58.432911368Z
ZULIP_START = dt.datetime(2020, 2, 6, 0, 17, 58, 432911, tzinfo=dt.UTC)
ZULIP_URL = (
    "http://cobalt:9090/graph?g0.expr=avg+by%28host%29+%28sensors_temp_input%7Bfeature%3D~"
    "%22core_%5B0-9%5D%2B%22%7D%29+%3E+15&g0.tab=1"
)
ZULIP_LABELS = {"alertname": "High CPU Temperature", "host": "andromeda", "severity": "critical"}


def fire(step: IncidentStep, occurred_at: dt.datetime) -> IncidentEvent:
    return IncidentEvent(
        external_id=FIRE_EPISODE,
        event_key=f"{step}:{rfc3339(occurred_at)}",
        step=step,
        occurred_at=occurred_at,
        firing_until=FIRE_UNTIL if step is IncidentStep.TRIGGERED else None,
        impact_start=FIRE_START,
        detected_at=FIRE_START,
        title="Fire",
        url=FIRE_URL,
        severity=Severity.SEV1,
        severity_raw="critical",
        service_ref="Fire",
        service_labels=FIRE_LABELS,
        problem_key="Fire",
        text="Something is on fire",
    )


def zulip(fingerprint: str, temperature: str) -> IncidentEvent:
    return IncidentEvent(
        external_id=f"{fingerprint}@2020-02-06T00:17:58.432911Z",
        event_key="triggered:2020-02-06T00:17:58.432911Z",
        step=IncidentStep.TRIGGERED,
        occurred_at=ZULIP_START,
        # endsAt 0001-01-01: firing with no end in sight.
        firing_until=alertmanager.FOREVER,
        impact_start=ZULIP_START,
        detected_at=ZULIP_START,
        title="High CPU core temperature",
        url=ZULIP_URL,
        severity=Severity.SEV1,
        severity_raw="critical",
        service_ref="High CPU Temperature",
        service_labels=ZULIP_LABELS,
        problem_key="High CPU Temperature",
        text=f"High CPU core temperature\nCPU core temperature is {temperature}",
    )


#: fixture -> (group key and status, the events it gives)
CASES: dict[str, tuple[str, list[IncidentEvent]]] = {
    BOT_FIRING: (
        '{}:{alertname="Fire"}:firing',
        [fire(IncidentStep.TRIGGERED, FIRE_START)],
    ),
    BOT_RESOLVED: (
        '{}:{alertname="Fire"}:resolved',
        # endsAt 2018-11-04T22:48:13.283995108+01:00
        [fire(IncidentStep.RESOLVED, dt.datetime(2018, 11, 4, 21, 48, 13, 283995, tzinfo=dt.UTC))],
    ),
    MSTEAMS: (
        '{}:{alertname="high_memory_load"}:firing',
        [
            IncidentEvent(
                external_id=f"{MSTEAMS_ID}@2018-03-07T11:33:21.873077Z",
                event_key="triggered:2018-03-07T11:33:21.873077Z",
                step=IncidentStep.TRIGGERED,
                occurred_at=MSTEAMS_START,
                firing_until=alertmanager.FOREVER,
                impact_start=MSTEAMS_START,
                detected_at=MSTEAMS_START,
                title="Server High Memory usage",
                severity=Severity.SEV3,
                severity_raw="warning",
                service_ref="docker_nodes",
                service_labels={
                    "alertname": "high_memory_load",
                    "instance": "instance-with-hyphen_and_underscore",
                    "job": "docker_nodes",
                    "monitor": "master",
                    "severity": "warning",
                },
                problem_key="high_memory_load",
                text="Server High Memory usage\n"
                "10.80.40.11 reported high memory usage with 23.28%.",
            )
        ],
    ),
    ZULIP: (
        "{}/{}:{}:firing",
        [zulip("a1bc48475b20e73d", "34.75C"), zulip("c2ea85182f28cbd9", "17.625C")],
    ),
}


def delivery(payload: Any) -> Delivery:
    return Delivery(headers={}, payload=payload)


def parse(payload: Any) -> list[IncidentEvent]:
    return alertmanager.parse(delivery(payload), AdapterOptions()).incidents


def test_every_alertmanager_fixture_is_covered() -> None:
    assert sorted(CASES) == [f for f in all_fixtures() if f.startswith("alertmanager/")]


@pytest.mark.parametrize("name", sorted(CASES))
def test_fixture(name: str) -> None:
    prefix, events = CASES[name]
    given = delivery(fixture(name))
    assert alertmanager.KIND == "alertmanager"
    assert alertmanager.event_type(given) == prefix.rsplit(":", 1)[1]
    # No delivery is a duplicate of another: Alertmanager re-sends unchanged notifications
    # and retracts resolutions by re-sending the firing alert (see the module docstring).
    assert alertmanager_replay.delivery_key(given) is None
    assert alertmanager.parse(given, AdapterOptions()).incidents == events


def test_derived_id_is_the_documented_hash_of_the_sorted_labels() -> None:
    canonical = json.dumps(sorted(FIRE_LABELS.items()), separators=(",", ":"))
    assert FIRE_ID == "labels-" + hashlib.sha256(canonical.encode()).hexdigest()[:16]


def test_firing_and_resolved_notifications_name_one_incident() -> None:
    [firing], [resolved] = parse(fixture(BOT_FIRING)), parse(fixture(BOT_RESOLVED))
    assert firing.external_id == resolved.external_id == FIRE_EPISODE
    assert firing.impact_start == resolved.impact_start == FIRE_START
    assert resolved.occurred_at - firing.occurred_at == dt.timedelta(minutes=4, seconds=15)


def test_alert_labels_are_merged_over_common_labels() -> None:
    payload = copy.deepcopy(fixture(MSTEAMS))
    payload["commonLabels"]["team"] = "infra"
    payload["alerts"][0]["labels"]["severity"] = "critical"
    [event] = parse(payload)
    assert event.service_labels["team"] == "infra"
    assert (event.severity, event.severity_raw) == (Severity.SEV1, "critical")


def test_alert_status_wins_over_the_group_status() -> None:
    payload = copy.deepcopy(fixture(ZULIP))
    payload["alerts"][1].update(status="resolved", endsAt="2020-02-06T00:30:00Z")
    first, second = parse(payload)
    assert first.step is IncidentStep.TRIGGERED
    assert second.step is IncidentStep.RESOLVED
    assert second.occurred_at == dt.datetime(2020, 2, 6, 0, 30, tzinfo=dt.UTC)
    assert first.firing_until == alertmanager.FOREVER
    assert second.firing_until is None


def test_a_refiring_alert_is_another_episode() -> None:
    """Fired again after it resolved (a new startsAt): another incident, whose outage starts
    anew; the first one's stays as it was."""
    again = copy.deepcopy(fixture(BOT_FIRING))
    again["alerts"][0]["startsAt"] = "2018-11-05T08:00:00+01:00"
    [first], [second] = parse(fixture(BOT_FIRING)), parse(again)
    assert first.external_id == FIRE_EPISODE
    assert second.external_id == f"{FIRE_ID}@2018-11-05T07:00:00Z"


@pytest.mark.parametrize(
    ("raw", "severity"),
    [
        ("critical", Severity.SEV1),
        ("error", Severity.SEV2),
        ("High", Severity.SEV2),
        ("major", Severity.SEV2),
        ("warning", Severity.SEV3),
        ("minor", Severity.SEV3),
        ("info", Severity.SEV4),
        ("low", Severity.SEV4),
        ("none", None),
        ("page", None),
    ],
)
def test_severity(raw: str, severity: Severity | None) -> None:
    payload = copy.deepcopy(fixture(BOT_FIRING))
    payload["alerts"][0]["labels"]["severity"] = raw
    [event] = parse(payload)
    assert (event.severity, event.severity_raw) == (severity, raw)


def test_service_ref_prefers_the_service_label() -> None:
    payload = copy.deepcopy(fixture(MSTEAMS))
    payload["alerts"][0]["labels"]["service"] = "checkout"
    assert parse(payload)[0].service_ref == "checkout"


def test_a_notification_without_alerts_is_unsupported() -> None:
    payload = copy.deepcopy(fixture(ZULIP))
    payload["alerts"] = []
    with pytest.raises(Unsupported, match="without alerts"):
        parse(payload)
    assert alertmanager_replay.delivery_key(delivery(payload)) is None


def changed(name: str, index: int, **alert: Any) -> Any:
    payload = copy.deepcopy(fixture(name))
    payload["alerts"][index].update(alert)
    return payload


def _without_status(name: str) -> Any:
    payload = copy.deepcopy(fixture(name))
    del payload["status"]
    return payload


@pytest.mark.parametrize(
    ("payload", "pointer"),
    [
        pytest.param([], "", id="not-an-object"),
        pytest.param({"status": "firing", "alerts": {}}, "/alerts", id="alerts-not-a-list"),
        pytest.param({"status": "firing"}, "/alerts", id="alerts-missing"),
        pytest.param({"status": "firing", "alerts": [{}, 3]}, "/alerts/0/startsAt", id="empty"),
        pytest.param(changed(ZULIP, 1, startsAt=None), "/alerts/1/startsAt", id="no-start"),
        pytest.param(changed(ZULIP, 1, status="pending"), "/alerts/1/status", id="bad-status"),
        pytest.param(_without_status(MSTEAMS), "/status", id="no-status-anywhere"),
        pytest.param(
            changed(ZULIP, 0, status="resolved"), "/alerts/0/endsAt", id="resolved-zero-end"
        ),
        pytest.param(changed(ZULIP, 0, labels=["a"]), "/alerts/0/labels", id="labels-list"),
        pytest.param(
            changed(ZULIP, 0, labels={"severity": 1}), "/alerts/0/labels", id="label-not-a-string"
        ),
        pytest.param(
            changed(ZULIP, 0, annotations="hot"), "/alerts/0/annotations", id="annotations"
        ),
        pytest.param(
            changed(ZULIP, 1, fingerprint="f" * 201), "/alerts/1", id="fingerprint-too-long"
        ),
    ],
)
def test_malformed(payload: Any, pointer: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse(payload)
    assert caught.value.pointer == pointer


def test_an_alert_that_is_not_an_object() -> None:
    payload = copy.deepcopy(fixture(ZULIP))
    payload["alerts"].append("oops")
    with pytest.raises(PayloadError) as caught:
        parse(payload)
    assert caught.value.pointer == "/alerts/2"
