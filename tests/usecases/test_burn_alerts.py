"""Burn-rate alerts end to end: the background tick, driven by a fixed clock at chosen
instants, fires and resolves each rule of a policy when the hand-worked arithmetic says so,
and the notifications arrive signed at a real receiver on a local port. Real Postgres, each
test in a rolled-back transaction."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from service import background
from service import db as dbmod
from service.app import create_app
from service.config import Settings
from service.models.enums import Scope
from service.usecases import burn_alerts, tokens
from service.usecases import notifications as outbox
from tests.conftest import SingleConnectionDatabase, app_client
from tests.notify.receiver import Receiver, serving
from tests.usecases.test_evaluation import (
    Clock,
    apply_to,
    iso,
    make_kpi,
    make_service,
    make_target,
    observe,
    when,
)

Headers = dict[str, str]
Json = dict[str, Any]

UTC = dt.UTC
#: The outage of the main scenario starts at 10:00 and ends at 10:30.
T0 = dt.datetime(2031, 5, 6, 10, 0, tzinfo=UTC)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
async def api(
    con: dbmod.Connection, settings: Settings, clock: Clock
) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(con, settings, clock) as client:
        yield client


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with serving(Receiver()) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def loopback(settings: Settings) -> Settings:
    # The receiver listens on loopback: allowed as a deployment allows its own receivers.
    return settings.model_copy(update={"outbound_allow": ["127.0.0.1"]})


def path(url: str) -> list[Json]:
    """The on-call engineer is told at once; the director only after two breached periods
    (a burn alert reaches the first, not the second)."""
    return [
        {"who": "on-call", "channel": "webhook", "address": url, "after_breached_periods": 1},
        {"who": "director", "channel": "webhook", "address": url, "after_breached_periods": 2},
    ]


async def availability_kpi(api: httpx.AsyncClient, admin: Headers, ingester: Headers,
                           url: str) -> None:  # fmt: skip
    """Checkout's availability, target 99.9 %, and one sev1 outage from 10:00 to 10:30."""
    await make_service(api, admin, "checkout", 1)
    await make_kpi(api, admin, "availability", kind="builtin", metric="availability",
                   unit="percent", cadence=None, escalation_path=path(url))  # fmt: skip
    await apply_to(api, admin, "availability", "checkout")
    await make_target(api, admin, "availability", 99.9)
    r = await api.post("/v1/incidents", headers=ingester, json={
        "external_id": "INC-7", "service": "checkout", "severity": "sev1",
        "status": "resolved", "started_at": iso(T0), "detected_at": iso(at(30)),
        "resolved_at": iso(at(1800))})  # fmt: skip
    assert r.status_code == 200, r.text


async def alerts(api: httpx.AsyncClient, headers: Headers, **params: str) -> list[Json]:
    r = await api.get("/v1/burn-alerts", params=params, headers=headers)
    assert r.status_code == 200, r.text
    out: list[Json] = r.json()
    return out[::-1]  # oldest first


def received(receiver: Receiver) -> list[tuple[str, str, str]]:
    return [(r.payload["type"], r.payload["data"]["rule"]["name"], r.payload["data"]["who"])
            for r in receiver.received]  # fmt: skip


