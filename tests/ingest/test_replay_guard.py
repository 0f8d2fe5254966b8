"""Old signed deliveries cannot be replayed: the attacks of the hardening review, each through
POST /v1/webhooks/{source} on the real app and Postgres.

A captured delivery sent again under a fresh delivery id (PagerDuty's X-Webhook-Id, GitHub's
X-GitHub-Delivery: unsigned headers) is a duplicate by what the signature covers: the event id
in the body and the body's SHA-256. A PagerDuty event signed long ago is refused as late. A
GitHub body sent under another X-GitHub-Event is refused. Alertmanager, whose identical bodies
mean something again, is still applied every time.

The app's clock is set per test, with the signed-time tolerance at its default (a day); the
rest of the suite sends the published fixtures with the check off (tests/conftest.py).
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import hashlib
import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from service import db as dbmod
from service.config import Settings
from tests.conftest import app_client
from tests.ingest.fixtures import fixture, fixture_bytes
from tests.ingest.test_webhook_fixtures import SOURCES, register, signed_headers

Json = dict[str, Any]
Headers = dict[str, str]

PD_TRIGGERED = "pagerduty/v3/incident.triggered/zulip_triggered_v3.json"
PD_V2 = "pagerduty/v2/incident.trigger/go-pagerduty_webhook_test_payload.json"
GH_STATUS = "github/deployment_status/octokit_payload.json"
GH_PUSH = "github/push/octokit_with-new-branch_payload.json"
GL_SUCCEEDED = "gitlab/deployment/zulip_deployment_hook__succeeded.json"
AM_FIRING = "alertmanager/firing/alertmanager-bot_firing_sh_body.json"
AM_RESOLVED = "alertmanager/resolved/alertmanager-bot_resolved_sh_body.json"

#: The triggered fixture's event happened at 2021-06-04T13:35:29.781Z; PagerDuty sent it then.
PD_SENT = dt.datetime(2021, 6, 4, 13, 36, tzinfo=dt.UTC)
#: The day of the review: the same event replayed more than five years later.
TODAY = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)
DAY = 86_400
OTHER_DELIVERY = "; the same signed delivery under another delivery id"


@contextlib.asynccontextmanager
async def service_at(
    con: dbmod.Connection, settings: Settings, now: dt.datetime
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its clock at `now` and the signed-time tolerance at its default."""
    checked = settings.model_copy(update={"webhook_event_time_tolerance_seconds": DAY})
    assert Settings().webhook_event_time_tolerance_seconds == DAY
    async with app_client(con, checked, lambda: now) as client:
        yield client


async def post(
    client: httpx.AsyncClient, kind: str, body: bytes, headers: Headers
) -> httpx.Response:
    return await client.post(f"/v1/webhooks/{SOURCES[kind]['name']}", content=body,
                             headers=headers)  # fmt: skip


def pagerduty_headers(body: bytes, webhook_id: str) -> Headers:
    """As PagerDuty sends a delivery: signed with the source's secret, with its webhook id."""
    return {**signed_headers(PD_TRIGGERED, body), "X-Webhook-Id": webhook_id}


async def post_github(
    client: httpx.AsyncClient, relative: str, event: str, guid: str
) -> httpx.Response:
    """The fixture's body, signed, as the `event` GitHub delivery `guid`."""
    body = fixture_bytes(relative)
    headers = {**signed_headers(relative, body), "X-GitHub-Event": event,
               "X-GitHub-Delivery": guid}  # fmt: skip
    return await post(client, "github", body, headers)


async def rows(con: dbmod.Connection, table: str) -> int:
    count: int = await con.fetchval(f"select count(*) from {table}")
    return count


async def logged(con: dbmod.Connection) -> list[tuple[str | None, str]]:
    """The delivery log: (delivery key, status) in order."""
    found = await con.fetch("select delivery_key, status from delivery order by id")
    return [(r["delivery_key"], r["status"]) for r in found]


def duplicate_of(delivery_id: int, detail: str) -> Json:
    return {"delivery_id": delivery_id, "status": "duplicate", "detail": detail,
            "incidents": [], "changes": [], "commits": 0}  # fmt: skip


# PagerDuty: replayed under a fresh X-Webhook-Id ------------------------------------------------


