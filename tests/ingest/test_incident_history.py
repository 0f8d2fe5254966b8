"""Incidents and changes as the tools' own histories say, whatever order deliveries arrive in:
reopened incidents, PagerDuty's status on every event, Alertmanager's firing episodes and
retracted resolutions, steps stamped with the tool's time, inferred links and lead time.

Each figure below is worked out by hand in the comments next to it.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from service import db as dbmod
from service.config import Settings
from tests.conftest import app_client
from tests.ingest.fixtures import fixture
from tests.ingest.test_webhook_fixtures import SOURCES, hmac_hex, register

Json = dict[str, Any]
Headers = dict[str, str]

#: The app's clock in these tests: December, long after the incidents below.
NOW = dt.datetime(2026, 12, 5, 20, 35, tzinfo=dt.UTC)


def utc(day: int, hour: int, minute: int = 0, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=dt.UTC)


def z(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


@pytest.fixture
async def clocked(con: dbmod.Connection, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(con, settings, lambda: NOW) as client:
        yield client


async def service(client: httpx.AsyncClient, admin: Headers, slug: str, tier: int = 1) -> None:
    resp = await client.post(
        "/v1/services", json={"slug": slug, "name": slug, "tier": tier}, headers=admin
    )
    assert resp.status_code == 201, resp.text


async def post(client: httpx.AsyncClient, headers: Headers, path: str, body: Json) -> Json:
    resp = await client.post(path, json=body, headers=headers)
    assert resp.status_code == 200, resp.text
    answer: Json = resp.json()
    return answer


async def get(client: httpx.AsyncClient, headers: Headers, path: str) -> Any:
    resp = await client.get(path, headers=headers)
    assert resp.status_code == 200, resp.text
    return resp.json()


async def report(
    client: httpx.AsyncClient, reader: Headers, slug: str, start: str, end: str
) -> Json:
    answer: Json = await get(client, reader, f"/v1/services/{slug}/report?from={start}&to={end}")
    return answer


# 7. Reopened incidents -----------------------------------------------------------------------


async def test_a_reopened_incident_counts_only_its_actual_outage(
    clocked: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    """Down 10:00, resolved 10:30, reopened 11:00, resolved 12:00: the service was up from
    10:30 to 11:00, so 30 + 60 = 90 outage minutes, not 120."""
    await service(clocked, admin, "shop")
    inc = await post(clocked, ingester, "/v1/incidents", {
        "external_id": "INC-R", "service": "shop", "severity": "sev1",
        "started_at": z(utc(1, 10)), "resolved_at": z(utc(1, 10, 30)), "status": "resolved",
    })  # fmt: skip
    for step, at in (("reopened", utc(1, 11)), ("resolved", utc(1, 12))):
        await post(clocked, ingester, f"/v1/incidents/{inc['id']}/events",
                   {"step": step, "occurred_at": z(at)})  # fmt: skip
    got = await report(clocked, reader, "shop", "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z")
    availability = got["availability"]
    assert availability["outage_minutes"] == pytest.approx(90)
    # Down twice, but one incident.
    assert availability["outage_incidents"] == 1
    # 1 - 90 / 1440 minutes of the day = 93.75 %.
    assert availability["availability"] == pytest.approx(93.75)
    # MTTR runs to the final resolution: detected 10:00 (the impact start), resolved 12:00.
    assert got["incidents"]["overall"]["mttr"]["mean"] == pytest.approx(120)
    # Error budget of a tier-1 service (default target 99.95 %): 0.05 % of 1,440 minutes is
    # 0.72 minutes; 90 spent: 1 - 90 / 0.72 = -12,400 %.
    assert availability["error_budget_remaining"] == pytest.approx((1 - 90 / 0.72) * 100)


async def test_reopening_gives_the_same_figures_whatever_order_the_steps_arrive_in(
    clocked: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    """The same four steps, in every order: the same record and the same 90 minutes."""
    await service(clocked, admin, "shop")
    steps = [("resolved", utc(1, 10, 30)), ("reopened", utc(1, 11)), ("resolved", utc(1, 12)),
             ("acknowledged", utc(1, 10, 5))]  # fmt: skip
    records = []
    for n, order in enumerate(itertools.permutations(steps)):
        inc = await post(clocked, ingester, "/v1/incidents", {
            "external_id": f"INC-{n}", "service": "shop", "severity": "sev1",
            "started_at": z(utc(1, 10)),
        })  # fmt: skip
        for step, at in order:
            await post(clocked, ingester, f"/v1/incidents/{inc['id']}/events",
                       {"step": step, "occurred_at": z(at)})  # fmt: skip
        found = await get(clocked, reader, f"/v1/incidents/{inc['id']}")
        records.append({k: found[k] for k in ("status", "acknowledged_at", "resolved_at")})
    assert records == [
        {"status": "resolved", "acknowledged_at": "2026-03-01T10:05:00Z",
         "resolved_at": "2026-03-01T12:00:00Z"}
    ] * 24  # fmt: skip
    got = await report(clocked, reader, "shop", "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z")
    # 24 incidents of 90 minutes each, all at the same times: their union is 90 minutes.
    assert got["availability"]["outage_minutes"] == pytest.approx(90)


async def test_incidents_starting_at_the_same_instant_are_not_recurrences_of_each_other(
    clocked: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    """Two incidents of one problem starting at 10:00 on 1 March are not earlier than each
    other; a third on 11 March recurs (10 days after): 1 of 3 = 33.3 %, in any order."""
    await service(clocked, admin, "shop")
    for external_id, day in (("C", 11), ("A", 1), ("B", 1)):
        await post(clocked, ingester, "/v1/incidents", {
            "external_id": external_id, "service": "shop", "severity": "sev3",
            "problem_key": "db-pool", "started_at": z(utc(day, 10)),
        })  # fmt: skip
    got = await report(clocked, reader, "shop", "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z")
    assert got["incidents"]["recurrence_rate"] == pytest.approx(100 / 3)


# 8. PagerDuty: the status follows what PagerDuty says, in PagerDuty's order ------------------

PD_ACK = "pagerduty/v3/incident.acknowledged/zulip_acknowledged_v3.json"


def pd_event(event_id: str, event_type: str, at: str, status: str) -> bytes:
    """The published v3 incident.acknowledged delivery (incident PQ1K5C8, service PA2P440) as
    PagerDuty sends it for another event on the same incident: its id, type, time and the
    incident's status then."""
    body = copy.deepcopy(fixture(PD_ACK))
    event = body["event"]
    event.update(id=event_id, event_type=event_type, occurred_at=at)
    event["data"]["status"] = status
    return orjson.dumps(body)


