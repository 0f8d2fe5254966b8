"""Builtin DORA and spend metrics over hand-built scenarios, read through
GET /v1/kpis/{key}/series: deployment frequency, lead time, change failure rate, failed-
deployment recovery time and rework rate; IT spend spread over buckets; a ratio of spend to an
observed KPI.

Every expected figure is worked out by hand in the comments next to it; the estate is the one
of tests.kpi.test_builtin_metrics (shop and ledger in team payments; search and infra in team
platform). The app's clock is stopped at NOW, Friday 20 March 2026 12:00 UTC.
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
    at,
    clocked_client,
    estate,
    incident,
    send,
    series,
)


@pytest.fixture
async def api(con: dbmod.Connection, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with clocked_client(con, settings) as client:
        yield client


async def change(
    client: httpx.AsyncClient, headers: Headers, external_id: str, status: str,
    finished: str | None, *, service: str = "shop", kind: str = "deploy",
    environment: str = "production", started: str | None = None, sha: str | None = None,
    committed: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """A change through POST /v1/changes; with `sha` and `committed`, its commit's time."""
    body: dict[str, Any] = {
        "external_id": external_id, "service": service, "environment": environment,
        "kind": kind, "status": status,
    }  # fmt: skip
    if started is not None:
        body["started_at"] = at(started)
    if finished is not None:
        body["finished_at"] = at(finished)
    if sha is not None:
        body["commit_sha"] = sha
        if committed is not None:
            body["commits"] = [{"sha": sha, "committed_at": at(committed)}]
    created: dict[str, Any] = await send(client, headers, "POST", "/v1/changes", body)
    return created


# DORA ------------------------------------------------------------------------------------------