async def test_a_pagerduty_event_replayed_under_a_fresh_webhook_id_is_a_duplicate_with_no_effect(
    con: dbmod.Connection, settings: Settings, admin: Headers, reader: Headers
) -> None:
    body = fixture_bytes(PD_TRIGGERED)
    async with service_at(con, settings, PD_SENT) as client:
        await register(client, admin, "pagerduty")
        first = await post(client, "pagerduty", body, pagerduty_headers(body, "wh-original"))
        assert first.status_code == 200, first.text
        applied = first.json()
        assert applied["status"] == "applied"
        [incident_id] = applied["incidents"]
        before = (await client.get(f"/v1/incidents/{incident_id}", headers=reader)).json()
        touched = await con.fetchval("select updated_at from incident where id = $1", incident_id)

        # The captured delivery, byte for byte with its signature, under a new webhook id.
        replay = await post(client, "pagerduty", body, pagerduty_headers(body, "wh-fresh"))
        assert replay.status_code == 200, replay.text
        assert replay.json() == duplicate_of(
            applied["delivery_id"], "already received (first outcome: applied)" + OTHER_DELIVERY
        )
        # No effect: one delivery logged, one step, the incident as it was, not even touched.
        assert await logged(con) == [("wh-original", "applied")]
        assert await rows(con, "incident_event") == 1
        after = (await client.get(f"/v1/incidents/{incident_id}", headers=reader)).json()
        assert after == before
        assert await con.fetchval(
            "select updated_at from incident where id = $1", incident_id
        ) == touched  # fmt: skip


async def test_the_same_pagerduty_event_in_another_body_is_a_duplicate_by_its_event_id(
    con: dbmod.Connection, settings: Settings, admin: Headers
) -> None:
    """Only PagerDuty can sign another body for the same event (here: the same JSON written
    with indentation, so its digest differs); its event id, in the signed body, is the same."""
    body = fixture_bytes(PD_TRIGGERED)
    reserialized = orjson.dumps(fixture(PD_TRIGGERED), option=orjson.OPT_INDENT_2)
    assert hashlib.sha256(reserialized).digest() != hashlib.sha256(body).digest()
    async with service_at(con, settings, PD_SENT) as client:
        await register(client, admin, "pagerduty")
        first = (await post(client, "pagerduty", body, pagerduty_headers(body, "wh-1"))).json()
        again = await post(client, "pagerduty", reserialized,
                           pagerduty_headers(reserialized, "wh-2"))  # fmt: skip
        assert again.status_code == 200, again.text
        assert again.json() == duplicate_of(
            first["delivery_id"], "already received (first outcome: applied)" + OTHER_DELIVERY
        )
    assert await logged(con) == [("wh-1", "applied")]
    stored = await con.fetchrow("select signed_key, body_sha256 from delivery")
    assert (stored["signed_key"], bytes(stored["body_sha256"])) == (
        "01BZYIL05THJDFF2Y08X9SVMTU", hashlib.sha256(body).digest()
    )  # fmt: skip


# PagerDuty: an event signed long ago ---------------------------------------------------------


async def rejection_record(client: httpx.AsyncClient, admin: Headers) -> list[Json]:
    answer = await client.get("/v1/webhook-rejections", headers=admin)
    assert answer.status_code == 200, answer.text
    found: list[Json] = answer.json()
    return found