PD_HISTORY = [
    pd_event("E1", "incident.triggered", "2021-06-04T13:50:00Z", "triggered"),
    orjson.dumps(fixture(PD_ACK)),  # acknowledged at 13:55:30.394
    # Reassigned: PagerDuty puts the incident back to triggered until the new assignee acks.
    pd_event("E3", "incident.reassigned", "2021-06-04T14:00:00Z", "triggered"),
    pd_event("E4", "incident.acknowledged", "2021-06-04T14:05:00Z", "acknowledged"),
    pd_event("E5", "incident.unacknowledged", "2021-06-04T14:10:00Z", "triggered"),
]


async def deliver_pd(client: httpx.AsyncClient, body: bytes) -> Json:
    secret = SOURCES["pagerduty"]["secret"]
    resp = await client.post(
        "/v1/webhooks/pagerduty-acme", content=body,
        headers={"Content-Type": "application/json",
                 "X-PagerDuty-Signature": "v1=" + hmac_hex(secret, body)},
    )  # fmt: skip
    assert resp.status_code == 200, resp.text
    answer: Json = resp.json()
    return answer


async def pd_incident(client: httpx.AsyncClient, reader: Headers) -> Json:
    found = await get(client, reader, "/v1/incidents?service=pig208")
    assert len(found) == 1
    incident: Json = found[0]
    return incident


