"""Leaders' reads of one service over a window, with a fixed clock: availability (merged
outages, target, error budget, burn rate), incident statistics, the DORA keys, spend, and a
builtin KPI's series per team and tier; GraphQL and the REST report give the same figures.

Every expected figure is worked out by hand in the comments next to it."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from service import db as dbmod
from service.config import Settings
from tests.conftest import app_client

Headers = dict[str, str]

#: The clock of the app under test: a Friday, in the middle of March 2026.
NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=dt.UTC)


def at(stamp: str) -> str:
    """'03-02T10:00' -> '2026-03-02T10:00:00Z'."""
    return f"2026-{stamp}:00Z"


def iso(stamp: str) -> str:
    """'03-02T10:00' -> '2026-03-02T10:00:00Z', as every API writes instants."""
    return f"2026-{stamp}:00Z"


@pytest.fixture
async def clocked(con: dbmod.Connection, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its clock stopped at NOW."""
    async with app_client(con, settings, lambda: NOW) as client:
        yield client


async def send(
    client: httpx.AsyncClient, headers: Headers, method: str, path: str, body: Any = None,
    *, status: int | tuple[int, ...] = (200, 201), params: dict[str, str] | None = None,
) -> Any:  # fmt: skip
    r = await client.request(method, path, json=body, headers=headers, params=params)
    expected = (status,) if isinstance(status, int) else status
    assert r.status_code in expected, f"{method} {path}: {r.status_code} {r.text}"
    return r.json() if r.content else None


async def gql(
    client: httpx.AsyncClient, headers: Headers, query: str,
    variables: dict[str, Any] | None = None, *, status: int = 200,
) -> dict[str, Any]:  # fmt: skip
    payload: dict[str, Any] = {"query": query}
    if variables is not None:
        payload["variables"] = variables
    r = await client.post("/graphql", json=payload, headers=headers)
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    return body


