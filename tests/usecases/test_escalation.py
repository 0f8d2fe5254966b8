"""Escalations end to end: breached periods open and advance an escalation along the KPI's
path, each step recorded once and notified once through the outbox, delivered signed (Standard
Webhooks) to a real receiver on a local port that checks signatures with the algorithm written
out here. Real Postgres, no mocks: most tests run in a rolled-back transaction; the ones about
two processes run on committed data in a schema of their own, dropped afterwards.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from service import background
from service import db as dbmod
from service.config import Settings
from service.kpi.periods import Period
from service.models.catalog import EscalationStep, KpiIn, ServiceIn, TargetIn
from service.models.enums import Aggregation, Cadence, Channel, Direction
from service.models.observation_limits import partition_horizon
from service.models.observations import ObservationIn
from service.notify import signing
from service.store import kpis, observations
from service.usecases import catalog, escalation, evaluation
from service.usecases import notifications as outbox
from tests.conftest import SingleConnectionDatabase, app_client
from tests.notify.receiver import LOOPBACK, Receiver, serving
from tests.usecases.test_evaluation import (
    Clock,
    evaluate,
    make_kpi,
    make_service,
    make_target,
    month,
    observe,
    problem,
    when,
)

#: Months that get a partition of their own (those near the time of the run).
HORIZON = partition_horizon(dt.datetime.now(dt.UTC))

Headers = dict[str, str]
Json = dict[str, Any]

UTC = dt.UTC
JAN, FEB, MAR, APR, MAY = (month(2031, m) for m in range(1, 6))
#: When January and February are evaluated: both months have closed.
T1 = dt.datetime(2031, 3, 1, 9, 0, tzinfo=UTC)


def minutes(n: float) -> dt.timedelta:
    return dt.timedelta(minutes=n)


# Fixtures ---------------------------------------------------------------------------------------


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with serving(Receiver()) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def clock() -> Clock:
    return Clock(T1)


@pytest.fixture
async def api(
    con: dbmod.Connection, settings: Settings, clock: Clock
) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(con, settings, clock) as client:
        yield client


def path(url: str) -> list[Json]:
    """Step 1 after one breached period, step 2 after two, step 3 after one period and 30
    minutes unacknowledged."""
    return [
        {"who": "ops-lead", "channel": "webhook", "address": url, "after_breached_periods": 1},
        {"who": "director", "channel": "webhook", "address": url, "after_breached_periods": 2},
        {"who": "cio", "channel": "webhook", "address": url, "after_breached_periods": 1,
         "after_unacknowledged_minutes": 30},
    ]  # fmt: skip


async def breaching_kpi(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, url: str
) -> None:
    """Orders (target 100): January 50 and February 60 breach it, March 150 meets it."""
    await make_kpi(api, admin, "orders", escalation_path=path(url),
                   business_owner="sales@example.com")  # fmt: skip
    await make_target(api, admin, "orders", 100.0)
    await observe(api, admin, "orders", [
        (JAN + dt.timedelta(days=9), 50.0), (FEB + dt.timedelta(days=9), 60.0),
        (MAR + dt.timedelta(days=9), 150.0),
    ])  # fmt: skip


async def escalations(api: httpx.AsyncClient, headers: Headers, **params: str) -> list[Json]:
    r = await api.get("/v1/escalations", params=params, headers=headers)
    assert r.status_code == 200, r.text
    out: list[Json] = r.json()
    return out


async def the_escalation(api: httpx.AsyncClient, headers: Headers) -> Json:
    (only,) = await escalations(api, headers, kpi="orders")
    return only


async def notifications(api: httpx.AsyncClient, admin: Headers) -> list[Json]:
    """The outbox, oldest first."""
    r = await api.get("/v1/notifications", headers=admin)
    assert r.status_code == 200, r.text
    out: list[Json] = r.json()
    return out[::-1]


def events(esc: Json) -> list[tuple[str, int | None]]:
    return [(e["kind"], e["position"]) for e in esc["events"]]


async def evaluate_at(
    api: httpx.AsyncClient, admin: Headers, clock: Clock, now: dt.datetime, period: dt.datetime
) -> Json:
    clock.now = now
    (st,) = await evaluate(api, admin, "orders", period)
    return st


# The path, step by step -------------------------------------------------------------------------


async def test_an_escalation_follows_the_path_and_closes_on_recovery(
    con: dbmod.Connection, api: httpx.AsyncClient, admin: Headers, ingester: Headers,
    reader: Headers, clock: Clock, receiver: Receiver,
) -> None:  # fmt: skip
    await breaching_kpi(api, admin, ingester, receiver.url)

    st = await evaluate_at(api, admin, clock, T1, JAN)
    assert (st["value"], st["target"], st["status"]) == (50.0, 100.0, "breached")
    esc = await the_escalation(api, reader)
    assert (esc["kpi"], esc["service"], esc["state"]) == ("orders", None, "open")
    assert (esc["breached_periods"], esc["steps_fired"]) == (1, 1)
    assert [when(esc[k]) for k in ("opened_at", "opened_period", "last_period")] == [T1, JAN, JAN]
    assert events(esc) == [("opened", None), ("step", 1)]
    # Read tokens list events: the webhook is named by its host, not its URL.
    assert esc["events"][1]["detail"] == "ops-lead via webhook 127.0.0.1"
    (queued,) = await notifications(api, admin)
    assert (queued["escalation_id"], queued["position"], queued["url"], queued["state"]) == (
        esc["id"], 1, receiver.url, "pending")  # fmt: skip

    # January again, on demand: neither a step nor a breached period more.
    await evaluate_at(api, admin, clock, T1 + minutes(5), JAN)
    again = await the_escalation(api, reader)
    assert (again["breached_periods"], again["steps_fired"]) == (1, 1)
    assert again["events"] == esc["events"]
    assert len(await notifications(api, admin)) == 1

    # February breached too: the second step.
    st = await evaluate_at(api, admin, clock, T1 + minutes(10), FEB)
    assert (st["status"], st["previous_value"], st["trend"]) == ("breached", 50.0, "improving")
    esc = await the_escalation(api, reader)
    assert (esc["breached_periods"], esc["steps_fired"], when(esc["last_period"])) == (2, 2, FEB)
    assert events(esc) == [("opened", None), ("step", 1), ("breached_again", None), ("step", 2)]
    assert [n["position"] for n in await notifications(api, admin)] == [1, 2]

    # The third step waits 30 unacknowledged minutes from the opening.
    assert await escalation.advance_waiting(con, T1 + minutes(29)) == 0
    assert (await the_escalation(api, reader))["steps_fired"] == 2
    assert await escalation.advance_waiting(con, T1 + minutes(31)) == 1
    esc = await the_escalation(api, reader)
    assert esc["steps_fired"] == 3
    assert events(esc)[-1] == ("step", 3)
    assert when(esc["events"][-1]["at"]) == T1 + minutes(31)
    queued_all = await notifications(api, admin)
    assert [n["position"] for n in queued_all] == [1, 2, 3]
    assert queued_all[2]["payload"]["data"]["step"] == {"position": 3, "who": "cio"}
    assert await escalation.advance_waiting(con, T1 + minutes(90)) == 0  # nothing left

    # March meets the target: closed as recovered.
    april = dt.datetime(2031, 4, 1, 9, 0, tzinfo=UTC)
    st = await evaluate_at(api, admin, clock, april, MAR)
    assert st["status"] == "met"
    esc = await the_escalation(api, reader)
    assert (esc["state"], esc["resolution"], esc["resolved_by"]) == (
        "resolved", "recovered", "recovery")  # fmt: skip
    assert when(esc["resolved_at"]) == april
    assert events(esc) == [
        ("opened", None), ("step", 1), ("breached_again", None), ("step", 2), ("step", 3),
        ("recovered", None),
    ]  # fmt: skip
    times = [when(e["at"]) for e in esc["events"]]
    assert times == [T1, T1, T1 + minutes(10), T1 + minutes(10), T1 + minutes(31), april]
    assert len(await notifications(api, admin)) == 3

    # A new breach later opens a new escalation, from the first step again.
    await observe(api, admin, "orders", [(APR + dt.timedelta(days=2), 10.0)])
    await evaluate_at(api, admin, clock, dt.datetime(2031, 5, 1, 9, tzinfo=UTC), APR)
    newest, closed = await escalations(api, reader, kpi="orders")
    assert closed["id"] == esc["id"]
    assert (newest["state"], newest["breached_periods"], newest["steps_fired"]) == ("open", 1, 1)
    assert when(newest["opened_period"]) == APR
    assert [(n["escalation_id"], n["position"]) for n in await notifications(api, admin)] == [
        (esc["id"], 1), (esc["id"], 2), (esc["id"], 3), (newest["id"], 1)]  # fmt: skip


async def test_acknowledging_stops_the_time_based_step(
    con: dbmod.Connection, api: httpx.AsyncClient, admin: Headers, ingester: Headers,
    reader: Headers, clock: Clock, receiver: Receiver,
) -> None:  # fmt: skip
    await breaching_kpi(api, admin, ingester, receiver.url)
    await evaluate_at(api, admin, clock, T1, JAN)
    esc = await the_escalation(api, reader)

    clock.now = T1 + minutes(5)
    r = await api.post(f"/v1/escalations/{esc['id']}/acknowledge", headers=admin,
                       json={"by": "ops-lead@example.com", "note": "on it"})  # fmt: skip
    assert r.status_code == 200, r.text
    acked = r.json()
    assert (acked["state"], acked["acknowledged_by"]) == ("acknowledged", "ops-lead@example.com")
    assert when(acked["acknowledged_at"]) == T1 + minutes(5)
    assert acked["events"][-1]["kind"] == "acknowledged"
    assert acked["events"][-1]["detail"] == "ops-lead@example.com: on it"

    # A step that counts breached periods still fires; the one waiting for an
    # acknowledgement does not.
    await evaluate_at(api, admin, clock, T1 + minutes(10), FEB)
    esc = await the_escalation(api, reader)
    assert (esc["state"], esc["breached_periods"], esc["steps_fired"]) == ("acknowledged", 2, 2)
    assert await escalation.advance_waiting(con, T1 + minutes(31)) == 0
    assert await escalation.advance_waiting(con, T1 + dt.timedelta(days=3)) == 0
    # Still breached in March: counted, but the unacknowledged step stays unfired.
    await observe(api, admin, "orders", [(MAR + dt.timedelta(days=20), -100.0)])  # 50 in all
    st = await evaluate_at(api, admin, clock, dt.datetime(2031, 4, 1, 9, tzinfo=UTC), MAR)
    assert st["status"] == "breached"
    esc = await the_escalation(api, reader)
    assert (esc["state"], esc["breached_periods"], esc["steps_fired"]) == ("acknowledged", 3, 2)
    assert ("step", 3) not in events(esc)
    assert [n["position"] for n in await notifications(api, admin)] == [1, 2]

    # An acknowledged escalation closes on recovery like an open one.
    await observe(api, admin, "orders", [(APR + dt.timedelta(days=2), 500.0)])
    await evaluate_at(api, admin, clock, dt.datetime(2031, 5, 1, 9, tzinfo=UTC), APR)
    esc = await the_escalation(api, reader)
    assert (esc["state"], esc["resolution"]) == ("resolved", "recovered")


async def test_steps_fire_in_order_and_wait_for_the_ones_before(
    con: dbmod.Connection, api: httpx.AsyncClient, admin: Headers, ingester: Headers,
    reader: Headers, clock: Clock, receiver: Receiver,
) -> None:  # fmt: skip
    await breaching_kpi(api, admin, ingester, receiver.url)
    await evaluate_at(api, admin, clock, T1, JAN)
    # Step 3's 30 minutes are long over, but step 2 (two breached periods) comes first.
    assert await escalation.advance_waiting(con, T1 + dt.timedelta(hours=2)) == 0
    assert events(await the_escalation(api, reader)) == [("opened", None), ("step", 1)]

    # February's breach makes step 2 due, and step 3 right after it.
    await evaluate_at(api, admin, clock, T1 + dt.timedelta(hours=3), FEB)
    esc = await the_escalation(api, reader)
    assert events(esc) == [
        ("opened", None), ("step", 1), ("breached_again", None), ("step", 2), ("step", 3),
    ]  # fmt: skip
    assert esc["steps_fired"] == 3
    queued = await notifications(api, admin)
    assert [n["position"] for n in queued] == [1, 2, 3]
    assert [n["id"] for n in queued] == sorted(n["id"] for n in queued)
    assert [n["payload"]["data"]["breached_periods"] for n in queued] == [1, 2, 2]


async def test_a_service_breach_escalates_for_that_service_only(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers, clock: Clock,
    receiver: Receiver,
) -> None:  # fmt: skip
    await make_service(api, admin, "erp", 2)
    await make_service(api, admin, "web", 1)
    await make_kpi(api, admin, "orders", escalation_path=path(receiver.url)[:1])
    for slug in ("erp", "web"):
        r = await api.put(f"/v1/kpis/orders/services/{slug}", headers=admin)
        assert r.status_code == 200, r.text
    await make_target(api, admin, "orders", 100.0, tier=2)
    await make_target(api, admin, "orders", 10.0, tier=1)
    await observe(api, admin, "orders", [(JAN + dt.timedelta(days=3), 50.0)], service="erp")
    await observe(api, admin, "orders", [(JAN + dt.timedelta(days=3), 50.0)], service="web")
    clock.now = T1
    statuses = {st["service"]: st for st in await evaluate(api, admin, "orders", JAN)}
    assert {k: (v["status"], v["target_scope"]) for k, v in statuses.items()} == {
        None: ("breached", "services"), "erp": ("breached", "tier"), "web": ("met", "tier"),
    }  # fmt: skip
    # The KPI overall is breached through erp: one escalation, erp's.
    (esc,) = await escalations(api, reader)
    assert (esc["kpi"], esc["service"], esc["steps_fired"]) == ("orders", "erp", 1)
    (queued,) = await notifications(api, admin)
    assert queued["payload"]["data"]["service"] == "erp"
    assert queued["payload"]["data"]["target"] == 100.0


# Delivery ---------------------------------------------------------------------------------------


async def test_notifications_are_signed_and_carry_the_breach(
    con: dbmod.Connection, api: httpx.AsyncClient, admin: Headers, ingester: Headers,
    reader: Headers, clock: Clock, receiver: Receiver, http: httpx.AsyncClient,
) -> None:  # fmt: skip
    await breaching_kpi(api, admin, ingester, receiver.url)
    await evaluate_at(api, admin, clock, T1, JAN)
    esc = await the_escalation(api, reader)
    secret = await outbox.signing_secret(con, None)
    receiver.secret = secret

    # Sent now, by the wall clock (the next whole second, after the row was queued): the
    # reference library refuses a webhook-timestamp more than five minutes from its clock.
    sent = dt.datetime.now(UTC).replace(microsecond=0) + dt.timedelta(seconds=1)
    report = await outbox.deliver_due(
        SingleConnectionDatabase(con), http, secret, now=sent, allow=LOOPBACK
    )
    (queued,) = await notifications(api, admin)
    assert (report.delivered, report.retrying, report.failed) == ([queued["id"]], [], [])
    (got,) = receiver.received
    assert got.valid
    assert got.msg_id == queued["message_id"]
    assert got.headers["webhook-timestamp"] == str(int(sent.timestamp()))
    assert got.headers["content-type"] == "application/json"
    # The official Standard Webhooks library verifies the delivery and hands back its body.
    verified = Webhook(signing.format_secret(secret)).verify(got.body, got.headers)
    assert verified == got.payload == queued["payload"]
    # The envelope the spec recommends: the event type, when the step fired (the evaluation
    # at T1, not the sending), and the notification's data.
    assert verified == {
        "type": "kpi.escalation.step",
        "timestamp": "2031-03-01T09:00:00Z",
        "data": {
            "escalation_id": esc["id"],
            "kpi": {"key": "orders", "name": "KPI orders", "unit": "count",
                    "direction": "higher_is_better"},
            "service": None,
            "breached_periods": 1,
            "owners": {"business": "sales@example.com", "technology": None},
            "step": {"position": 1, "who": "ops-lead"},
            "period": {"start": "2031-01-01T00:00:00Z", "end": "2031-02-01T00:00:00Z"},
            "value": 50.0,
            "target": 100.0,
            "warning": None,
            "status": "breached",
        },
    }  # fmt: skip
    assert dt.datetime.fromisoformat(verified["timestamp"]) == T1
    (delivered,) = await notifications(api, admin)
    assert (delivered["state"], when(delivered["delivered_at"])) == ("delivered", sent)

    # Delivered is done, however late it is asked again.
    report = await outbox.deliver_due(
        SingleConnectionDatabase(con), http, secret, now=T1 + dt.timedelta(days=30), allow=LOOPBACK
    )
    assert report.attempted == 0
    assert len(receiver.received) == 1


async def test_a_failing_receiver_gets_it_again_later_with_the_same_id(
    con: dbmod.Connection, api: httpx.AsyncClient, admin: Headers, ingester: Headers,
    clock: Clock, receiver: Receiver, http: httpx.AsyncClient,
) -> None:  # fmt: skip
    await breaching_kpi(api, admin, ingester, receiver.url)
    await evaluate_at(api, admin, clock, T1, JAN)
    secret = await outbox.signing_secret(con, None)
    receiver.secret, receiver.fail_first = secret, 1
    db = SingleConnectionDatabase(con)

    report = await outbox.deliver_due(db, http, secret, now=T1, allow=LOOPBACK)
    (queued,) = await notifications(api, admin)
    assert report.retrying == [queued["id"]]
    assert (queued["state"], queued["attempts"], queued["last_error"]) == ("pending", 1, "HTTP 500")
    assert when(queued["next_attempt_at"]) == T1 + outbox.backoff(1)
    assert [(when(a["at"]), a["status_code"]) for a in queued["attempt_log"]] == [(T1, 500)]

    # Not before the backoff is over ...
    report = await outbox.deliver_due(
        db, http, secret, now=T1 + outbox.backoff(1) - minutes(0.1), allow=LOOPBACK
    )
    assert report.attempted == 0
    # ... then delivered, as the same message.
    later = T1 + outbox.backoff(1) + dt.timedelta(seconds=1)
    report = await outbox.deliver_due(db, http, secret, now=later, allow=LOOPBACK)
    assert report.delivered == [queued["id"]]
    first, second = receiver.received
    assert first.valid and second.valid
    assert first.msg_id == second.msg_id == queued["message_id"]
    assert first.body == second.body
    assert second.headers["webhook-timestamp"] == str(int(later.timestamp()))
    (done,) = await notifications(api, admin)
    assert (done["state"], done["attempts"], done["last_error"]) == ("delivered", 2, None)
    assert [(when(a["at"]), a["status_code"]) for a in done["attempt_log"]] == [
        (T1, 500), (later, 204)]  # fmt: skip


async def test_a_background_tick_evaluates_the_closed_period_and_delivers(
    con: dbmod.Connection, api: httpx.AsyncClient, admin: Headers, ingester: Headers,
    reader: Headers, settings: Settings, receiver: Receiver, http: httpx.AsyncClient,
) -> None:  # fmt: skip
    await breaching_kpi(api, admin, ingester, receiver.url)
    receiver.secret = await outbox.signing_secret(con, None)
    db = SingleConnectionDatabase(con)
    feb = dt.datetime(2031, 2, 1, 0, 5, tzinfo=UTC)  # January has just closed

    # The receiver listens on loopback: allowed as a deployment allows its own receivers.
    settings = settings.model_copy(update={"outbound_allow": ["127.0.0.1"]})
    report = await background.tick(db, settings, http, feb)
    assert report == background.TickReport(statuses=1, delivered=1, retrying=0, failed=0)
    assert receiver.positions() == [(None, 1)]
    assert receiver.received[0].valid
    esc = await the_escalation(api, reader)
    assert (when(esc["opened_at"]), when(esc["opened_period"])) == (feb, JAN)

    # Next rounds: nothing evaluated again, then the step due 30 minutes after the opening.
    report = await background.tick(db, settings, http, feb + minutes(10))
    assert report == background.TickReport(statuses=0, delivered=0, retrying=0, failed=0)
    # (step 3 waits behind step 2, which needs a second breached period)
    report = await background.tick(db, settings, http, feb + minutes(31))
    assert report.delivered == 0
    assert receiver.positions() == [(None, 1)]
    march = dt.datetime(2031, 3, 1, 0, 5, tzinfo=UTC)
    report = await background.tick(db, settings, http, march)
    assert (report.statuses, report.delivered) == (1, 2)
    assert receiver.positions() == [(None, 1), (None, 2), (None, 3)]
    assert all(r.valid for r in receiver.received)


# Acting on escalations --------------------------------------------------------------------------


async def test_acknowledge_and_resolve_through_rest(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers, clock: Clock,
    receiver: Receiver,
) -> None:  # fmt: skip
    await breaching_kpi(api, admin, ingester, receiver.url)
    await evaluate_at(api, admin, clock, T1, JAN)
    esc = await the_escalation(api, reader)
    url = f"/v1/escalations/{esc['id']}"

    r = await api.get(url, headers=reader)
    assert r.status_code == 200, r.text
    assert r.json() == esc
    problem(await api.get("/v1/escalations/999999999", headers=reader), 404)
    problem(await api.post("/v1/escalations/999999999/acknowledge", headers=admin,
                           json={"by": "a"}), 404)  # fmt: skip
    problem(await api.post("/v1/escalations/999999999/resolve", headers=admin,
                           json={"by": "a"}), 404)  # fmt: skip
    problem(await api.post(url + "/acknowledge", headers=reader, json={"by": "a"}), 403)
    problem(await api.post(url + "/resolve", headers=ingester, json={"by": "a"}), 403)
    problem(await api.post(url + "/resolve", json={"by": "a"}), 401)
    problem(await api.get("/v1/escalations"), 401)
    problem(await api.post(url + "/acknowledge", headers=admin, json={}), 422, "by")
    problem(await api.post(url + "/acknowledge", headers=admin,
                           json={"by": "a", "extra": 1}), 422, "extra")  # fmt: skip

    clock.now = T1 + minutes(5)
    r = await api.post(url + "/acknowledge", headers=admin, json={"by": "alice"})
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["acknowledged_by"]) == ("acknowledged", "alice")
    problem(await api.post(url + "/acknowledge", headers=admin, json={"by": "alice"}), 409)

    clock.now = T1 + minutes(7)
    r = await api.post(url + "/resolve", headers=admin, json={"by": "bob", "note": "fixed"})
    assert r.status_code == 200, r.text
    done = r.json()
    assert (done["state"], done["resolution"], done["resolved_by"]) == ("resolved", "manual", "bob")
    assert when(done["resolved_at"]) == T1 + minutes(7)
    assert [(e["kind"], e["position"], e["detail"]) for e in done["events"]][2:] == [
        ("acknowledged", None, "alice"), ("resolved", None, "bob: fixed")]  # fmt: skip
    body = problem(await api.post(url + "/resolve", headers=admin, json={"by": "bob"}), 409)
    assert "resolved" in body["detail"]
    problem(await api.post(url + "/acknowledge", headers=admin, json={"by": "bob"}), 409)

    # Listing: newest first, with events, filtered by state and KPI.
    (listed,) = await escalations(api, reader)
    assert listed == done
    assert [e["kind"] for e in listed["events"]] == [
        "opened", "step", "acknowledged", "resolved"]  # fmt: skip
    assert await escalations(api, reader, state="resolved") == [done]
    assert await escalations(api, reader, state="open") == []
    assert await escalations(api, reader, kpi="other") == []
    r = await api.get("/v1/escalations", params={"state": "closed"}, headers=reader)
    problem(r, 422, "state")


# Two processes at once (committed data) ---------------------------------------------------------


@dataclass
class Committed:
    url: str
    schema: str
    con: dbmod.Connection


@pytest.fixture
async def committed(database_url: str) -> AsyncIterator[Committed]:
    schema = f"kpi_esc_{secrets.token_hex(4)}"
    con = await dbmod.connect(database_url, schema)
    try:
        await dbmod.migrate(con, schema)
        yield Committed(database_url, schema, con)
    finally:
        await con.execute(f'drop schema if exists "{schema}" cascade')
        await con.close()


async def _points(*points: ObservationIn) -> AsyncIterator[list[observations.Numbered]]:
    yield list(enumerate(points))


async def setup_breach(con: dbmod.Connection, url: str) -> None:
    """Orders (target 100) on erp: January 50 breaches it overall and for erp. Two steps:
    one after the breached period, one 30 unacknowledged minutes later."""
    steps = [
        EscalationStep(who="ops-lead", channel=Channel.WEBHOOK, address=url),
        EscalationStep(who="cio", channel=Channel.WEBHOOK, address=url,
                       after_unacknowledged_minutes=30),
    ]  # fmt: skip
    await catalog.create_service(con, service=ServiceIn(slug="erp", name="ERP", tier=2))
    await catalog.create_kpi(con, kpi=KpiIn(
        key="orders", name="Orders", unit="n", direction=Direction.HIGHER_IS_BETTER,
        aggregation=Aggregation.SUM, cadence=Cadence.MONTHLY, escalation_path=steps))  # fmt: skip
    await catalog.link_service(con, kpi="orders", service="erp")
    await catalog.create_target(
        con, target=TargetIn(kpi="orders", value=100.0, effective_from=dt.date(2030, 1, 1))
    )
    async with con.transaction():
        await observations.ingest(con, _points(ObservationIn(
            kpi="orders", service="erp", ts=JAN + dt.timedelta(days=9), value=50.0)),
            horizon=HORIZON)  # fmt: skip


async def step_events(con: dbmod.Connection) -> list[tuple[str | None, int]]:
    rows = await con.fetch(
        "select s.slug, ev.position from escalation_event ev"
        " join escalation e on e.id = ev.escalation_id"
        " left join business_service s on s.id = e.service_id"
        " where ev.kind = 'step' order by s.slug nulls first, ev.position"
    )
    return [(r["slug"], r["position"]) for r in rows]


async def escalation_rows(con: dbmod.Connection) -> list[tuple[str | None, str, int, int]]:
    rows = await con.fetch(
        "select s.slug, e.state, e.breached_periods, e.steps_fired from escalation e"
        " left join business_service s on s.id = e.service_id order by s.slug nulls first"
    )
    return [(r["slug"], r["state"], r["breached_periods"], r["steps_fired"]) for r in rows]


async def test_two_processes_ticking_at_once_escalate_and_notify_once(
    committed: Committed, http: httpx.AsyncClient
) -> None:
    settings = Settings(
        db_schema=committed.schema, notify_timeout_seconds=5, outbound_allow=["127.0.0.1"]
    )
    async with serving(Receiver()) as receiver:
        await setup_breach(committed.con, receiver.url)
        receiver.secret = await outbox.signing_secret(committed.con, None)
        pools = [await dbmod.create_pool(committed.url, committed.schema, 1, 2) for _ in range(2)]
        try:
            dbs = [dbmod.PoolDatabase(p) for p in pools]
            feb = dt.datetime(2031, 2, 1, 0, 5, tzinfo=UTC)
            reports = []
            for now in (feb, feb, feb + minutes(31), feb + minutes(31), feb + minutes(40)):
                reports += await asyncio.gather(
                    *(background.tick(db, settings, http, now) for db in dbs)
                )
        finally:
            for pool in pools:
                await pool.close()
    # erp and the KPI overall, each: one status, one escalation, each step once.
    assert sum(r.statuses for r in reports) == 2
    assert sum(r.delivered for r in reports) == 4
    assert sum(r.retrying + r.failed for r in reports) == 0
    assert sorted(receiver.positions(), key=str) == sorted(
        [(None, 1), (None, 2), ("erp", 1), ("erp", 2)], key=str)  # fmt: skip
    assert all(r.valid for r in receiver.received)
    counts = collections.Counter(r.msg_id for r in receiver.received)
    assert set(counts.values()) == {1}
    con = committed.con
    assert await con.fetchval("select count(*) from kpi_status") == 2
    assert await escalation_rows(con) == [(None, "open", 1, 2), ("erp", "open", 1, 2)]
    assert await step_events(con) == [(None, 1), (None, 2), ("erp", 1), ("erp", 2)]
    states = await con.fetch("select state, attempts from outbox")
    assert [(r["state"], r["attempts"]) for r in states] == [("delivered", 1)] * 4


async def test_two_on_demand_evaluations_at_once_escalate_once(
    committed: Committed, http: httpx.AsyncClient
) -> None:
    async with serving(Receiver()) as receiver:
        await setup_breach(committed.con, receiver.url)
        secret = await outbox.signing_secret(committed.con, None)
        receiver.secret = secret
        a = committed.con
        b = await dbmod.connect(committed.url, committed.schema)
        pools = [await dbmod.create_pool(committed.url, committed.schema, 1, 2) for _ in range(2)]
        try:
            kpi = await kpis.get_kpi(a, key="orders")
            now = T1
            jan = Period(JAN, FEB)

            # One evaluation holds its transaction open: the other waits for it, then finds
            # the escalation it opened.
            tr = a.transaction()
            await tr.start()
            first = await evaluation.evaluate_kpi(a, kpi, period=jan, now=now, replace=True)
            waiting = asyncio.create_task(
                evaluation.evaluate_kpi(b, kpi, period=jan, now=now, replace=True)
            )
            await asyncio.sleep(0.3)
            assert not waiting.done()
            await tr.commit()
            second = await waiting
            assert [s.status for s in first] == [s.status for s in second] == ["breached"] * 2
            assert await escalation_rows(a) == [(None, "open", 1, 1), ("erp", "open", 1, 1)]
            assert await step_events(a) == [(None, 1), ("erp", 1)]
            assert await a.fetchval("select count(*) from outbox") == 2

            # February breached, evaluated by both at the same moment: counted once.
            async with a.transaction():
                await observations.ingest(a, _points(ObservationIn(
                    kpi="orders", service="erp", ts=FEB + dt.timedelta(days=3),
                    value=60.0)), horizon=HORIZON)  # fmt: skip
            feb = Period(FEB, MAR)
            results = await asyncio.gather(
                evaluation.evaluate_kpi(a, kpi, period=feb, now=now + minutes(1), replace=True),
                evaluation.evaluate_kpi(b, kpi, period=feb, now=now + minutes(1), replace=True),
            )
            assert [len(r) for r in results] == [2, 2]
            assert await escalation_rows(a) == [(None, "open", 2, 1), ("erp", "open", 2, 1)]
            kinds = await a.fetch(
                "select kind, count(*) as n from escalation_event group by kind order by kind"
            )
            assert [(r["kind"], r["n"]) for r in kinds] == [
                ("breached_again", 2), ("opened", 2), ("step", 2)]  # fmt: skip

            # Two workers deliver at once: each notification sent once.
            delivered = await asyncio.gather(
                *(
                    outbox.deliver_due(dbmod.PoolDatabase(p), http, secret, now=now, allow=LOOPBACK)
                    for p in pools
                )
            )
            assert sorted(i for r in delivered for i in r.delivered) == sorted(
                r["id"] for r in await a.fetch("select id from outbox"))  # fmt: skip
        finally:
            await b.close()
            for pool in pools:
                await pool.close()
    assert sorted(receiver.positions(), key=str) == sorted([(None, 1), ("erp", 1)], key=str)
    assert all(r.valid for r in receiver.received)
    assert len({r.msg_id for r in receiver.received}) == 2


async def test_re_evaluating_a_period_before_the_recovery_does_not_escalate_again(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers, clock: Clock,
    receiver: Receiver,
) -> None:  # fmt: skip
    await breaching_kpi(api, admin, ingester, receiver.url)
    await evaluate_at(api, admin, clock, T1, JAN)
    await evaluate_at(api, admin, clock, T1 + minutes(10), FEB)
    april = dt.datetime(2031, 4, 1, 9, 0, tzinfo=UTC)
    await evaluate_at(api, admin, clock, april, MAR)
    (recovered,) = await escalations(api, reader)
    assert recovered["resolution"] == "recovered"

    # February is evaluated again on demand (say after late data): still breached, but that
    # breach was escalated already and the KPI has recovered since, in March.
    st = await evaluate_at(api, admin, clock, april + minutes(5), FEB)
    assert st["status"] == "breached"
    assert await escalations(api, reader) == [recovered]
    assert [n["position"] for n in await notifications(api, admin)] == [1, 2]


async def test_a_time_based_step_names_the_breach_too(
    con: dbmod.Connection, api: httpx.AsyncClient, admin: Headers, ingester: Headers,
    clock: Clock, receiver: Receiver,
) -> None:  # fmt: skip
    await breaching_kpi(api, admin, ingester, receiver.url)
    await evaluate_at(api, admin, clock, T1, JAN)
    await evaluate_at(api, admin, clock, T1 + minutes(10), FEB)
    assert await escalation.advance_waiting(con, T1 + minutes(31)) == 1
    second, third = (await notifications(api, admin))[1:]
    assert third["payload"]["data"]["step"] == {"position": 3, "who": "cio"}
    # Whoever the third step reaches learns what is breached, like the others: the KPI, the
    # escalation's latest breached period, its value and target.
    keys = ("kpi", "service", "breached_periods", "period", "value", "target", "status")
    assert {k: third["payload"]["data"].get(k) for k in keys} == {
        k: second["payload"]["data"][k] for k in keys
    }
    assert third["payload"]["data"]["period"] == {
        "start": "2031-02-01T00:00:00Z", "end": "2031-03-01T00:00:00Z"}  # fmt: skip
    assert (third["payload"]["data"]["value"], third["payload"]["data"]["target"]) == (60.0, 100.0)