async def test_a_2021_pagerduty_event_sent_today_is_refused_as_late_and_nothing_is_stored(
    con: dbmod.Connection, settings: Settings, admin: Headers
) -> None:
    """The review's attack: a captured 2021 event sent again with a fresh id. The signature is
    good, but PagerDuty signed the event's time with it: 13:35:29.781 on 4 June 2021, more
    than a day before the delivery arrived."""
    body = fixture_bytes(PD_TRIGGERED)
    async with service_at(con, settings, TODAY) as client:
        await register(client, admin, "pagerduty")
        answer = await post(client, "pagerduty", body, pagerduty_headers(body, "wh-fresh"))
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        detail = (
            "signed time 2021-06-04T13:35:29.781000Z is more than 86400 s "
            "(KPI_WEBHOOK_EVENT_TIME_TOLERANCE_SECONDS) away from the time the delivery "
            "arrived: a delivery replayed late is refused"
        )
        assert answer.json() == {
            "type": "https://kpi.example/problems/validation",
            "title": "Unprocessable Content",
            "status": 422,
            "detail": f"event.occurred_at: {detail}",
            "instance": "/v1/webhooks/pagerduty-acme",
            "errors": [{"pointer": "#/event/occurred_at", "field": "event.occurred_at",
                        "detail": detail}],
            "limit": "signed_time_tolerance",
            "tolerance_seconds": DAY,
        }  # fmt: skip

        # v2 messages carry their time as created_on: 26 September 2017.
        v2 = fixture_bytes(PD_V2)
        answer = await post(client, "pagerduty", v2, signed_headers(PD_V2, v2))
        assert answer.status_code == 422, answer.text
        assert [e["field"] for e in answer.json()["errors"]] == ["messages.0.created_on"]

        # Nothing stored, nothing claimed; counted in the bounded record, reason timestamp.
        assert await logged(con) == []
        assert (await rows(con, "incident"), await rows(con, "incident_event")) == (0, 0)
        [record] = await rejection_record(client, admin)
        assert (record["source"], record["kind"], record["reason"], record["count"]) == (
            "pagerduty-acme", "pagerduty", "timestamp", 2
        )  # fmt: skip
        assert [s["headers"].get("x-webhook-id") for s in record["samples"]] == [
            None, "wh-fresh"
        ]  # fmt: skip
        assert all("x-pagerduty-signature" not in s["headers"] for s in record["samples"])


def pd_event_at(occurred_at: str, event_id: str) -> bytes:
    payload = copy.deepcopy(fixture(PD_TRIGGERED))
    payload["event"].update(occurred_at=occurred_at, id=event_id)
    return orjson.dumps(payload)


@pytest.mark.parametrize(
    ("occurred_at", "status"),
    [
        ("2026-12-05T12:00:00Z", 200),  # a day before the arrival: a late retry, taken
        ("2026-12-05T11:59:59.999Z", 422),  # a millisecond more
        ("2026-12-07T12:00:00Z", 200),  # a day ahead (a clock running fast)
        ("2026-12-07T12:00:00.001Z", 422),
    ],
)
async def test_the_tolerance_is_a_day_either_way(
    con: dbmod.Connection, settings: Settings, admin: Headers, occurred_at: str, status: int
) -> None:
    body = pd_event_at(occurred_at, "EV-EDGE")
    async with service_at(con, settings, TODAY) as client:
        await register(client, admin, "pagerduty")
        answer = await post(client, "pagerduty", body, pagerduty_headers(body, "wh-edge"))
    assert answer.status_code == status, answer.text
    assert await rows(con, "incident_event") == (1 if status == 200 else 0)


async def test_a_kept_delivery_is_replayed_by_an_admin_however_old_its_event(
    con: dbmod.Connection, settings: Settings, admin: Headers
) -> None:
    """The check is made on arrival only: a delivery kept as unmapped (its source had no rule
    yet) is applied by POST /v1/deliveries/{id}/replay whenever the rule comes."""
    body = fixture_bytes(PD_TRIGGERED)
    async with service_at(con, settings, PD_SENT) as client:
        # No business service for PagerDuty's "pig208" yet: the delivery is kept, unmapped.
        source = {**SOURCES["pagerduty"], "service_rules": []}
        resp = await client.post("/v1/sources", headers=admin, json=source)
        assert resp.status_code == 201, resp.text
        kept = await post(client, "pagerduty", body, pagerduty_headers(body, "wh-1"))
        assert kept.status_code == 202, kept.text
    async with service_at(con, settings, TODAY) as client:
        service = {"slug": "pig208", "name": "pig208", "tier": 2}
        resp = await client.post("/v1/services", headers=admin, json=service)
        assert resp.status_code == 201, resp.text
        replayed = await client.post(
            f"/v1/deliveries/{kept.json()['delivery_id']}/replay", headers=admin
        )
        assert replayed.status_code == 200, replayed.text
        assert replayed.json()["status"] == "applied"
    assert await logged(con) == [("wh-1", "applied")]
    assert await rows(con, "incident_event") == 1


# GitHub: the same body under another X-GitHub-Delivery, or another X-GitHub-Event --------------


