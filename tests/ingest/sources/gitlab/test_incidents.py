"""GitLab incidents (Issue Hook, issue_type incident) through POST /v1/webhooks/{name} on the
real database, with the incident each payload makes written out by hand.

The payloads (tests/fixtures/webhooks/gitlab/issue/, PROVENANCE.md there) follow incident #87
of shopfront/checkout: opened 09:15:00 with severity high, raised to critical at 09:21:30,
acknowledged at 09:24:10, closed at 10:02:45 (2026-03-04, UTC); and an ordinary issue #88.
"""

from __future__ import annotations

import uuid
from functools import partial

import httpx
import pytest

from service import db as dbmod
from tests.ingest.fixtures import fixture_set
from tests.ingest.sources.posting import (
    Headers,
    Json,
    incident_after,
    incident_view,
    one_byte_changed,
    post_fixture,
    posted_twice,
    register,
    source,
    unmapped_detail,
)

TOKEN = "gl-incident-token"
SOURCE = source("gitlab-incidents", "gitlab", TOKEN, ("project", "shopfront/checkout", "checkout"))
FOLDER = "gitlab/issue"
OPEN, SEVERITY, ACK, CLOSE, ISSUE = (
    f"{FOLDER}/{name}.json"
    for name in (
        "incident_open",
        "incident_update_severity",
        "incident_acknowledge",
        "incident_close",
        "issue_open",
    )
)
URL = "https://gitlab.example.com/shopfront/checkout/-/issues/87"
OPENED = "2026-03-04T09:15:00Z"

#: Incident #87 after each delivery alone (on an empty database).
ALONE: dict[str, Json] = {
    OPEN: {
        "external_id": "shopfront/checkout#87",  # path_with_namespace # iid
        "service": "checkout",  # rule project=shopfront/checkout
        "severity": "sev2",  # severity high
        "priority": None,
        "status": "open",
        "title": "Checkout payments timing out",
        "url": URL,
        "started_at": OPENED,  # created_at
        "detected_at": OPENED,
        "acknowledged_at": None,
        "resolved_at": None,
        "timeline": [(OPENED, "triggered")],
    },
    SEVERITY: {
        "external_id": "shopfront/checkout#87",
        "service": "checkout",
        "severity": "sev1",  # severity critical
        "priority": None,
        "status": "open",
        "title": "Checkout payments timing out",
        "url": URL,
        "started_at": OPENED,  # created_at, though the open step was not seen
        "detected_at": OPENED,
        "acknowledged_at": None,
        "resolved_at": None,
        "timeline": [("2026-03-04T09:21:30Z", "updated")],  # updated_at
    },
    ACK: {
        "external_id": "shopfront/checkout#87",
        "service": "checkout",
        "severity": "sev1",
        "priority": None,
        "status": "acknowledged",  # escalation_status triggered -> acknowledged
        "title": "Checkout payments timing out",
        "url": URL,
        "started_at": OPENED,
        "detected_at": OPENED,
        "acknowledged_at": "2026-03-04T09:24:10Z",
        "resolved_at": None,
        "timeline": [("2026-03-04T09:24:10Z", "acknowledged")],
    },
    CLOSE: {
        "external_id": "shopfront/checkout#87",
        "service": "checkout",
        "severity": "sev1",
        "priority": None,
        "status": "resolved",
        "title": "Checkout payments timing out",
        "url": URL,
        "started_at": OPENED,
        "detected_at": OPENED,
        "acknowledged_at": None,
        "resolved_at": "2026-03-04T10:02:45Z",  # closed_at
        "timeline": [("2026-03-04T10:02:45Z", "resolved")],
    },
}
#: All four steps, in any order of arrival.
WHOLE: Json = ALONE[CLOSE] | {
    "acknowledged_at": "2026-03-04T09:24:10Z",
    "timeline": [
        (OPENED, "triggered"),
        ("2026-03-04T09:21:30Z", "updated"),
        ("2026-03-04T09:24:10Z", "acknowledged"),
        ("2026-03-04T10:02:45Z", "resolved"),
    ],
}


def headers(relative: str, token: str = TOKEN) -> Headers:
    return {
        "X-Gitlab-Event": "Issue Hook",
        "X-Gitlab-Token": token,
        "X-Gitlab-Event-UUID": str(uuid.uuid5(uuid.NAMESPACE_URL, relative)),
    }


async def deliver(client: httpx.AsyncClient, relative: str) -> httpx.Response:
    return await post_fixture(client, SOURCE["name"], relative, headers(relative))


@pytest.fixture
async def registered(client: httpx.AsyncClient, admin: Headers) -> None:
    await register(client, admin, SOURCE, "checkout")


def test_every_payload_is_used_here() -> None:
    assert fixture_set(FOLDER) == sorted([*ALONE, ISSUE])


#: Steps posted in this order, and the incident they make.
STEPS: dict[tuple[str, ...], Json] = {
    **{(relative,): view for relative, view in ALONE.items()},
    (OPEN, SEVERITY, ACK, CLOSE): WHOLE,
    (CLOSE, ACK, OPEN, SEVERITY): WHOLE,
}


@pytest.mark.parametrize("steps", list(STEPS), ids=lambda steps: "+".join(steps))
@pytest.mark.usefixtures("registered")
async def test_steps_in_any_order(
    client: httpx.AsyncClient, reader: Headers, steps: tuple[str, ...]
) -> None:
    assert await incident_after(client, reader, partial(deliver, client), *steps) == STEPS[steps]


@pytest.mark.usefixtures("registered")
async def test_an_ordinary_issue_is_kept_as_unmapped(
    client: httpx.AsyncClient, con: dbmod.Connection
) -> None:
    detail = await unmapped_detail(con, partial(deliver, client), ISSUE)
    assert detail == "GitLab Issue is not an incident (issue_type incident)"


@pytest.mark.usefixtures("registered")
async def test_the_same_delivery_twice_is_a_duplicate(
    client: httpx.AsyncClient, reader: Headers
) -> None:
    incident_id = await posted_twice(partial(deliver, client), OPEN)
    assert await incident_view(client, reader, incident_id) == ALONE[OPEN]


@pytest.mark.usefixtures("registered")
async def test_the_step_under_another_delivery_id_changes_nothing(
    client: httpx.AsyncClient, reader: Headers
) -> None:
    """GitLab's retry comes with its own event UUID when the hook is re-triggered by hand:
    the step is kept once by its key (issue id, action, updated_at)."""
    await deliver(client, OPEN)
    resp = await post_fixture(client, SOURCE["name"], OPEN, headers("another uuid"))
    assert resp.status_code == 200, resp.text
    assert await incident_view(client, reader, resp.json()["incidents"][0]) == ALONE[OPEN]


@pytest.mark.usefixtures("registered")
async def test_a_token_one_byte_off_is_401(client: httpx.AsyncClient) -> None:
    wrong = one_byte_changed(TOKEN.encode(), b"t", b"T").decode()
    resp = await post_fixture(client, SOURCE["name"], OPEN, headers(OPEN, wrong))
    assert resp.status_code == 401, resp.text
