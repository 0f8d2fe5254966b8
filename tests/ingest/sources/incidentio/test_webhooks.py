"""incident.io deliveries through POST /v1/webhooks/{source} on the real app and Postgres.

Every body is one of the fixtures (tests/fixtures/webhooks/incidentio, one incident's life:
created in triage, accepted, raised to Critical, moved to learning), signed with the official
`standardwebhooks` library as incident.io signs it. The app's clock is NOW, ten seconds
after the last step, and the signed-time tolerance is at its default (a day).
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from standardwebhooks import Webhook

from service import db as dbmod
from service.config import Settings
from tests.conftest import app_client
from tests.ingest.fixtures import fixture, fixture_bytes
from tests.ingest.sources.records import incident_view, replayed_with_rule
from tests.ingest.test_pipeline import (
    Headers,
    Json,
    assert_applied,
    assert_unauthorized,
    assert_unmapped,
    create_service,
    create_source,
    deliveries,
    rejections,
    stored_counts,
)


def path(event: str, name: str) -> str:
    """A fixture's path: events are filed under incident.io's event type."""
    return f"incidentio/{event}/incidentio_{name}.json"


CREATED = path("public_incident.incident_created_v2", "created_in_triage")
ACCEPTED = path("public_incident.incident_status_updated_v2", "accepted")
RAISED = path("public_incident.incident_updated_v2", "severity_raised")
RESOLVED = path("public_incident.incident_status_updated_v2", "resolved")
PRIVATE = path("private_incident.incident_created_v2", "private_created")
FOLLOW_UP = path("public_incident.follow_up_created_v2", "follow_up_created")
LIFE = [CREATED, ACCEPTED, RAISED, RESOLVED]

#: A Standard Webhooks signing secret: "whsec_" and the base64 of its 24-byte key.
SECRET = "whsec_" + base64.b64encode(b"incident-io-signing-key!").decode()
NOW = dt.datetime(2026, 11, 3, 10, 5, 55, tzinfo=dt.UTC)
DAY = 86_400
INCIDENT_ID = "01JC2H7V4N8Q1S5U9W3Y6A0C2E"
SERVICE_FIELD = "01JB7Q6P0S4V1X8Z2B5D7F9H3K"
TEAM_FIELD = "01JB7Q6P0S4V1X8Z2B5D7F9H3M"

#: The incident as its four steps tell it, whatever order they arrive in.
LIFE_RECORD: Json = {
    "external_id": INCIDENT_ID,
    "source": "incidentio",
    "service": "checkout",  # first "Affected services" value "Checkout API", by the rule
    "severity": "sev1",  # "Critical" since 09:31 (was "Major": sev2)
    "priority": None,
    "status": "resolved",  # category learning
    "title": "Card payments time out at checkout",
    "url": "https://app.incident.io/example-shop/incidents/318",
    "started_at": "2026-11-03T09:02:00Z",  # the "Impact started" timestamp
    "detected_at": "2026-11-03T09:14:05.120000Z",  # created_at
    "acknowledged_at": "2026-11-03T09:20:30Z",  # triage -> live, at updated_at
    "resolved_at": "2026-11-03T10:05:45Z",  # live -> learning, at updated_at
    "timeline": [
        # (at, what, event key): the key is the event type's last part and the step's time
        (at, what, f"{event}:{at}")
        for at, what, event in [
            ("2026-11-03T09:14:05.120000Z", "triggered", "incident_created_v2"),
            ("2026-11-03T09:20:30Z", "acknowledged", "incident_status_updated_v2"),
            ("2026-11-03T09:31:00Z", "updated", "incident_updated_v2"),
            ("2026-11-03T10:05:45Z", "resolved", "incident_status_updated_v2"),
        ]
    ],
}  # fmt: skip


def signed(body: bytes, msg_id: str, at: dt.datetime = NOW, secret: str = SECRET) -> Headers:
    """The headers incident.io sends with `body`, signed by the reference library."""
    signature = Webhook(secret).sign(msg_id, at, body.decode())
    return {
        "Content-Type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
    }


def msg_id(relative: str) -> str:
    return "msg_" + relative.rsplit("/", 1)[1].removesuffix(".json")


@pytest.fixture
async def client(con: dbmod.Connection, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app at NOW, checking signed times with the default tolerance of a day."""
    checked = settings.model_copy(update={"webhook_event_time_tolerance_seconds": DAY})
    async with app_client(con, checked, lambda: NOW) as app:
        yield app


async def register(
    client: httpx.AsyncClient, admin: Headers, *, rules: bool = True, **fields: Any
) -> None:
    await create_service(client, admin, "checkout")
    service_rules = [{"match": {"ref": "Checkout API"}, "service": "checkout"}] if rules else []
    await create_source(
        client, admin, "incidentio", "incidentio", SECRET, service_rules=service_rules, **fields
    )


async def post(client: httpx.AsyncClient, body: bytes, headers: Headers) -> httpx.Response:
    return await client.post("/v1/webhooks/incidentio", content=body, headers=headers)


