"""The webhook pipeline end to end: through the HTTP app, on a real Postgres, without mocks.

Signatures (each tool's own scheme), secrets never shown back, duplicates (one after the
other, and at once on a real pool), events in any order, unmapped deliveries and their replay,
malformed deliveries, and the generic incident/change API with its cause links and filters.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import datetime as dt
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from service import db as dbmod
from service.app import create_app
from service.config import Settings
from service.models.enums import Scope
from service.usecases import tokens
from tests.conftest import DIRECT
from tests.ingest.fixtures import fixture, fixture_bytes

Headers = dict[str, str]
Json = dict[str, Any]

PROBLEM = "application/problem+json"
UNMAPPED_TYPE = "/unmapped"

PD_VECTOR = "pagerduty/v3/incident.priority_updated/go-pagerduty_webhookv3_test_signed_body.json"
PD_SECRET = "lDQHScfUeXUKaQRNF+8XIiDKZ7XX3itBAYzwU0TARw8lJqRnkKl2iB1anSb0Z+IK"
PD_SIGNATURE = "v1=0c0b9495b893a39e70d1fea2fe11fbe0a825f88b9f67846f6cc07dd2bc5476cd"
PD_TRIGGERED = "pagerduty/v3/incident.triggered/zulip_triggered_v3.json"
GH_DEPLOYMENT_STATUS = "github/deployment_status/octokit_payload.json"
GH_PUSH_TAG_DELETED = "github/push/octokit_payload.json"
GL_RUNNING = "gitlab/deployment/zulip_deployment_hook__running.json"
GL_SUCCEEDED = "gitlab/deployment/zulip_deployment_hook__succeeded.json"
AM_FIRING = "alertmanager/firing/alertmanager-bot_firing_sh_body.json"

SECRET_HEADERS = ("authorization", "x-gitlab-token", "x-hub-signature-256", "x-pagerduty-signature")
SHA = "0123456789abcdef0123456789abcdef01234567"


def ts(text: str | None) -> dt.datetime | None:
    """A time as the API writes it, for comparing regardless of its notation."""
    if text is None:
        return None
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)  # type: ignore[misc]


def iso(moment: dt.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def hmac_hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def rule(ref: str, service: str) -> Json:
    return {"match": {"ref": ref}, "service": service}


# Setup through the API ------------------------------------------------------------------------


async def create_service(client: httpx.AsyncClient, admin: Headers, slug: str) -> int:
    answer = await client.post(
        "/v1/services", headers=admin, json={"slug": slug, "name": f"Service {slug}", "tier": 2}
    )
    assert answer.status_code == 201, answer.text
    service_id: int = answer.json()["id"]
    return service_id


def source_body(name: str, kind: str, secret: str | None = None, **fields: Any) -> Json:
    body: Json = {"name": name, "kind": kind, **fields}
    if secret is not None:
        body["secret"] = secret
    return body


async def create_source(
    client: httpx.AsyncClient, admin: Headers, name: str, kind: str, secret: str | None = None,
    **fields: Any,
) -> Json:  # fmt: skip
    answer = await client.post(
        "/v1/sources", headers=admin, json=source_body(name, kind, secret, **fields)
    )
    assert answer.status_code == 201, answer.text
    created: Json = answer.json()
    return created


async def replace_source(
    client: httpx.AsyncClient, admin: Headers, name: str, kind: str, secret: str | None = None,
    **fields: Any,
) -> Json:  # fmt: skip
    answer = await client.put(
        f"/v1/sources/{name}", headers=admin, json=source_body(name, kind, secret, **fields)
    )
    assert answer.status_code == 200, answer.text
    replaced: Json = answer.json()
    return replaced


async def pagerduty_source(
    client: httpx.AsyncClient, admin: Headers, *, name: str = "pd", mapped: bool = True
) -> None:
    await create_service(client, admin, "api")
    rules = [rule("API Service", "api")] if mapped else []
    await create_source(client, admin, name, "pagerduty", PD_SECRET, service_rules=rules)


# Deliveries -----------------------------------------------------------------------------------


async def post_webhook(
    client: httpx.AsyncClient, source: str, body: bytes, headers: Headers | None = None,
    params: dict[str, str] | None = None,
) -> httpx.Response:  # fmt: skip
    return await client.post(
        f"/v1/webhooks/{source}",
        content=body,
        headers={"Content-Type": "application/json", **(headers or {})},
        params=params,
    )


async def post_pagerduty(
    client: httpx.AsyncClient, body: bytes, *, secret: str = PD_SECRET, source: str = "pd",
    signature: str | None = None, **headers: str,
) -> httpx.Response:  # fmt: skip
    sig = signature if signature is not None else f"v1={hmac_hex(secret, body)}"
    return await post_webhook(client, source, body, {"X-PagerDuty-Signature": sig, **headers})


async def post_github(
    client: httpx.AsyncClient, source: str, event: str, body: bytes, secret: str,
    delivery: str | None = None,
) -> httpx.Response:  # fmt: skip
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": f"sha256={hmac_hex(secret, body)}",
    }
    return await post_webhook(client, source, body, headers)


async def post_gitlab(
    client: httpx.AsyncClient, source: str, body: bytes, token: str,
    hook: str = "Deployment Hook",
) -> httpx.Response:  # fmt: skip
    headers = {
        "X-Gitlab-Event": hook,
        "X-Gitlab-Token": token,
        "X-Gitlab-Event-UUID": str(uuid.uuid4()),
    }
    return await post_webhook(client, source, body, headers)


def assert_unauthorized(answer: httpx.Response) -> None:
    assert answer.status_code == 401, answer.text
    assert answer.headers["content-type"] == PROBLEM
    problem = answer.json()
    assert problem["status"] == 401
    assert problem["type"].endswith("/unauthorized")


def assert_applied(answer: httpx.Response) -> Json:
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    outcome: Json = answer.json()
    assert outcome["status"] == "applied", outcome
    return outcome


def assert_unmapped(answer: httpx.Response) -> Json:
    assert answer.status_code == 202, answer.text
    assert answer.headers["content-type"] == PROBLEM
    problem: Json = answer.json()
    assert problem["type"].endswith(UNMAPPED_TYPE)
    assert problem["status"] == 202
    assert isinstance(problem["delivery_id"], int)
    return problem


# Database state (the test's own transaction, shared with the app) -------------------------------


async def count(con: dbmod.Connection, table: str) -> int:
    value: int = await con.fetchval(f"select count(*) from {table}")
    return value


async def deliveries(con: dbmod.Connection) -> list[Json]:
    rows = await con.fetch(
        "select d.id, s.name as source, d.delivery_key, d.status, d.body, d.detail, d.attempts "
        "from delivery d join source s on s.id = d.source_id order by d.id"
    )
    return [dict(r.items()) for r in rows]


async def rejections(con: dbmod.Connection) -> dict[str, int]:
    """Rejected deliveries as recorded: source -> count (reason `signature`)."""
    rows = await con.fetch(
        "select s.name, r.reason, r.count from webhook_rejection r"
        " join source s on s.id = r.source_id"
    )
    assert {r["reason"] for r in rows} <= {"signature"}
    return {r["name"]: r["count"] for r in rows}


async def stored_counts(con: dbmod.Connection) -> dict[str, int]:
    tables = ("incident", "incident_event", "change", "change_event", "commit_time")
    return {t: await count(con, t) for t in tables}


NOTHING_STORED = {"incident": 0, "incident_event": 0, "change": 0, "change_event": 0,
                  "commit_time": 0}  # fmt: skip


# 1. Signatures --------------------------------------------------------------------------------


async def test_pagerduty_test_vector_is_accepted_and_applied(
    client: httpx.AsyncClient, admin: Headers, reader: Headers, con: dbmod.Connection
) -> None:
    await pagerduty_source(client, admin)
    body = fixture_bytes(PD_VECTOR)
    # The published vector, byte for byte, and our own HMAC agree.
    assert f"v1={hmac_hex(PD_SECRET, body)}" == PD_SIGNATURE

    outcome = assert_applied(await post_pagerduty(client, body, signature=PD_SIGNATURE))
    assert outcome["changes"] == []
    assert outcome["commits"] == 0
    assert len(outcome["incidents"]) == 1

    incident = (await client.get(f"/v1/incidents/{outcome['incidents'][0]}", headers=reader)).json()
    assert incident["source"] == "pd"
    assert incident["external_id"] == "PGR0VU2"
    assert incident["service"] == "api"
    assert incident["severity"] == "sev1"
    assert incident["priority"] == "P1"
    assert incident["status"] == "open"
    assert incident["title"] == "A little bump in the road"
    assert incident["url"] == "https://acme.pagerduty.com/incidents/PGR0VU2"
    assert ts(incident["detected_at"]) == utc(2021, 4, 26, 17, 36, 27, 458000)
    assert ts(incident["started_at"]) == utc(2021, 4, 26, 17, 36, 27, 458000)
    assert incident["acknowledged_at"] is None
    assert incident["resolved_at"] is None
    assert [(e["what"], e["event_key"]) for e in incident["timeline"]] == [
        ("updated", "01BWDWL3NYY7LUFPZCC28QUCMK")
    ]
    assert incident["timeline"][0]["delivery_id"] == outcome["delivery_id"]

    [row] = await deliveries(con)
    assert row["id"] == outcome["delivery_id"]
    assert row["status"] == "applied"
    assert row["delivery_key"] == "01BWDWL3NYY7LUFPZCC28QUCMK"
    assert bytes(row["body"]) == body


async def test_pagerduty_rotation_header_with_the_last_value_matching_is_accepted(
    client: httpx.AsyncClient, admin: Headers, con: dbmod.Connection
) -> None:
    await pagerduty_source(client, admin)
    other = "v1=" + hmac_hex("an older secret", fixture_bytes(PD_VECTOR))
    header = f"{other},v1={'0' * 64}, {PD_SIGNATURE}"
    assert_applied(await post_pagerduty(client, fixture_bytes(PD_VECTOR), signature=header))
    assert await count(con, "incident") == 1


async def assert_rejected_and_nothing_stored(con: dbmod.Connection, source: str) -> None:
    """One rejection counted for the source; nothing in the delivery log, nothing applied."""
    assert await deliveries(con) == []
    assert await rejections(con) == {source: 1}
    assert await stored_counts(con) == NOTHING_STORED


async def test_pagerduty_body_changed_by_one_byte_is_refused_and_logged_without_body(
    client: httpx.AsyncClient, admin: Headers, con: dbmod.Connection
) -> None:
    await pagerduty_source(client, admin)
    body = fixture_bytes(PD_VECTOR)
    tampered = body.replace(b"A little bump", b"A little jump", 1)
    assert len(tampered) == len(body) and tampered != body
    assert_unauthorized(await post_pagerduty(client, tampered, signature=PD_SIGNATURE))
    await assert_rejected_and_nothing_stored(con, "pd")

    # The rejected delivery does not claim the key: the genuine one is then applied.
    assert_applied(await post_pagerduty(client, body, signature=PD_SIGNATURE))
    assert [r["status"] for r in await deliveries(con)] == ["applied"]
    assert await rejections(con) == {"pd": 1}
    assert await count(con, "incident") == 1


async def test_pagerduty_changed_secret_is_refused(
    client: httpx.AsyncClient, admin: Headers, con: dbmod.Connection
) -> None:
    await pagerduty_source(client, admin)
    replaced = await replace_source(
        client,
        admin,
        "pd",
        "pagerduty",
        PD_SECRET[:-1] + "J",
        service_rules=[rule("API Service", "api")],
    )
    assert replaced["has_secret"] is True
    assert_unauthorized(
        await post_pagerduty(client, fixture_bytes(PD_VECTOR), signature=PD_SIGNATURE)
    )
    await assert_rejected_and_nothing_stored(con, "pd")


async def test_pagerduty_missing_signature_header_is_refused(
    client: httpx.AsyncClient, admin: Headers, con: dbmod.Connection
) -> None:
    await pagerduty_source(client, admin)
    assert_unauthorized(await post_webhook(client, "pd", fixture_bytes(PD_VECTOR)))
    await assert_rejected_and_nothing_stored(con, "pd")


async def test_pagerduty_signature_of_another_version_or_empty_is_refused(
    client: httpx.AsyncClient, admin: Headers, con: dbmod.Connection
) -> None:
    await pagerduty_source(client, admin)
    body = fixture_bytes(PD_VECTOR)
    for header in (PD_SIGNATURE.replace("v1=", "v2="), "", "v1=", PD_SIGNATURE[3:]):
        assert_unauthorized(await post_pagerduty(client, body, signature=header))
    assert await deliveries(con) == []
    assert await rejections(con) == {"pd": 4}
    assert await count(con, "incident") == 0


async def github_source(client: httpx.AsyncClient, admin: Headers) -> None:
    await create_service(client, admin, "hello")
    await create_source(
        client,
        admin,
        "gh",
        "github",
        "gh-secret",
        service_rules=[rule("Codertocat/Hello-World", "hello")],
    )


async def test_github_hmac_right_and_wrong(
    client: httpx.AsyncClient, admin: Headers, reader: Headers, con: dbmod.Connection
) -> None:
    await github_source(client, admin)
    body = fixture_bytes(GH_DEPLOYMENT_STATUS)

    assert_unauthorized(
        await post_github(client, "gh", "deployment_status", body, "not-the-secret")
    )
    tampered = body.replace(b'"success"', b'"failure"', 1)
    signed = {"X-Hub-Signature-256": f"sha256={hmac_hex('gh-secret', body)}"}
    answer = await post_webhook(
        client, "gh", tampered, {"X-GitHub-Event": "deployment_status", **signed}
    )
    assert_unauthorized(answer)
    missing = await post_webhook(client, "gh", body, {"X-GitHub-Event": "deployment_status"})
    assert_unauthorized(missing)
    sha1 = {"X-Hub-Signature-256": f"sha1={hmac_hex('gh-secret', body)}"}
    assert_unauthorized(await post_webhook(client, "gh", body, {"X-GitHub-Event": "push", **sha1}))
    assert await deliveries(con) == []
    assert await rejections(con) == {"gh": 4}
    assert await stored_counts(con) == NOTHING_STORED

    outcome = assert_applied(
        await post_github(client, "gh", "deployment_status", body, "gh-secret")
    )
    [change_id] = outcome["changes"]
    change = (await client.get(f"/v1/changes/{change_id}", headers=reader)).json()
    assert change["external_id"] == "deployment:145988746"
    assert change["service"] == "hello"
    assert change["status"] == "success"
    assert change["environment"] == "production"
    assert change["is_production"] is True
    assert change["commit_sha"] == "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
    assert ts(change["started_at"]) == utc(2019, 5, 15, 15, 20, 53)
    assert ts(change["finished_at"]) == utc(2019, 5, 15, 15, 20, 55)


async def gitlab_source(client: httpx.AsyncClient, admin: Headers, name: str = "gl") -> None:
    await create_source(
        client,
        admin,
        name,
        "gitlab",
        "gl-token",
        service_rules=[rule("vedant8600317/test", "vedant")],
    )


async def test_gitlab_token_right_and_wrong(
    client: httpx.AsyncClient, admin: Headers, con: dbmod.Connection
) -> None:
    await create_service(client, admin, "vedant")
    await gitlab_source(client, admin)
    body = fixture_bytes(GL_SUCCEEDED)
    assert_unauthorized(await post_gitlab(client, "gl", body, "gl-token-wrong"))
    assert_unauthorized(await post_gitlab(client, "gl", body, ""))
    no_token = await post_webhook(client, "gl", body, {"X-Gitlab-Event": "Deployment Hook"})
    assert_unauthorized(no_token)
    assert await deliveries(con) == []
    assert await rejections(con) == {"gl": 3}
    assert await stored_counts(con) == NOTHING_STORED

    outcome = assert_applied(await post_gitlab(client, "gl", body, "gl-token"))
    assert len(outcome["changes"]) == 1
    assert await count(con, "change") == 1


async def test_shared_secret_source_bearer_basic_query_token(
    client: httpx.AsyncClient, admin: Headers, con: dbmod.Connection
) -> None:
    await create_service(client, admin, "fire")
    await create_source(
        client, admin, "am", "alertmanager", "am-secret", username="alertmanager",
        service_rules=[rule("Fire", "fire")],
    )  # fmt: skip
    body = fixture_bytes(AM_FIRING)

    def basic(user: str, password: str) -> Headers:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    wrong: list[tuple[Headers, dict[str, str] | None]] = [
        ({"Authorization": "Bearer am-secret-2"}, None),
        ({"Authorization": "Bearer"}, None),
        (basic("alertmanager", "wrong"), None),
        (basic("someone-else", "am-secret"), None),
        ({"Authorization": "Basic !!not-base64!!"}, None),
        ({}, {"token": "wrong"}),
        ({}, None),
        # A failing Authorization header is not rescued by a right ?token=.
        ({"Authorization": "Bearer wrong"}, {"token": "am-secret"}),
    ]
    for headers, params in wrong:
        assert_unauthorized(await post_webhook(client, "am", body, headers, params))
    assert await deliveries(con) == []
    assert await rejections(con) == {"am": len(wrong)}
    assert await stored_counts(con) == NOTHING_STORED

    first = assert_applied(
        await post_webhook(client, "am", body, {"Authorization": "Bearer am-secret"})
    )
    assert len(first["incidents"]) == 1
    # The same notification again, authenticated the two other ways. Alertmanager re-sends
    # unchanged notifications and has no delivery id, so each is applied: to the same
    # incident, whose timeline already holds the step.
    for headers, params in [
        (basic("alertmanager", "am-secret"), None),
        ({}, {"token": "am-secret"}),
    ]:
        answer = await post_webhook(client, "am", body, headers, params)
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "applied"
        assert answer.json()["incidents"] == first["incidents"]
    assert [r["status"] for r in await deliveries(con)] == ["applied"] * 3
    assert await count(con, "incident") == 1
    assert await count(con, "incident_event") == 1


async def test_unknown_source_is_404(client: httpx.AsyncClient) -> None:
    answer = await post_webhook(client, "nobody", b"{}")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == PROBLEM


async def test_api_source_takes_no_webhooks(client: httpx.AsyncClient) -> None:
    answer = await post_webhook(client, "api", b"{}", {"Authorization": "Bearer x"})
    assert answer.status_code == 409
    assert answer.headers["content-type"] == PROBLEM


# 2. Secrets are never returned ----------------------------------------------------------------


async def test_sources_never_show_their_secret(client: httpx.AsyncClient, admin: Headers) -> None:
    await pagerduty_source(client, admin)
    await create_source(client, admin, "am", "alertmanager", "am-very-secret-token", username="am")
    await create_source(client, admin, "gl", "gitlab", "gl-very-secret-token")
    created = await client.post(
        "/v1/sources", headers=admin, json=source_body("gh", "github", "gh-very-secret-token")
    )
    assert created.status_code == 201
    secrets_used = (
        PD_SECRET,
        "am-very-secret-token",
        "gl-very-secret-token",
        "gh-very-secret-token",
    )
    assert not any(s in created.text for s in secrets_used)

    listing = await client.get("/v1/sources", headers=admin)
    assert listing.status_code == 200
    by_name = {s["name"]: s for s in listing.json()}
    assert sorted(by_name) == ["am", "api", "gh", "gl", "pd"]
    assert {n: s["has_secret"] for n, s in by_name.items()} == {
        "am": True, "api": False, "gh": True, "gl": True, "pd": True,
    }  # fmt: skip
    assert by_name["pd"]["webhook_path"] == "/v1/webhooks/pd"
    for text in [listing.text] + [
        (await client.get(f"/v1/sources/{name}", headers=admin)).text for name in by_name
    ]:
        assert 'secret"' not in text.replace('has_secret"', "")
        for secret in secrets_used:
            assert secret not in text
    one = (await client.get("/v1/sources/pd", headers=admin)).json()
    assert one["has_secret"] is True
    assert "secret" not in one

    # Replacing without a secret keeps it (still has_secret), and still does not show it.
    kept = await replace_source(client, admin, "am", "alertmanager", username="am")
    assert kept["has_secret"] is True


async def test_delivery_log_never_shows_secret_headers(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    await create_service(client, admin, "hello")
    await create_service(client, admin, "vedant")
    await create_service(client, admin, "fire")
    await pagerduty_source(client, admin)
    await create_source(
        client,
        admin,
        "gh",
        "github",
        "gh-secret",
        service_rules=[rule("Codertocat/Hello-World", "hello")],
    )
    await gitlab_source(client, admin)
    await create_source(
        client,
        admin,
        "am",
        "alertmanager",
        "am-secret",
        username="am",
        service_rules=[rule("Fire", "fire")],
    )
    answers = [
        await post_pagerduty(client, fixture_bytes(PD_VECTOR), signature=PD_SIGNATURE),
        await post_github(
            client, "gh", "deployment_status", fixture_bytes(GH_DEPLOYMENT_STATUS), "gh-secret"
        ),
        await post_gitlab(client, "gl", fixture_bytes(GL_SUCCEEDED), "gl-token"),
        await post_webhook(
            client, "am", fixture_bytes(AM_FIRING), {"Authorization": "Bearer am-secret"}
        ),
        # Rejected ones too.
        await post_gitlab(client, "gl", fixture_bytes(GL_RUNNING), "gl-token-wrong"),
        await post_webhook(
            client, "am", fixture_bytes(AM_FIRING), {"Authorization": "Bearer nope"}
        ),
    ]
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 401, 401]

    listing = await client.get("/v1/deliveries", headers=admin)
    assert listing.status_code == 200
    rows = listing.json()
    assert [r["status"] for r in rows] == ["applied"] * 4
    # The rejected ones are counted, with their headers as samples: no secret among them.
    refused = await client.get("/v1/webhook-rejections", headers=admin)
    assert refused.status_code == 200
    assert [(r["source"], r["count"], len(r["samples"])) for r in refused.json()] == [
        ("am", 1, 1),
        ("gl", 1, 1),
    ]
    for rejection in refused.json():
        headers = rejection["samples"][0]["headers"]
        assert headers["content-type"] == "application/json"
        assert not set(headers) & set(SECRET_HEADERS), headers
    for secret in ("gl-token-wrong", "nope", "am-secret", "gl-token"):
        assert secret not in refused.text
    for row in rows:
        detail = await client.get(f"/v1/deliveries/{row['id']}", headers=admin)
        assert detail.status_code == 200
        headers = detail.json()["headers"]
        assert headers, "the other headers are logged"
        assert not set(headers) & set(SECRET_HEADERS), headers
        for secret in (PD_SECRET, "gh-secret", "gl-token", "am-secret", "gl-token-wrong", "nope"):
            assert secret not in detail.text
        assert PD_SIGNATURE[3:] not in detail.text
    first_pd = (await client.get(f"/v1/deliveries/{rows[-1]['id']}", headers=admin)).json()
    assert first_pd["source"] == "pd"
    assert first_pd["headers"]["content-type"] == "application/json"
    assert first_pd["body"] == fixture_bytes(PD_VECTOR).decode()


# 3. Duplicates --------------------------------------------------------------------------------


async def test_source_severity_map_overrides_the_adapter_default(
    client: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await create_service(client, admin, "api")
    await create_source(
        client, admin, "pd", "pagerduty", PD_SECRET, service_rules=[rule("API Service", "api")],
        severity_map={"p1": "sev2"},
    )  # fmt: skip
    outcome = assert_applied(await post_pagerduty(client, fixture_bytes(PD_VECTOR)))
    incident = (await client.get(f"/v1/incidents/{outcome['incidents'][0]}", headers=reader)).json()
    assert (incident["severity"], incident["priority"]) == ("sev2", "P1")


async def test_the_same_delivery_twice_is_applied_once(
    client: httpx.AsyncClient, admin: Headers, con: dbmod.Connection
) -> None:
    await pagerduty_source(client, admin)
    body = fixture_bytes(PD_VECTOR)
    first = assert_applied(await post_pagerduty(client, body, signature=PD_SIGNATURE))
    second = await post_pagerduty(client, body, signature=PD_SIGNATURE)
    assert second.status_code == 200, second.text
    dup = second.json()
    assert dup["status"] == "duplicate"
    assert dup["delivery_id"] == first["delivery_id"]
    assert dup["detail"] == "already received (first outcome: applied)"
    assert dup["incidents"] == []
    assert len(await deliveries(con)) == 1
    assert await count(con, "incident") == 1
    assert await count(con, "incident_event") == 1


async def test_retries_with_the_same_webhook_id_are_duplicates(
    client: httpx.AsyncClient, admin: Headers, con: dbmod.Connection
) -> None:
    """PagerDuty repeats X-Webhook-Id on each retry: that is the delivery key. The header is
    not signed, so the same signed body under another webhook id is a duplicate too."""
    await pagerduty_source(client, admin)
    body = fixture_bytes(PD_VECTOR)
    first = assert_applied(await post_pagerduty(client, body, **{"X-Webhook-Id": "wh-1"}))
    second = await post_pagerduty(client, body, **{"X-Webhook-Id": "wh-1"})
    assert second.json() == {
        "delivery_id": first["delivery_id"], "status": "duplicate",
        "detail": "already received (first outcome: applied)", "incidents": [], "changes": [],
        "commits": 0,
    }  # fmt: skip
    third = await post_pagerduty(client, body, **{"X-Webhook-Id": "wh-2"})
    assert third.status_code == 200, third.text
    assert (third.json()["status"], third.json()["delivery_id"], third.json()["detail"]) == (
        "duplicate", first["delivery_id"],
        "already received (first outcome: applied); the same signed delivery under another "
        "delivery id",
    )  # fmt: skip
    assert [r["delivery_key"] for r in await deliveries(con)] == ["wh-1"]
    assert await count(con, "incident") == 1
    assert await count(con, "incident_event") == 1


async def test_a_webhook_id_too_long_to_index_is_kept_as_its_hash_and_still_dedupes(
    client: httpx.AsyncClient, admin: Headers, con: dbmod.Connection
) -> None:
    """Postgres refuses index entries over 2,704 bytes: a longer key is stored as its SHA-256,
    which identifies the retries of that delivery just the same."""
    await pagerduty_source(client, admin)
    body = fixture_bytes(PD_VECTOR)
    long_id = "w" * 3_000
    first = assert_applied(await post_pagerduty(client, body, **{"X-Webhook-Id": long_id}))
    second = await post_pagerduty(client, body, **{"X-Webhook-Id": long_id})
    assert second.json()["status"] == "duplicate"
    assert second.json()["delivery_id"] == first["delivery_id"]
    digest = hashlib.sha256(long_id.encode()).hexdigest()
    assert [r["delivery_key"] for r in await deliveries(con)] == [f"sha256:{digest}"]


@pytest.fixture
async def pool_app(
    direct_database_url: str,
) -> AsyncIterator[tuple[httpx.AsyncClient, dbmod.Connection]]:
    """An app on a fresh schema with a real pool; what it writes is committed."""
    schema = f"kpi_pipeline_{secrets.token_hex(4)}"
    setup = await dbmod.connect(direct_database_url, schema, settings=DIRECT)
    pool = None
    try:
        await dbmod.migrate(setup, schema)
        pool = await dbmod.create_pool(direct_database_url, schema, 1, 5, settings=DIRECT)
        # The published vector's event is of 2021: its signed time is not checked here.
        settings = Settings(db_schema=schema, webhook_event_time_tolerance_seconds=0)
        app = create_app(settings, db=dbmod.PoolDatabase(pool))
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://kpi.test") as client:
            yield client, setup
    finally:
        if pool is not None:
            await pool.close()
        await setup.execute(f'drop schema if exists "{schema}" cascade')
        await setup.close()


async def test_the_same_delivery_five_times_at_once_is_applied_once(
    pool_app: tuple[httpx.AsyncClient, dbmod.Connection],
) -> None:
    client, con = pool_app
    token = await tokens.create_token(con, name="setup", scopes=[Scope.ADMIN])
    admin = {"Authorization": f"Bearer {token.token}"}
    await pagerduty_source(client, admin)
    body = fixture_bytes(PD_VECTOR)

    answers = await asyncio.gather(
        *(post_pagerduty(client, body, signature=PD_SIGNATURE) for _ in range(5))
    )
    assert [a.status_code for a in answers] == [200] * 5, [a.text for a in answers]
    outcomes = [a.json() for a in answers]
    assert sorted(o["status"] for o in outcomes) == ["applied"] + ["duplicate"] * 4
    assert len({o["delivery_id"] for o in outcomes}) == 1
    rows = await con.fetch("select status from delivery")
    assert [r["status"] for r in rows] == ["applied"]
    assert await con.fetchval("select count(*) from incident") == 1
    assert await con.fetchval("select count(*) from incident_event") == 1


async def test_the_same_body_under_five_webhook_ids_at_once_is_applied_once(
    pool_app: tuple[httpx.AsyncClient, dbmod.Connection],
) -> None:
    """A replay racing the genuine delivery: the body's claims (event id, digest) are taken
    by the same insert as the delivery key, so one wins and the others are duplicates."""
    client, con = pool_app
    token = await tokens.create_token(con, name="setup", scopes=[Scope.ADMIN])
    admin = {"Authorization": f"Bearer {token.token}"}
    await pagerduty_source(client, admin)
    body = fixture_bytes(PD_VECTOR)

    answers = await asyncio.gather(
        *(post_pagerduty(client, body, **{"X-Webhook-Id": f"wh-{i}"}) for i in range(5))
    )
    assert [a.status_code for a in answers] == [200] * 5, [a.text for a in answers]
    outcomes = [a.json() for a in answers]
    assert sorted(o["status"] for o in outcomes) == ["applied"] + ["duplicate"] * 4
    assert len({o["delivery_id"] for o in outcomes}) == 1
    assert await con.fetchval("select count(*) from delivery") == 1
    assert await con.fetchval("select count(*) from incident_event") == 1


async def test_five_distinct_events_of_one_incident_at_once_all_apply(
    pool_app: tuple[httpx.AsyncClient, dbmod.Connection],
) -> None:
    """Different deliveries about the same incident, at once: one incident, every step."""
    client, con = pool_app
    token = await tokens.create_token(con, name="setup", scopes=[Scope.ADMIN])
    admin = {"Authorization": f"Bearer {token.token}"}
    await pagerduty_source(client, admin)
    payload = fixture(PD_VECTOR)
    bodies = []
    for i in range(5):
        event = copy.deepcopy(payload)
        event["event"]["id"] = f"evt-{i}"
        event["event"]["occurred_at"] = f"2021-04-26T17:3{i}:00Z"
        bodies.append(json.dumps(event).encode())
    answers = await asyncio.gather(*(post_pagerduty(client, b) for b in bodies))
    assert [a.status_code for a in answers] == [200] * 5, [a.text for a in answers]
    assert {a.json()["status"] for a in answers} == {"applied"}
    assert await con.fetchval("select count(*) from incident") == 1
    assert await con.fetchval("select count(*) from incident_event") == 5
    assert await con.fetchval("select count(*) from delivery where status = 'applied'") == 5


# 4. Events in any order -----------------------------------------------------------------------

T0 = utc(2024, 5, 1, 10, 0)
T1 = utc(2024, 5, 1, 10, 5)
T2 = utc(2024, 5, 1, 11, 0)
T3 = utc(2024, 5, 1, 12, 0)
T4 = utc(2024, 5, 1, 13, 0)
MINUTE = dt.timedelta(minutes=1)


async def open_incident(
    client: httpx.AsyncClient, ingester: Headers, external_id: str, **fields: Any
) -> Json:
    body = {"external_id": external_id, "service": "checkout", **fields}
    answer = await client.post("/v1/incidents", headers=ingester, json=body)
    assert answer.status_code == 200, answer.text
    created: Json = answer.json()
    return created


async def add_step(
    client: httpx.AsyncClient, ingester: Headers, incident_id: int, step: str, at: dt.datetime,
    **fields: Any,
) -> Json:  # fmt: skip
    answer = await client.post(
        f"/v1/incidents/{incident_id}/events",
        headers=ingester,
        json={"step": step, "occurred_at": iso(at), **fields},
    )
    assert answer.status_code == 200, answer.text
    detail: Json = answer.json()
    return detail


RECORD = ("status", "started_at", "detected_at", "acknowledged_at", "resolved_at")


def record(incident: Json) -> dict[str, Any]:
    return {k: ts(incident[k]) if k.endswith("_at") else incident[k] for k in RECORD}


async def test_lifecycle_steps_in_reverse_order_give_the_same_incident(
    client: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await create_service(client, admin, "checkout")
    in_order = await open_incident(client, ingester, "INC-in-order", detected_at=iso(T0))
    reversed_ = await open_incident(client, ingester, "INC-reversed", detected_at=iso(T0))
    assert in_order["status"] == reversed_["status"] == "open"

    await add_step(client, ingester, in_order["id"], "acknowledged", T1)
    await add_step(client, ingester, in_order["id"], "resolved", T2)
    after_resolved = await add_step(client, ingester, reversed_["id"], "resolved", T2)
    assert after_resolved["status"] == "resolved"
    assert ts(after_resolved["resolved_at"]) == T2
    assert after_resolved["acknowledged_at"] is None
    # An acknowledgement that arrives after the resolution does not reopen it.
    await add_step(client, ingester, reversed_["id"], "acknowledged", T1)

    a = (await client.get(f"/v1/incidents/{in_order['id']}", headers=reader)).json()
    b = (await client.get(f"/v1/incidents/{reversed_['id']}", headers=reader)).json()
    expected = {
        "status": "resolved", "started_at": T0, "detected_at": T0, "acknowledged_at": T1,
        "resolved_at": T2,
    }  # fmt: skip
    assert record(a) == expected
    assert record(b) == expected
    steps = [e["what"] for e in b["timeline"] if e["what"] != "updated"]
    assert steps == ["triggered", "acknowledged", "resolved"]


async def test_resolved_reopened_then_resolved_again(
    client: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await create_service(client, admin, "checkout")
    inc = await open_incident(client, ingester, "INC-reopen", detected_at=iso(T0))
    await add_step(client, ingester, inc["id"], "acknowledged", T1)
    await add_step(client, ingester, inc["id"], "resolved", T2)
    reopened = await add_step(client, ingester, inc["id"], "reopened", T3)
    assert reopened["status"] == "open"
    assert reopened["resolved_at"] is None
    assert ts(reopened["acknowledged_at"]) == T1
    again = await add_step(client, ingester, inc["id"], "resolved", T4)
    assert again["status"] == "resolved"
    assert ts(again["resolved_at"]) == T4
    read = (await client.get(f"/v1/incidents/{inc['id']}", headers=reader)).json()
    assert record(read) == {
        "status": "resolved", "started_at": T0, "detected_at": T0, "acknowledged_at": T1,
        "resolved_at": T4,
    }  # fmt: skip


async def test_reopen_arriving_before_the_resolution_it_follows(
    client: httpx.AsyncClient, admin: Headers, ingester: Headers
) -> None:
    await create_service(client, admin, "checkout")
    inc = await open_incident(client, ingester, "INC-reopen-early", detected_at=iso(T0))
    await add_step(client, ingester, inc["id"], "reopened", T3)
    final = await add_step(client, ingester, inc["id"], "resolved", T2)
    assert final["status"] == "open"
    assert final["resolved_at"] is None


async def test_the_same_step_twice_is_stored_once(
    client: httpx.AsyncClient, admin: Headers, ingester: Headers, con: dbmod.Connection
) -> None:
    await create_service(client, admin, "checkout")
    inc = await open_incident(client, ingester, "INC-twice", detected_at=iso(T0))
    await add_step(client, ingester, inc["id"], "acknowledged", T1, event_id="ack-1")
    detail = await add_step(client, ingester, inc["id"], "acknowledged", T1, event_id="ack-1")
    assert [e["what"] for e in detail["timeline"]].count("acknowledged") == 1
    assert await count(con, "incident") == 1


async def gitlab_change(
    client: httpx.AsyncClient, reader: Headers, source: str, order: list[str]
) -> Json:
    change_ids = set()
    for name in order:
        outcome = assert_applied(await post_gitlab(client, source, fixture_bytes(name), "gl-token"))
        change_ids.update(outcome["changes"])
    [change_id] = change_ids
    answer = await client.get(f"/v1/changes/{change_id}", headers=reader)
    assert answer.status_code == 200
    change: Json = answer.json()
    return change


async def test_gitlab_deployment_success_before_running_gives_the_in_order_change(
    client: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await create_service(client, admin, "vedant")
    await gitlab_source(client, admin, "gl-reversed")
    await gitlab_source(client, admin, "gl-in-order")

    success_only = await gitlab_change(client, reader, "gl-reversed", [GL_SUCCEEDED])
    assert success_only["status"] == "success"
    assert ts(success_only["finished_at"]) == utc(2025, 5, 2, 11, 55, 16)

    reversed_ = await gitlab_change(client, reader, "gl-reversed", [GL_RUNNING])
    in_order = await gitlab_change(client, reader, "gl-in-order", [GL_RUNNING, GL_SUCCEEDED])
    for change in (reversed_, in_order):
        assert change["external_id"] == "deployment:988572802"
        assert change["service"] == "vedant"
        assert change["status"] == "success"
        assert ts(change["started_at"]) == utc(2025, 5, 2, 11, 54, 46)
        assert ts(change["finished_at"]) == utc(2025, 5, 2, 11, 55, 16)
        assert change["environment"] == "production"
        assert change["is_production"] is True
        assert change["commit_sha"] == "58793660b22d6ceacbdc23b28a0562bca339702c"
        assert [e["what"] for e in change["timeline"]] == ["in_progress", "success"]
    fields = ("status", "started_at", "finished_at", "environment", "is_production", "commit_sha",
              "kind", "url", "title")  # fmt: skip
    assert {k: reversed_[k] for k in fields} == {k: in_order[k] for k in fields}


# 5. Unmapped deliveries and replay ------------------------------------------------------------


async def test_unknown_service_is_kept_unmapped_then_replayed_after_a_rule(
    client: httpx.AsyncClient, admin: Headers, reader: Headers, con: dbmod.Connection
) -> None:
    await pagerduty_source(client, admin, mapped=False)
    problem = assert_unmapped(await post_pagerduty(client, fixture_bytes(PD_VECTOR)))
    delivery_id = problem["delivery_id"]
    assert "'API Service'" in problem["detail"]
    assert "'PGR0VU2'" in problem["detail"]
    assert "'pd'" in problem["detail"]
    assert problem["title"] == "Accepted but not mapped"

    listed = (await client.get("/v1/deliveries?status=unmapped", headers=admin)).json()
    assert [(d["id"], d["source"], d["status"]) for d in listed] == [
        (delivery_id, "pd", "unmapped")
    ]
    assert listed[0]["detail"] == problem["detail"]
    assert listed[0]["event_type"] == "incident.priority_updated"
    assert listed[0]["body_bytes"] == len(fixture_bytes(PD_VECTOR))
    assert await stored_counts(con) == NOTHING_STORED

    # Replayed before any mapping: still unmapped, still nothing stored.
    again = assert_unmapped(
        await client.post(f"/v1/deliveries/{delivery_id}/replay", headers=admin)
    )
    assert again["delivery_id"] == delivery_id
    assert "'API Service'" in again["detail"]
    assert await stored_counts(con) == NOTHING_STORED

    await replace_source(
        client, admin, "pd", "pagerduty", service_rules=[rule("API Service", "api")]
    )
    replayed = await client.post(f"/v1/deliveries/{delivery_id}/replay", headers=admin)
    outcome = assert_applied(replayed)
    assert outcome["delivery_id"] == delivery_id
    [incident_id] = outcome["incidents"]
    incident = (await client.get(f"/v1/incidents/{incident_id}", headers=reader)).json()
    assert incident["service"] == "api"
    assert incident["external_id"] == "PGR0VU2"
    assert incident["severity"] == "sev1"
    assert incident["timeline"][0]["delivery_id"] == delivery_id

    [row] = await deliveries(con)
    assert (row["status"], row["detail"], row["attempts"]) == ("applied", None, 3)
    log = (await client.get(f"/v1/deliveries/{delivery_id}", headers=admin)).json()
    assert log["status"] == "applied"
    assert log["applied_at"] is not None

    conflict = await client.post(f"/v1/deliveries/{delivery_id}/replay", headers=admin)
    assert conflict.status_code == 409
    assert conflict.headers["content-type"] == PROBLEM
    missing = await client.post("/v1/deliveries/999999999/replay", headers=admin)
    assert missing.status_code == 404

    # The secret was kept by the PUT without one: the source still verifies.
    dup = await post_pagerduty(client, fixture_bytes(PD_VECTOR))
    assert dup.json()["status"] == "duplicate"


async def test_replay_all_unmapped(
    client: httpx.AsyncClient, admin: Headers, con: dbmod.Connection
) -> None:
    await pagerduty_source(client, admin, mapped=False)
    await create_service(client, admin, "pig")
    await create_source(client, admin, "gh", "github", "gh-secret")
    vector = assert_unmapped(await post_pagerduty(client, fixture_bytes(PD_VECTOR)))
    triggered = assert_unmapped(await post_pagerduty(client, fixture_bytes(PD_TRIGGERED)))
    push = assert_unmapped(
        await post_github(client, "gh", "push", fixture_bytes(GH_PUSH_TAG_DELETED), "gh-secret")
    )
    await replace_source(
        client, admin, "pd", "pagerduty",
        service_rules=[rule("API Service", "api"), {"match": {"service_id": "PA2P440"},
                                                     "service": "pig"}],
    )  # fmt: skip

    answer = await client.post("/v1/deliveries/replay", headers=admin)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "applied": [vector["delivery_id"], triggered["delivery_id"]],
        "still_unmapped": [push["delivery_id"]],
    }
    services = await con.fetch(
        "select i.external_id, s.slug from incident i "
        "join business_service s on s.id = i.service_id order by i.external_id"
    )
    assert [tuple(r) for r in services] == [("PFQZPSY", "pig"), ("PGR0VU2", "api")]
    statuses = {r["id"]: r["status"] for r in await deliveries(con)}
    assert statuses == {
        vector["delivery_id"]: "applied",
        triggered["delivery_id"]: "applied",
        push["delivery_id"]: "unmapped",
    }
    # Only one source's deliveries.
    only = await client.post("/v1/deliveries/replay?source=pd", headers=admin)
    assert only.json() == {"applied": [], "still_unmapped": []}


async def test_github_push_without_commits_is_unmapped_with_the_reason(
    client: httpx.AsyncClient, admin: Headers, con: dbmod.Connection
) -> None:
    await create_source(client, admin, "gh", "github", "gh-secret")
    body = fixture_bytes(GH_PUSH_TAG_DELETED)
    problem = assert_unmapped(await post_github(client, "gh", "push", body, "gh-secret"))
    assert problem["detail"] == "push without commits (tag deleted)"
    [row] = await deliveries(con)
    assert (row["status"], row["detail"]) == ("unmapped", "push without commits (tag deleted)")
    assert bytes(row["body"]) == body
    assert await stored_counts(con) == NOTHING_STORED


async def test_pagerduty_non_incident_event_is_unmapped_with_the_reason(
    client: httpx.AsyncClient, admin: Headers, con: dbmod.Connection
) -> None:
    await pagerduty_source(client, admin)
    ping = {
        "event": {
            "id": "01DVWP1ZT4Y7TKJ9YC3IYAXLBC", "event_type": "pagey.ping",
            "resource_type": "pagey", "occurred_at": "2021-04-26T17:36:27.458Z", "agent": None,
            "client": None, "data": {"message": "Hello from your friend Pagey!", "type": "ping"},
        }
    }  # fmt: skip
    problem = assert_unmapped(await post_pagerduty(client, json.dumps(ping).encode()))
    assert problem["detail"] == "PagerDuty pagey events are not incidents (pagey.ping)"
    unknown = copy.deepcopy(fixture(PD_VECTOR))
    unknown["event"]["event_type"] = "incident.custom_field_values.updated"
    unknown["event"]["id"] = "evt-custom"
    problem = assert_unmapped(await post_pagerduty(client, json.dumps(unknown).encode()))
    assert problem["detail"] == "PagerDuty event incident.custom_field_values.updated is not used"
    assert [r["status"] for r in await deliveries(con)] == ["unmapped", "unmapped"]
    assert await stored_counts(con) == NOTHING_STORED


# 6. Malformed deliveries ----------------------------------------------------------------------


async def test_not_json_is_422_and_kept_as_invalid(
    client: httpx.AsyncClient, admin: Headers, con: dbmod.Connection
) -> None:
    await pagerduty_source(client, admin)
    answer = await post_pagerduty(client, b"not json{")
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == PROBLEM
    problem = answer.json()
    assert problem["type"].endswith("/validation")
    assert [e["pointer"] for e in problem["errors"]] == ["#"]
    [row] = await deliveries(con)
    assert row["status"] == "invalid"
    assert bytes(row["body"]) == b"not json{"
    assert row["detail"].startswith("not JSON")
    assert await stored_counts(con) == NOTHING_STORED
    listed = (await client.get("/v1/deliveries?status=invalid", headers=admin)).json()
    assert [d["id"] for d in listed] == [row["id"]]


async def test_pagerduty_event_without_id_nor_data_is_422_naming_the_field(
    client: httpx.AsyncClient, admin: Headers, con: dbmod.Connection
) -> None:
    await pagerduty_source(client, admin)
    body = b'{"event": {"event_type": "incident.triggered"}}'
    answer = await post_pagerduty(client, body)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == PROBLEM
    problem = answer.json()
    assert [(e["pointer"], e["field"]) for e in problem["errors"]] == [("#/event/id", "event.id")]
    [row] = await deliveries(con)
    assert (row["status"], bytes(row["body"])) == ("invalid", body)
    assert row["detail"] == "/event/id: expected a non-empty string"
    assert await stored_counts(con) == NOTHING_STORED


async def test_pagerduty_event_without_data_is_422_naming_data(
    client: httpx.AsyncClient, admin: Headers, con: dbmod.Connection
) -> None:
    await pagerduty_source(client, admin)
    body = json.dumps(
        {"event": {"id": "evt-1", "event_type": "incident.triggered",
                   "occurred_at": "2021-04-26T17:36:27Z"}}
    ).encode()  # fmt: skip
    answer = await post_pagerduty(client, body)
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert [e["pointer"] for e in problem["errors"]] == ["#/event/data"]
    [row] = await deliveries(con)
    assert (row["status"], row["delivery_key"]) == ("invalid", "evt-1")
    assert await stored_counts(con) == NOTHING_STORED


async def test_gitlab_deployment_without_status_is_422(
    client: httpx.AsyncClient, admin: Headers, con: dbmod.Connection
) -> None:
    await create_service(client, admin, "vedant")
    await gitlab_source(client, admin)
    payload = fixture(GL_RUNNING)
    del payload["status_changed_at"]
    answer = await post_gitlab(client, "gl", json.dumps(payload).encode(), "gl-token")
    assert answer.status_code == 422, answer.text
    assert [e["pointer"] for e in answer.json()["errors"]] == ["#/status_changed_at"]
    [row] = await deliveries(con)
    assert row["status"] == "invalid"
    assert await stored_counts(con) == NOTHING_STORED


# 7. The generic API ---------------------------------------------------------------------------


async def test_post_incident_creates_then_updates_the_same_one(
    client: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers,
    con: dbmod.Connection,
) -> None:  # fmt: skip
    await create_service(client, admin, "checkout")
    created = await open_incident(
        client, ingester, "INC-1", severity="sev3", title="Slow checkout", started_at=iso(T0),
        detected_at=iso(T1), users_affected=120,
    )  # fmt: skip
    assert created["source"] == "api"
    assert created["service"] == "checkout"
    assert created["severity"] == "sev3"
    assert created["status"] == "open"
    assert ts(created["started_at"]) == T0
    assert ts(created["detected_at"]) == T1
    assert created["users_affected"] == 120

    updated = await open_incident(client, ingester, "INC-1", severity="sev2")
    assert updated["id"] == created["id"]
    assert updated["severity"] == "sev2"
    assert updated["title"] == "Slow checkout"
    assert updated["users_affected"] == 120
    assert ts(updated["started_at"]) == T0
    assert ts(updated["detected_at"]) == T1
    assert await count(con, "incident") == 1
    listed = (await client.get("/v1/incidents", headers=reader)).json()
    assert [i["id"] for i in listed] == [created["id"]]


async def test_repost_naming_only_the_impact_start_keeps_the_detection_time(
    client: httpx.AsyncClient, admin: Headers, ingester: Headers
) -> None:
    """Re-sending the incident with its started_at but without detected_at (to change the
    severity) must not move detected_at to the impact start."""
    await create_service(client, admin, "checkout")
    created = await open_incident(
        client, ingester, "INC-det", severity="sev3", started_at=iso(T0), detected_at=iso(T1)
    )
    assert ts(created["detected_at"]) == T1
    updated = await open_incident(client, ingester, "INC-det", severity="sev2", started_at=iso(T0))
    assert updated["severity"] == "sev2"
    assert ts(updated["detected_at"]) == T1


async def test_repost_of_a_resolved_incident_without_its_start_stays_resolved(
    client: httpx.AsyncClient, admin: Headers, ingester: Headers
) -> None:
    await create_service(client, admin, "checkout")
    created = await open_incident(
        client, ingester, "INC-res", severity="sev3", started_at=iso(T0), resolved_at=iso(T2),
        status="resolved",
    )  # fmt: skip
    assert (created["status"], ts(created["resolved_at"])) == ("resolved", T2)
    updated = await open_incident(
        client, ingester, "INC-res", severity="sev2", resolved_at=iso(T2), status="resolved"
    )
    assert updated["severity"] == "sev2"
    assert (updated["status"], ts(updated["resolved_at"])) == ("resolved", T2)
    assert ts(updated["started_at"]) == T0


async def test_incident_posted_resolved_without_a_start_is_resolved(
    client: httpx.AsyncClient, admin: Headers, ingester: Headers
) -> None:
    await create_service(client, admin, "checkout")
    created = await open_incident(
        client, ingester, "INC-past", resolved_at=iso(T2), status="resolved"
    )
    assert created["status"] == "resolved"
    assert ts(created["resolved_at"]) == T2


async def test_repost_with_status_resolved_keeps_the_resolution_time(
    client: httpx.AsyncClient, admin: Headers, ingester: Headers
) -> None:
    await create_service(client, admin, "checkout")
    created = await open_incident(
        client, ingester, "INC-res-now", started_at=iso(T0), status="resolved"
    )
    assert created["status"] == "resolved"
    first = ts(created["resolved_at"])
    assert first is not None
    await asyncio.sleep(0.01)
    again = await open_incident(
        client, ingester, "INC-res-now", started_at=iso(T0), status="resolved", severity="sev2"
    )
    assert again["status"] == "resolved"
    assert ts(again["resolved_at"]) == first


async def test_repost_with_status_open_reopens_a_resolved_incident(
    client: httpx.AsyncClient, admin: Headers, ingester: Headers
) -> None:
    await create_service(client, admin, "checkout")
    await open_incident(
        client, ingester, "INC-reopen-api", started_at=iso(T0), resolved_at=iso(T2),
        status="resolved",
    )  # fmt: skip
    # The record as it was before its resolution (sent late, or again): still resolved.
    stale = await open_incident(client, ingester, "INC-reopen-api", started_at=iso(T0))
    assert (stale["status"], ts(stale["resolved_at"])) == ("resolved", T2)
    # Open, with the time it was reopened: open again from T3.
    reopened = await open_incident(
        client, ingester, "INC-reopen-api", status="open", reopened_at=iso(T3)
    )
    assert reopened["status"] == "open"
    assert reopened["resolved_at"] is None


async def test_bare_status_open_reopens_a_resolved_incident_now(
    client: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await create_service(client, admin, "checkout")
    await open_incident(
        client, ingester, "INC-reopen-now", started_at=iso(T0), resolved_at=iso(T2),
        status="resolved",
    )  # fmt: skip
    reopened = await open_incident(client, ingester, "INC-reopen-now", status="open")
    assert (reopened["status"], reopened["resolved_at"]) == ("open", None)
    detail = (await client.get(f"/v1/incidents/{reopened['id']}", headers=reader)).json()
    steps = [(e["what"], ts(e["at"])) for e in detail["timeline"]]
    # Triggered at the impact start, resolved at T2, the fields of the record as of T2, and
    # reopened when the bare status came (the wall clock: after T2).
    assert [what for what, _ in steps] == ["triggered", "resolved", "updated", "reopened"]
    assert steps[-1][1] > T2


async def test_post_incident_status_and_times(
    client: httpx.AsyncClient, admin: Headers, ingester: Headers
) -> None:
    await create_service(client, admin, "checkout")
    inc = await open_incident(
        client, ingester, "INC-full", started_at=iso(T0), acknowledged_at=iso(T1),
        resolved_at=iso(T2), status="resolved",
    )  # fmt: skip
    assert record(inc) == {
        "status": "resolved", "started_at": T0, "detected_at": T0, "acknowledged_at": T1,
        "resolved_at": T2,
    }  # fmt: skip


async def test_idempotency_key_makes_a_retry_one_delivery(
    client: httpx.AsyncClient, admin: Headers, ingester: Headers, con: dbmod.Connection
) -> None:
    await create_service(client, admin, "checkout")
    headers = {**ingester, "Idempotency-Key": "retry-42"}
    body = {"external_id": "INC-idem", "service": "checkout", "severity": "sev4"}
    first = await client.post("/v1/incidents", headers=headers, json=body)
    second = await client.post("/v1/incidents", headers=headers, json=body)
    assert first.status_code == second.status_code == 200, second.text
    assert first.json()["id"] == second.json()["id"]
    rows = await deliveries(con)
    assert [(r["source"], r["delivery_key"], r["status"]) for r in rows] == [
        ("api", "retry-42", "applied")
    ]
    assert await count(con, "incident") == 1
    assert await count(con, "incident_event") == 2  # triggered + fields, once


async def test_idempotency_key_reused_for_another_request_is_a_conflict_not_a_500(
    client: httpx.AsyncClient, admin: Headers, ingester: Headers, con: dbmod.Connection
) -> None:
    await create_service(client, admin, "checkout")
    headers = {**ingester, "Idempotency-Key": "reused"}
    first = await client.post(
        "/v1/incidents", headers=headers, json={"external_id": "INC-A", "service": "checkout"}
    )
    assert first.status_code == 200
    second = await client.post(
        "/v1/incidents", headers=headers, json={"external_id": "INC-B", "service": "checkout"}
    )
    change = await client.post(
        "/v1/changes", headers=headers,
        json={"external_id": "deploy-B", "service": "checkout", "status": "success"},
    )  # fmt: skip
    event = await client.post(
        f"/v1/incidents/{first.json()['id']}/events", headers=headers,
        json={"step": "resolved", "occurred_at": iso(T2)},
    )  # fmt: skip
    # A key already used for another request: refused as a conflict, never a 500.
    assert second.status_code in (409, 422), second.text
    assert change.status_code in (409, 422), change.text
    assert second.headers["content-type"] == PROBLEM
    # Nothing of the refused requests was stored.
    assert await count(con, "incident") == 1
    assert await count(con, "change") == 0
    assert await count(con, "delivery") == 1
    # The step posted with the same key is a retry of nothing: it must not be silently lost
    # while answering 200 with an unresolved incident.
    assert event.status_code != 200 or event.json()["status"] == "resolved", event.text


async def test_incident_for_an_unknown_service_is_422(
    client: httpx.AsyncClient, ingester: Headers, con: dbmod.Connection
) -> None:
    answer = await client.post(
        "/v1/incidents", headers=ingester, json={"external_id": "INC-x", "service": "nowhere"}
    )
    assert answer.status_code == 422
    assert answer.headers["content-type"] == PROBLEM
    assert [e["field"] for e in answer.json()["errors"]] == ["service"]
    assert await count(con, "incident") == 0
    assert await count(con, "delivery") == 0


async def test_incident_for_an_unknown_source_is_422(
    client: httpx.AsyncClient, admin: Headers, ingester: Headers
) -> None:
    await create_service(client, admin, "checkout")
    answer = await client.post(
        "/v1/incidents", headers=ingester,
        json={"external_id": "INC-x", "service": "checkout", "source": "nobody"},
    )  # fmt: skip
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["source"]


async def post_change(client: httpx.AsyncClient, ingester: Headers, **fields: Any) -> Json:
    body = {"service": "checkout", "environment": "production", "status": "success", **fields}
    answer = await client.post("/v1/changes", headers=ingester, json=body)
    assert answer.status_code == 200, answer.text
    change: Json = answer.json()
    return change


async def test_change_with_commits(
    client: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await create_service(client, admin, "checkout")
    change = await post_change(
        client, ingester, external_id="deploy-1", started_at=iso(T0), finished_at=iso(T1),
        commit_sha=SHA, commits=[{"sha": SHA, "committed_at": "2024-04-30T09:00:00Z"}],
        title="Release 1.2",
    )  # fmt: skip
    assert change["source"] == "api"
    assert change["service"] == "checkout"
    assert change["is_production"] is True
    assert change["status"] == "success"
    assert change["kind"] == "deploy"
    assert change["commit_sha"] == SHA
    assert ts(change["commit_time"]) == utc(2024, 4, 30, 9, 0)
    assert ts(change["started_at"]) == T0
    assert ts(change["finished_at"]) == T1
    detail = (await client.get(f"/v1/changes/{change['id']}", headers=reader)).json()
    assert detail["incidents"] == []
    assert [e["what"] for e in detail["timeline"]] == ["success"]


async def test_incident_naming_the_commit_links_explicitly(
    client: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await create_service(client, admin, "checkout")
    change = await post_change(
        client, ingester, external_id="deploy-sha", started_at=iso(T0), finished_at=iso(T1),
        commit_sha=SHA,
    )  # fmt: skip
    by_field = await open_incident(client, ingester, "INC-cause", caused_by=SHA, started_at=iso(T3))
    by_title = await open_incident(
        client, ingester, "INC-title", title=f"root cause: {SHA[:8]}", started_at=iso(T3)
    )
    for inc in (by_field, by_title):
        read = (await client.get(f"/v1/incidents/{inc['id']}", headers=reader)).json()
        assert read["caused_by_change_id"] == change["id"]
        assert read["link_kind"] == "explicit"
    assert by_field["caused_by"] == SHA
    assert by_title["caused_by"] == SHA[:8]
    detail = (await client.get(f"/v1/changes/{change['id']}", headers=reader)).json()
    assert detail["incidents"] == sorted([by_field["id"], by_title["id"]])


async def test_incident_naming_a_change_that_arrives_later_is_linked_when_it_does(
    client: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await create_service(client, admin, "checkout")
    by_id = await open_incident(
        client, ingester, "INC-early", caused_by="deploy-late", started_at=iso(T3)
    )
    by_sha = await open_incident(
        client, ingester, "INC-early-sha", caused_by=SHA[:10], started_at=iso(T3)
    )
    for inc in (by_id, by_sha):
        assert inc["caused_by_change_id"] is None
        assert inc["link_kind"] is None
    change = await post_change(
        client, ingester, external_id="deploy-late", started_at=iso(T0), finished_at=iso(T1),
        commit_sha=SHA,
    )  # fmt: skip
    for inc in (by_id, by_sha):
        read = (await client.get(f"/v1/incidents/{inc['id']}", headers=reader)).json()
        assert read["caused_by_change_id"] == change["id"]
        assert read["link_kind"] == "explicit"
    detail = (await client.get(f"/v1/changes/{change['id']}", headers=reader)).json()
    assert detail["incidents"] == sorted([by_id["id"], by_sha["id"]])


async def test_a_production_change_shortly_before_links_as_inferred(
    client: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await create_service(client, admin, "checkout")
    await create_service(client, admin, "payments")
    start = utc(2024, 6, 1, 12, 0)
    prod = await post_change(
        client, ingester, external_id="deploy-prod", started_at=iso(start - MINUTE * 40),
        finished_at=iso(start - MINUTE * 30),
    )  # fmt: skip
    # Not candidates: staging, failed, another service's, and one after the start.
    await post_change(
        client, ingester, external_id="deploy-staging", environment="staging",
        finished_at=iso(start - dt.timedelta(minutes=10)),
    )  # fmt: skip
    await post_change(
        client, ingester, external_id="deploy-failed", status="failed",
        finished_at=iso(start - dt.timedelta(minutes=5)),
    )  # fmt: skip
    await post_change(
        client, ingester, external_id="deploy-other", service="payments",
        finished_at=iso(start - dt.timedelta(minutes=2)),
    )  # fmt: skip
    await post_change(
        client, ingester, external_id="deploy-after", finished_at=iso(start + MINUTE),
    )  # fmt: skip

    inc = await open_incident(client, ingester, "INC-inferred", started_at=iso(start))
    assert inc["caused_by_change_id"] == prod["id"]
    assert inc["link_kind"] == "inferred"
    assert inc["caused_by"] is None
    detail = (await client.get(f"/v1/changes/{prod['id']}", headers=reader)).json()
    assert detail["incidents"] == [inc["id"]]

    # Outside the window (240 minutes by default): no link.
    late = await open_incident(
        client, ingester, "INC-too-late", started_at=iso(start + dt.timedelta(hours=5))
    )
    assert late["caused_by_change_id"] is None
    assert late["link_kind"] is None


async def test_no_inferred_link_when_the_source_says_so(
    client: httpx.AsyncClient, admin: Headers, ingester: Headers
) -> None:
    await create_service(client, admin, "checkout")
    scripts = await create_source(client, admin, "scripts", "api", infer_links=False)
    assert scripts["has_secret"] is False
    start = utc(2024, 6, 1, 12, 0)
    await post_change(
        client,
        ingester,
        external_id="deploy-prod",
        finished_at=iso(start - dt.timedelta(minutes=30)),
    )
    inc = await open_incident(
        client, ingester, "INC-scripts", source="scripts", started_at=iso(start)
    )
    assert inc["source"] == "scripts"
    assert inc["caused_by_change_id"] is None
    assert inc["link_kind"] is None
    # The same incident from the default source is linked.
    other = await open_incident(client, ingester, "INC-scripts", started_at=iso(start))
    assert other["id"] != inc["id"]
    assert other["link_kind"] == "inferred"


async def test_incident_filters(
    client: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await create_service(client, admin, "checkout")
    await create_service(client, admin, "payments")
    i1 = await open_incident(
        client, ingester, "F-1", severity="sev2", started_at="2024-03-01T10:00:00Z"
    )
    i2 = await open_incident(
        client, ingester, "F-2", severity="sev3", started_at="2024-03-02T10:00:00Z",
        resolved_at="2024-03-02T12:00:00Z", status="resolved",
    )  # fmt: skip
    i3 = await open_incident(
        client, ingester, "F-3", service="payments", severity="sev2",
        started_at="2024-03-05T10:00:00Z", acknowledged_at="2024-03-05T10:10:00Z",
        status="acknowledged",
    )  # fmt: skip
    assert (i1["status"], i2["status"], i3["status"]) == ("open", "resolved", "acknowledged")

    async def ids(params: list[tuple[str, str]]) -> list[int]:
        answer = await client.get("/v1/incidents", headers=reader, params=params)
        assert answer.status_code == 200, answer.text
        return [i["id"] for i in answer.json()]

    one, two, three = i1["id"], i2["id"], i3["id"]
    assert await ids([]) == [three, two, one]
    assert await ids([("service", "checkout")]) == [two, one]
    assert await ids([("service", "payments")]) == [three]
    assert await ids([("severity", "sev2")]) == [three, one]
    assert await ids([("severity", "sev3"), ("severity", "sev2")]) == [three, two, one]
    assert await ids([("status", "resolved")]) == [two]
    assert await ids([("status", "open"), ("status", "acknowledged")]) == [three, one]
    assert await ids([("from", "2024-03-03T00:00:00Z")]) == [three, one]
    assert await ids([("to", "2024-03-02T00:00:00Z")]) == [one]
    assert await ids([("from", "2024-03-02T11:00:00Z"), ("to", "2024-03-04T00:00:00Z")]) == [
        two,
        one,
    ]
    assert await ids([("service", "checkout"), ("severity", "sev2")]) == [one]
    assert await ids([("limit", "1")]) == [three]
    assert await ids([("before", str(three))]) == [two, one]

    unknown = await client.get("/v1/incidents", headers=reader, params={"service": "nowhere"})
    assert unknown.status_code == 422
    assert [e["field"] for e in unknown.json()["errors"]] == ["service"]
    bad = await client.get("/v1/incidents", headers=reader, params={"severity": "sev9"})
    assert bad.status_code == 422


@pytest.mark.parametrize(
    ("field", "value"),
    [("cost_estimate", False), ("cost_estimate", "1200"), ("users_affected", True),
     ("users_affected", "170")],
)  # fmt: skip
async def test_a_count_or_an_amount_given_as_a_boolean_or_text_is_refused(
    client: httpx.AsyncClient, admin: Headers, ingester: Headers, field: str, value: Any
) -> None:
    """The spec says number (or integer): JSON false was taken as a cost of 0 and true as one
    user (found by the contract test drawing from the document's example incident)."""
    await create_service(client, admin, "checkout")
    body = {"external_id": "INC-typed", "service": "checkout", field: value}
    answer = await client.post("/v1/incidents", headers=ingester, json=body)
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == [field]
    # A number is taken, an integral float as a count too (JSON Schema's integer).
    created = await open_incident(client, ingester, "INC-typed", **{field: 170.0})
    assert created[field] == 170
    step = {"step": "updated", "occurred_at": "2026-10-19T02:30:00Z", field: value}
    answer = await client.post(f"/v1/incidents/{created['id']}/events", headers=ingester,
                               json=step)  # fmt: skip
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == [field]