async def gql_data(
    client: httpx.AsyncClient, headers: Headers, query: str,
    variables: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    body = await gql(client, headers, query, variables)
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def add_service(
    client: httpx.AsyncClient, admin: Headers, slug: str, tier: int, **extra: Any
) -> None:
    await send(client, admin, "POST", "/v1/services",
               {"slug": slug, "name": slug.title(), "tier": tier, **extra}, status=201)  # fmt: skip


async def add_incident(
    client: httpx.AsyncClient, admin: Headers, external_id: str, service: str, severity: str,
    started: str, resolved: str | None = None, **extra: Any,
) -> None:  # fmt: skip
    body: dict[str, Any] = {
        "external_id": external_id, "service": service, "severity": severity,
        "started_at": at(started), "status": "open",
    }  # fmt: skip
    if resolved is not None:
        body["resolved_at"], body["status"] = at(resolved), "resolved"
    for name in ("detected_at", "acknowledged_at"):
        if name in extra:
            extra[name] = at(extra[name])
    body.update(extra)
    await send(client, admin, "POST", "/v1/incidents", body, status=200)


def snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


#: Fields whose values are enums (upper case in GraphQL, lower case in REST).
ENUMS = {"severity", "band", "targetScope", "status", "trend", "cadence"}


def as_rest(value: Any) -> Any:
    """A GraphQL answer as REST writes it: keys in snake case, enums in lower case (instants
    are already written alike, RFC 3339 in UTC with a Z; numbers left as they are,
    approximations included)."""
    if isinstance(value, dict):
        return {
            snake(k): v.lower() if k in ENUMS and isinstance(v, str) else as_rest(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [as_rest(v) for v in value]
    return value


# Availability ----------

AVAILABILITY = """query($from: DateTime!, $to: DateTime) { service(slug: "shop") {
  availability(from: $from, to: $to) {
    window { start end complete } availability outageMinutes outageIncidents target targetScope
    targetKpi errorBudgetRemaining burnRate plannedDowntimeMinutes
  }
} }"""


async def availability_of_shop(
    client: httpx.AsyncClient, reader: Headers, start: str, end: str | None
) -> dict[str, Any]:
    variables = {"from": at(start), "to": at(end) if end else None}
    data = await gql_data(client, reader, AVAILABILITY, variables)
    report: dict[str, Any] = data["service"]["availability"]
    return report


async def report_of(
    client: httpx.AsyncClient, reader: Headers, slug: str, start: str, end: str | None = None
) -> dict[str, Any]:
    params = {"from": at(start)} | ({"to": at(end)} if end else {})
    body: dict[str, Any] = await send(
        client, reader, "GET", f"/v1/services/{slug}/report", params=params, status=200
    )
    assert body["service"] == slug
    return body


async def test_availability_merges_overlapping_outages_against_the_tier_default(
    clocked: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await add_service(clocked, admin, "shop", 2)  # outage threshold: sev2 by default
    # Two sev1 outages overlapping by an hour: 10:00-12:00 and 11:00-13:00, merged 10:00-13:00.
    await add_incident(clocked, admin, "a", "shop", "sev1", "03-02T10:00", "03-02T12:00")
    await add_incident(clocked, admin, "b", "shop", "sev1", "03-02T11:00", "03-02T13:00")
    # sev3 is below the threshold: not an outage, whatever its length.
    await add_incident(clocked, admin, "c", "shop", "sev3", "03-05T00:00", "03-05T05:00")

    report = await availability_of_shop(clocked, reader, "03-01T00:00", "03-11T00:00")
    # Window: 10 days = 14,400 minutes. Outage: 180 minutes (not 120 + 120 = 240).
    # availability = 1 - 180 / 14,400 = 0.9875 -> 98.75 %.
    # Tier 2 default target 99.9 %: budget = 0.001 x 14,400 = 14.4 minutes;
    # burn rate = 180 / 14.4 = 12.5; budget left = 1 - 12.5 = -11.5 -> -1,150 %.
    expected = {
        "window": {"start": iso("03-01T00:00"), "end": iso("03-11T00:00"), "complete": True},
        "availability": pytest.approx(98.75),
        "outageMinutes": pytest.approx(180.0),
        "outageIncidents": 2,
        "plannedDowntimeMinutes": 0.0,
        "target": pytest.approx(99.9),
        "targetScope": "DEFAULT",
        "targetKpi": None,
        "errorBudgetRemaining": pytest.approx(-1150.0),
        "burnRate": pytest.approx(12.5),
    }
    assert report == expected
    rest = await report_of(clocked, reader, "shop", "03-01T00:00", "03-11T00:00")
    assert rest["availability"] == as_rest(expected)

    # An explicit service target on a builtin availability KPI replaces the tier default.
    await send(clocked, admin, "POST", "/v1/kpis", {
        "key": "availability", "name": "Availability", "unit": "percent",
        "direction": "higher_is_better", "aggregation": "avg", "kind": "builtin",
        "metric": "availability",
    }, status=201)  # fmt: skip
    await send(clocked, admin, "POST", "/v1/targets",
               {"kpi": "availability", "service": "shop", "value": 98.0,
                "effective_from": "2026-01-01"}, status=201)  # fmt: skip
    report = await availability_of_shop(clocked, reader, "03-01T00:00", "03-11T00:00")
    # Target 98 %: budget = 0.02 x 14,400 = 288 minutes; burn rate = 180 / 288 = 0.625;
    # budget left = 1 - 0.625 = 0.375 -> 37.5 %.
    # It is the only builtin availability KPI, so its targets apply to every service.
    expected |= {
        "target": pytest.approx(98.0),
        "targetScope": "SERVICE",
        "targetKpi": "availability",
        "errorBudgetRemaining": pytest.approx(37.5),
        "burnRate": pytest.approx(0.625),
    }
    assert report == expected
    rest = await report_of(clocked, reader, "shop", "03-01T00:00", "03-11T00:00")
    assert rest["availability"] == as_rest(expected)


async def test_availability_counts_an_open_outage_up_to_now(
    clocked: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await add_service(clocked, admin, "shop", 2)
    # Open since 06:00, six hours before NOW; the window has no end, so it ends at NOW.
    await add_incident(clocked, admin, "open", "shop", "sev2", "03-20T06:00")
    report = await availability_of_shop(clocked, reader, "03-19T12:00", None)
    # Window: 24 h = 1,440 minutes; outage 360 minutes; availability = 1 - 360/1,440 = 75 %.
    # Default 99.9 %: budget 1.44 minutes; burn 360 / 1.44 = 250; left 1 - 250 = -249 -> -24,900 %.
    # The window runs up to NOW: its figures still move, so it is not complete.
    assert report == {
        "window": {"start": iso("03-19T12:00"), "end": iso("03-20T12:00"), "complete": False},
        "availability": pytest.approx(75.0),
        "outageMinutes": pytest.approx(360.0),
        "outageIncidents": 1,
        "plannedDowntimeMinutes": 0.0,
        "target": pytest.approx(99.9),
        "targetScope": "DEFAULT",
        "targetKpi": None,
        "errorBudgetRemaining": pytest.approx(-24900.0),
        "burnRate": pytest.approx(250.0),
    }
    # A window that ends after NOW is measured up to NOW only.
    later = await availability_of_shop(clocked, reader, "03-19T12:00", "03-25T00:00")
    assert later == report


# Incident statistics ----------

STATS = """fragment D on DurationStats { n mean median p90 }
fragment G on IncidentGroup {
  severity service incidents
  mttd { ...D } mtta { ...D } mttr { ...D } timeToRestore { ...D }
}
query($from: DateTime!, $to: DateTime) { service(slug: "pay") {
  incidentStats(from: $from, to: $to) {
    window { start end complete }
    overall { ...G } bySeverity { ...G } byService { ...G }
    recurrenceRate usersAffected downtimeCost
  }
} }"""


def durations(n: int, mean: float, median: float, p90: float) -> dict[str, Any]:
    return {
        "n": n,
        "mean": pytest.approx(mean),
        "median": pytest.approx(median),
        "p90": pytest.approx(p90),
    }


async def test_incident_stats_by_severity_with_recurrence_users_and_cost(
    clocked: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await add_service(clocked, admin, "pay", 1, revenue_per_hour=1200)
    # Before the window: they only count as earlier occurrences of a problem.
    await add_incident(clocked, admin, "old", "pay", "sev4", "01-20T10:00", "01-20T11:00",
                       problem_key="db-pool")  # 41 days before #1: too old to recur  # fmt: skip
    await add_incident(clocked, admin, "feb", "pay", "sev4", "02-25T00:00", "02-25T01:00",
                       problem_key="cdn")  # fmt: skip
    # In the window (minutes):          detect  ack  resolve  restore
    # 1 sev1 10:00 10:10 10:20 11:10      10     10     60       70
    # 2 sev1 10:00 10:30 10:35 12:30      30      5    120      150
    # 3 sev3 09:00 09:00 09:40 10:00       0     40     60       60
    # 4 sev3 00:00 00:20   -   01:20      20      -     60       80
    await add_incident(clocked, admin, "i1", "pay", "sev1", "03-02T10:00", "03-02T11:10",
                       detected_at="03-02T10:10", acknowledged_at="03-02T10:20",
                       users_affected=100, cost_estimate=500, problem_key="db-pool")  # fmt: skip
    await add_incident(clocked, admin, "i2", "pay", "sev1", "03-04T10:00", "03-04T12:30",
                       detected_at="03-04T10:30", acknowledged_at="03-04T10:35",
                       users_affected=50, cost_estimate=250, problem_key="db-pool")  # fmt: skip
    await add_incident(clocked, admin, "i3", "pay", "sev3", "03-06T09:00", "03-06T10:00",
                       detected_at="03-06T09:00", acknowledged_at="03-06T09:40",
                       problem_key="cdn")  # fmt: skip
    await add_incident(clocked, admin, "i4", "pay", "sev3", "03-07T00:00", "03-07T01:20",
                       detected_at="03-07T00:20", problem_key="cdn")  # fmt: skip
    # After the window: left out.
    await add_incident(clocked, admin, "i5", "pay", "sev1", "03-12T00:00", "03-12T05:00")

    data = await gql_data(clocked, reader, STATS, {"from": at("03-01T00:00"),
                                                   "to": at("03-11T00:00")})  # fmt: skip
    report = data["service"]["incidentStats"]
    # Overall, percentile_cont over the sorted values (p90 at rank 0.9 x (n - 1)):
    # detect [0, 10, 20, 30]: mean 15, median 15, p90 at 2.7 -> 20 + 0.7 x 10 = 27
    # ack [5, 10, 40]: mean 55/3, median 10, p90 at 1.8 -> 10 + 0.8 x 30 = 34
    # resolve [60, 60, 60, 120]: mean 75, median 60, p90 at 2.7 -> 60 + 0.7 x 60 = 102
    # restore [60, 70, 80, 150]: mean 90, median 75, p90 at 2.7 -> 80 + 0.7 x 70 = 129
    overall = {
        "severity": None, "service": None, "incidents": 4,
        "mttd": durations(4, 15, 15, 27), "mtta": durations(3, 55 / 3, 10, 34),
        "mttr": durations(4, 75, 60, 102), "timeToRestore": durations(4, 90, 75, 129),
    }  # fmt: skip
    # sev1: detect [10, 30] p90 10 + 0.9 x 20 = 28; ack [5, 10] p90 5 + 0.9 x 5 = 9.5;
    # resolve [60, 120] p90 60 + 0.9 x 60 = 114; restore [70, 150] p90 70 + 0.9 x 80 = 142.
    sev1 = {
        "severity": "SEV1", "service": None, "incidents": 2,
        "mttd": durations(2, 20, 20, 28), "mtta": durations(2, 7.5, 7.5, 9.5),
        "mttr": durations(2, 90, 90, 114), "timeToRestore": durations(2, 110, 110, 142),
    }  # fmt: skip
    # sev3: detect [0, 20] p90 18; ack [40]; resolve [60, 60]; restore [60, 80] p90 78.
    sev3 = {
        "severity": "SEV3", "service": None, "incidents": 2,
        "mttd": durations(2, 10, 10, 18), "mtta": durations(1, 40, 40, 40),
        "mttr": durations(2, 60, 60, 60), "timeToRestore": durations(2, 70, 70, 78),
    }  # fmt: skip
    # Recurring: 2 (db-pool, after 1), 3 (cdn, 9 days after 'feb'), 4 (cdn, after 3); 1 is
    # not ('old' is 41 days before it): 3 of 4 = 75 %.
    # Downtime: the sev1 outages, 70 + 150 = 220 minutes = 11/3 h x 1,200/h = 4,400, plus the
    # estimates 500 + 250 = 5,150. The sev3 ones are below the outage threshold (sev2).
    expected = {
        "window": {"start": iso("03-01T00:00"), "end": iso("03-11T00:00"), "complete": True},
        "overall": overall,
        "bySeverity": [sev1, sev3],
        "byService": [overall | {"service": "pay"}],
        "recurrenceRate": pytest.approx(75.0),
        "usersAffected": pytest.approx(150.0),
        "downtimeCost": pytest.approx(5150.0),
    }
    assert report == expected
    rest = await report_of(clocked, reader, "pay", "03-01T00:00", "03-11T00:00")
    assert rest["incidents"] == as_rest(expected)


# DORA ----------

DORA = """query($from: DateTime!, $to: DateTime) { service(slug: "checkout") {
  dora(from: $from, to: $to) {
    window { start end complete } deployments
    deploymentsPerWeek { value band } leadTime { value band }
    changeFailureRate { value band } recoveryTime { value band } reworkRate
  }
} }"""


async def add_change(
    client: httpx.AsyncClient, admin: Headers, external_id: str, status: str,
    finished: str | None, *, kind: str = "deploy", environment: str = "production",
    committed: str | None = None,
) -> None:  # fmt: skip
    body: dict[str, Any] = {
        "external_id": external_id, "service": "checkout", "environment": environment,
        "kind": kind, "status": status,
    }  # fmt: skip
    if finished is not None:
        body["started_at"] = body["finished_at"] = at(finished)
    if committed is not None:
        sha = external_id.encode().hex().ljust(40, "0")
        body["commit_sha"] = sha
        body["commits"] = [{"sha": sha, "committed_at": at(committed)}]
    await send(client, admin, "POST", "/v1/changes", body, status=200)


async def test_dora_keys_with_their_bands(
    clocked: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await add_service(clocked, admin, "checkout", 2)
    # Production changes finished in the window, lead time = finished - commit time:
    await add_change(clocked, admin, "d1", "success", "03-02T10:00", committed="03-02T06:00")  # 4 h
    await add_change(clocked, admin, "d2", "failed", "03-03T10:00", committed="03-02T10:00")  # 24 h
    await add_change(clocked, admin, "d3", "rolled_back", "03-05T10:00",
                     committed="03-04T10:00")  # 24 h  # fmt: skip
    await add_change(
        clocked, admin, "d4", "success", "03-09T10:00", committed="03-08T10:00"
    )  # 24 h
    await add_change(clocked, admin, "d5", "success", "03-09T13:00", kind="hotfix",
                     committed="03-09T12:30")  # 0.5 h  # fmt: skip
    await add_change(clocked, admin, "d6", "success", "03-10T10:00", kind="rollback")  # no commit
    # d4 succeeded but caused an incident, resolved two hours after it finished.
    await add_incident(clocked, admin, "inc-d4", "checkout", "sev2", "03-09T10:30",
                       "03-09T12:00", caused_by="d4")  # fmt: skip
    # Not counted: not production, no final status (in progress, canceled), outside the window.
    await add_change(clocked, admin, "s1", "failed", "03-04T10:00", environment="staging")
    await add_change(clocked, admin, "p1", "in_progress", None)
    await add_change(clocked, admin, "c1", "canceled", "03-06T10:00")
    await add_change(clocked, admin, "old", "failed", "02-27T10:00", committed="02-20T10:00")
    await add_change(clocked, admin, "new", "failed", "03-16T10:00", committed="03-16T09:00")

    data = await gql_data(clocked, reader, DORA, {"from": at("03-01T00:00"),
                                                  "to": at("03-15T00:00")})  # fmt: skip
    # 6 deployments in 14 days = 2 weeks: 3 a week; 6/14 = 0.43 a day >= 1 a week -> high.
    # Lead times [0.5, 4, 24, 24, 24] h: median 24 h = one day, not under it -> high.
    # Failures: d2 failed, d3 rolled back, d4 caused an incident: 3 / 6 = 50 % -> low.
    # Recovery: d4's incident resolved 12:00 - d4 finished 10:00 = 2 h (under a day) -> high.
    # Rework: the hotfix d5 and the rollback d6: 2 / 6 = 33.3 %.
    expected = {
        "window": {"start": iso("03-01T00:00"), "end": iso("03-15T00:00"), "complete": True},
        "deployments": 6,
        "deploymentsPerWeek": {"value": pytest.approx(3.0), "band": "HIGH"},
        "leadTime": {"value": pytest.approx(24.0), "band": "HIGH"},
        "changeFailureRate": {"value": pytest.approx(50.0), "band": "LOW"},
        "recoveryTime": {"value": pytest.approx(2.0), "band": "HIGH"},
        "reworkRate": pytest.approx(100 * 2 / 6),
    }
    assert data["service"]["dora"] == expected
    rest = await report_of(clocked, reader, "checkout", "03-01T00:00", "03-15T00:00")
    assert rest["dora"] == as_rest(expected)

    # No deployment: no rates, no bands; frequency 0 a week is low.
    data = await gql_data(clocked, reader, DORA, {"from": at("03-11T00:00"),
                                                  "to": at("03-15T00:00")})  # fmt: skip
    assert data["service"]["dora"] | {"window": None} == {
        "window": None,
        "deployments": 0,
        "deploymentsPerWeek": {"value": 0.0, "band": "LOW"},
        "leadTime": {"value": None, "band": None},
        "changeFailureRate": {"value": None, "band": None},
        "recoveryTime": {"value": None, "band": None},
        "reworkRate": None,
    }


# Spend ----------

SPEND = """query($from: DateTime!, $to: DateTime) { service(slug: "shop") {
  spend(from: $from, to: $to) {
    window { start end complete } currencies { currency total byCategory { category amount } }
  }
} }"""


async def test_spend_per_currency_and_category(
    clocked: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await add_service(clocked, admin, "shop", 2)
    await add_service(clocked, admin, "other", 2)
    costs = [
        # 3,100 over the 31 days of March: 100 a day, 10 days in the window -> 1,000.
        {"service": "shop", "category": "cloud", "period_start": "2026-03-01",
         "period_end": "2026-04-01", "amount": 3100, "currency": "EUR"},
        # 500 over 5 days, all in the window.
        {"service": "shop", "category": "licences", "period_start": "2026-03-01",
         "period_end": "2026-03-06", "amount": 500, "currency": "EUR"},
        # 280 over 14 days from 5 March: 20 a day, 6 days (5-10 March) in the window -> 120.
        {"service": "shop", "category": "cloud", "period_start": "2026-03-05",
         "period_end": "2026-03-19", "amount": 280, "currency": "USD"},
        # Outside the window: its currency is not listed.
        {"service": "shop", "category": "cloud", "period_start": "2026-01-01",
         "period_end": "2026-02-01", "amount": 999, "currency": "GBP"},
        # Another service's and the estate's spend are not the shop's.
        {"service": "other", "category": "cloud", "period_start": "2026-03-01",
         "period_end": "2026-03-11", "amount": 777, "currency": "EUR"},
        {"category": "staff", "period_start": "2026-03-01", "period_end": "2026-03-11",
         "amount": 5000, "currency": "EUR"},
    ]  # fmt: skip
    result = await send(clocked, admin, "POST", "/v1/costs", costs, status=200)
    assert result["inserted"] == 6

    data = await gql_data(clocked, reader, SPEND, {"from": at("03-01T00:00"),
                                                   "to": at("03-11T00:00")})  # fmt: skip
    expected = {
        "window": {"start": iso("03-01T00:00"), "end": iso("03-11T00:00"), "complete": True},
        "currencies": [
            {"currency": "EUR", "total": pytest.approx(1500.0), "byCategory": [
                {"category": "cloud", "amount": pytest.approx(1000.0)},
                {"category": "licences", "amount": pytest.approx(500.0)},
            ]},
            {"currency": "USD", "total": pytest.approx(120.0), "byCategory": [
                {"category": "cloud", "amount": pytest.approx(120.0)},
            ]},
        ],
    }  # fmt: skip
    assert data["service"]["spend"] == expected
    rest = await report_of(clocked, reader, "shop", "03-01T00:00", "03-11T00:00")
    assert rest["spend"] == as_rest(expected)


# A builtin KPI's series per team and tier ----------

SERIES = """query($team: String, $tier: Int, $service: String) { kpi(key: "availability") {
  series(team: $team, tier: $tier, service: $service, grain: DAY,
         from: "2026-03-10T00:00:00Z", to: "2026-03-12T00:00:00Z") { bucket value count }
} }"""


async def test_builtin_series_for_a_team_and_a_tier(
    clocked: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    for team in ("payments", "platform"):
        await send(clocked, admin, "POST", "/v1/teams", {"slug": team, "name": team.title()})
    await add_service(clocked, admin, "front", 1, team="payments")
    await add_service(clocked, admin, "back", 2, team="payments")
    await add_service(clocked, admin, "infra", 2, team="platform")
    await send(clocked, admin, "POST", "/v1/kpis", {
        "key": "availability", "name": "Availability", "unit": "percent",
        "direction": "higher_is_better", "aggregation": "avg", "kind": "builtin",
        "metric": "availability",
    }, status=201)  # fmt: skip
    # 10 March: front down 6 h, infra down 12 h; 11 March: no outage.
    await add_incident(clocked, admin, "f", "front", "sev1", "03-10T00:00", "03-10T06:00")
    await add_incident(clocked, admin, "i", "infra", "sev2", "03-10T06:00", "03-10T18:00")

    async def series(**scope: Any) -> list[dict[str, Any]]:
        data = await gql_data(clocked, reader, SERIES, scope)
        points: list[dict[str, Any]] = data["kpi"]["series"]
        return points

    # Team payments (front, back) pooled: 1 - 6 h / (2 x 24 h) = 87.5 %.
    assert await series(team="payments") == [
        {"bucket": iso("03-10T00:00"), "value": pytest.approx(87.5), "count": 1},
        {"bucket": iso("03-11T00:00"), "value": pytest.approx(100.0), "count": 0},
    ]
    # Tier 2 (back, infra): 1 - 12 h / (2 x 24 h) = 75 %.
    assert await series(tier=2) == [
        {"bucket": iso("03-10T00:00"), "value": pytest.approx(75.0), "count": 1},
        {"bucket": iso("03-11T00:00"), "value": pytest.approx(100.0), "count": 0},
    ]
    # Tier 1 is front alone: 1 - 6/24 = 75 %.
    assert (await series(tier=1))[0]["value"] == pytest.approx(75.0)

    both = await gql(clocked, reader, SERIES, {"service": "front", "team": "payments"})
    assert both.get("data") == {"kpi": None}, both
    (error,) = both["errors"]
    assert error["path"] == ["kpi", "series"]
    assert error["message"] == "team: give one of service, team or tier, not service and team"