async def deliver(client: httpx.AsyncClient, relative: str) -> httpx.Response:
    body = fixture_bytes(relative)
    return await post(client, body, signed(body, msg_id(relative)))


async def record(client: httpx.AsyncClient, reader: Headers, incident_id: int) -> Json:
    return await incident_view(client, reader, incident_id, LIFE_RECORD)


# Signatures -------------------------------------------------------------------------------------


def test_the_reference_library_accepts_what_the_tests_send() -> None:
    body = fixture_bytes(CREATED)
    headers = signed(body, "msg_1", dt.datetime.now(dt.UTC))
    assert Webhook(SECRET).verify(body, headers) == fixture(CREATED)


async def test_a_signed_delivery_is_applied_and_logged_without_its_signature(
    client: httpx.AsyncClient, admin: Headers, reader: Headers, con: dbmod.Connection
) -> None:
    await register(client, admin)
    outcome = assert_applied(await deliver(client, CREATED))
    [incident_id] = outcome["incidents"]
    assert (
        await record(client, reader, incident_id)
        == {
            **LIFE_RECORD,
            "severity": "sev2",  # "Major"
            "status": "open",  # category triage
            "acknowledged_at": None,
            "resolved_at": None,
            "timeline": LIFE_RECORD["timeline"][:1],
        }
    )
    [row] = await deliveries(con)
    assert (row["delivery_key"], row["status"]) == (msg_id(CREATED), "applied")
    headers = await con.fetchval("select headers from delivery where id = $1", row["id"])
    assert "webhook-signature" not in headers
    assert headers["webhook-id"] == msg_id(CREATED)


async def test_a_one_byte_change_a_wrong_secret_or_a_changed_id_is_refused(
    client: httpx.AsyncClient, admin: Headers, con: dbmod.Connection
) -> None:
    await register(client, admin)
    body = fixture_bytes(CREATED)
    headers = signed(body, "msg_a")
    tampered = body.replace(b"INC-318", b"INC-319", 1)
    assert len(tampered) == len(body) and tampered != body
    other_key = "whsec_" + base64.b64encode(b"not-the-signing-key-at-all").decode()
    refused = [
        (tampered, headers),
        (body, signed(body, "msg_a", secret=other_key)),
        (body, {**headers, "webhook-id": "msg_b"}),  # the id is signed
        (body, {**headers, "webhook-timestamp": str(int(NOW.timestamp()) + 1)}),
        (body, {k: v for k, v in headers.items() if k != "webhook-signature"}),
        (body, {**headers, "webhook-signature": "v2," + headers["webhook-signature"][3:]}),
        (body, {**headers, "webhook-timestamp": f"{int(NOW.timestamp())}.0"}),
    ]  # fmt: skip
    for sent, sent_headers in refused:
        assert_unauthorized(await post(client, sent, sent_headers))
    assert await deliveries(con) == []
    assert await rejections(con) == {"incidentio": len(refused)}
    assert (await stored_counts(con))["incident"] == 0

    # Several signatures (a secret being rotated): any one may match.
    older = signed(body, "msg_a", secret=other_key)["webhook-signature"]
    rotated = f"{older} {headers['webhook-signature']}"
    assert_applied(await post(client, body, {**headers, "webhook-signature": rotated}))


async def test_a_timestamp_signed_more_than_a_day_away_is_refused_as_late(
    client: httpx.AsyncClient, admin: Headers, con: dbmod.Connection
) -> None:
    await register(client, admin)
    body = fixture_bytes(CREATED)
    late = NOW - dt.timedelta(days=1, seconds=1)
    answer = await post(client, body, signed(body, "msg_late", at=late))
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["header"] == "webhook-timestamp"
    assert problem["detail"] == (
        "webhook-timestamp: signed time 2026-11-02T10:05:54Z is more than 86400 s "
        "(KPI_WEBHOOK_EVENT_TIME_TOLERANCE_SECONDS) away from the time the delivery arrived: "
        "a delivery replayed late is refused"
    )
    assert await deliveries(con) == []
    reasons = await con.fetch("select reason, count from webhook_rejection")
    assert [(r["reason"], r["count"]) for r in reasons] == [("timestamp", 1)]
    # A day exactly is still a genuine late retry.
    assert_applied(await post(client, body, signed(body, "msg_day", at=NOW - dt.timedelta(days=1))))


# Duplicates and order ---------------------------------------------------------------------------


async def test_a_retry_with_the_same_webhook_id_is_a_duplicate_even_signed_anew(
    client: httpx.AsyncClient, admin: Headers, con: dbmod.Connection
) -> None:
    await register(client, admin)
    body = fixture_bytes(ACCEPTED)
    first = assert_applied(await post(client, body, signed(body, "msg_retry")))
    # incident.io signs each attempt again, with the time of that attempt.
    again = signed(body, "msg_retry", at=NOW + dt.timedelta(minutes=5))
    for headers in (signed(body, "msg_retry"), again):
        answer = await post(client, body, headers)
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "duplicate"
        assert answer.json()["delivery_id"] == first["delivery_id"]
    assert [r["status"] for r in await deliveries(con)] == ["applied"]
    assert (await stored_counts(con))["incident_event"] == 1


