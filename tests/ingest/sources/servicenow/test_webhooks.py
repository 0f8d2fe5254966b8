"""ServiceNow deliveries through POST /v1/webhooks/{source} on the real app and Postgres: the
bodies the setup's business rule posts for one incident record (tests/fixtures/webhooks/
servicenow), with the source's secret as a bearer token or basic auth."""

from __future__ import annotations

import base64
import copy

import httpx
import orjson
import pytest

from service import db as dbmod
from tests.ingest.fixtures import fixture, fixture_bytes
from tests.ingest.sources.records import incident_view, replayed_with_rule
from tests.ingest.test_pipeline import (
    Headers,
    Json,
    assert_applied,
    assert_unauthorized,
    create_service,
    create_source,
    deliveries,
    rejections,
)
from tests.ingest.test_pipeline import assert_unmapped as unmapped
from tests.ingest.test_pipeline import stored_counts as stored

SECRET = "sn-secret-4c1e9a"
SYS_ID = "9d3c1b7e4f2a4c8d8e6b5a4f3c2d1e0f"
NEW, IN_PROGRESS, CUSTOM, RESOLVED, CLOSED = (
    f"servicenow/incident/servicenow_{name}.json"
    for name in ("insert_new", "update_in_progress", "update_custom_state", "update_resolved",
                 "update_closed")
)  # fmt: skip
LIFE = [NEW, IN_PROGRESS, RESOLVED, CLOSED]
BEARER = {"Authorization": f"Bearer {SECRET}"}

#: INC0010042 as its four updates tell it, in whatever order they arrive.
LIFE_RECORD: Json = {
    "external_id": "INC0010042",
    "source": "servicenow",
    "service": "notifications",  # business_service "Order Notifications", by the rule
    "severity": "sev1",  # priority 1 since the resolution (was 2: sev2)
    "priority": "1",
    "status": "resolved",  # state 7 Closed
    "title": "Order confirmation e-mails are not sent",
    "url": f"https://example-shop.service-now.com/incident.do?sys_id={SYS_ID}",
    "started_at": "2026-11-04T08:52:10Z",  # no impact start: the detection
    "detected_at": "2026-11-04T08:52:10Z",  # opened_at "2026-11-04 08:52:10" (UTC)
    "acknowledged_at": "2026-11-04T09:03:45Z",  # state 2 In Progress, at sys_updated_on
    "resolved_at": "2026-11-04T10:17:30Z",  # resolved_at; closing three days later keeps it
    "timeline": [
        # (at, what, event key: sys_id and sys_mod_count)
        ("2026-11-04T08:52:10Z", "triggered", f"{SYS_ID}:0"),
        ("2026-11-04T09:03:45Z", "acknowledged", f"{SYS_ID}:2"),
        ("2026-11-04T10:17:30Z", "resolved", f"{SYS_ID}:5"),
        ("2026-11-04T10:17:30Z", "resolved", f"{SYS_ID}:6"),  # closed: still that resolution
    ],
}


async def register(client: httpx.AsyncClient, admin: Headers, *, rules: bool = True) -> None:
    await create_service(client, admin, "notifications")
    rule = {"match": {"ref": "Order Notifications"}, "service": "notifications"}
    await create_source(
        client, admin, "servicenow", "servicenow", SECRET,
        service_rules=[rule] if rules else [], username="kpi.integration",
    )  # fmt: skip


async def post(
    client: httpx.AsyncClient, body: bytes, headers: Headers | None = None
) -> httpx.Response:
    sent = {"Content-Type": "application/json", **(BEARER if headers is None else headers)}
    return await client.post("/v1/webhooks/servicenow", content=body, headers=sent)


async def deliver(client: httpx.AsyncClient, relative: str) -> httpx.Response:
    return await post(client, fixture_bytes(relative))


async def record(client: httpx.AsyncClient, reader: Headers, incident_id: int) -> Json:
    return await incident_view(client, reader, incident_id, LIFE_RECORD)


def changed(relative: str, **fields: object) -> bytes:
    payload = copy.deepcopy(fixture(relative))
    payload.update(fields)
    return orjson.dumps(payload)


# Authentication ---------------------------------------------------------------------------------


async def test_bearer_and_basic_auth_are_accepted_and_a_one_byte_change_is_not(
    client: httpx.AsyncClient, admin: Headers, con: dbmod.Connection
) -> None:
    await register(client, admin)
    body = fixture_bytes(NEW)
    basic = base64.b64encode(f"kpi.integration:{SECRET}".encode()).decode()
    wrong_basic = base64.b64encode(f"kpi.integration:{SECRET[:-1]}b".encode()).decode()
    refused: list[Headers] = [
        {"Authorization": f"Bearer {SECRET[:-1]}b"},  # one byte changed
        {"Authorization": f"Basic {wrong_basic}"},
        {"Authorization": f"Bearer {SECRET} "[:-2]},  # one byte short
        {},
    ]
    for headers in refused:
        assert_unauthorized(await post(client, body, headers))
    assert await deliveries(con) == []
    assert await rejections(con) == {"servicenow": len(refused)}
    assert (await stored(con))["incident"] == 0

    assert_applied(await post(client, body, {"Authorization": f"Basic {basic}"}))
    assert_applied(await deliver(client, IN_PROGRESS))
    assert [r["delivery_key"] for r in await deliveries(con)] == [f"{SYS_ID}:0", f"{SYS_ID}:2"]


