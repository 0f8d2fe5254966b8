"""Builtin KPI metrics over hand-built scenarios, read through GET /v1/kpis/{key}/series:
availability and error budget, an empty window, and bad scope queries. Everything is built
through the HTTP API with the app's clock stopped at NOW.

Every expected figure is worked out by hand in the comments next to it. The helpers here are
shared by the other test_builtin_* modules of this package.

The estate (see `estate`):

    team payments: shop   tier 1, outage threshold sev2 (default), 1,200 per hour
                   ledger tier 2, outage threshold sev3,             600 per hour
    team platform: search tier 2, outage threshold sev2, no revenue figure
                   infra  tier 3, outage threshold sev2, no revenue figure
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pytest import approx

from service import db as dbmod
from service.config import Settings
from tests.conftest import app_client

Headers = dict[str, str]
#: A series point as (bucket day, value, count).
Point = tuple[str, Any, int]

#: The clock of the app under test: Friday 20 March 2026, noon UTC.
NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=dt.UTC)
DAY = 86_400.0


# Helpers ---------------------------------------------------------------------------------------


def at(stamp: str) -> str:
    """'2026-03-16 10:00' -> '2026-03-16T10:00:00Z'; '2026-03-16' is midnight; seconds and
    fractions may be given ('2026-03-10 10:00:21.6')."""
    day, _, time = stamp.partition(" ")
    time = time or "00:00"
    if time.count(":") == 1:
        time += ":00"
    return f"{day}T{time}Z"


def instant(text: str) -> dt.datetime:
    """An instant as the API writes it ('...Z' or '...+00:00')."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