async def test_dora_metrics_by_week(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await estate(api, admin)
    for key, metric, unit in (
        ("deploys", "deployment_frequency", "deployments"),
        ("lead_time", "lead_time", "hours"),
        ("cfr", "change_failure_rate", "percent"),
        ("recovery", "recovery_time", "hours"),
        ("rework", "rework_rate", "percent"),
    ):
        await add_kpi(api, admin, key, metric, unit)

    # Week of Monday 9 March; shop, production unless said otherwise:
    #       kind      status       finished      commit time    lead
    # c1    deploy    success      9 Mar 10:00   8 Mar 10:00    24 h
    # c2    deploy    failed      10 Mar 12:00  10 Mar 00:00    12 h   failed
    # c3    rollback  success     10 Mar 13:00  (no commit)      -     rework
    # c4    deploy    success     11 Mar 09:00  11 Mar 03:00     6 h   caused incidents x, y
    # c5    hotfix    success     11 Mar 16:00  11 Mar 14:00     2 h   rework
    # c6    deploy    success     12 Mar 09:00  (staging: not counted)
    # c7    deploy    in_progress (started 12 Mar 10:00: not counted)
    # c8    deploy    canceled    12 Mar 11:00  (not counted)
    # ca    deploy    rolled_back 12 Mar 15:00  12 Mar 12:00     3 h   failed
    # c9    deploy    success     13 Mar 09:00  12 Mar 09:00    24 h
    # Week of Monday 16 March (in progress at NOW):
    # cb    deploy    success     17 Mar 10:00  17 Mar 08:00     2 h
    rows: list[tuple[str, str, str, str, str | None]] = [
        # (id, kind, status, finished, commit time); each change's sha is its id repeated
        ("c1", "deploy", "success", "03-09 10:00", "03-08 10:00"),
        ("c2", "deploy", "failed", "03-10 12:00", "03-10 00:00"),
        ("c3", "rollback", "success", "03-10 13:00", None),
        ("c4", "deploy", "success", "03-11 09:00", "03-11 03:00"),
        ("c5", "hotfix", "success", "03-11 16:00", "03-11 14:00"),
        ("c8", "deploy", "canceled", "03-12 11:00", None),
        ("ca", "deploy", "rolled_back", "03-12 15:00", "03-12 12:00"),
        ("c9", "deploy", "success", "03-13 09:00", "03-12 09:00"),
        ("cb", "deploy", "success", "03-17 10:00", "03-17 08:00"),
    ]
    for name, kind, status, finished, committed in rows:
        await change(
            api, ingester, name, status, f"2026-{finished}", kind=kind,
            sha=None if committed is None else name * 4,
            committed=None if committed is None else f"2026-{committed}",
        )  # fmt: skip
    await change(api, ingester, "c6", "success", "2026-03-12 09:00", environment="staging",
                 sha="c6c6c6c6", committed="2026-03-12 08:00")  # fmt: skip
    await change(api, ingester, "c7", "in_progress", None, started="2026-03-12 10:00")
    # search (team platform) deploys once in the first week: in the fleet, not in payments.
    await change(api, ingester, "s1", "success", "2026-03-10 09:00", service="search")

    # Incidents, linked explicitly to the change that caused them:
    #   w  caused by c2: 10 Mar 12:05 - 13:30: c2 recovered 13:30 - 12:00 = 1.5 h
    #   x  caused by c4: 11 Mar 10:00 - 13:00
    #   y  caused by c4: 11 Mar 11:00 - 15:00: c4 recovered at its last, 15:00 - 09:00 = 6 h
    #   z  caused by nothing: 13 Mar 20:00 - 21:00, 11 h after c9 (beyond the api source's
    #      4 h inference window): c9 stays a success
    await incident(
        api, ingester, "w", "shop", "sev2", "2026-03-10 12:05", "2026-03-10 13:30", caused_by="c2"
    )
    await incident(
        api, ingester, "x", "shop", "sev2", "2026-03-11 10:00", "2026-03-11 13:00", caused_by="c4"
    )
    await incident(
        api, ingester, "y", "shop", "sev3", "2026-03-11 11:00", "2026-03-11 15:00", caused_by="c4"
    )
    z = await incident(api, ingester, "z", "shop", "sev2", "2026-03-13 20:00", "2026-03-13 21:00")
    assert z["caused_by_change_id"] is None

    async def weeks(key: str, **scope: Any) -> list[Point]:
        return await series(api, reader, key, "week", "2026-03-09", "2026-03-23", **scope)

    # Week of 9 March, team payments: deployments c1, c2, c3, c4, c5, c9, ca = 7.
    # Week of 16 March: cb alone = 1.
    assert await weeks("deploys", team="payments") == [
        ("2026-03-09", 7.0, 7),
        ("2026-03-16", 1.0, 1),
    ]
    # Fleet: search's s1 as well: 8, 1.
    assert await weeks("deploys") == [("2026-03-09", 8.0, 8), ("2026-03-16", 1.0, 1)]
    # Lead times of the first week, sorted: 2, 3, 6, 12, 24, 24 h (c3 has no commit time):
    # median (6 + 12)/2 = 9 h over 6 changes. Second week: cb, 2 h.
    assert await weeks("lead_time", service="shop") == [
        ("2026-03-09", approx(9.0), 6),
        ("2026-03-16", approx(2.0), 1),
    ]
    # Failures of the first week: c2 (failed), ca (rolled back), c4 (caused x and y) = 3 of
    # 7 = 42.857 %; c9 is not failed by the unlinked z. Second week: 0 of 1 = 0 %.
    assert await weeks("cfr", service="shop") == [
        ("2026-03-09", approx(300 / 7), 7),
        ("2026-03-16", approx(0.0), 1),
    ]
    # Recovery of the failed changes that caused incidents: c2 1.5 h, c4 6 h: median 3.75 h.
    # ca caused no incident: no recovery time. Second week: none, null.
    assert await weeks("recovery", service="shop") == [
        ("2026-03-09", approx(3.75), 2),
        ("2026-03-16", None, 0),
    ]
    # Rework: c3 (rollback) and c5 (hotfix) = 2 of 7 = 28.571 %. Second week: 0 %.
    assert await weeks("rework", service="shop") == [
        ("2026-03-09", approx(200 / 7), 7),
        ("2026-03-16", approx(0.0), 1),
    ]


async def test_recovery_waits_for_every_incident_a_change_caused(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await estate(api, admin)
    await add_kpi(api, admin, "recovery", "recovery_time", "minutes")
    await add_kpi(api, admin, "cfr", "change_failure_rate", "ratio")
    # d1 deploys on 10 March 09:00 and causes two incidents: one resolved at 10:00, one still
    # open at NOW. d2 deploys at 12:00 and causes one resolved at 12:45.
    await change(api, ingester, "d1", "success", "2026-03-10 09:00")
    await change(api, ingester, "d2", "success", "2026-03-10 12:00")
    await incident(
        api, ingester, "p", "shop", "sev2", "2026-03-10 09:10", "2026-03-10 10:00", caused_by="d1"
    )
    await incident(api, ingester, "q", "shop", "sev2", "2026-03-10 09:20", caused_by="d1")
    await incident(
        api, ingester, "r", "shop", "sev2", "2026-03-10 12:10", "2026-03-10 12:45", caused_by="d2"
    )
    # Both changes failed (2 of 2 = 1.0 as a share); d1 has not recovered while q is open, so
    # the recovery time is d2's alone: 12:45 - 12:00 = 45 min.
    window = ("day", "2026-03-10", "2026-03-11")
    assert await series(api, reader, "cfr", *window, service="shop") == [
        ("2026-03-10", approx(1.0), 2)
    ]
    assert await series(api, reader, "recovery", *window, service="shop") == [
        ("2026-03-10", approx(45.0), 1)
    ]


# IT spend --------------------------------------------------------------------------------------


async def spend_records(client: httpx.AsyncClient, ingester: Headers) -> None:
    """Cost records of late 2025:

    shop   cloud     November (30 days)        3,000 EUR  100 a day
    ledger licences  Q4 (1 Oct - 1 Jan, 92 d)  9,200 EUR  100 a day: 3,100 / 3,000 / 3,100
    (none) staff     November                  6,000 EUR  200 a day, the estate as a whole
    shop   cloud     November                    999 USD  another currency
    search cloud     November                    600 EUR   20 a day
    """
    records = [
        {
            "service": "shop",
            "category": "cloud",
            "period_start": "2025-11-01",
            "period_end": "2025-12-01",
            "amount": 3000.0,
            "currency": "EUR",
        },
        {
            "service": "ledger",
            "category": "licences",
            "period_start": "2025-10-01",
            "period_end": "2026-01-01",
            "amount": 9200.0,
            "currency": "EUR",
        },
        {
            "category": "staff",
            "period_start": "2025-11-01",
            "period_end": "2025-12-01",
            "amount": 6000.0,
            "currency": "EUR",
        },
        {
            "service": "shop",
            "category": "cloud",
            "period_start": "2025-11-01",
            "period_end": "2025-12-01",
            "amount": 999.0,
            "currency": "USD",
        },
        {
            "service": "search",
            "category": "cloud",
            "period_start": "2025-11-01",
            "period_end": "2025-12-01",
            "amount": 600.0,
            "currency": "EUR",
        },
    ]
    result = await send(client, ingester, "POST", "/v1/costs", records, status=200)
    assert result["inserted"] == 5, result


async def test_it_spend_spread_over_days_weeks_and_months(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await estate(api, admin)
    await add_kpi(api, admin, "it_spend", "it_spend", "EUR")
    await add_kpi(api, admin, "it_spend_usd", "it_spend", "USD")
    await spend_records(api, ingester)

    async def spend(key: str, grain: str, start: str, end: str, **scope: Any) -> list[Point]:
        return await series(api, reader, key, grain, start, end, **scope)

    days = ("day", "2025-11-01", "2025-11-04")
    # Each day of 1-3 November, in EUR:
    #   team payments: shop 100 + ledger 100 = 200 (the estate's staff and the USD record
    #   are not in it), from 2 records.
    assert await spend("it_spend", *days, team="payments") == [
        (d, approx(200.0), 2) for d in ("2025-11-01", "2025-11-02", "2025-11-03")
    ]
    #   team platform: search 20.
    assert await spend("it_spend", *days, team="platform") == [
        (d, approx(20.0), 1) for d in ("2025-11-01", "2025-11-02", "2025-11-03")
    ]
    #   fleet: 100 + 100 + 200 (estate) + 20 = 420, from 4 records.
    assert await spend("it_spend", *days) == [
        (d, approx(420.0), 4) for d in ("2025-11-01", "2025-11-02", "2025-11-03")
    ]
    #   shop: 100; in USD, 999/30 = 33.3.
    assert await spend("it_spend", *days, service="shop") == [
        (d, approx(100.0), 1) for d in ("2025-11-01", "2025-11-02", "2025-11-03")
    ]
    assert await spend("it_spend_usd", *days, service="shop") == [
        (d, approx(33.3), 1) for d in ("2025-11-01", "2025-11-02", "2025-11-03")
    ]

    # The week of Monday 27 October straddles the month: ledger 7 days x 100 = 700, shop's
    # November record 2 days (1-2 November) x 100 = 200: 900 for team payments.
    assert await spend("it_spend", "week", "2025-10-27", "2025-11-03", team="payments") == [
        ("2025-10-27", approx(900.0), 2)
    ]

    months = ("month", "2025-09-01", "2026-01-01")
    # By month, team payments:
    #   September: no record: null.   October: ledger 31 x 100 = 3,100.
    #   November: shop 3,000 + ledger 30 x 100 = 3,000: 6,000.   December: ledger 3,100.
    assert await spend("it_spend", *months, team="payments") == [
        ("2025-09-01", None, 0),
        ("2025-10-01", approx(3100.0), 1),
        ("2025-11-01", approx(6000.0), 2),
        ("2025-12-01", approx(3100.0), 1),
    ]
    # The quarterly record alone, split by month: 3,100 + 3,000 + 3,100 = 9,200.
    assert await spend("it_spend", *months, service="ledger") == [
        ("2025-09-01", None, 0),
        ("2025-10-01", approx(3100.0), 1),
        ("2025-11-01", approx(3000.0), 1),
        ("2025-12-01", approx(3100.0), 1),
    ]
    # Fleet, November: 3,000 + 3,000 + 6,000 + 600 = 12,600 from 4 records.
    assert await spend("it_spend", *months) == [
        ("2025-09-01", None, 0),
        ("2025-10-01", approx(3100.0), 1),
        ("2025-11-01", approx(12600.0), 4),
        ("2025-12-01", approx(3100.0), 1),
    ]
    # In USD: only shop's November record, 999.
    assert await spend("it_spend_usd", *months) == [
        ("2025-09-01", None, 0),
        ("2025-10-01", None, 0),
        ("2025-11-01", approx(999.0), 1),
        ("2025-12-01", None, 0),
    ]


async def test_spend_per_active_user(
    api: httpx.AsyncClient, admin: Headers, ingester: Headers, reader: Headers
) -> None:
    await estate(api, admin)
    await add_kpi(api, admin, "it_spend", "it_spend", "EUR")
    await add_kpi(api, admin, "active_users", None, "users", aggregation="max")
    await add_kpi(
        api,
        admin,
        "spend_per_user",
        None,
        "EUR/user",
        kind="ratio",
        numerator="it_spend",
        denominator="active_users",
    )
    await spend_records(api, ingester)
    # Active users: November 1,200 then 1,500 (max 1,500); December 0; October none.
    points = [
        {"kpi": "active_users", "ts": at("2025-11-15"), "value": 1200},
        {"kpi": "active_users", "ts": at("2025-11-20"), "value": 1500},
        {"kpi": "active_users", "ts": at("2025-12-10"), "value": 0},
    ]
    # History, sent months later: an admin's backfill.
    await send(api, admin, "POST", "/v1/observations", points, status=200)
    # Fleet, by month (spend per bucket first, then divided):
    #   October: 3,100 EUR over no users: null (1 record + 0 points).
    #   November: 12,600 / 1,500 = 8.4 (4 records + 2 points).
    #   December: 3,100 over 0 users: null, not an error (1 record + 1 point).
    assert await series(api, reader, "spend_per_user", "month", "2025-10-01", "2026-01-01") == [
        ("2025-10-01", None, 1),
        ("2025-11-01", approx(8.4), 6),
        ("2025-12-01", None, 2),
    ]