# Order and duplicates ---------------------------------------------------------------------------


@pytest.mark.parametrize("order", [LIFE, LIFE[::-1], [RESOLVED, NEW, CLOSED, IN_PROGRESS]])
async def test_the_updates_in_any_order_give_the_same_incident(
    client: httpx.AsyncClient, admin: Headers, reader: Headers, order: list[str]
) -> None:
    await register(client, admin)
    [incident_id] = {assert_applied(await deliver(client, name))["incidents"][0] for name in order}
    assert await record(client, reader, incident_id) == LIFE_RECORD


async def test_the_insert_alone_is_an_open_incident(
    client: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await register(client, admin)
    [incident_id] = assert_applied(await deliver(client, NEW))["incidents"]
    assert (
        await record(client, reader, incident_id)
        == {
            **LIFE_RECORD,
            "severity": "sev2",  # priority "2"
            "priority": "2",
            "status": "open",  # state 1 New
            "acknowledged_at": None,
            "resolved_at": None,
            "timeline": LIFE_RECORD["timeline"][:1],
        }
    )


async def test_the_same_update_posted_again_is_a_duplicate(
    client: httpx.AsyncClient, admin: Headers, con: dbmod.Connection
) -> None:
    await register(client, admin)
    first = assert_applied(await deliver(client, IN_PROGRESS))
    # The same sys_id and sys_mod_count, even with other fields, is that update again.
    for body in (fixture_bytes(IN_PROGRESS), changed(IN_PROGRESS, short_description="Mails")):
        answer = await post(client, body)
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "duplicate"
        assert answer.json()["delivery_id"] == first["delivery_id"]
    assert [r["status"] for r in await deliveries(con)] == ["applied"]
    assert (await stored(con))["incident_event"] == 1


async def test_without_sys_mod_count_the_update_time_tells_updates_apart(
    client: httpx.AsyncClient, admin: Headers, con: dbmod.Connection
) -> None:
    await register(client, admin)
    body = changed(IN_PROGRESS, sys_mod_count=None)
    assert_applied(await post(client, body))
    assert (await post(client, body)).json()["status"] == "duplicate"
    [row] = await deliveries(con)
    assert row["delivery_key"] == f"{SYS_ID}:@2026-11-04 09:03:45"


# Unmapped and malformed -------------------------------------------------------------------------


async def test_a_custom_state_or_an_unknown_service_is_kept_unmapped_then_replayed(
    client: httpx.AsyncClient, admin: Headers, reader: Headers, con: dbmod.Connection
) -> None:
    await register(client, admin, rules=False)
    custom = unmapped(await deliver(client, CUSTOM))
    assert custom["detail"] == (
        "ServiceNow incident state 4 is none of New, In Progress, On Hold, Resolved, Closed, "
        "Canceled (1, 2, 3, 6, 7, 8): not mapped"
    )
    unknown = unmapped(await deliver(client, NEW))
    assert "Order Notifications" in unknown["detail"]
    assert (await stored(con))["incident"] == 0

    # A rule on the configuration item maps it; the custom state still is not.
    rule = {"match": {"cmdb_ci": "mail-relay-02"}, "service": "notifications"}
    source = {"name": "servicenow", "kind": "servicenow"}
    [incident_id] = await replayed_with_rule(client, admin, source, rule, unknown["delivery_id"])
    assert (await record(client, reader, incident_id))["service"] == "notifications"
    again = await client.post(f"/v1/deliveries/{custom['delivery_id']}/replay", headers=admin)
    assert again.status_code == 202, again.text
    assert again.json()["detail"] == custom["detail"]


@pytest.mark.parametrize(
    ("fields", "pointer", "detail"),
    [
        ({"opened_at": "2026-11-04T08:52:10Z"}, "#/opened_at",
         "expected yyyy-MM-dd HH:mm:ss (UTC, as getValue gives it)"),
        ({"opened_at": "04/11/2026 09:52:10"}, "#/opened_at",
         "expected yyyy-MM-dd HH:mm:ss (UTC, as getValue gives it)"),
        ({"priority": "9"}, "#/priority", "expected a priority from 1 to 5"),
        ({"state": "In Progress"}, "#/state",
         "expected an incident state code (1, 2, 3, 6, 7 or 8)"),
        ({"sys_id": 42}, "#/sys_id", "expected a non-empty string"),
        ({"number": ""}, "#/number", "expected a non-empty string"),
    ],
)  # fmt: skip
async def test_a_malformed_record_is_422_naming_the_field(
    client: httpx.AsyncClient, admin: Headers, con: dbmod.Connection, fields: Json,
    pointer: str, detail: str,
) -> None:  # fmt: skip
    await register(client, admin)
    answer = await post(client, changed(NEW, **fields))
    assert answer.status_code == 422, answer.text
    assert [(e["pointer"], e["detail"]) for e in answer.json()["errors"]] == [(pointer, detail)]
    assert [r["status"] for r in await deliveries(con)] == ["invalid"]