@contextlib.asynccontextmanager
async def clocked_client(
    con: dbmod.Connection, settings: Settings, now: dt.datetime = NOW
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app whose clock is stopped at `now`."""
    async with app_client(con, settings, lambda: now) as client:
        yield client


@pytest.fixture
async def api(con: dbmod.Connection, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with clocked_client(con, settings) as client:
        yield client


async def send(
    client: httpx.AsyncClient, headers: Headers, method: str, path: str, body: Any = None,
    *, status: int | tuple[int, ...] = (200, 201), params: dict[str, str] | None = None,
) -> Any:  # fmt: skip
    r = await client.request(method, path, json=body, headers=headers, params=params)
    expected = (status,) if isinstance(status, int) else status
    assert r.status_code in expected, f"{method} {path}: {r.status_code} {r.text}"
    return r.json() if r.content else None


async def add_team(client: httpx.AsyncClient, admin: Headers, slug: str) -> None:
    await send(client, admin, "POST", "/v1/teams", {"slug": slug, "name": slug.title()}, status=201)


async def add_service(
    client: httpx.AsyncClient, admin: Headers, slug: str, tier: int, *, team: str | None = None,
    threshold: str | None = None, revenue: float | None = None,
) -> None:  # fmt: skip
    body: dict[str, Any] = {"slug": slug, "name": slug.title(), "tier": tier, "team": team}
    if threshold is not None:
        body["outage_threshold"] = threshold
    if revenue is not None:
        body["revenue_per_hour"] = revenue
    await send(client, admin, "POST", "/v1/services", body, status=201)


async def estate(client: httpx.AsyncClient, admin: Headers) -> None:
    """Two teams and four services (see the module docstring)."""
    await add_team(client, admin, "payments")
    await add_team(client, admin, "platform")
    await add_service(client, admin, "shop", 1, team="payments", revenue=1200)
    await add_service(client, admin, "ledger", 2, team="payments", threshold="sev3", revenue=600)
    await add_service(client, admin, "search", 2, team="platform")
    await add_service(client, admin, "infra", 3, team="platform")


async def add_kpi(
    client: httpx.AsyncClient, admin: Headers, key: str, metric: str | None, unit: str,
    **extra: Any,
) -> None:  # fmt: skip
    """A KPI: builtin when `metric` is given, else as `extra` says (observed by default)."""
    body: dict[str, Any] = {
        "key": key, "name": key.replace("_", " ").title(), "unit": unit,
        "direction": "higher_is_better", "aggregation": "avg", **extra,
    }  # fmt: skip
    if metric is not None:
        body |= {"kind": "builtin", "metric": metric}
    await send(client, admin, "POST", "/v1/kpis", body, status=201)


async def add_target(
    client: httpx.AsyncClient, admin: Headers, kpi: str, value: float, **scope: Any
) -> None:
    body = {"kpi": kpi, "value": value, "effective_from": "2026-01-01", **scope}
    await send(client, admin, "POST", "/v1/targets", body, status=201)


async def incident(
    client: httpx.AsyncClient, headers: Headers, external_id: str, service: str,
    severity: str, start: str, end: str | None = None, *, detected: str | None = None,
    acknowledged: str | None = None, **fields: Any,
) -> dict[str, Any]:  # fmt: skip
    """An incident through POST /v1/incidents: impact from `start` to `end` (open without);
    other body fields (users_affected, cost_estimate, problem_key, caused_by) as given."""
    body: dict[str, Any] = {
        "external_id": external_id, "service": service, "severity": severity,
        "started_at": at(start), "status": "open", **fields,
    }  # fmt: skip
    if detected is not None:
        body["detected_at"] = at(detected)
    if acknowledged is not None:
        body["acknowledged_at"] = at(acknowledged)
    if end is not None:
        body |= {"resolved_at": at(end), "status": "resolved"}
    created: dict[str, Any] = await send(client, headers, "POST", "/v1/incidents", body)
    assert instant(created["started_at"]) == instant(at(start)), created
    return created


async def series(
    client: httpx.AsyncClient, reader: Headers, key: str, grain: str, start: str, end: str,
    **scope: Any,
) -> list[Point]:  # fmt: skip
    """The KPI's series as (bucket day, value, count); every bucket starts at midnight UTC."""
    params = {"grain": grain, "from": at(start), "to": at(end)}
    params |= {name: str(value) for name, value in scope.items()}
    body = await send(client, reader, "GET", f"/v1/kpis/{key}/series", params=params, status=200)
    points = []
    for p in body["points"]:
        bucket = instant(p["bucket"])
        assert bucket.utcoffset() == dt.timedelta(0) and bucket.time() == dt.time(0), p
        points.append((bucket.date().isoformat(), p["value"], p["count"]))
    return points


async def problem(
    client: httpx.AsyncClient, reader: Headers, key: str, **params: str
) -> dict[str, Any]:
    """The 422 answered to a series query."""
    body: dict[str, Any] = await send(
        client, reader, "GET", f"/v1/kpis/{key}/series", params=params, status=422
    )
    return body


# Availability per service ----------------------------------------------------------------------


async def shop_outages(client: httpx.AsyncClient, ingester: Headers) -> None:
    """shop's incidents around 16-20 March (threshold sev2):

    d  sev2  15 Mar 21:00 - 16 Mar 03:00  starts before a window from 16 March
    a  sev1  16 Mar 10:00 - 12:00         a and b overlap: 10:00-13:00 counted once
    b  sev2  16 Mar 11:00 - 13:00
    c  sev3  17 Mar 00:00 - 12:00         below the sev2 threshold: no outage
    e  sev1  18 Mar 18:00 - 19 Mar 06:00  crosses midnight
    f  sev2  20 Mar 06:00 - (open)        counts up to NOW, 20 Mar 12:00
    """
    await incident(client, ingester, "d", "shop", "sev2", "2026-03-15 21:00", "2026-03-16 03:00")
    await incident(client, ingester, "a", "shop", "sev1", "2026-03-16 10:00", "2026-03-16 12:00")
    await incident(client, ingester, "b", "shop", "sev2", "2026-03-16 11:00", "2026-03-16 13:00")
    await incident(client, ingester, "c", "shop", "sev3", "2026-03-17 00:00", "2026-03-17 12:00")
    await incident(client, ingester, "e", "shop", "sev1", "2026-03-18 18:00", "2026-03-19 06:00")
    await incident(client, ingester, "f", "shop", "sev2", "2026-03-20 06:00")


async def test_availability_of_one_service_by_day(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await estate(api, admin)
    await add_kpi(api, admin, "availability", "availability", "percent")
    await add_kpi(api, admin, "availability_share", "availability", "ratio")
    await shop_outages(api, ingester)

    # The window asks for 16-22 March, but 21 March has not begun at NOW: 5 buckets.
    # 16: d clipped to 00:00-03:00 (3 h) + a u b = 10:00-13:00 (3 h) = 6 h; 1 - 6/24 = 75 %,
    #     from 3 incidents (d, a, b).
    # 17: c is sev3, below shop's sev2 threshold: no outage, 100 %.
    # 18: e from 18:00 to midnight = 6 h: 75 %.   19: e from midnight to 06:00 = 6 h: 75 %.
    # 20: in progress, measured 00:00-12:00 (12 h); f open since 06:00 = 6 h: 1 - 6/12 = 50 %.
    expected = [
        ("2026-03-16", approx(75.0), 3),
        ("2026-03-17", approx(100.0), 0),
        ("2026-03-18", approx(75.0), 1),
        ("2026-03-19", approx(75.0), 1),
        ("2026-03-20", approx(50.0), 1),
    ]
    window = ("day", "2026-03-16", "2026-03-22")
    assert await series(api, reader, "availability", *window, service="shop") == expected

    # The same figures as shares when the unit is not percent.
    assert await series(api, reader, "availability_share", *window, service="shop") == [
        ("2026-03-16", approx(0.75), 3),
        ("2026-03-17", approx(1.0), 0),
        ("2026-03-18", approx(0.75), 1),
        ("2026-03-19", approx(0.75), 1),
        ("2026-03-20", approx(0.5), 1),
    ]

    body = await send(api, reader, "GET", "/v1/kpis/availability/series", status=200, params={
        "service": "shop", "grain": "day", "from": at("2026-03-20"), "to": at("2026-03-21"),
    })  # fmt: skip
    assert {k: body[k] for k in ("kpi", "service", "grain", "unit")} == {
        "kpi": "availability", "service": "shop", "grain": "day", "unit": "percent",
    }  # fmt: skip
    assert [p["value"] for p in body["points"]] == [approx(50.0)]


async def test_an_outage_threshold_of_sev3_counts_sev3(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await estate(api, admin)
    await add_kpi(api, admin, "availability", "availability", "percent")
    # ledger's threshold is sev3: a sev3 counts, a sev4 does not.
    await incident(api, ingester, "g", "ledger", "sev3", "2026-03-17 00:00", "2026-03-17 12:00")
    await incident(api, ingester, "h", "ledger", "sev4", "2026-03-18 00:00", "2026-03-18 12:00")
    # 17: 12 h of 24 down: 50 %.   18: the sev4 is no outage: 100 %.
    assert await series(
        api, reader, "availability", "day", "2026-03-17", "2026-03-19", service="ledger"
    ) == [("2026-03-17", approx(50.0), 1), ("2026-03-18", approx(100.0), 0)]


async def test_availability_clipped_to_the_window_edges(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await estate(api, admin)
    await add_kpi(api, admin, "availability", "availability", "percent")
    await shop_outages(api, ingester)
    # From 16 March 06:00 to 19 March 03:00: the first and last buckets are measured over
    # their part inside the window only.
    # 16: measured 06:00-24:00 = 18 h; d (to 03:00) lies before the window; a u b 10:00-13:00
    #     = 3 h: 1 - 3/18 = 83.333 %, from a and b.
    # 17: 100 %.   18: e 18:00-24:00 = 6 h: 75 %.
    # 19: measured 00:00-03:00 = 3 h, e (to 06:00) covers all of it, past the window's end:
    #     1 - 3/3 = 0 %.
    assert await series(
        api, reader, "availability", "day", "2026-03-16 06:00", "2026-03-19 03:00", service="shop"
    ) == [
        ("2026-03-16", approx(100 * (1 - 3 / 18)), 2),
        ("2026-03-17", approx(100.0), 0),
        ("2026-03-18", approx(75.0), 1),
        ("2026-03-19", approx(0.0, abs=1e-9), 1),
    ]


async def test_overlapping_outages_are_merged_once(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await estate(api, admin)
    await add_kpi(api, admin, "availability", "availability", "percent")
    # 10 March on shop:
    #   x 01:00-05:00;  y 02:00-03:00 lies inside x;  z 04:00-06:00 starts after y ended but
    #   before x ended: all one outage 01:00-06:00 = 5 h.
    #   w 08:00-09:00 and v 09:00-10:00 touch: 08:00-10:00 = 2 h.
    # Down 7 h of 24: 1 - 7/24 = 70.833 %, from 5 incidents.
    for name, start, end in (
        ("x", "01:00", "05:00"),
        ("y", "02:00", "03:00"),
        ("z", "04:00", "06:00"),
        ("w", "08:00", "09:00"),
        ("v", "09:00", "10:00"),
    ):
        await incident(
            api, ingester, name, "shop", "sev1", f"2026-03-10 {start}", f"2026-03-10 {end}"
        )
    assert await series(
        api, reader, "availability", "day", "2026-03-10", "2026-03-11", service="shop"
    ) == [("2026-03-10", approx(100 * (1 - 7 / 24)), 5)]


async def test_availability_by_month(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await estate(api, admin)
    await add_kpi(api, admin, "availability", "availability", "percent")
    await shop_outages(api, ingester)
    # One outage from New Year's Eve 22:00 to 02:00: 2 h of it in January.
    await incident(api, ingester, "nye", "shop", "sev2", "2025-12-31 22:00", "2026-01-01 02:00")
    # 6.72 h in February: 10 Feb 00:00 - 06:43:12.
    await incident(api, ingester, "feb", "shop", "sev1", "2026-02-10 00:00", "2026-02-10 06:43:12")
    # January: 744 h, 2 h down: 1 - 2/744 = 99.7312 %.
    # February: 28 x 24 = 672 h, 6.72 h down: 1 - 6.72/672 = 99 %.
    # March, in progress: measured 1 March 00:00 - 20 March 12:00 = 19.5 days = 468 h.
    #   Down: d 6 h (21:00-03:00, all in March) + a u b 3 h + e 12 h + f 6 h (to NOW) = 27 h;
    #   c is below the threshold. 1 - 27/468 = 94.2308 %, from d, a, b, e, f.
    # April has not begun: no bucket.
    assert await series(
        api, reader, "availability", "month", "2026-01-01", "2026-05-01", service="shop"
    ) == [
        ("2026-01-01", approx(100 * (1 - 2 / 744)), 1),
        ("2026-02-01", approx(99.0), 1),
        ("2026-03-01", approx(100 * (1 - 27 / 468)), 5),
    ]


# Availability of team, tier and fleet ----------------------------------------------------------


async def test_availability_pools_the_services_of_a_scope(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await estate(api, admin)
    await add_kpi(api, admin, "availability", "availability", "percent")
    # 17 March: shop c sev3 (no outage at sev2), ledger g sev3 00:00-12:00 (12 h at its sev3
    #           threshold), infra i sev2 06:00-12:00 (6 h). search: never an incident.
    # 18 March: shop e sev1 18:00-(19 March) = 6 h on the 18th; ledger h sev4: no outage.
    await incident(api, ingester, "c", "shop", "sev3", "2026-03-17 00:00", "2026-03-17 12:00")
    await incident(api, ingester, "g", "ledger", "sev3", "2026-03-17 00:00", "2026-03-17 12:00")
    await incident(api, ingester, "i", "infra", "sev2", "2026-03-17 06:00", "2026-03-17 12:00")
    await incident(api, ingester, "e", "shop", "sev1", "2026-03-18 18:00", "2026-03-19 06:00")
    await incident(api, ingester, "h", "ledger", "sev4", "2026-03-18 00:00", "2026-03-18 12:00")

    async def avail(**scope: Any) -> list[Point]:
        return await series(api, reader, "availability", "day", "2026-03-17", "2026-03-19", **scope)

    # 1 - outage seconds / (services x 24 h), per day:
    # team payments (shop, ledger): 17: 1 - 12/48 = 75 %;  18: 1 - 6/48 = 87.5 %.
    assert await avail(team="payments") == [
        ("2026-03-17", approx(75.0), 1),
        ("2026-03-18", approx(87.5), 1),
    ]
    # team platform (search, infra): 17: 1 - 6/48 = 87.5 %;  18: 100 %.
    assert await avail(team="platform") == [
        ("2026-03-17", approx(87.5), 1),
        ("2026-03-18", approx(100.0), 0),
    ]
    # tier 1 (shop): 17: 100 %;  18: 1 - 6/24 = 75 %.
    assert await avail(tier=1) == [
        ("2026-03-17", approx(100.0), 0),
        ("2026-03-18", approx(75.0), 1),
    ]
    # tier 2 (ledger, search): 17: 1 - 12/48 = 75 %;  18: 100 %.
    assert await avail(tier=2) == [
        ("2026-03-17", approx(75.0), 1),
        ("2026-03-18", approx(100.0), 0),
    ]
    # tier 3 (infra): 17: 1 - 6/24 = 75 %;  18: 100 %.
    assert await avail(tier=3) == [
        ("2026-03-17", approx(75.0), 1),
        ("2026-03-18", approx(100.0), 0),
    ]
    # fleet (4 services): 17: 1 - (12 + 6)/96 = 81.25 %;  18: 1 - 6/96 = 93.75 %.
    assert await avail() == [("2026-03-17", approx(81.25), 2), ("2026-03-18", approx(93.75), 1)]
    # search alone, never down: 100 % each day.
    assert await avail(service="search") == [
        ("2026-03-17", approx(100.0), 0),
        ("2026-03-18", approx(100.0), 0),
    ]
    # tier 4 has no service: availability is undefined, null.
    assert await avail(tier=4) == [("2026-03-17", None, 0), ("2026-03-18", None, 0)]


# Error budget ----------------------------------------------------------------------------------


async def test_error_budget_with_tier_default_targets(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await estate(api, admin)
    await add_service(api, admin, "archive", 4, team="platform")
    # The error budget names no availability KPI: the tier defaults are its objectives. A day
    # is 86,400 s, so a day's budget is (1 - target) x 86,400 s:
    #   tier 1 99.95 %: 43.2 s   tier 2 99.9 %: 86.4 s   tier 3 99.5 %: 432 s   tier 4 99 %: 864 s
    await add_kpi(api, admin, "error_budget", "error_budget_remaining", "percent")
    # 10 March: shop 21.6 s, ledger 86.4 s (sev3, its threshold), infra 216 s, archive 864 s.
    # 11 March: shop 64.8 s.   search: never down.
    await incident(api, ingester, "s1", "shop", "sev1", "2026-03-10 10:00", "2026-03-10 10:00:21.6")
    await incident(api, ingester, "s2", "shop", "sev1", "2026-03-11 10:00", "2026-03-11 10:01:04.8")
    await incident(
        api, ingester, "l1", "ledger", "sev3", "2026-03-10 10:00", "2026-03-10 10:01:26.4"
    )
    await incident(api, ingester, "i1", "infra", "sev2", "2026-03-10 10:00", "2026-03-10 10:03:36")
    await incident(
        api, ingester, "a1", "archive", "sev2", "2026-03-10 10:00", "2026-03-10 10:14:24"
    )

    async def budget(**scope: Any) -> list[Point]:
        return await series(api, reader, "error_budget", "day", "2026-03-10", "2026-03-12", **scope)

    # shop: 10: 1 - 21.6/43.2 = 50 %;  11: 1 - 64.8/43.2 = -50 % (overspent: negative).
    assert await budget(service="shop") == [
        ("2026-03-10", approx(50.0), 1),
        ("2026-03-11", approx(-50.0), 1),
    ]
    # ledger: 10: 1 - 86.4/86.4 = 0 %;  11: 100 %.
    assert await budget(service="ledger") == [
        ("2026-03-10", approx(0.0, abs=1e-9), 1),
        ("2026-03-11", approx(100.0), 0),
    ]
    # infra: 10: 1 - 216/432 = 50 %.   archive: 10: 1 - 864/864 = 0 %.
    assert (await budget(service="infra"))[0] == ("2026-03-10", approx(50.0), 1)
    assert (await budget(service="archive"))[0] == ("2026-03-10", approx(0.0, abs=1e-9), 1)
    # search: 100 % both days.
    assert await budget(service="search") == [
        ("2026-03-10", approx(100.0), 0),
        ("2026-03-11", approx(100.0), 0),
    ]
    # team payments pools its budgets: 43.2 + 86.4 = 129.6 s.
    #   10: 1 - (21.6 + 86.4)/129.6 = 1 - 108/129.6 = 16.667 %;  11: 1 - 64.8/129.6 = 50 %.
    assert await budget(team="payments") == [
        ("2026-03-10", approx(100 * (1 - 108 / 129.6)), 2),
        ("2026-03-11", approx(50.0), 1),
    ]
    # fleet: budget 43.2 + 86.4 + 86.4 + 432 + 864 = 1512 s.
    #   10: spent 21.6 + 86.4 + 216 + 864 = 1188: 1 - 1188/1512 = 21.429 %;
    #   11: spent 64.8: 1 - 64.8/1512 = 95.714 %.
    assert await budget() == [
        ("2026-03-10", approx(100 * (1 - 1188 / 1512)), 4),
        ("2026-03-11", approx(100 * (1 - 64.8 / 1512)), 1),
    ]


async def test_error_budget_with_explicit_targets(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await estate(api, admin)
    await add_service(api, admin, "portal", 1)
    # Targets on the builtin availability KPI (percent): global 99, tier 1 99.9, service shop
    # 99.99. The most specific applies: shop 99.99 (service beats tier), portal 99.9 (tier
    # beats global), ledger and search 99 (global beats the tier-2 default of 99.9).
    await add_kpi(api, admin, "availability", "availability", "percent")
    await add_target(api, admin, "availability", 99.0)
    await add_target(api, admin, "availability", 99.9, tier=1)
    await add_target(api, admin, "availability", 99.99, service="shop")
    await add_kpi(api, admin, "error_budget", "error_budget_remaining", "percent",
                  availability_kpi="availability")  # fmt: skip
    # Budgets over 10 March (86,400 s): shop 0.0001 x 86,400 = 8.64 s; portal 86.4 s;
    # ledger and search 864 s.
    # Outages: shop 4.32 s, portal 21.6 s, ledger 1,296 s (21 min 36 s).
    await incident(
        api, ingester, "s1", "shop", "sev1", "2026-03-10 10:00", "2026-03-10 10:00:04.32"
    )
    await incident(
        api, ingester, "p1", "portal", "sev1", "2026-03-10 10:00", "2026-03-10 10:00:21.6"
    )
    await incident(api, ingester, "l1", "ledger", "sev2", "2026-03-10 10:00", "2026-03-10 10:21:36")

    async def budget(**scope: Any) -> list[Point]:
        return await series(api, reader, "error_budget", "day", "2026-03-10", "2026-03-11", **scope)

    # shop: 1 - 4.32/8.64 = 50 %.   portal: 1 - 21.6/86.4 = 75 %.
    # ledger: 1 - 1296/864 = -50 % (with the tier default it would be 1 - 1296/86.4 = -1400 %).
    # search: 100 %.
    assert await budget(service="shop") == [("2026-03-10", approx(50.0), 1)]
    assert await budget(service="portal") == [("2026-03-10", approx(75.0), 1)]
    assert await budget(service="ledger") == [("2026-03-10", approx(-50.0), 1)]
    assert await budget(service="search") == [("2026-03-10", approx(100.0), 0)]
    # team payments (shop, ledger): budget 8.64 + 864 = 872.64 s, spent 4.32 + 1296 = 1300.32 s:
    #   1 - 1300.32/872.64 = -49.01 %.
    assert await budget(team="payments") == [
        ("2026-03-10", approx(100 * (1 - 1300.32 / 872.64)), 2)
    ]
    # tier 1 (shop, portal): budget 8.64 + 86.4 = 95.04, spent 4.32 + 21.6 = 25.92:
    #   1 - 25.92/95.04 = 72.727 %.
    assert await budget(tier=1) == [("2026-03-10", approx(100 * (1 - 25.92 / 95.04)), 2)]


# An empty window, bad queries ------------------------------------------------------------------


async def test_a_window_without_incidents(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await estate(api, admin)
    await add_kpi(api, admin, "availability", "availability", "percent")
    await add_kpi(api, admin, "mttr", "mttr", "minutes")
    # An incident of shop's outside the window changes nothing in it.
    await incident(api, ingester, "old", "shop", "sev1", "2026-03-01 10:00", "2026-03-01 11:00")
    # 10-12 March, no incident anywhere: every bucket 100 % available, MTTR undefined (null).
    for scope in ({"service": "shop"}, {"team": "payments"}, {}):
        assert await series(
            api, reader, "availability", "day", "2026-03-10", "2026-03-13", **scope
        ) == [(d, approx(100.0), 0) for d in ("2026-03-10", "2026-03-11", "2026-03-12")]
        assert await series(api, reader, "mttr", "day", "2026-03-10", "2026-03-13", **scope) == [
            (d, None, 0) for d in ("2026-03-10", "2026-03-11", "2026-03-12")
        ]


async def test_the_default_window_ends_now(
    api: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await estate(api, admin)
    await add_kpi(api, admin, "availability", "availability", "percent")
    # Without from and to, a day series covers the last 30 days up to NOW: 19 February to
    # 20 March (the day in progress included), all 100 % for a service never down.
    body = await send(api, reader, "GET", "/v1/kpis/availability/series", status=200,
                      params={"service": "search", "grain": "day"})  # fmt: skip
    days = [instant(p["bucket"]).date().isoformat() for p in body["points"]]
    assert len(days) == 30
    assert (days[0], days[-1]) == ("2026-02-19", "2026-03-20")
    assert [p["value"] for p in body["points"]] == [approx(100.0)] * 30


async def test_bad_scope_queries(api: httpx.AsyncClient, admin: Headers, reader: Headers) -> None:
    await estate(api, admin)
    await add_kpi(api, admin, "availability", "availability", "percent")
    window = {"from": at("2026-03-10"), "to": at("2026-03-11")}
    # A service and a team: one scope only; the error names the second one given, team.
    both = await problem(api, reader, "availability", service="shop", team="payments", **window)
    assert [e["field"] for e in both["errors"]] == ["team"]
    assert "service" in both["errors"][0]["detail"]
    # An unknown team.
    unknown = await problem(api, reader, "availability", team="nobody", **window)
    assert [e["field"] for e in unknown["errors"]] == ["team"]
    assert "nobody" in unknown["errors"][0]["detail"]
    # An unknown service, and a tier outside 1-4.
    unknown = await problem(api, reader, "availability", service="nothing", **window)
    assert [e["field"] for e in unknown["errors"]] == ["service"]
    out_of_range = await problem(api, reader, "availability", tier="5", **window)
    assert [e["field"] for e in out_of_range["errors"]] == ["tier"]
