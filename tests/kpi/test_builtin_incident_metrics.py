"""Builtin incident metrics over hand-built scenarios, read through GET /v1/kpis/{key}/series:
MTTD, MTTA, MTTR, time to restore, incident count, recurrence rate, users affected and
downtime cost. Incidents are bucketed by their impact start.

Every expected figure is worked out by hand in the comments next to it; the estate is the one
of tests.kpi.test_builtin_metrics (shop tier 1 at 1,200 per hour and ledger tier 2 at 600 per
hour with a sev3 threshold in team payments; search and infra in team platform).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pytest import approx

from service import db as dbmod
from service.config import Settings
from tests.kpi.test_builtin_metrics import (
    Headers,
    Point,
    add_kpi,
    clocked_client,
    estate,
    incident,
    series,
)


@pytest.fixture
async def api(con: dbmod.Connection, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with clocked_client(con, settings) as client:
        yield client


# Detection, acknowledgement, resolution and restore times --------------------------------------


async def incident_times(client: httpx.AsyncClient, ingester: Headers) -> None:
    """Incidents of 2-4 March (severity plays no part in these metrics):

          service severity started       detected     acknowledged  resolved
    i1    shop    sev2     2 Mar 09:00   09:10        09:15         10:10
    i2    shop    sev4     2 Mar 14:00   14:30        14:50         16:30
    i3    shop    sev1     2 Mar 20:00   20:20        21:00         (open)
    i4    shop    sev3     2 Mar 23:30   3 Mar 00:30  3 Mar 00:40   3 Mar 01:30
    l1    ledger  sev2     2 Mar 12:00   12:00        -             13:00
    i5    shop    sev2     4 Mar 08:00   08:00        -             08:45

    In minutes (detect = detected - started, acknowledge = acknowledged - detected,
    resolve = resolved - detected, restore = resolved - started):

          detect  acknowledge  resolve  restore
    i1    10      5            60       70
    i2    30      20           120      150
    i3    20      40           -        -
    i4    60      10           60       120      bucketed on 2 March, where its impact began
    l1    0       -            60       60
    i5    0       -            45       45
    """
    rows = (
        ("i1", "shop", "sev2", "03-02 09:00", "03-02 09:10", "03-02 09:15", "03-02 10:10"),
        ("i2", "shop", "sev4", "03-02 14:00", "03-02 14:30", "03-02 14:50", "03-02 16:30"),
        ("i3", "shop", "sev1", "03-02 20:00", "03-02 20:20", "03-02 21:00", None),
        ("i4", "shop", "sev3", "03-02 23:30", "03-03 00:30", "03-03 00:40", "03-03 01:30"),
        ("l1", "ledger", "sev2", "03-02 12:00", "03-02 12:00", None, "03-02 13:00"),
        ("i5", "shop", "sev2", "03-04 08:00", "03-04 08:00", None, "03-04 08:45"),
    )
    for name, service, severity, started, detected, acked, resolved in rows:
        await incident(
            client,
            ingester,
            name,
            service,
            severity,
            f"2026-{started}",
            None if resolved is None else f"2026-{resolved}",
            detected=f"2026-{detected}",
            acknowledged=None if acked is None else f"2026-{acked}",
        )


async def test_incident_times_in_minutes_and_hours(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await estate(api, admin)
    for key, metric, unit in (
        ("mttd", "mttd", "minutes"),
        ("mtta", "mtta", "min"),
        ("mttr", "mttr", "minutes"),
        ("mttr_hours", "mttr", "hours"),
        ("restore", "time_to_restore", "hours"),
        ("incidents", "incident_count", "incidents"),
    ):
        await add_kpi(api, admin, key, metric, unit)
    await incident_times(api, ingester)

    async def shop(key: str) -> list[Point]:
        return await series(api, reader, key, "day", "2026-03-02", "2026-03-05", service="shop")

    # shop, 2 March (i1, i2, i3, i4):
    #   MTTD (10 + 30 + 20 + 60)/4 = 30 min; MTTA (5 + 20 + 40 + 10)/4 = 18.75 min;
    #   MTTR over the resolved ones (i3 is open): (60 + 120 + 60)/3 = 80 min = 1.333 h;
    #   restore (70 + 150 + 120)/3 = 113.33 min = 1.8889 h; 4 incidents, the open one included.
    # 3 March: no incident began (i4's impact began on the 2nd): every mean null, count 0.
    # 4 March (i5): MTTD 0; never acknowledged: MTTA null; MTTR 45 min = 0.75 h; restore 0.75 h.
    assert await shop("mttd") == [
        ("2026-03-02", approx(30.0), 4),
        ("2026-03-03", None, 0),
        ("2026-03-04", approx(0.0), 1),
    ]
    assert await shop("mtta") == [
        ("2026-03-02", approx(18.75), 4),
        ("2026-03-03", None, 0),
        ("2026-03-04", None, 0),
    ]
    assert await shop("mttr") == [
        ("2026-03-02", approx(80.0), 3),
        ("2026-03-03", None, 0),
        ("2026-03-04", approx(45.0), 1),
    ]
    assert await shop("mttr_hours") == [
        ("2026-03-02", approx(80 / 60), 3),
        ("2026-03-03", None, 0),
        ("2026-03-04", approx(0.75), 1),
    ]
    assert await shop("restore") == [
        ("2026-03-02", approx(340 / 3 / 60), 3),
        ("2026-03-03", None, 0),
        ("2026-03-04", approx(0.75), 1),
    ]
    assert await shop("incidents") == [
        ("2026-03-02", 4.0, 4),
        ("2026-03-03", 0.0, 0),
        ("2026-03-04", 1.0, 1),
    ]

    # Team payments adds ledger's l1 on 2 March: MTTR (60 + 120 + 60 + 60)/4 = 75 min,
    # MTTD (10 + 30 + 20 + 60 + 0)/5 = 24 min, MTTA unchanged (l1 never acknowledged),
    # 5 incidents.
    async def team(key: str) -> Point:
        points = await series(api, reader, key, "day", "2026-03-02", "2026-03-03", team="payments")
        assert len(points) == 1
        return points[0]

    assert await team("mttr") == ("2026-03-02", approx(75.0), 4)
    assert await team("mttd") == ("2026-03-02", approx(24.0), 5)
    assert await team("mtta") == ("2026-03-02", approx(18.75), 4)
    assert await team("incidents") == ("2026-03-02", 5.0, 5)
    # Team platform has no incident: null means, zero count.
    assert await series(
        api, reader, "mttr", "day", "2026-03-02", "2026-03-03", team="platform"
    ) == [("2026-03-02", None, 0)]


async def test_an_open_incident_counts_but_has_no_resolution_time(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await estate(api, admin)
    await add_kpi(api, admin, "mttr", "mttr", "minutes")
    await add_kpi(api, admin, "incidents", "incident_count", "incidents")
    # One open incident on 19 March, still open at NOW (20 March 12:00).
    await incident(api, ingester, "open", "shop", "sev1", "2026-03-19 08:00")
    # 19: MTTR undefined (nothing resolved), 1 incident.   20 (in progress): nothing.
    window = ("day", "2026-03-19", "2026-03-21")
    assert await series(api, reader, "mttr", *window, service="shop") == [
        ("2026-03-19", None, 0),
        ("2026-03-20", None, 0),
    ]
    assert await series(api, reader, "incidents", *window, service="shop") == [
        ("2026-03-19", 1.0, 1),
        ("2026-03-20", 0.0, 0),
    ]


# Recurrence and users affected -----------------------------------------------------------------


async def test_recurrence_rate_and_users_affected_by_month(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await estate(api, admin)
    await add_kpi(api, admin, "recurrence", "recurrence_rate", "percent")
    await add_kpi(api, admin, "users_hit", "users_affected", "users")
    # r1 shop   db-pool    5 Jan 10:00  100 users
    # r2 shop   db-pool   20 Jan 10:00  250 users  15 days after r1: a recurrence
    # r3 shop   db-pool   20 Feb 10:00   40 users  31 days after r2 (46 after r1): not one
    # r4 ledger db-pool   21 Feb 10:00             same key, another service: not one
    # r5 shop   disk-full 22 Feb 10:00             another key: not one
    # r6 shop   (no key)  23 Feb 10:00             no key: never one
    # r7 shop   db-pool   25 Feb 10:00   60 users  5 days after r3: a recurrence
    rows = (
        ("r1", "shop", "2026-01-05", "db-pool", 100),
        ("r2", "shop", "2026-01-20", "db-pool", 250),
        ("r3", "shop", "2026-02-20", "db-pool", 40),
        ("r4", "ledger", "2026-02-21", "db-pool", None),
        ("r5", "shop", "2026-02-22", "disk-full", None),
        ("r6", "shop", "2026-02-23", None, None),
        ("r7", "shop", "2026-02-25", "db-pool", 60),
    )
    for name, service, day, key, users in rows:
        fields: dict[str, Any] = {}
        if key is not None:
            fields["problem_key"] = key
        if users is not None:
            fields["users_affected"] = users
        await incident(
            api, ingester, name, service, "sev3", f"{day} 10:00", f"{day} 11:00", **fields
        )

    window = ("month", "2026-01-01", "2026-04-01")
    # Team payments:
    #   January (r1, r2): 1 recurrence of 2 = 50 %; users 100 + 250 = 350.
    #   February (r3, r4, r5, r6, r7): 1 of 5 = 20 %; users 40 + 60 = 100.
    #   March (in progress, no incident): rate undefined, null; users 0.
    assert await series(api, reader, "recurrence", *window, team="payments") == [
        ("2026-01-01", approx(50.0), 2),
        ("2026-02-01", approx(20.0), 5),
        ("2026-03-01", None, 0),
    ]
    assert await series(api, reader, "users_hit", *window, team="payments") == [
        ("2026-01-01", 350.0, 2),
        ("2026-02-01", 100.0, 5),
        ("2026-03-01", 0.0, 0),
    ]
    # shop alone, February (r3, r5, r6, r7): 1 of 4 = 25 %.
    assert (await series(api, reader, "recurrence", *window, service="shop"))[1] == (
        "2026-02-01",
        approx(25.0),
        4,
    )
    # ledger alone, February (r4): 0 of 1 = 0 %.
    assert (await series(api, reader, "recurrence", *window, service="ledger"))[1] == (
        "2026-02-01",
        approx(0.0),
        1,
    )


# Downtime cost ---------------------------------------------------------------------------------


async def test_downtime_cost(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await estate(api, admin)
    await add_kpi(api, admin, "downtime_cost", "downtime_cost", "EUR")
    # shop: 1,200 per hour, outages at sev2 or worse; ledger: 600 per hour, sev3 or worse;
    # search: no revenue figure.
    #   k1 shop   sev1 5 Mar 10:00-11:30 (1.5 h), estimate 500
    #   k2 shop   sev3 5 Mar 12:00-14:00, below shop's threshold: no outage, estimate 250
    #   k3 ledger sev3 5 Mar 00:00-00:30 (0.5 h)
    #   k4 shop   sev2 5 Mar 22:00 - 6 Mar 01:00 (2 h on the 5th, 1 h on the 6th), estimate
    #             1,000, counted on the 5th where its impact began
    #   k5 search sev1 6 Mar 08:00-10:00: down, but nothing is lost per hour
    await incident(
        api,
        ingester,
        "k1",
        "shop",
        "sev1",
        "2026-03-05 10:00",
        "2026-03-05 11:30",
        cost_estimate=500,
    )
    await incident(
        api,
        ingester,
        "k2",
        "shop",
        "sev3",
        "2026-03-05 12:00",
        "2026-03-05 14:00",
        cost_estimate=250,
    )
    await incident(api, ingester, "k3", "ledger", "sev3", "2026-03-05 00:00", "2026-03-05 00:30")
    await incident(
        api,
        ingester,
        "k4",
        "shop",
        "sev2",
        "2026-03-05 22:00",
        "2026-03-06 01:00",
        cost_estimate=1000,
    )
    await incident(api, ingester, "k5", "search", "sev1", "2026-03-06 08:00", "2026-03-06 10:00")

    async def cost(**scope: Any) -> list[Any]:
        points = await series(
            api, reader, "downtime_cost", "day", "2026-03-05", "2026-03-08", **scope
        )
        return [(bucket, value) for bucket, value, _ in points]

    # shop:   5th: (1.5 + 2) h x 1,200 = 4,200, + estimates 500 + 250 + 1,000 = 5,950.
    #         6th: 1 h x 1,200 = 1,200.   7th: 0.
    assert await cost(service="shop") == [
        ("2026-03-05", approx(5950.0)),
        ("2026-03-06", approx(1200.0)),
        ("2026-03-07", approx(0.0)),
    ]
    # team payments adds ledger's 0.5 h x 600 = 300 on the 5th: 6,250; 1,200; 0.
    assert await cost(team="payments") == [
        ("2026-03-05", approx(6250.0)),
        ("2026-03-06", approx(1200.0)),
        ("2026-03-07", approx(0.0)),
    ]
    # team platform: search's 2 h are worth nothing: 0 every day.
    assert await cost(team="platform") == [
        ("2026-03-05", approx(0.0)),
        ("2026-03-06", approx(0.0)),
        ("2026-03-07", approx(0.0)),
    ]
    # fleet: the same as payments (platform adds nothing).
    assert await cost() == [
        ("2026-03-05", approx(6250.0)),
        ("2026-03-06", approx(1200.0)),
        ("2026-03-07", approx(0.0)),
    ]


async def test_downtime_cost_counts_each_incident_once(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await estate(api, admin)
    await add_kpi(api, admin, "downtime_cost", "downtime_cost", "EUR")
    # One incident: shop sev1, 11 March 10:00-11:00, estimate 100. Its cost is
    # 1 h x 1,200 + 100 = 1,300, and one incident is behind that figure: the count is 1 (it is
    # both an outage and an incident with an estimate, but still one incident).
    await incident(
        api,
        ingester,
        "one",
        "shop",
        "sev1",
        "2026-03-11 10:00",
        "2026-03-11 11:00",
        cost_estimate=100,
    )
    assert await series(
        api, reader, "downtime_cost", "day", "2026-03-11", "2026-03-12", service="shop"
    ) == [("2026-03-11", approx(1300.0), 1)]


async def test_incident_times_out_of_order_are_refused(
    api: httpx.AsyncClient, ingester: Headers, admin: Headers
) -> None:
    client = api
    await client.post(
        "/v1/services", json={"slug": "orders", "name": "Orders", "tier": 2}, headers=admin
    )
    body = {
        "external_id": "backwards",
        "service": "orders",
        "severity": "sev1",
        "status": "resolved",
        "started_at": "2026-03-10T10:00:00Z",
        "resolved_at": "2026-03-10T09:00:00Z",
    }
    r = await client.post("/v1/incidents", json=body, headers=ingester)
    assert r.status_code == 422, r.text
    assert [e["pointer"] for e in r.json()["errors"]] == ["#/resolved_at"]
    assert "must not be before started_at" in r.json()["errors"][0]["detail"]