@pytest.mark.parametrize("order", [LIFE, LIFE[::-1], [RAISED, CREATED, RESOLVED, ACCEPTED]])
async def test_the_steps_in_any_order_give_the_same_incident(
    client: httpx.AsyncClient, admin: Headers, reader: Headers, order: list[str]
) -> None:
    await register(client, admin)
    ids = {assert_applied(await deliver(client, name))["incidents"][0] for name in order}
    [incident_id] = ids
    assert await record(client, reader, incident_id) == LIFE_RECORD


async def test_a_status_update_sent_under_another_id_adds_nothing(
    client: httpx.AsyncClient, admin: Headers, reader: Headers, con: dbmod.Connection
) -> None:
    """Both an `updated` and a `status_updated` event are what incident.io may send for one
    change; the same event under a second message id is the same step."""
    await register(client, admin)
    for name in LIFE:
        assert_applied(await deliver(client, name))
    body = fixture_bytes(RESOLVED)
    outcome = assert_applied(await post(client, body, signed(body, "msg_other")))
    assert await record(client, reader, outcome["incidents"][0]) == LIFE_RECORD
    assert (await stored_counts(con))["incident_event"] == 4


# Unmapped and malformed -------------------------------------------------------------------------


async def test_private_incidents_and_follow_ups_are_kept_unmapped_with_the_reason(
    client: httpx.AsyncClient, admin: Headers, con: dbmod.Connection
) -> None:
    await register(client, admin)
    private = assert_unmapped(await deliver(client, PRIVATE))
    assert private["detail"] == (
        "incident.io sends only the id of a private incident "
        "(private_incident.incident_created_v2): not mapped"
    )
    follow_up = assert_unmapped(await deliver(client, FOLLOW_UP))
    assert follow_up["detail"] == (
        "incident.io event public_incident.follow_up_created_v2 is not used"
    )
    payload = copy.deepcopy(fixture(CREATED))
    payload["public_incident.incident_created_v2"]["mode"] = "test"
    body = orjson.dumps(payload)
    test_mode = assert_unmapped(await post(client, body, signed(body, "msg_test")))
    assert test_mode["detail"] == "incident.io test incidents are not counted"
    assert [r["status"] for r in await deliveries(con)] == ["unmapped"] * 3
    assert (await stored_counts(con))["incident"] == 0


async def test_an_unknown_service_is_kept_then_replayed_once_a_rule_names_it(
    client: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await register(client, admin, rules=False)
    problem = assert_unmapped(await deliver(client, CREATED))
    assert "Checkout API" in problem["detail"]
    rule = {"match": {"service:Payments Gateway": "true"}, "service": "checkout"}
    source = {"name": "incidentio", "kind": "incidentio"}
    [incident_id] = await replayed_with_rule(client, admin, source, rule, problem["delivery_id"])
    assert (await record(client, reader, incident_id))["service"] == "checkout"


async def test_a_status_category_incident_io_does_not_have_is_422_naming_it(
    client: httpx.AsyncClient, admin: Headers, con: dbmod.Connection
) -> None:
    await register(client, admin)
    payload = copy.deepcopy(fixture(ACCEPTED))
    payload["public_incident.incident_status_updated_v2"]["new_status"]["category"] = "done"
    body = orjson.dumps(payload)
    answer = await post(client, body, signed(body, "msg_bad"))
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["errors"]
    assert error["pointer"] == ("#/public_incident.incident_status_updated_v2/new_status/category")
    assert [r["status"] for r in await deliveries(con)] == ["invalid"]


# Options ----------------------------------------------------------------------------------------


async def test_the_service_field_is_a_source_option(
    client: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    """`options.service_field_id` names the "Owning team" field: its value "Payments squad"
    is the service rules' ref."""
    await create_service(client, admin, "payments")
    created = await create_source(
        client, admin, "incidentio", "incidentio", SECRET,
        options={"service_field_id": TEAM_FIELD},
        service_rules=[{"match": {"ref": "Payments squad"}, "service": "payments"}],
    )  # fmt: skip
    assert created["options"] == {
        "service_field_id": TEAM_FIELD,
        "service_field_name": "Affected services",
        "impact_started_timestamp": "Impact started",
    }
    [incident_id] = assert_applied(await deliver(client, CREATED))["incidents"]
    assert (await record(client, reader, incident_id))["service"] == "payments"


@pytest.mark.parametrize(
    ("options", "field"),
    [({"service_field_id": 5}, "options.service_field_id"),
     ({"service_field_name": ""}, "options.service_field_name"),
     ({"service_field": SERVICE_FIELD}, "options.service_field")],
)  # fmt: skip
async def test_a_bad_option_is_a_422_naming_it(
    client: httpx.AsyncClient, admin: Headers, options: Json, field: str
) -> None:
    body = {"name": "iio", "kind": "incidentio", "secret": SECRET, "options": options}
    answer = await client.post("/v1/sources", json=body, headers=admin)
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == [field]