async def test_a_github_body_sent_again_under_a_new_delivery_guid_is_a_duplicate(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, reader: Headers
) -> None:
    """GitHub puts no id in the signed body: its SHA-256 is the key the signature covers."""
    await register(client, admin, "github")
    first = await post_github(client, GH_STATUS, "deployment_status", "guid-1")
    applied = first.json()
    assert (first.status_code, applied["status"]) == (200, "applied"), first.text
    replay = await post_github(client, GH_STATUS, "deployment_status", "guid-2")
    assert replay.status_code == 200, replay.text
    assert replay.json() == duplicate_of(
        applied["delivery_id"], "already received (first outcome: applied)" + OTHER_DELIVERY
    )
    # GitHub's own redelivery keeps the GUID: a duplicate by it, as before.
    redelivered = await post_github(client, GH_STATUS, "deployment_status", "guid-1")
    assert redelivered.json() == duplicate_of(
        applied["delivery_id"], "already received (first outcome: applied)"
    )
    assert await logged(con) == [("guid-1", "applied")]
    [change_id] = applied["changes"]
    change = (await client.get(f"/v1/changes/{change_id}", headers=reader)).json()
    assert [(e["what"], e["delivery_id"]) for e in change["timeline"]] == [
        ("success", applied["delivery_id"])
    ]


async def test_a_github_push_body_under_x_github_event_deployment_status_is_refused(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers
) -> None:
    """X-GitHub-Event is not signed: a push body sent as a deployment status would otherwise
    be read as one. It is a 422 naming the header and the member the body lacks, logged as
    invalid, and nothing is stored."""
    await register(client, admin, "github")
    answer = await post_github(client, GH_PUSH, "deployment_status", "guid-push")
    assert answer.status_code == 422, answer.text
    detail = (
        "required by X-GitHub-Event: deployment_status: the body has no deployment_status member"
    )
    assert answer.json() == {
        "type": "https://kpi.example/problems/validation",
        "title": "Unprocessable Content",
        "status": 422,
        "detail": f"the payload is not a valid github delivery: #/deployment_status: {detail}",
        "instance": "/v1/webhooks/github-acme",
        "errors": [{"pointer": "#/deployment_status", "field": "deployment_status",
                    "detail": detail}],
        "header": "X-GitHub-Event",
    }  # fmt: skip
    assert await logged(con) == [("guid-push", "invalid")]
    assert (await rows(con, "change"), await rows(con, "commit_time")) == (0, 0)


async def test_a_signed_body_that_is_not_json_is_logged_once_however_often_it_comes(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers
) -> None:
    """Each is refused, but only the first is logged: replaying it cannot grow the log."""
    await register(client, admin, "github")
    body = b"not json{"
    for guid in ("guid-a", "guid-b", "guid-c"):
        headers = {**signed_headers(GH_PUSH, body), "X-GitHub-Delivery": guid}
        answer = await post(client, "github", body, headers)
        assert answer.status_code == 422, answer.text
        assert [e["pointer"] for e in answer.json()["errors"]] == ["#"]
    assert await logged(con) == [(None, "invalid")]


# Sources whose bodies are not signed -----------------------------------------------------------


async def test_an_identical_alertmanager_firing_body_after_the_resolution_still_reopens(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, reader: Headers
) -> None:
    """Alertmanager retracts a resolution by sending the alert firing again: here the very
    bytes of its first notification (startsAt 21:43:58.283995, endsAt 21:53, after the
    resolution at 21:48:13.283995). It is applied, not dropped as a duplicate: the incident
    is open again from the resolution on."""
    firing = copy.deepcopy(fixture(AM_FIRING))
    firing["alerts"][0]["endsAt"] = "2018-11-04T21:53:00Z"
    firing_body = orjson.dumps(firing)
    resolved_body = fixture_bytes(AM_RESOLVED)
    bearer = {"Content-Type": "application/json",
              "Authorization": f"Bearer {SOURCES['alertmanager']['secret']}"}  # fmt: skip
    await register(client, admin, "alertmanager")
    outcomes = []
    for body in (firing_body, resolved_body, firing_body):
        answer = await post(client, "alertmanager", body, bearer)
        assert answer.status_code == 200, answer.text
        outcomes.append(answer.json()["status"])
    assert outcomes == ["applied", "applied", "applied"]
    [incident] = (await client.get("/v1/incidents?service=fire", headers=reader)).json()
    assert (incident["status"], incident["resolved_at"]) == ("open", None)
    detail = (await client.get(f"/v1/incidents/{incident['id']}", headers=reader)).json()
    assert [(e["at"], e["what"]) for e in detail["timeline"]] == [
        ("2018-11-04T21:43:58.283995Z", "triggered"),
        ("2018-11-04T21:48:13.283995Z", "resolved"),
        ("2018-11-04T21:48:13.283995Z", "reopened"),
    ]
    claims = await con.fetch("select signed_key, body_sha256 from delivery order by id")
    assert [(c["signed_key"], c["body_sha256"]) for c in claims] == [(None, None)] * 3


