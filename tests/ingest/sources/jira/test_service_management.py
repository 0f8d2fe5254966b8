"""Jira Service Management incidents through POST /v1/webhooks/{name} on the real database,
with the incident each payload makes written out by hand.

The payloads (tests/fixtures/webhooks/jira/service_management/, PROVENANCE.md there) follow
OPS-128 on northwind.atlassian.net, a "[System] Incident" whose Affected services field
(customfield_10043) names checkout-api and payments: created 2026-02-10 14:05:12.400Z at
priority High, raised to Highest (webhook at 14:13:10.104Z), resolved at 15:00:01.870Z; and
OPS-129, a service request.
"""

from __future__ import annotations

from functools import partial

import httpx
import pytest

from service import db as dbmod
from service.ingest.sources.jira import service_management as jsm
from service.models.enums import Severity
from tests.ingest.fixtures import fixture_set
from tests.ingest.sources.posting import (
    Deliver,
    Headers,
    Json,
    incident_view,
    one_byte_changed,
    one_incident,
    post_fixture,
    posted_twice,
    register,
    source,
    unmapped_detail,
)

TOKEN = "jsm-bearer-token"
FIELD = "customfield_10043"
SOURCE = source(
    "jsm-northwind", "jira", TOKEN, incident_issue_types=["Incident"],
    options={"affected_services_field": FIELD},
)  # fmt: skip
FOLDER = "jira/service_management"
CREATED, RAISED, RESOLVED, REQUEST = (
    f"{FOLDER}/{name}.json"
    for name in (
        "incident_created",
        "incident_priority_raised",
        "incident_resolved",
        "service_request_created",
    )
)
BEARER = {"Authorization": f"Bearer {TOKEN}"}
DETECTED = "2026-02-10T14:05:12.400000Z"  # fields.created 2026-02-10T14:05:12.400+0000
COMMON: Json = {
    "external_id": "OPS-128",
    # the first affected service, a business service of that name (no rule needed)
    "service": "checkout-api",
    "title": "Checkout API returns 503 for card payments",
    "url": "https://northwind.atlassian.net/browse/OPS-128",  # from issue.self
    "started_at": DETECTED,
    "detected_at": DETECTED,
    "acknowledged_at": None,
}
ALONE: dict[str, Json] = {
    CREATED: COMMON
    | {
        "severity": "sev2",  # priority High
        "priority": "High",
        "status": "open",
        "resolved_at": None,
        "timeline": [("2026-02-10T14:05:12.511000Z", "triggered")],  # timestamp 1770732312511
    },
    RAISED: COMMON
    | {
        "severity": "sev1",  # priority Highest
        "priority": "Highest",
        "status": "open",
        "resolved_at": None,
        "timeline": [("2026-02-10T14:13:10.104000Z", "updated")],  # timestamp 1770732790104
    },
    RESOLVED: COMMON
    | {
        "severity": "sev1",
        "priority": "Highest",
        "status": "resolved",
        "resolved_at": "2026-02-10T15:00:01.870000Z",  # resolutiondate, not the timestamp
        "timeline": [("2026-02-10T15:00:01.870000Z", "resolved")],
    },
}
WHOLE: Json = ALONE[RESOLVED] | {
    "timeline": [
        ("2026-02-10T14:05:12.511000Z", "triggered"),
        ("2026-02-10T14:13:10.104000Z", "updated"),
        ("2026-02-10T15:00:01.870000Z", "resolved"),
    ]
}


async def deliver(client: httpx.AsyncClient, relative: str) -> httpx.Response:
    return await post_fixture(client, SOURCE["name"], relative, BEARER)


@pytest.fixture
async def posted(client: httpx.AsyncClient, admin: Headers) -> Deliver:
    """The source registered: posts a payload to it."""
    await register(client, admin, SOURCE, "checkout-api", "payments")
    return partial(deliver, client)


def test_every_payload_is_used_here() -> None:
    assert fixture_set(FOLDER) == sorted([*ALONE, REQUEST])


