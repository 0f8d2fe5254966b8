"""KPI evaluation end to end: statuses per period against the effective target, stored or
computed, through the REST API on a real Postgres (each test rolled back), with a fixed clock.

Most KPIs here are observed, summed per month: each month's value is the sum of its points,
so every status below is worked out by hand from the points sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from service import db as dbmod
from service.config import Settings
from service.kpi.periods import Period
from service.store import kpis
from service.usecases import evaluation
from tests.conftest import app_client

Headers = dict[str, str]
Json = dict[str, Any]

UTC = dt.UTC
#: The clock of most tests: mid-August 2031, so July is the last closed month.
NOW = dt.datetime(2031, 8, 15, 12, 0, tzinfo=UTC)


class Clock:
    """The app's clock: fixed, moved by the test when it needs another 'now'."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def month(year: int, m: int) -> dt.datetime:
    return dt.datetime(year, m, 1, tzinfo=UTC)


def iso(ts: dt.datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")


def when(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text)


# Fixtures ---------------------------------------------------------------------------------------


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
async def api(
    con: dbmod.Connection, settings: Settings, clock: Clock
) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(con, settings, clock) as client:
        yield client


# Requests ---------------------------------------------------------------------------------------


async def created(api: httpx.AsyncClient, headers: Headers, path: str, body: Json) -> Json:
    r = await api.post(path, json=body, headers=headers)
    assert r.status_code == 201, r.text
    out: Json = r.json()
    return out


async def make_kpi(
    api: httpx.AsyncClient, admin: Headers, key: str, *, direction: str = "higher_is_better",
    **fields: Any,
) -> Json:  # fmt: skip
    body = {
        "key": key, "name": f"KPI {key}", "unit": "count", "direction": direction,
        "aggregation": "sum", "cadence": "monthly", **fields,
    }  # fmt: skip
    return await created(api, admin, "/v1/kpis", body)


async def make_service(api: httpx.AsyncClient, admin: Headers, slug: str, tier: int) -> Json:
    return await created(
        api, admin, "/v1/services", {"slug": slug, "name": f"Service {slug}", "tier": tier}
    )


async def apply_to(api: httpx.AsyncClient, admin: Headers, key: str, slug: str) -> None:
    r = await api.put(f"/v1/kpis/{key}/services/{slug}", headers=admin)
    assert r.status_code == 200, r.text


async def make_target(
    api: httpx.AsyncClient, admin: Headers, key: str, value: float, **fields: Any
) -> Json:
    body = {"kpi": key, "value": value, "effective_from": "2030-01-01", **fields}
    return await created(api, admin, "/v1/targets", body)


async def observe(
    api: httpx.AsyncClient, ingester: Headers, key: str,
    points: list[tuple[dt.datetime, float]], service: str | None = None,
) -> None:  # fmt: skip
    body = [{"kpi": key, "service": service, "ts": iso(ts), "value": v} for ts, v in points]
    r = await api.post("/v1/observations", json=body, headers=ingester)
    assert r.status_code == 200, r.text


async def evaluate(
    api: httpx.AsyncClient, admin: Headers, key: str | None, period: dt.datetime | None = None
) -> list[Json]:
    body: Json = {}
    if key is not None:
        body["kpi"] = key
    if period is not None:
        body["period"] = iso(period)
    r = await api.post("/v1/evaluate", json=body, headers=admin)
    assert r.status_code == 200, r.text
    out: list[Json] = r.json()
    return out


async def status(
    api: httpx.AsyncClient, headers: Headers, key: str, period: dt.datetime | None = None,
    service: str | None = None,
) -> Json:  # fmt: skip
    params = {}
    if period is not None:
        params["period"] = iso(period)
    if service is not None:
        params["service"] = service
    r = await api.get(f"/v1/kpis/{key}/status", params=params, headers=headers)
    assert r.status_code == 200, r.text
    out: Json = r.json()
    return out


async def history(
    api: httpx.AsyncClient, headers: Headers, key: str, service: str | None = None
) -> list[Json]:
    params = {} if service is None else {"service": service}
    r = await api.get(f"/v1/kpis/{key}/status-history", params=params, headers=headers)
    assert r.status_code == 200, r.text
    out: list[Json] = r.json()
    return out


def problem(r: httpx.Response, code: int, field: str | None = None) -> Json:
    assert r.status_code == code, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: Json = r.json()
    assert body["status"] == code
    if field is not None:
        assert [e["field"] for e in body["errors"]] == [field]
    return body


Row = tuple[dt.datetime, float | None, str, float | None, str]


def summary(st: Json) -> Row:
    """(period start, value, status, previous value, trend) of a status."""
    start = when(st["period_start"])
    assert start is not None
    return (start, st["value"], st["status"], st["previous_value"], st["trend"])


# Status and trend by direction ------------------------------------------------------------------


async def test_higher_is_better_met_at_risk_breached_and_no_data(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await make_kpi(api, admin, "orders")
    # At or above 120 is met, from 100 up to 120 at risk, under 100 breached.
    await make_target(api, admin, "orders", 100.0, warning=120.0)
    await observe(api, admin, "orders", [
        (dt.datetime(2031, 1, 3, tzinfo=UTC), 100.0), (dt.datetime(2031, 1, 20, tzinfo=UTC), 30.0),
        (dt.datetime(2031, 2, 10, tzinfo=UTC), 110.0),
        (dt.datetime(2031, 3, 10, tzinfo=UTC), 90.0),
        (dt.datetime(2031, 4, 10, tzinfo=UTC), 90.0),
        (dt.datetime(2031, 5, 31, 23, 59, tzinfo=UTC), 120.0),
        (dt.datetime(2031, 6, 1, tzinfo=UTC), 100.0),
    ])  # fmt: skip
    expected: list[Row] = [
        (month(2031, 1), 130.0, "met", None, "unknown"),  # nothing in December
        (month(2031, 2), 110.0, "at_risk", 130.0, "worsening"),
        (month(2031, 3), 90.0, "breached", 110.0, "worsening"),
        (month(2031, 4), 90.0, "breached", 90.0, "steady"),
        (month(2031, 5), 120.0, "met", 90.0, "improving"),  # exactly the warning: met
        (month(2031, 6), 100.0, "at_risk", 120.0, "worsening"),  # exactly the target: at risk
        (month(2031, 7), None, "no_data", 100.0, "unknown"),  # no points in July
    ]
    computed = [
        await status(api, reader, "orders", start + dt.timedelta(days=14)) for start, *_ in expected
    ]
    assert [summary(st) for st in computed] == expected
    for st in computed:
        assert st["evaluated_at"] is None  # computed, not stored
        assert (st["kpi"], st["service"], st["cadence"]) == ("orders", None, "monthly")
        assert (st["target"], st["warning"], st["target_scope"]) == (100.0, 120.0, "global")
        start = when(st["period_start"])
        assert start is not None
        assert when(st["period_end"]) == (start + dt.timedelta(days=32)).replace(day=1)

    stored = []
    for start, *_ in expected:
        (st,) = await evaluate(api, admin, "orders", start)
        stored.append(st)
    assert [summary(st) for st in stored] == expected
    assert all(st["evaluated_at"] is not None for st in stored)
    kept = await history(api, reader, "orders")
    assert [summary(st) for st in kept] == expected[::-1]  # newest first
    assert all(st["evaluated_at"] is not None for st in kept)
    assert all(st["target_scope"] == "global" for st in kept)


async def test_lower_is_better_mirrors_the_thresholds(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await make_kpi(api, admin, "sev1_incidents", direction="lower_is_better")
    # At or below 3 is met, above 3 up to 5 at risk, above 5 breached.
    await make_target(api, admin, "sev1_incidents", 5.0, warning=3.0)
    await observe(api, admin, "sev1_incidents", [
        (dt.datetime(2031, 1, 5, tzinfo=UTC), 2.0),
        (dt.datetime(2031, 2, 5, tzinfo=UTC), 1.0), (dt.datetime(2031, 2, 6, tzinfo=UTC), 3.0),
        (dt.datetime(2031, 3, 5, tzinfo=UTC), 7.0),
        (dt.datetime(2031, 4, 5, tzinfo=UTC), 3.0),
        (dt.datetime(2031, 5, 5, tzinfo=UTC), 5.0),
        (dt.datetime(2031, 6, 5, tzinfo=UTC), 5.0),
    ])  # fmt: skip
    expected: list[Row] = [
        (month(2031, 1), 2.0, "met", None, "unknown"),
        (month(2031, 2), 4.0, "at_risk", 2.0, "worsening"),  # more is worse
        (month(2031, 3), 7.0, "breached", 4.0, "worsening"),
        (month(2031, 4), 3.0, "met", 7.0, "improving"),  # exactly the warning: met
        (month(2031, 5), 5.0, "at_risk", 3.0, "worsening"),  # exactly the target: at risk
        (month(2031, 6), 5.0, "at_risk", 5.0, "steady"),
        (month(2031, 7), None, "no_data", 5.0, "unknown"),
    ]
    got = []
    for start, *_ in expected:
        (st,) = await evaluate(api, admin, "sev1_incidents", start + dt.timedelta(days=3))
        assert (st["target"], st["warning"], st["target_scope"]) == (5.0, 3.0, "global")
        got.append(summary(st))
    assert got == expected
    assert [summary(st) for st in await history(api, reader, "sev1_incidents")] == expected[::-1]


async def test_without_a_warning_threshold_there_is_no_at_risk(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await make_kpi(api, admin, "orders")
    await make_target(api, admin, "orders", 100.0)
    await observe(api, admin, "orders", [
        (dt.datetime(2031, 5, 5, tzinfo=UTC), 100.0), (dt.datetime(2031, 6, 5, tzinfo=UTC), 99.5),
    ])  # fmt: skip
    may = await status(api, reader, "orders", month(2031, 5))
    june = await status(api, reader, "orders", month(2031, 6))
    assert (may["status"], may["warning"]) == ("met", None)
    assert (june["status"], june["trend"]) == ("breached", "worsening")


async def test_without_a_target_a_value_is_no_data_but_keeps_its_trend(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await make_kpi(api, admin, "signups")
    await observe(api, admin, "signups", [
        (dt.datetime(2031, 6, 5, tzinfo=UTC), 10.0), (dt.datetime(2031, 7, 5, tzinfo=UTC), 12.0),
    ])  # fmt: skip
    (st,) = await evaluate(api, admin, "signups")  # the last closed month: July
    assert summary(st) == (month(2031, 7), 12.0, "no_data", 10.0, "improving")
    assert (st["target"], st["warning"], st["target_scope"]) == (None, None, None)
    # no points and no target at all
    await make_kpi(api, admin, "empty")
    (st,) = await evaluate(api, admin, "empty")
    assert summary(st) == (month(2031, 7), None, "no_data", None, "unknown")
    assert st["target"] is None


# Which target applies ---------------------------------------------------------------------------


async def test_service_target_beats_tier_target_beats_global(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await make_kpi(api, admin, "orders")
    await make_service(api, admin, "erp", 2)
    await make_service(api, admin, "web", 1)
    await make_service(api, admin, "crm", 3)
    for slug in ("web", "erp", "crm"):
        await apply_to(api, admin, "orders", slug)
    await make_target(api, admin, "orders", 100.0, warning=110.0)  # global
    await make_target(api, admin, "orders", 80.0, tier=2)
    await make_target(api, admin, "orders", 150.0, tier=1)
    await make_target(api, admin, "orders", 120.0, service="web")  # beats web's tier target
    july = dt.datetime(2031, 7, 10, tzinfo=UTC)
    await observe(api, admin, "orders", [(july, 90.0)], service="erp")
    await observe(api, admin, "orders", [(july, 130.0)], service="web")
    await observe(api, admin, "orders", [(july, 95.0)], service="crm")

    statuses = await evaluate(api, admin, "orders", july)
    by_scope = {
        st["service"]: (st["value"], st["target"], st["warning"], st["target_scope"], st["status"])
        for st in statuses
    }
    assert by_scope == {
        None: (315.0, 100.0, 110.0, "global", "met"),  # overall: every point, global target
        "erp": (90.0, 80.0, None, "tier", "met"),
        "web": (130.0, 120.0, None, "service", "met"),  # 130 < 150: tier 1 would breach it
        "crm": (95.0, 100.0, 110.0, "global", "breached"),  # no tier 3 target
    }
    assert len(statuses) == 4

    for slug, (value, target, warning, scope, state) in by_scope.items():
        (kept,) = await history(api, reader, "orders", slug)
        assert (kept["service"], kept["value"], kept["target"], kept["warning"]) == (
            slug, value, target, warning)  # fmt: skip
        assert (kept["target_scope"], kept["status"]) == (scope, state)
        read = await status(api, reader, "orders", july, service=slug)
        assert (read["target"], read["target_scope"], read["status"]) == (target, scope, state)
        assert read["evaluated_at"] is not None


async def test_overall_without_a_global_target_takes_the_worst_service_status(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await make_kpi(api, admin, "orders")
    await make_service(api, admin, "erp", 2)
    await make_service(api, admin, "web", 1)
    await apply_to(api, admin, "orders", "erp")
    await apply_to(api, admin, "orders", "web")
    # Service and tier targets never apply to the KPI overall.
    await make_target(api, admin, "orders", 80.0, tier=2, warning=100.0)
    await make_target(api, admin, "orders", 70.0, service="web")
    july = dt.datetime(2031, 7, 10, tzinfo=UTC)
    await observe(api, admin, "orders", [(july, 90.0)], service="erp")
    await observe(api, admin, "orders", [(july, 75.0)], service="web")

    computed = await status(api, reader, "orders")
    statuses = await evaluate(api, admin, "orders")
    by_scope = {
        st["service"]: (st["value"], st["target"], st["target_scope"], st["status"])
        for st in statuses
    }
    assert by_scope == {
        None: (165.0, None, "services", "at_risk"),  # erp at risk, web met
        "erp": (90.0, 80.0, "tier", "at_risk"),
        "web": (75.0, 70.0, "service", "met"),
    }
    assert {k: computed[k] for k in ("value", "target", "target_scope", "status")} == {
        "value": 165.0, "target": None, "target_scope": "services", "status": "at_risk",
    }  # fmt: skip
    (kept,) = await history(api, reader, "orders")
    assert (kept["target_scope"], kept["status"]) == ("services", "at_risk")

    # Services without data leave the KPI overall without a status.
    await make_kpi(api, admin, "returns")
    await apply_to(api, admin, "returns", "erp")
    await make_target(api, admin, "returns", 5.0, tier=2)
    (overall, erp) = sorted(await evaluate(api, admin, "returns"), key=lambda s: bool(s["service"]))
    assert (overall["target_scope"], overall["status"]) == (None, "no_data")
    assert (erp["service"], erp["target_scope"], erp["status"]) == ("erp", "tier", "no_data")


async def test_a_target_change_leaves_evaluated_periods_alone(
    con: dbmod.Connection, api: httpx.AsyncClient, admin: Headers, ingester: Headers,
    reader: Headers, clock: Clock,
) -> None:  # fmt: skip
    clock.now = dt.datetime(2031, 11, 5, 8, 0, tzinfo=UTC)
    sept, octo, nov = month(2031, 9), month(2031, 10), month(2031, 11)
    await make_kpi(api, admin, "orders")
    old = await make_target(api, admin, "orders", 100.0, effective_from="2031-01-01")
    await observe(api, admin, "orders", [
        (sept + dt.timedelta(days=3), 90.0), (octo + dt.timedelta(days=3), 90.0),
        (nov + dt.timedelta(days=3), 90.0),
    ])  # fmt: skip
    (first,) = await evaluate(api, admin, "orders", sept)
    assert (first["target"], first["status"]) == (100.0, "breached")

    # The target is lowered from October 1: the old one ends where the new one starts.
    r = await api.put(f"/v1/targets/{old['id']}", headers=admin, json={
        "kpi": "orders", "value": 100.0, "effective_from": "2031-01-01",
        "effective_to": "2031-10-01"})  # fmt: skip
    assert r.status_code == 200, r.text
    await make_target(api, admin, "orders", 80.0, effective_from="2031-10-01")
    (october,) = await evaluate(api, admin, "orders")  # the last closed month
    assert summary(october) == (octo, 90.0, "met", 90.0, "steady")
    assert (october["target"], october["target_scope"]) == (80.0, "global")

    kept = await history(api, reader, "orders")
    assert [(when(s["period_start"]), s["target"], s["status"]) for s in kept] == [
        (octo, 80.0, "met"), (sept, 100.0, "breached")]  # fmt: skip

    # Late data for both months. The background path keeps what is stored ...
    await observe(api, admin, "orders", [
        (sept + dt.timedelta(days=20), 20.0), (octo + dt.timedelta(days=20), 5.0)])  # fmt: skip
    kpi = await kpis.get_kpi(con, key="orders")
    assert await evaluation.evaluate_due(con, clock.now) == 0  # October is stored already
    sept_period = Period(sept, octo)
    assert await evaluation.evaluate_kpi(
        con, kpi, period=sept_period, now=clock.now, replace=False) == []  # fmt: skip
    kept = await history(api, reader, "orders")
    assert [(when(s["period_start"]), s["value"], s["target"]) for s in kept] == [
        (octo, 90.0, 80.0), (sept, 90.0, 100.0)]  # fmt: skip

    # ... and the background path stores a period not evaluated yet, with the target then.
    clock.now = dt.datetime(2031, 12, 2, tzinfo=UTC)
    assert await evaluation.evaluate_due(con, clock.now) == 1
    assert summary(await status(api, reader, "orders", nov)) == (
        nov,
        90.0,
        "met",
        95.0,
        "worsening",
    )

    # On demand replaces the stored period, still against the target in effect then.
    (again,) = await evaluate(api, admin, "orders", sept)
    assert (again["value"], again["target"], again["status"]) == (110.0, 100.0, "met")
    kept = await history(api, reader, "orders")
    assert [(when(s["period_start"]), s["value"], s["target"], s["status"]) for s in kept] == [
        (nov, 90.0, 80.0, "met"), (octo, 90.0, 80.0, "met"), (sept, 110.0, 100.0, "met"),
    ]  # fmt: skip


async def test_availability_per_service_uses_the_tier_default(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers, clock: Clock
) -> None:
    clock.now = dt.datetime(2031, 10, 3, tzinfo=UTC)
    await make_service(api, admin, "erp", 2)
    await make_service(api, admin, "web", 1)
    await make_kpi(api, admin, "availability", kind="builtin", metric="availability",
                   unit="percent", aggregation="avg")  # fmt: skip
    await apply_to(api, admin, "availability", "erp")
    await apply_to(api, admin, "availability", "web")
    # One hour of sev1 outage on erp in September (30 days).
    r = await api.post("/v1/incidents", headers=ingester, json={
        "external_id": "INC-1", "service": "erp", "severity": "sev1", "status": "resolved",
        "started_at": "2031-09-10T10:00:00Z", "detected_at": "2031-09-10T10:05:00Z",
        "resolved_at": "2031-09-10T11:00:00Z"})  # fmt: skip
    assert r.status_code == 200, r.text

    statuses = {st["service"]: st for st in await evaluate(api, admin, "availability")}
    assert set(statuses) == {None, "erp", "web"}
    erp, web = statuses["erp"], statuses["web"]
    assert when(erp["period_start"]) == month(2031, 9)
    assert erp["value"] == pytest.approx(100 * (1 - 3600 / (30 * 86400)))  # 99.8611 %
    assert (erp["target"], erp["warning"], erp["target_scope"]) == (99.9, None, "default")
    assert (erp["status"], erp["previous_value"], erp["trend"]) == ("breached", 100.0, "worsening")
    assert (web["value"], web["target"], web["target_scope"]) == (100.0, 99.95, "default")
    assert (web["status"], web["trend"]) == ("met", "steady")
    # Overall there is no tier, so no default: it takes the worst status of its services.
    overall = statuses[None]
    assert overall["value"] == pytest.approx(100 * (1 - 3600 / (2 * 30 * 86400)))
    assert (overall["target"], overall["target_scope"], overall["status"]) == (
        None, "services", "breached")  # fmt: skip

    (kept,) = await history(api, reader, "availability", "erp")
    assert (kept["target"], kept["target_scope"], kept["status"]) == (99.9, "default", "breached")

    # An explicit tier target replaces the default.
    await make_target(api, admin, "availability", 99.5, tier=2)
    await make_target(api, admin, "availability", 99.0)
    statuses = {st["service"]: st for st in await evaluate(api, admin, "availability")}
    assert (statuses["erp"]["target"], statuses["erp"]["target_scope"]) == (99.5, "tier")
    assert statuses["erp"]["status"] == "met"
    assert (statuses["web"]["target"], statuses["web"]["target_scope"]) == (99.0, "global")
    assert (statuses[None]["target"], statuses[None]["status"]) == (99.0, "met")


# Reading statuses -------------------------------------------------------------------------------


async def test_status_is_computed_when_not_stored_and_read_back_when_stored(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await make_kpi(api, admin, "orders")
    await make_target(api, admin, "orders", 100.0)
    await observe(api, admin, "orders", [(dt.datetime(2031, 7, 9, tzinfo=UTC), 120.0)])
    computed = await status(api, reader, "orders")  # default: the last closed month, July
    assert summary(computed) == (month(2031, 7), 120.0, "met", None, "unknown")
    assert computed["evaluated_at"] is None
    assert await history(api, reader, "orders") == []  # computing stores nothing

    await evaluate(api, admin, "orders")
    # A later point changes what would be computed, not what is stored.
    await observe(api, admin, "orders", [(dt.datetime(2031, 7, 10, tzinfo=UTC), -40.0)])
    stored = await status(api, reader, "orders", dt.datetime(2031, 7, 31, 23, tzinfo=UTC))
    assert summary(stored) == (month(2031, 7), 120.0, "met", None, "unknown")
    assert stored["evaluated_at"] is not None
    # The month in progress is computed up to now; a month not started is refused.
    current = await status(api, reader, "orders", NOW)
    assert (when(current["period_start"]), current["status"]) == (month(2031, 8), "no_data")
    r = await api.get("/v1/kpis/orders/status", headers=reader,
                      params={"period": "2031-09-02T00:00:00Z"})  # fmt: skip
    problem(r, 422, "period")


async def test_an_evaluation_answers_with_the_statuses_it_stored(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await make_kpi(api, admin, "orders")
    await make_target(api, admin, "orders", 100.0)
    await observe(api, admin, "orders", [(dt.datetime(2031, 7, 9, tzinfo=UTC), 120.0)])
    (answered,) = await evaluate(api, admin, "orders")
    # What the evaluation reports is what is kept: reading it back gives the same status,
    # evaluated_at included.
    assert await status(api, reader, "orders") == answered
    assert await history(api, reader, "orders") == [answered]


async def test_a_kpi_without_cadence_has_no_status(
    api: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await make_kpi(api, admin, "adhoc", cadence=None)
    problem(await api.get("/v1/kpis/adhoc/status", headers=reader), 409)
    r = await api.post("/v1/evaluate", json={"kpi": "adhoc"}, headers=admin)
    problem(r, 422, "cadence")
    # with a cadence given for the call it is evaluated
    r = await api.post("/v1/evaluate", json={"kpi": "adhoc", "cadence": "monthly"}, headers=admin)
    assert r.status_code == 200, r.text
    assert [(s["cadence"], s["status"]) for s in r.json()] == [("monthly", "no_data")]
    # evaluating every KPI leaves out the ones without cadence
    assert await evaluate(api, admin, None) == []


async def test_unknown_kpi_and_service(
    api: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    problem(await api.get("/v1/kpis/nope/status", headers=reader), 404)
    problem(await api.get("/v1/kpis/nope/status-history", headers=reader), 404)
    problem(await api.post("/v1/evaluate", json={"kpi": "nope"}, headers=admin), 404)
    await make_kpi(api, admin, "orders")
    r = await api.get("/v1/kpis/orders/status", params={"service": "nope"}, headers=reader)
    problem(r, 422, "service")
    r = await api.get("/v1/kpis/orders/status-history", params={"service": "nope"},
                      headers=reader)  # fmt: skip
    problem(r, 422, "service")


async def test_evaluating_every_kpi_with_a_cadence(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers
) -> None:
    await make_kpi(api, admin, "orders")
    await make_kpi(api, admin, "weekly_orders", cadence="weekly")
    await make_target(api, admin, "orders", 100.0)
    await observe(api, admin, "orders", [(dt.datetime(2031, 7, 9, tzinfo=UTC), 50.0)])
    await observe(api, admin, "weekly_orders", [(dt.datetime(2031, 8, 8, tzinfo=UTC), 7.0)])
    got = {st["kpi"]: st for st in await evaluate(api, admin, None)}
    assert set(got) == {"orders", "weekly_orders"}
    assert summary(got["orders"]) == (month(2031, 7), 50.0, "breached", None, "unknown")
    # NOW is Friday 2031-08-15: the last closed week runs from Monday 4 to Monday 11 August.
    week = got["weekly_orders"]
    assert (when(week["period_start"]), when(week["period_end"])) == (
        dt.datetime(2031, 8, 4, tzinfo=UTC), dt.datetime(2031, 8, 11, tzinfo=UTC))  # fmt: skip
    assert (week["cadence"], week["value"]) == ("weekly", 7.0)


async def test_scorecard_shows_board_kpis_against_the_global_target(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await make_kpi(api, admin, "orders", board_level=True, business_owner="cfo@example.com")
    await make_kpi(api, admin, "hidden")
    await make_service(api, admin, "erp", 2)
    await apply_to(api, admin, "orders", "erp")
    await make_target(api, admin, "orders", 100.0, warning=150.0)
    await make_target(api, admin, "orders", 10.0, service="erp")
    await observe(api, admin, "orders", [
        (dt.datetime(2031, 6, 9, tzinfo=UTC), 140.0), (dt.datetime(2031, 7, 9, tzinfo=UTC), 120.0),
    ], service="erp")  # fmt: skip
    r = await api.get("/v1/scorecard", headers=reader)
    assert r.status_code == 200, r.text
    (item,) = r.json()["items"]
    assert (item["kpi"], item["value"], item["target"], item["warning"]) == (
        "orders", 120.0, 100.0, 150.0)  # fmt: skip
    assert (item["status"], item["previous_value"], item["trend"]) == (
        "at_risk", 140.0, "worsening")  # fmt: skip
    assert when(item["period_start"]) == month(2031, 7)
    assert item["business_owner"] == "cfo@example.com"


async def test_read_scope_reads_and_only_admin_evaluates(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await make_kpi(api, admin, "orders")
    for path in ("/v1/kpis/orders/status", "/v1/kpis/orders/status-history", "/v1/scorecard"):
        assert (await api.get(path, headers=reader)).status_code == 200, path
        assert (await api.get(path, headers=admin)).status_code == 200, path
        problem(await api.get(path), 401)
    body = {"kpi": "orders"}
    problem(await api.post("/v1/evaluate", json=body, headers=reader), 403)
    problem(await api.post("/v1/evaluate", json=body, headers=ingester), 403)
    problem(await api.post("/v1/evaluate", json=body), 401)
    assert (await api.post("/v1/evaluate", json=body, headers=admin)).status_code == 200


async def test_a_target_applies_to_a_period_when_in_effect_on_its_first_day(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await make_kpi(api, admin, "orders")
    await make_target(api, admin, "orders", 100.0, effective_from="2031-01-01")
    await make_target(api, admin, "orders", 50.0, effective_from="2031-05-01")  # later wins
    await make_target(api, admin, "orders", 10.0, effective_from="2031-07-02")  # from the 2nd
    await observe(api, admin, "orders", [
        (dt.datetime(2031, m, 10, tzinfo=UTC), 70.0) for m in (4, 5, 6, 7)])  # fmt: skip
    got = [await status(api, reader, "orders", month(2031, m)) for m in (4, 5, 6, 7)]
    assert [(s["target"], s["status"]) for s in got] == [
        (100.0, "breached"), (50.0, "met"), (50.0, "met"), (50.0, "met"),
    ]  # fmt: skip
    # A target that ends on a month's first day does not apply to that month.
    await make_kpi(api, admin, "returns", direction="lower_is_better")
    await make_target(api, admin, "returns", 5.0, effective_from="2031-01-01",
                      effective_to="2031-07-01")  # fmt: skip
    await observe(api, admin, "returns", [(dt.datetime(2031, m, 3, tzinfo=UTC), 1.0)
                                             for m in (6, 7)])  # fmt: skip
    june, july = [await status(api, reader, "returns", month(2031, m)) for m in (6, 7)]
    assert (june["target"], june["status"]) == (5.0, "met")
    assert (july["target"], july["status"]) == (None, "no_data")


async def test_status_history_pages_back_with_before_and_limit(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await make_kpi(api, admin, "orders")
    for m in (3, 4, 5, 6, 7):
        await observe(api, admin, "orders", [(dt.datetime(2031, m, 3, tzinfo=UTC), float(m))])
        await evaluate(api, admin, "orders", month(2031, m))
    r = await api.get("/v1/kpis/orders/status-history", headers=reader,
                      params={"limit": 2, "before": iso(month(2031, 6))})  # fmt: skip
    assert r.status_code == 200, r.text
    assert [(when(s["period_start"]), s["value"]) for s in r.json()] == [
        (month(2031, 5), 5.0), (month(2031, 4), 4.0)]  # fmt: skip
    r = await api.get("/v1/kpis/orders/status-history", headers=reader, params={"limit": 0})
    problem(r, 422, "limit")


async def test_a_period_not_started_is_refused(api: httpx.AsyncClient, admin: Headers) -> None:
    await make_kpi(api, admin, "orders")
    r = await api.post("/v1/evaluate", headers=admin,
                       json={"kpi": "orders", "period": "2031-09-01T00:00:00Z"})  # fmt: skip
    problem(r, 422, "period")
    # The month in progress may be evaluated on demand, up to now.
    r = await api.post("/v1/evaluate", headers=admin, json={"kpi": "orders", "period": iso(NOW)})
    assert r.status_code == 200, r.text
    assert when(r.json()[0]["period_start"]) == month(2031, 8)


async def test_one_process_leads_until_its_lease_expires_then_another_takes_over(
    con: dbmod.Connection, api: httpx.AsyncClient, admin: Headers
) -> None:
    await make_kpi(api, admin, "orders")
    await observe(api, admin, "orders", [(dt.datetime(2031, 7, 3, tzinfo=UTC), 1.0)])
    # Process A leads: it takes the lease (for 60 s) and stores July's status.
    assert await evaluation.evaluate_due(con, NOW, holder="a", lease_seconds=60) == 1
    (held,) = await con.fetch("select holder, expires_at - clock_timestamp() as left"
                              " from leader_lease")  # fmt: skip
    assert held["holder"] == "a" and dt.timedelta(seconds=59) < held["left"] <= dt.timedelta(
        seconds=60
    )
    # B finds the lease held and does nothing; A renews it round after round.
    assert await evaluation.evaluate_due(con, NOW, holder="b", lease_seconds=60) == 0
    assert await evaluation.evaluate_due(con, NOW, holder="a", lease_seconds=60) == 0
    assert await con.fetchval("select holder from leader_lease") == "a"
    # A dies without a word: once its lease has expired, B's next round takes it over.
    await con.execute("update leader_lease set expires_at = clock_timestamp() - interval '1s'")
    await observe(api, admin, "orders", [(dt.datetime(2031, 8, 3, tzinfo=UTC), 2.0)])
    september = dt.datetime(2031, 9, 15, 12, 0, tzinfo=UTC)
    assert await evaluation.evaluate_due(con, september, holder="b", lease_seconds=60) == 1
    assert await con.fetchval("select holder from leader_lease") == "b"
    assert await evaluation.evaluate_due(con, september, holder="a", lease_seconds=60) == 0


async def test_a_lease_is_kept_per_schema(
    con: dbmod.Connection, api: httpx.AsyncClient, admin: Headers, database_url: str,
    db_schema: str,
) -> None:  # fmt: skip
    await make_kpi(api, admin, "orders")
    await observe(api, admin, "orders", [(dt.datetime(2031, 7, 3, tzinfo=UTC), 1.0)])
    # Another deployment in the same database, its tables in another schema, has a leader:
    # its lease is a row of its own schema, so it does not hold back this one's.
    other = f"{db_schema}_other"
    admin_con = await dbmod.connect(database_url, other)
    try:
        await dbmod.migrate(admin_con, other)
        await admin_con.execute(
            f'insert into "{other}".leader_lease values'
            " ('kpi-evaluation', 'elsewhere', clock_timestamp() + interval '1 hour')"
        )
        assert await evaluation.evaluate_due(con, NOW, holder="here") == 1
    finally:
        await admin_con.execute(f'drop schema "{other}" cascade')
        await admin_con.close()