async def test_a_gitlab_body_under_a_new_event_uuid_is_applied_and_its_step_kept_once(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, reader: Headers
) -> None:
    """GitLab sends its token, not a signature: its body proves no more than the token does,
    so it is not deduplicated by digest; the step is kept once by its own key all the same."""
    await register(client, admin, "gitlab")
    body = fixture_bytes(GL_SUCCEEDED)
    changes = set()
    for uuid in ("uuid-1", "uuid-2"):
        headers = {**signed_headers(GL_SUCCEEDED, body), "X-Gitlab-Event-UUID": uuid}
        answer = await post(client, "gitlab", body, headers)
        assert (answer.status_code, answer.json()["status"]) == (200, "applied"), answer.text
        changes.update(answer.json()["changes"])
    assert await logged(con) == [("uuid-1", "applied"), ("uuid-2", "applied")]
    [change_id] = changes
    change = (await client.get(f"/v1/changes/{change_id}", headers=reader)).json()
    assert [e["what"] for e in change["timeline"]] == ["success"]


# The migration: deliveries logged before are known by their digest -----------------------------

MIGRATION = "delivery_signed_keys"


@pytest.fixture
async def schema_before(con: dbmod.Connection) -> str:
    """A schema of its own (inside the test's transaction) migrated up to the migration before
    `delivery_signed_keys`."""
    name = f"before_signed_keys_{secrets.token_hex(3)}"
    await con.execute(f'create schema "{name}"')
    await con.execute(f'set local search_path to "{name}"')
    (ours,) = [m for m in dbmod.load_migrations() if m.name == MIGRATION]
    for migration in dbmod.load_migrations():
        if migration.version < ours.version:
            await con.execute(migration.sql)
    return name


async def test_the_migration_gives_earlier_signed_bodies_their_digest_once(
    con: dbmod.Connection, schema_before: str
) -> None:
    """Before: one GitHub body logged twice (the replay the review made), a rejected copy of
    it, another body, and an Alertmanager notification. After: the first of each signed body
    holds its digest, the rest none, and the same body cannot be claimed again."""
    github = await con.fetchval(
        "insert into source (name, kind, secret) values ('gh', 'github', 's') returning id"
    )
    alerts = await con.fetchval(
        "insert into source (name, kind, secret) values ('am', 'alertmanager', 's') returning id"
    )
    replayed, other = b'{"ref": "refs/heads/main"}', b'{"ref": "refs/heads/dev"}'
    for source_id, key, body, status in [
        (github, "g-1", replayed, "applied"), (github, "g-2", replayed, "applied"),
        (github, "g-3", replayed, "rejected"), (github, "g-4", other, "unmapped"),
        (alerts, None, replayed, "applied"),
    ]:  # fmt: skip
        await con.execute(
            "insert into delivery (source_id, delivery_key, body, status) values ($1, $2, $3, $4)",
            source_id, key, body, status,
        )  # fmt: skip

    (migration,) = [m for m in dbmod.load_migrations() if m.name == MIGRATION]
    await con.execute(migration.sql)

    found = await con.fetch("select delivery_key, body_sha256 from delivery order by id")
    digest = {replayed: hashlib.sha256(replayed).digest(), other: hashlib.sha256(other).digest()}
    assert [(r["delivery_key"], r["body_sha256"]) for r in found] == [
        ("g-1", digest[replayed]), ("g-2", None), ("g-3", None), ("g-4", digest[other]),
        (None, None),
    ]  # fmt: skip
    claimed = await con.fetchval(
        "insert into delivery (source_id, delivery_key, body, status, body_sha256)"
        " values ($1, 'g-5', $2, 'applied', $3) on conflict do nothing returning id",
        github, replayed, digest[replayed],
    )  # fmt: skip
    assert claimed is None
