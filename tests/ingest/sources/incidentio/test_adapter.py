"""The incident.io adapter, signature check and replay ids, without a database: the fixtures
(tests/fixtures/webhooks/incidentio), Standard Webhooks signatures made by the reference
library, and the adapter fuzzed on top of the fixtures like every other one."""

from __future__ import annotations

import base64
import copy
import datetime as dt
from typing import Any

import pytest
from standardwebhooks import Webhook

from service.ingest.model import AdapterOptions, Delivery, Unsupported
from service.ingest.proofs import Presented
from service.ingest.sources.incidentio import adapter, replay, verification
from service.models.enums import IncidentStep, Severity
from service.models.events import IncidentEvent
from tests.ingest.fixtures import all_fixtures, fixture, fixture_bytes
from tests.ingest.sources.incidentio.test_webhooks import (
    ACCEPTED,
    CREATED,
    FOLLOW_UP,
    LIFE,
    PRIVATE,
    RAISED,
    RESOLVED,
    SECRET,
)
from tests.security.test_adapter_fuzz import assert_fuzzed

Json = dict[str, Any]

AT = dt.datetime(2026, 11, 3, 10, 6, tzinfo=dt.UTC)
INCIDENT = "01JC2H7V4N8Q1S5U9W3Y6A0C2E"
LABELS = {
    "incident_type": "Customer facing",
    "service:Checkout API": "true",
    "service:Payments Gateway": "true",
}


def utc(hour: int, minute: int, second: int = 0, micro: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, 3, hour, minute, second, micro, tzinfo=dt.UTC)


def event(step: IncidentStep, at: dt.datetime, key: str, **fields: Any) -> IncidentEvent:
    """An event of INC-318 as every fixture tells it, with what differs."""
    common: Json = {
        "external_id": INCIDENT,
        "title": "Card payments time out at checkout",
        "url": "https://app.incident.io/example-shop/incidents/318",
        "service_ref": "Checkout API",
        "detected_at": utc(9, 14, 5, 120000),
        "impact_start": utc(9, 2),
        "text": "Card payments time out at checkout\n"
        "About a third of card payments time out after 30 s; wallets still work.",
    }
    return IncidentEvent(step=step, occurred_at=at, event_key=key, **(common | fields))


#: fixture -> its step, when, its event key, the status and category it states, its severity
STEPS = {
    CREATED: (IncidentStep.TRIGGERED, utc(9, 14, 5, 120000),
              "incident_created_v2:2026-11-03T09:14:05.120000Z", "open", "triage", "Major"),
    ACCEPTED: (IncidentStep.ACKNOWLEDGED, utc(9, 20, 30),
               "incident_status_updated_v2:2026-11-03T09:20:30Z", "acknowledged", "live", "Major"),
    RAISED: (IncidentStep.UPDATED, utc(9, 31),
             "incident_updated_v2:2026-11-03T09:31:00Z", "acknowledged", "live", "Critical"),
    RESOLVED: (IncidentStep.RESOLVED, utc(10, 5, 45),
               "incident_status_updated_v2:2026-11-03T10:05:45Z", "resolved", "learning",
               "Critical"),
}  # fmt: skip
SEVERITY = {"Major": Severity.SEV2, "Critical": Severity.SEV1}
CASES = {
    name: event(step, at, key, status=status, severity=SEVERITY[raw], severity_raw=raw,
                service_labels={**LABELS, "status_category": category})
    for name, (step, at, key, status, category, raw) in STEPS.items()
}  # fmt: skip


def delivery(payload: object, headers: dict[str, str] | None = None) -> Delivery:
    return Delivery(headers=headers or {}, payload=payload)


def parse(payload: object, **options: Any) -> list[IncidentEvent]:
    given = AdapterOptions(kind_options=options)
    return adapter.parse(delivery(payload), given).incidents


def test_every_incidentio_fixture_is_covered() -> None:
    assert sorted([*CASES, PRIVATE, FOLLOW_UP]) == [
        f for f in all_fixtures() if f.startswith("incidentio/")
    ]


@pytest.mark.parametrize("name", LIFE)
def test_fixture(name: str) -> None:
    payload = fixture(name)
    assert adapter.event_type(delivery(payload)) == payload["event_type"]
    assert parse(payload) == [CASES[name]]


@pytest.mark.parametrize(
    ("before", "after", "step"),
    [
        ("triage", "live", IncidentStep.ACKNOWLEDGED),
        ("triage", "paused", IncidentStep.ACKNOWLEDGED),
        ("live", "paused", IncidentStep.UPDATED),
        ("live", "closed", IncidentStep.RESOLVED),
        ("triage", "declined", IncidentStep.RESOLVED),
        ("live", "merged", IncidentStep.RESOLVED),
        ("learning", "closed", IncidentStep.UPDATED),
        ("closed", "live", IncidentStep.REOPENED),
        ("learning", "triage", IncidentStep.REOPENED),
    ],
)
def test_the_step_of_a_status_change_comes_from_the_two_categories(
    before: str, after: str, step: IncidentStep
) -> None:
    payload = copy.deepcopy(fixture(ACCEPTED))
    data = payload["public_incident.incident_status_updated_v2"]
    data["previous_status"]["category"] = before
    data["new_status"]["category"] = data["incident"]["incident_status"]["category"] = after
    [parsed] = parse(payload)
    assert parsed.step is step
    assert parsed.service_labels["status_category"] == after