async def test_each_rule_fires_and_resolves_when_the_arithmetic_says(
    con: dbmod.Connection, api: httpx.AsyncClient, admin: Headers, ingester: Headers,
    reader: Headers, loopback: Settings, receiver: Receiver, http: httpx.AsyncClient,
) -> None:  # fmt: skip
    await availability_kpi(api, admin, ingester, receiver.url)
    r = await api.put("/v1/kpis/availability/burn-policy", json={}, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["objective"] is None  # the target's 99.9 % (budget 0.001)
    assert [x["name"] for x in r.json()["rules"]] == ["page_fast", "page_slow", "ticket"]
    receiver.secret = await outbox.signing_secret(con, None)
    db = SingleConnectionDatabase(con)

    async def tick(seconds: float) -> int:
        report = await background.tick(db, loopback, http, at(seconds))
        assert report.retrying == report.failed == 0
        return report.burn_alerts

    # page_fast: 14.4 x 0.001 x 3600 s = 51.84 s of outage in the last hour (5 min: 4.32 s)
    assert await tick(51) == 0
    assert await tick(52) == 1
    # page_slow: 6 x 0.001 x 21600 s = 129.6 s in 6 h (30 min: 10.8 s)
    assert await tick(129) == 0
    assert await tick(130) == 1
    # ticket: 1 x 0.001 x 259200 s = 259.2 s in 3 days (6 h: 21.6 s)
    assert await tick(259) == 0
    assert await tick(260) == 1
    assert await tick(600) == 0  # still burning: nothing fires twice
    # The outage ends at 10:30 (1800 s). page_fast's 5 min window then holds 300 - t s,
    # below 4.32 s once t > 295.68 s: at 10:34:55.68.
    assert await tick(1800 + 295) == 0
    assert await tick(1800 + 296) == 1
    # page_slow's 30 min window holds 1800 - t s, below 10.8 s once t > 1789.2 s (10:59:49.2)
    assert await tick(1800 + 1789) == 0
    assert await tick(1800 + 1790) == 1
    # ticket's 6 h window holds all 1800 s until t = 19800 s, then 1800 - (t - 19800) s,
    # below 21.6 s once t > 21578.4 s (16:29:38.4); its 3-day window still burns at 6.94.
    assert await tick(1800 + 21578) == 0
    assert await tick(1800 + 21579) == 1

    fast, slow, ticket = await alerts(api, reader)
    assert [(a["rule"], a["severity"], a["state"]) for a in (fast, slow, ticket)] == [
        ("page_fast", "page", "resolved"), ("page_slow", "page", "resolved"),
        ("ticket", "ticket", "resolved")]  # fmt: skip
    assert [(when(a["fired_at"]), when(a["resolved_at"])) for a in (fast, slow, ticket)] == [
        (at(52), at(2096)), (at(130), at(3590)), (at(260), at(23379))]  # fmt: skip
    assert (fast["long_window_minutes"], fast["short_window_minutes"]) == (60, 5)
    assert (fast["threshold"], fast["objective"]) == (14.4, 0.999)
    # fired at 52 s: 52 / 3600 / 0.001 = 14.44 over 1 h, 52 / 300 / 0.001 = 173.3 over 5 min
    assert fast["long_burn_rate"] == pytest.approx(52 / 3.6)
    assert fast["short_burn_rate"] == pytest.approx(52 / 0.3)
    # resolved at 10:34:56: 1800 / 3600 / 0.001 = 500 over 1 h, 4 / 300 / 0.001 = 13.3
    assert fast["resolved_long_burn_rate"] == pytest.approx(500)
    assert fast["resolved_short_burn_rate"] == pytest.approx(4 / 0.3)

    # Each fired and resolved once, to the on-call step only, signed.
    assert received(receiver) == [
        ("kpi.burn_alert.fired", "page_fast", "on-call"),
        ("kpi.burn_alert.fired", "page_slow", "on-call"),
        ("kpi.burn_alert.fired", "ticket", "on-call"),
        ("kpi.burn_alert.resolved", "page_fast", "on-call"),
        ("kpi.burn_alert.resolved", "page_slow", "on-call"),
        ("kpi.burn_alert.resolved", "ticket", "on-call"),
    ]
    assert all(r.valid for r in receiver.received)
    first = receiver.received[0].payload
    assert first["timestamp"] == "2031-05-06T10:00:52Z"
    data = first["data"]
    assert (data["severity"], data["state"], data["alert_id"]) == ("page", "firing", fast["id"])
    assert data["windows"]["long"] == {"minutes": 60, "burn_rate": pytest.approx(52 / 3.6)}
    assert data["windows"]["short"] == {"minutes": 5, "burn_rate": pytest.approx(52 / 0.3)}
    assert data["budget_spent"] == pytest.approx(0.02)  # 14.4 x 1 h / 720 h
    assert data["kpi"]["key"] == "availability"
    last = receiver.received[-1].payload["data"]
    assert (last["state"], last["resolved_at"]) == ("resolved", "2031-05-06T16:29:39Z")

    # The KPI's own history, newest first, and the firing filter.
    r = await api.get("/v1/kpis/availability/burn-alerts", headers=reader)
    assert [a["rule"] for a in r.json()] == ["ticket", "page_slow", "page_fast"]
    assert await alerts(api, reader, state="firing") == []


async def test_a_ratio_kpi_burns_on_its_bad_events(
    con: dbmod.Connection, api: httpx.AsyncClient, admin: Headers, ingester: Headers,
    reader: Headers, clock: Clock, loopback: Settings, http: httpx.AsyncClient,
) -> None:  # fmt: skip
    noon = dt.datetime(2031, 5, 6, 12, 0, tzinfo=UTC)
    clock.now = noon + dt.timedelta(hours=1)
    await make_kpi(api, admin, "requests_good", cadence=None)
    await make_kpi(api, admin, "requests_total", cadence=None)
    await make_kpi(api, admin, "success", kind="ratio", numerator="requests_good",
                   denominator="requests_total", unit="share", cadence=None)  # fmt: skip
    # 100 requests a minute from 12:00 to 12:59; from 12:50 on, 20 of them fail.
    minutes = [noon + dt.timedelta(minutes=m) for m in range(60)]
    await observe(api, ingester, "requests_total", [(ts, 100.0) for ts in minutes])
    await observe(api, ingester, "requests_good",
                  [(ts, 80.0 if ts.minute >= 50 else 100.0) for ts in minutes])  # fmt: skip
    policy = {"objective": 0.99, "rules": [
        {"name": "fast", "severity": "page", "burn_rate": 3, "long_window_minutes": 60,
         "short_window_minutes": 5}]}  # fmt: skip
    r = await api.put("/v1/kpis/success/burn-policy", json=policy, headers=admin)
    assert r.status_code == 200, r.text
    db = SingleConnectionDatabase(con)

    # At 12:55: the last hour has 5 bad minutes, 100 of 5,500 requests: 0.01818 / 0.01 = 1.82
    # (under 3) although the last 5 minutes burn at 0.2 / 0.01 = 20: nothing yet.
    report = await background.tick(db, loopback, http, noon + dt.timedelta(minutes=55))
    assert report.burn_alerts == 0
    # At 13:00: 200 of 6,000 bad over the hour, 0.0333 / 0.01 = 3.33; 5 minutes: 20.
    report = await background.tick(db, loopback, http, noon + dt.timedelta(hours=1))
    assert report.burn_alerts == 1
    # At 13:05 the last 5 minutes hold no request: nothing burns, the alert resolves (the
    # hour from 12:05 still burns at 200 of 5,500 bad, 0.03636 / 0.01 = 3.64).
    report = await background.tick(db, loopback, http, noon + dt.timedelta(minutes=65))
    assert report.burn_alerts == 1
    (alert,) = await alerts(api, reader, kpi="success")
    assert (when(alert["fired_at"]), when(alert["resolved_at"])) == (
        noon + dt.timedelta(hours=1), noon + dt.timedelta(minutes=65))  # fmt: skip
    assert alert["long_burn_rate"] == pytest.approx(200 / 6000 / 0.01)
    assert alert["short_burn_rate"] == pytest.approx(20)
    assert (alert["resolved_long_burn_rate"], alert["resolved_short_burn_rate"]) == (
        pytest.approx(200 / 5500 / 0.01), 0)  # fmt: skip


async def test_deleting_the_policy_resolves_its_firing_alerts(
    con: dbmod.Connection, api: httpx.AsyncClient, admin: Headers, ingester: Headers,
    reader: Headers, loopback: Settings, receiver: Receiver, http: httpx.AsyncClient,
) -> None:  # fmt: skip
    await availability_kpi(api, admin, ingester, receiver.url)
    r = await api.put("/v1/kpis/availability/burn-policy", json={"objective": 0.999},
                      headers=admin)  # fmt: skip
    assert r.status_code == 200, r.text
    db = SingleConnectionDatabase(con)
    assert (await background.tick(db, loopback, http, at(60))).burn_alerts == 1
    (firing,) = await alerts(api, reader, state="firing")
    assert firing["rule"] == "page_fast"
    r = await api.delete("/v1/kpis/availability/burn-policy", headers=admin)
    assert r.status_code == 204, r.text
    assert (await api.get("/v1/kpis/availability/burn-policy", headers=reader)).status_code == 404
    assert (await background.tick(db, loopback, http, at(120))).burn_alerts == 1
    (done,) = await alerts(api, reader)
    assert when(done["resolved_at"]) == at(120)
    assert done["resolved_long_burn_rate"] is None  # its rule is gone: nothing was measured
    # The policy is catalog: set and removed, each in the audit trail with before and after.
    r = await api.get("/v1/audit", params={"kind": "burn-policy", "key": "availability"},
                      headers=admin)  # fmt: skip
    assert [(e["action"], e["actor_name"]) for e in r.json()] == [
        ("delete", "admin"), ("create", "admin"),
    ]  # fmt: skip
    removed, made = r.json()
    assert (made["before"], made["after"]["objective"]) == (None, 0.999)
    assert (removed["before"], removed["after"]) == (made["after"], None)


async def problem(api: httpx.AsyncClient, admin: Headers, key: str, body: Json) -> Json:
    r = await api.put(f"/v1/kpis/{key}/burn-policy", json=body, headers=admin)
    assert r.status_code == 422, r.text
    out: Json = r.json()
    return out


async def test_bad_policies_name_the_field(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers
) -> None:
    await make_kpi(api, admin, "orders", cadence=None)
    await make_kpi(api, admin, "availability", kind="builtin", metric="availability",
                   unit="percent", cadence=None)  # fmt: skip
    found = await problem(api, admin, "orders", {})
    assert [e["field"] for e in found["errors"]] == ["kpi"]
    assert "availability KPIs and ratio KPIs only" in found["detail"]
    rule = {"name": "fast", "severity": "page", "burn_rate": 14.4, "long_window_minutes": 60,
            "short_window_minutes": 60}  # fmt: skip
    found = await problem(api, admin, "availability", {"rules": [rule]})
    assert [e["field"] for e in found["errors"]] == ["rules.0.short_window_minutes"]
    ok = {**rule, "short_window_minutes": 5}
    found = await problem(api, admin, "availability", {"rules": [ok, ok]})
    assert [e["field"] for e in found["errors"]] == ["rules.1.name"]
    found = await problem(api, admin, "availability", {"objective": 1})
    assert [e["field"] for e in found["errors"]] == ["objective"]
    found = await problem(api, admin, "availability", {"rules": [{**ok, "severity": "sms"}]})
    assert [e["field"] for e in found["errors"]] == ["rules.0.severity"]
    r = await api.put("/v1/kpis/nope/burn-policy", json={}, headers=admin)
    assert r.status_code == 404, r.text


# Two processes at once (committed data) ---------------------------------------------------------


@pytest.fixture
async def committed(database_url: str) -> AsyncIterator[tuple[str, dbmod.Connection]]:
    schema = f"kpi_burn_{secrets.token_hex(4)}"
    con = await dbmod.connect(database_url, schema)
    try:
        await dbmod.migrate(con, schema)
        yield schema, con
    finally:
        await con.execute(f'drop schema if exists "{schema}" cascade')
        await con.close()


async def test_two_rounds_at_once_fire_and_notify_once(
    database_url: str, committed: tuple[str, dbmod.Connection]
) -> None:
    schema, con = committed
    settings = Settings(db_schema=schema)
    token = await tokens.create_token(con, name="admin", scopes=[Scope.ADMIN])
    admin = {"Authorization": f"Bearer {token.token}"}
    pools = [await dbmod.create_pool(database_url, schema, 1, 2) for _ in range(2)]
    try:
        app = create_app(settings, db=dbmod.PoolDatabase(pools[0]), clock=lambda: T0)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://kpi.test") as api:
            await availability_kpi(api, admin, admin, "https://hooks.example/burn")
            r = await api.put("/v1/kpis/availability/burn-policy", json={}, headers=admin)
            assert r.status_code == 200, r.text

        async def round_on(pool: Any, seconds: float) -> int:
            async with pool.acquire() as c:
                # Both past the leader lock, so only the unique index keeps them apart.
                return await burn_alerts.evaluate_policies(c, at(seconds))

        # 60 s: page_fast fires (51.84 s needed), once; 2096 s (10:34:56): it resolves while
        # page_slow and ticket fire, once each.
        for seconds, changes in ((60, 1), (2096, 3)):
            done = await asyncio.gather(*(round_on(p, seconds) for p in pools))
            assert sorted(done) == [0, changes]
    finally:
        for pool in pools:
            await pool.close()
    rows = await con.fetch("select rule, fired_at, resolved_at from burn_alert order by id")
    assert [(r["rule"], r["fired_at"], r["resolved_at"]) for r in rows] == [
        ("page_fast", at(60), at(2096)), ("page_slow", at(2096), None),
        ("ticket", at(2096), None)]  # fmt: skip
    sent = await con.fetch("select event_type, payload from outbox order by id")
    assert [(r["event_type"], r["payload"]["data"]["rule"]["name"]) for r in sent] == [
        ("kpi.burn_alert.fired", "page_fast"), ("kpi.burn_alert.resolved", "page_fast"),
        ("kpi.burn_alert.fired", "page_slow"), ("kpi.burn_alert.fired", "ticket")]  # fmt: skip