async def test_pagerduty_reassign_and_unacknowledge_put_the_incident_back_to_triggered(
    client: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await register(client, admin, "pagerduty")
    expected = [
        ("open", None),  # triggered
        ("acknowledged", "2021-06-04T13:55:30.394000Z"),
        ("open", "2021-06-04T13:55:30.394000Z"),  # reassigned: triggered, first ack kept
        ("acknowledged", "2021-06-04T13:55:30.394000Z"),  # acknowledged again at 14:05
        ("open", "2021-06-04T13:55:30.394000Z"),  # unacknowledged
    ]
    for body, (status, acked) in zip(PD_HISTORY, expected, strict=True):
        await deliver_pd(client, body)
        incident = await pd_incident(client, reader)
        assert (incident["status"], incident["acknowledged_at"]) == (status, acked)


@pytest.mark.parametrize("order", [(4, 3, 2, 1, 0), (2, 0, 4, 1, 3), (1, 4, 0, 3, 2)])
async def test_pagerduty_events_apply_in_pagerdutys_order_not_in_arrival_order(
    client: httpx.AsyncClient, admin: Headers, reader: Headers, order: tuple[int, ...]
) -> None:
    """Delivered in any order, the incident ends as PagerDuty last said (unacknowledged at
    14:10: open), with the first acknowledgement (13:55:30.394) kept for MTTA."""
    await register(client, admin, "pagerduty")
    for index in order:
        await deliver_pd(client, PD_HISTORY[index])
    incident = await pd_incident(client, reader)
    assert (incident["status"], incident["acknowledged_at"], incident["detected_at"]) == (
        "open", "2021-06-04T13:55:30.394000Z", "2021-06-04T13:50:00Z"
    )  # fmt: skip


async def test_pagerduty_v2_assign_message_puts_an_acknowledged_incident_back_to_triggered(
    client: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    """PagerDuty's documented v2 incident.assign message carries incident.status triggered."""
    await register(client, admin, "pagerduty")
    base = fixture("pagerduty/v2/incident.trigger/go-pagerduty_webhook_test_payload.json")

    def message(event: str, at: str, status: str, message_id: str) -> Json:
        m = copy.deepcopy(base["messages"][0])
        m.update(event=event, created_on=at, id=message_id)
        m["incident"]["status"] = status
        return m

    trigger = base["messages"][0]  # 2017-09-26T15:14:36Z, triggered
    ack = message("incident.acknowledge", "2017-09-26T15:20:00Z", "acknowledged", "m-ack")
    assign = message("incident.assign", "2017-09-26T15:30:00Z", "triggered", "m-assign")
    # One delivery with the assignment, then one with the trigger and the acknowledgement:
    # PagerDuty's times order them, not the deliveries.
    await deliver_pd(client, orjson.dumps({"messages": [assign]}))
    await deliver_pd(client, orjson.dumps({"messages": [trigger, ack]}))
    [incident] = await get(client, reader, "/v1/incidents?service=xdb-cluster")
    assert (incident["status"], incident["acknowledged_at"]) == ("open", "2017-09-26T15:20:00Z")


# 9. Alertmanager: one incident per firing episode; a retracted resolution reopens ------------

AM_FIRING = "alertmanager/firing/alertmanager-bot_firing_sh_body.json"
AM_RESOLVED = "alertmanager/resolved/alertmanager-bot_resolved_sh_body.json"
#: The bot's alert: startsAt 22:43:58.283995108+01:00, resolved at 22:48:13.283995108+01:00.
FIRE_START = "2018-11-04T21:43:58.283995Z"
FIRE_END = "2018-11-04T21:48:13.283995Z"


async def deliver_am(client: httpx.AsyncClient, body: Any) -> Json:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    secret = SOURCES["alertmanager"]["secret"]
    resp = await client.post(
        "/v1/webhooks/alertmanager-acme", content=raw,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {secret}"},
    )  # fmt: skip
    assert resp.status_code == 200, resp.text
    answer: Json = resp.json()
    return answer


def alert_at(name: str, **alert: str) -> Json:
    body = copy.deepcopy(fixture(name))
    body["alerts"][0].update(alert)
    return body


async def fire_incidents(client: httpx.AsyncClient, reader: Headers) -> list[Json]:
    found: list[Json] = await get(client, reader, "/v1/incidents?service=fire")
    return sorted(
        ({k: i[k] for k in ("external_id", "status", "started_at", "resolved_at")}
         for i in found),
        key=lambda i: i["started_at"],
    )  # fmt: skip


async def test_an_alert_that_fires_again_after_resolving_is_a_second_incident(
    client: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    """Fire 21:43:58, resolve 21:48:13, fire again two days later: two incidents, each with
    Alertmanager's own start and end; the gap between them is no outage."""
    await register(client, admin, "alertmanager")
    await deliver_am(client, fixture(AM_FIRING))
    await deliver_am(client, fixture(AM_RESOLVED))
    again = alert_at(AM_FIRING, startsAt="2018-11-06T09:00:00Z", endsAt="0001-01-01T00:00:00Z")
    await deliver_am(client, again)
    assert await fire_incidents(client, reader) == [
        {"external_id": f"labels-d5e10d7b75435f55@{FIRE_START}", "status": "resolved",
         "started_at": FIRE_START, "resolved_at": FIRE_END},
        {"external_id": "labels-d5e10d7b75435f55@2018-11-06T09:00:00Z", "status": "open",
         "started_at": "2018-11-06T09:00:00Z", "resolved_at": None},
    ]  # fmt: skip
    # 2018-11-05 lies between the two episodes: no outage at all that day.
    day = await report(client, reader, "fire", "2018-11-05T00:00:00Z", "2018-11-06T00:00:00Z")
    assert day["availability"]["outage_minutes"] == 0


async def test_a_retracted_resolution_reopens_the_episode_without_a_gap(
    client: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    """Alertmanager resolved the alert at 21:48:13, then sent it firing again with its
    original startsAt (the resolution is retracted; the alert's endsAt is later than the
    resolution), and finally resolved it at 22:10:00. One incident, down without a break
    from 21:43:58.283995 to 22:10:00: 26 min 1.716005 s."""
    await register(client, admin, "alertmanager")
    await deliver_am(client, fixture(AM_FIRING))
    await deliver_am(client, fixture(AM_RESOLVED))
    # The firing body of the retraction: the same startsAt, refreshed endsAt.
    retraction = alert_at(AM_FIRING, endsAt="2018-11-04T21:53:00Z")
    answer = await deliver_am(client, retraction)
    assert answer["status"] == "applied"
    [episode] = await fire_incidents(client, reader)
    assert (episode["status"], episode["resolved_at"]) == ("open", None)
    # The same retraction again (Alertmanager repeats firing notifications): no change.
    await deliver_am(client, retraction)
    final = alert_at(AM_RESOLVED, endsAt="2018-11-04T22:10:00Z")
    await deliver_am(client, final)
    [episode] = await fire_incidents(client, reader)
    assert (episode["status"], episode["resolved_at"]) == ("resolved", "2018-11-04T22:10:00Z")
    got = await report(client, reader, "fire", "2018-11-04T00:00:00Z", "2018-11-05T00:00:00Z")
    down = dt.datetime(2018, 11, 4, 22, 10, tzinfo=dt.UTC) - dt.datetime(
        2018, 11, 4, 21, 43, 58, 283995, tzinfo=dt.UTC
    )
    assert got["availability"]["outage_minutes"] == pytest.approx(down.total_seconds() / 60)


async def test_a_stale_firing_notification_does_not_retract_a_later_resolution(
    client: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    """A firing notification whose alert would have ended (endsAt 21:46:58) before the
    resolution (21:48:13) says nothing after it: the incident stays resolved."""
    await register(client, admin, "alertmanager")
    await deliver_am(client, fixture(AM_RESOLVED))
    await deliver_am(client, fixture(AM_FIRING))  # endsAt 22:46:58.283995108+01:00
    [episode] = await fire_incidents(client, reader)
    assert (episode["status"], episode["resolved_at"]) == ("resolved", FIRE_END)


# 10. Timelines carry the tool's time, one step per fact, one time format ----------------------


async def test_a_backfilled_incident_has_no_step_at_the_time_it_was_posted(
    clocked: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    """An October incident posted on 5 December (the clock): every step is stamped with an
    October time; posting it again, or its acknowledgement through /events, adds nothing."""
    await service(clocked, admin, "shop")
    body = {"external_id": "INC-OCT", "service": "shop", "severity": "sev2",
            "started_at": "2026-10-07T08:00:00Z", "acknowledged_at": "2026-10-07T08:10:00Z",
            "resolved_at": "2026-10-07T09:00:00Z", "status": "resolved"}  # fmt: skip
    inc = await post(clocked, ingester, "/v1/incidents", body)
    await post(clocked, ingester, "/v1/incidents", body)
    await post(clocked, ingester, f"/v1/incidents/{inc['id']}/events",
               {"step": "acknowledged", "occurred_at": "2026-10-07T10:10:00+02:00"})  # fmt: skip
    detail = await get(clocked, reader, f"/v1/incidents/{inc['id']}")
    assert [(e["at"], e["what"]) for e in detail["timeline"]] == [
        ("2026-10-07T08:00:00Z", "triggered"),
        ("2026-10-07T08:10:00Z", "acknowledged"),
        ("2026-10-07T09:00:00Z", "resolved"),
        # The record's fields, as of the latest time it states.
        ("2026-10-07T09:00:00Z", "updated"),
    ]
    graph = await clocked.post(
        "/graphql",
        headers=reader,
        json={
            "query": f"""{{
        incident(id: {inc["id"]}) {{ startedAt timeline {{ nodes {{ at what }} }} }} }}"""
        },
    )
    data = graph.json()["data"]["incident"]
    # GraphQL writes instants as REST does.
    assert data["startedAt"] == "2026-10-07T08:00:00Z"
    assert [e["at"] for e in data["timeline"]["nodes"]] == [e["at"] for e in detail["timeline"]]


async def test_an_update_without_a_time_is_stamped_when_it_came(
    clocked: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    """A change of severity posted without any time is a fact of the moment it came (the
    clock); posting the same again adds no second step."""
    await service(clocked, admin, "shop")
    inc = await post(clocked, ingester, "/v1/incidents", {
        "external_id": "INC-SEV", "service": "shop", "severity": "sev3",
        "started_at": "2026-10-07T08:00:00Z",
    })  # fmt: skip
    for _ in range(2):
        updated = await post(
            clocked,
            ingester,
            "/v1/incidents",
            {"external_id": "INC-SEV", "service": "shop", "severity": "sev1"},
        )
    assert updated["severity"] == "sev1"
    detail = await get(clocked, reader, f"/v1/incidents/{inc['id']}")
    assert [(e["at"], e["what"]) for e in detail["timeline"]] == [
        ("2026-10-07T08:00:00Z", "triggered"),
        ("2026-10-07T08:00:00Z", "updated"),
        ("2026-12-05T20:35:00Z", "updated"),
    ]


# 5. Inferred links do not depend on arrival order --------------------------------------------


async def test_an_incident_posted_before_the_deploy_that_preceded_it_is_linked(
    clocked: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    """Deploy finished 08:00, incident started 10:00 (2 h later, inside the 240-minute
    window): linked, inferred, in either order; the service's change failure rate is 1 of 1
    deploys = 100 %, and its recovery time 11:00 - 08:00 = 3 h."""
    deploy = {"service": "", "environment": "production", "status": "success",
              "started_at": z(utc(2, 7, 50)), "finished_at": z(utc(2, 8))}  # fmt: skip
    incident = {"service": "", "severity": "sev2", "started_at": z(utc(2, 10)),
                "resolved_at": z(utc(2, 11)), "status": "resolved"}  # fmt: skip
    for slug, incident_first in (("early", True), ("late", False)):
        await service(clocked, admin, slug)
        posts = [
            ("/v1/incidents", {**incident, "service": slug, "external_id": f"INC-{slug}"}),
            ("/v1/changes", {**deploy, "service": slug, "external_id": f"DEP-{slug}"}),
        ]
        for path, body in posts if incident_first else reversed(posts):
            await post(clocked, ingester, path, body)
        [found] = await get(clocked, reader, f"/v1/incidents?service={slug}")
        [change] = await get(clocked, reader, f"/v1/changes?service={slug}")
        assert (found["caused_by_change_id"], found["link_kind"]) == (change["id"], "inferred")
        dora = (await report(clocked, reader, slug, "2026-03-01T00:00:00Z",
                             "2026-04-01T00:00:00Z"))["dora"]  # fmt: skip
        assert dora["change_failure_rate"]["value"] == pytest.approx(100)
        assert dora["recovery_time"]["value"] == pytest.approx(3)


async def test_a_later_deploy_moves_an_inferred_link_to_itself(
    clocked: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    """Deploys at 07:00 and 09:00, incident at 10:00: the last one before it (09:00) is the
    inferred cause, even when the 09:00 deploy arrives last; marking it failed (not a
    successful change any more) moves the link back to the 07:00 one."""
    await service(clocked, admin, "shop")
    inc = await post(clocked, ingester, "/v1/incidents", {
        "external_id": "INC-1", "service": "shop", "severity": "sev2",
        "started_at": z(utc(3, 10)),
    })  # fmt: skip
    changes = {}
    for name, hour in (("D7", 7), ("D9", 9)):
        changes[name] = await post(clocked, ingester, "/v1/changes", {
            "external_id": name, "service": "shop", "environment": "production",
            "status": "success", "finished_at": z(utc(3, hour)),
        })  # fmt: skip
    found = await get(clocked, reader, f"/v1/incidents/{inc['id']}")
    assert (found["caused_by_change_id"], found["link_kind"]) == (changes["D9"]["id"], "inferred")
    await post(clocked, ingester, "/v1/changes", {
        "external_id": "D9", "service": "shop", "environment": "production",
        "status": "failed", "finished_at": z(utc(3, 9)),
    })  # fmt: skip
    found = await get(clocked, reader, f"/v1/incidents/{inc['id']}")
    assert (found["caused_by_change_id"], found["link_kind"]) == (changes["D7"]["id"], "inferred")


# 6. Lead time for changes from the commits a deploy shipped ----------------------------------


async def test_lead_time_counts_every_commit_a_deploy_shipped(
    clocked: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    """A deploy finished 2 March 12:00 that shipped three commits, made 1 March 12:00,
    28 February 12:00 and 2 March 06:00, and names no commit_sha: lead times 24 h, 48 h and
    6 h; the median is 24 h. Another deploy names only its head commit, made 6 h before it
    finished: the median over all four commits (6, 6, 24, 48) is (6 + 24) / 2 = 15 h."""
    await service(clocked, admin, "shop")
    commits = [{"sha": "a" * 40, "committed_at": "2026-03-01T12:00:00Z"},
               {"sha": "b" * 40, "committed_at": "2026-02-28T12:00:00Z"},
               {"sha": "c" * 40, "committed_at": "2026-03-02T06:00:00Z"}]  # fmt: skip
    await post(clocked, ingester, "/v1/changes", {
        "external_id": "D1", "service": "shop", "environment": "production",
        "status": "success", "finished_at": "2026-03-02T12:00:00Z", "commits": commits,
    })  # fmt: skip
    window = ("2026-03-01T00:00:00Z", "2026-03-03T00:00:00Z")
    dora = (await report(clocked, reader, "shop", *window))["dora"]
    assert dora["lead_time"]["value"] == pytest.approx(24)
    await post(clocked, ingester, "/v1/changes", {
        "external_id": "D2", "service": "shop", "environment": "production",
        "status": "success", "finished_at": "2026-03-02T18:00:00Z", "commit_sha": "d" * 40,
        "commits": [{"sha": "d" * 40, "committed_at": "2026-03-02T12:00:00Z"}],
    })  # fmt: skip
    dora = (await report(clocked, reader, "shop", *window))["dora"]
    assert dora["lead_time"]["value"] == pytest.approx(15)