@pytest.mark.parametrize(
    ("name", "severity"),
    [("Critical", Severity.SEV1), ("minor", Severity.SEV3), ("SEV4", Severity.SEV4),
     ("Sev 5", Severity.SEV5), ("P2", Severity.SEV2), ("SEV0", None), ("Urgent", None)],
)  # fmt: skip
def test_severity_by_name(name: str, severity: Severity | None) -> None:
    payload = copy.deepcopy(fixture(CREATED))
    payload["public_incident.incident_created_v2"]["severity"]["name"] = name
    [parsed] = parse(payload)
    assert (parsed.severity, parsed.severity_raw) == (severity, name)


def test_the_service_field_and_impact_timestamp_are_options() -> None:
    # The "Owning team" field (a single select) instead of "Affected services".
    [by_id] = parse(fixture(CREATED), service_field_id="01JB7Q6P0S4V1X8Z2B5D7F9H3M")
    assert by_id.service_ref == "Payments squad"
    [by_name] = parse(fixture(CREATED), service_field_name="owning TEAM")
    assert by_name.service_ref == "Payments squad"
    [none] = parse(fixture(CREATED), service_field_name="Region")
    assert (none.service_ref, none.service_labels) == (
        None, {"incident_type": "Customer facing", "status_category": "triage"}
    )  # fmt: skip
    # "Reported at" (09:14:05.120) as the impact start; a timestamp without a value: none.
    [reported] = parse(fixture(CREATED), impact_started_timestamp="reported at")
    assert reported.impact_start == utc(9, 14, 5, 120000)
    [unset] = parse(fixture(CREATED), impact_started_timestamp="Resolved at")
    assert unset.impact_start is None


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        (PRIVATE, "incident.io sends only the id of a private incident "
                  "(private_incident.incident_created_v2): not mapped"),
        (FOLLOW_UP, "incident.io event public_incident.follow_up_created_v2 is not used"),
    ],
)  # fmt: skip
def test_deliveries_about_no_public_incident_are_unsupported(name: str, reason: str) -> None:
    with pytest.raises(Unsupported, match=r"^incident\.io ") as raised:
        parse(fixture(name))
    assert str(raised.value) == reason


# Signatures -------------------------------------------------------------------------------------


def presented(body: bytes, headers: dict[str, str], secret: str = SECRET) -> Presented:
    return Presented(headers, {}, body, secret, None)


def library_headers(body: bytes, secret: str = SECRET, msg_id: str = "msg_1") -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(AT.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, AT, body.decode()),
    }


def test_what_the_reference_library_signs_verifies_whatever_the_secret_looks_like() -> None:
    body = fixture_bytes(CREATED)
    key = b"0123456789abcdefghijklmnopqrstuv"  # 32 bytes: base64 without padding ends "dg"
    plain = base64.b64encode(key).decode()
    for secret in (SECRET, plain, "whsec_" + plain.rstrip("=")):
        assert verification.verify(presented(body, library_headers(body, secret), secret))
    assert verification.signing_key("whsec_" + plain) == key
    assert verification.signing_key("not base64 at all!") is None
    assert verification.signing_key("whsec_") is None


def test_a_signature_of_other_headers_or_secrets_does_not_verify() -> None:
    body = fixture_bytes(CREATED)
    headers = library_headers(body)
    assert verification.verify(presented(body, headers))
    assert not verification.verify(presented(body, headers, secret="whsec_" + "A" * 32))
    assert not verification.verify(presented(body, headers, secret="plain-text secret"))
    for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        assert not verification.verify(presented(body, {**headers, name: ""}))
    assert not verification.verify(presented(body, {**headers, "webhook-timestamp": "-1"}))


def test_replay_ids_come_from_the_signed_headers_and_never_raise() -> None:
    headers = library_headers(fixture_bytes(CREATED))
    given = delivery(fixture(CREATED), headers)
    assert replay.delivery_key(given) == "msg_1"
    assert replay.signed_key(given) is None
    [signed] = replay.signed_times(given)
    assert (signed.where, signed.at) == ("webhook-timestamp", AT)
    for stamp in ("", "soon", "1e9", "\u0661\u0662", "9" * 30):
        odd = delivery("not an object", {"webhook-timestamp": stamp})
        assert replay.signed_times(odd) == []
        assert replay.delivery_key(odd) is None
        assert adapter.event_type(odd) == "unknown"


# Fuzzed ------------------------------------------------------------------------------------------


def test_the_adapter_never_raises_anything_but_its_documented_refusals() -> None:
    """tests/security/test_adapter_fuzz.py's run, on these fixtures."""
    assert_fuzzed(adapter.KIND)