@pytest.mark.parametrize("relative", sorted(ALONE))
async def test_each_step_alone(
    client: httpx.AsyncClient, reader: Headers, posted: Deliver, relative: str
) -> None:
    incident_id = await one_incident(posted, relative)
    assert await incident_view(client, reader, incident_id) == ALONE[relative]


@pytest.mark.parametrize("order", [(CREATED, RAISED, RESOLVED), (RESOLVED, RAISED, CREATED)])
async def test_the_steps_in_any_order_are_one_incident(
    client: httpx.AsyncClient, reader: Headers, posted: Deliver, order: tuple[str, ...]
) -> None:
    incident_id = await one_incident(posted, *order)
    assert await incident_view(client, reader, incident_id) == WHOLE


async def test_a_rule_on_an_affected_service_maps_it(
    client: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    """Every affected service is a label: a rule on the second one, payments, wins over the
    first one's name."""
    rule = {"match": {"affected_service:payments": "true"}, "service": "payments"}
    await register(client, admin, SOURCE | {"service_rules": [rule]}, "payments")
    resp = await deliver(client, CREATED)
    assert resp.status_code == 200, resp.text
    view = await incident_view(client, reader, resp.json()["incidents"][0])
    assert view == ALONE[CREATED] | {"service": "payments"}


async def test_without_the_field_option_the_project_is_the_service(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers
) -> None:
    """Unset, the Affected services field is not read: the project key OPS names no business
    service, so the delivery is kept as unmapped until a rule exists."""
    await register(client, admin, SOURCE | {"options": {}}, "checkout-api")
    assert await unmapped_detail(con, partial(deliver, client), CREATED) == (
        "no business service for incident 'OPS-128' from 'OPS' (label:payments=true, "
        "project=OPS): add a service rule to source 'jsm-northwind', then replay"
    )


async def test_a_field_option_that_is_no_custom_field_is_422(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    body = SOURCE | {"options": {"affected_services_field": "Affected services"}}
    resp = await client.post("/v1/sources", json=body, headers=admin)
    assert resp.status_code == 422, resp.text
    assert "options.affected_services_field" in resp.text


async def test_a_service_request_is_kept_as_unmapped(
    con: dbmod.Connection, posted: Deliver
) -> None:
    assert await unmapped_detail(con, posted, REQUEST) == (
        "issue type [System] Service request is not an incident type "
        "(configure incident_issue_types)"
    )


async def test_the_same_delivery_twice_is_a_duplicate(
    client: httpx.AsyncClient, reader: Headers, posted: Deliver
) -> None:
    """Jira sends no delivery id: issue id, event and timestamp from the body stand in."""
    incident_id = await posted_twice(posted, CREATED)
    assert await incident_view(client, reader, incident_id) == ALONE[CREATED]


@pytest.mark.usefixtures("posted")
async def test_a_token_one_byte_off_is_401(client: httpx.AsyncClient) -> None:
    wrong = one_byte_changed(TOKEN.encode(), b"j", b"J").decode()
    resp = await post_fixture(client, SOURCE["name"], CREATED, {"Authorization": f"Bearer {wrong}"})
    assert resp.status_code == 401, resp.text


@pytest.mark.parametrize(
    ("priority", "severity"),
    [
        ("Highest", Severity.SEV1), ("P1 - Critical", Severity.SEV1), ("Blocker", Severity.SEV1),
        ("High", Severity.SEV2), ("p2", Severity.SEV2), ("Critical", Severity.SEV2),
        ("Medium", Severity.SEV3), ("P3 - Moderate", Severity.SEV3), ("Major", Severity.SEV3),
        ("Low", Severity.SEV4), ("P4", Severity.SEV4), ("Minor", Severity.SEV4),
        ("Lowest", Severity.SEV5), ("P5 - Informational", Severity.SEV5),
        ("Trivial", Severity.SEV5), ("Urgent", None), ("P6", None),
    ],
)  # fmt: skip
def test_priority_schemes(priority: str, severity: Severity | None) -> None:
    """JSM's P1-P5, Jira's default Highest-Lowest, Data Center's Blocker-Trivial."""
    assert jsm.priority_severity(priority) is severity
