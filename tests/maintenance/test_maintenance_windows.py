"""Maintenance windows over REST: announced ahead, immutable once started (409 naming the
field, enforced by the database too), and outage inside them left out of availability and
the error budget, reported apart as planned downtime, while the incidents still count for
response and resolution times.

The worked example: November 2026 has 30 days = 720 h. Checkout (tier 1, target 99.95 %) is
down from 01:30 to 03:30 on the 10th (2 h); a window announced for 02:00-05:00 holds 1.5 h of
it, so 0.5 h is unplanned:
    availability = 1 - 0.5 h / 720 h = 0.99930556 (99.930556 %)
    planned downtime = 1.5 h = 90 min
    budget = (1 - 0.9995) x 720 h = 0.36 h = 21.6 min; spent 30 min
    remaining = 1 - 30 / 21.6 = -0.388889 (-38.8889 %); burn rate = 30 / 21.6 = 1.388889
"""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from service import db as dbmod
from tests.maintenance.conftest import WINDOWS, Clock, utc, window
from tests.usecases.test_reports import add_incident, add_service, send

Headers = dict[str, str]


async def test_outage_inside_a_window_is_planned_downtime_not_budget(
    app: httpx.AsyncClient, admin: Headers, reader: Headers, clock: Clock
) -> None:
    await add_service(app, admin, "checkout", 1)
    created = await send(app, admin, "POST", WINDOWS, window("11-10T02:00", "11-10T05:00"),
                         status=201)  # fmt: skip
    assert (created["service"], created["starts_at"], created["ends_at"]) == (
        "checkout",
        "2026-11-10T02:00:00Z",
        "2026-11-10T05:00:00Z",
    )
    assert created["created_by"] == "admin"
    clock.at = utc("12-06T09:00")
    await add_incident(app, admin, "db-1", "checkout", "sev1", "11-10T01:30", "11-10T03:30",
                       detected_at="11-10T01:40", acknowledged_at="11-10T01:50")  # fmt: skip
    report = await send(
        app,
        reader,
        "GET",
        "/v1/services/checkout/report",
        params={"from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"},
    )
    a = report["availability"]
    assert a["availability"] == pytest.approx(99.930556, abs=1e-6)  # 1 - 0.5 / 720
    assert a["outage_minutes"] == pytest.approx(30.0)
    assert a["planned_downtime_minutes"] == pytest.approx(90.0)
    assert a["error_budget_remaining"] == pytest.approx(-38.888889, abs=1e-6)
    assert a["burn_rate"] == pytest.approx(1.388889, abs=1e-6)
    # The incident still counts for response times: detected 01:40, acknowledged 01:50,
    # resolved 03:30, so MTTA 10 min, MTTR 110 min, time to restore 120 min.
    overall = report["incidents"]["overall"]
    assert overall["incidents"] == 1
    assert overall["mtta"]["mean"] == pytest.approx(10.0)
    assert overall["mttr"]["mean"] == pytest.approx(110.0)
    assert overall["time_to_restore"]["mean"] == pytest.approx(120.0)
    # Downtime cost counts all the time down (revenue is lost in planned downtime too): none
    # here, checkout has no revenue per hour.
    assert report["incidents"]["downtime_cost"] == 0.0


async def test_overlapping_windows_and_outages_count_once(
    app: httpx.AsyncClient, admin: Headers, reader: Headers, clock: Clock
) -> None:
    # Two windows 02:00-03:00 and 02:30-04:00 (union 02:00-04:00); two sev2 outages
    # 01:00-02:30 and 02:15-03:15 (union 01:00-03:15, 135 min). Inside the windows:
    # 02:00-03:15 = 75 min planned; 60 min unplanned (01:00-02:00). Over the day (1,440 min):
    # availability = 1 - 60 / 1440 = 0.958333.
    await add_service(app, admin, "checkout", 1)
    await send(app, admin, "POST", WINDOWS, window("11-10T02:00", "11-10T03:00"), status=201)
    await send(app, admin, "POST", WINDOWS, window("11-10T02:30", "11-10T04:00"), status=201)
    clock.at = utc("11-12T00:00")
    await add_incident(app, admin, "a", "checkout", "sev2", "11-10T01:00", "11-10T02:30")
    await add_incident(app, admin, "b", "checkout", "sev2", "11-10T02:15", "11-10T03:15")
    report = await send(
        app,
        reader,
        "GET",
        "/v1/services/checkout/report",
        params={"from": "2026-11-10T00:00:00Z", "to": "2026-11-11T00:00:00Z"},
    )
    a = report["availability"]
    assert (a["outage_minutes"], a["planned_downtime_minutes"]) == (
        pytest.approx(60.0),
        pytest.approx(75.0),
    )
    assert a["availability"] == pytest.approx(95.833333, abs=1e-6)
    assert a["outage_incidents"] == 2


async def test_a_window_is_announced_ahead_and_immutable_once_started(
    app: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, reader: Headers,
    clock: Clock,
) -> None:  # fmt: skip
    await add_service(app, admin, "checkout", 1)
    # A start at or before now is refused: it would rewrite the past.
    past = await app.post(WINDOWS, json=window("10-20T11:00", "10-20T13:00"), headers=admin)
    assert past.status_code == 409, past.text
    assert [e["pointer"] for e in past.json()["errors"]] == ["#/starts_at"]
    bad = await app.post(WINDOWS, json=window("11-10T05:00", "11-10T02:00"), headers=admin)
    assert bad.status_code == 422
    assert [e["pointer"] for e in bad.json()["errors"]] == ["#/ends_at"]
    # Before it starts, a window may be changed and cancelled.
    first = await send(app, admin, "POST", WINDOWS, window("11-10T02:00", "11-10T05:00"),
                       status=201)  # fmt: skip
    path = f"/v1/maintenance-windows/{first['id']}"
    moved = await send(app, admin, "PUT", path, window("11-11T02:00", "11-11T04:00", "moved"))
    assert (moved["starts_at"], moved["reason"]) == ("2026-11-11T02:00:00Z", "moved")
    await send(app, admin, "DELETE", path, status=204)
    assert (await app.get(path, headers=reader)).status_code == 404
    second = await send(app, admin, "POST", WINDOWS, window("11-10T02:00", "11-10T05:00"),
                        status=201)  # fmt: skip
    path = f"/v1/maintenance-windows/{second['id']}"
    clock.at = utc("11-10T02:00")  # it starts now
    for body, field in (
        (window("11-10T02:00", "11-10T05:00", "other reason"), "reason"),
        (window("11-10T02:00", "11-10T06:00"), "ends_at"),
        (window("11-20T02:00", "11-20T06:00"), "starts_at"),
    ):
        r = await app.put(path, json=body, headers=admin)
        assert r.status_code == 409, r.text
        assert [e["pointer"] for e in r.json()["errors"]] == [f"#/{field}"]
    r = await app.delete(path, headers=admin)
    assert r.status_code == 409
    assert await send(app, reader, "GET", path) == second
    listed = await send(app, reader, "GET", WINDOWS, params={"from": "2026-11-01T00:00:00Z"})
    assert [w["id"] for w in listed] == [second["id"]]
    # The database refuses it as well, against its own clock when the service gives none.
    await con.execute("select set_config('kpi.clock', '', true)")
    with pytest.raises(asyncpg.CheckViolationError, match="can no longer be changed"):
        await con.execute("update maintenance_window set reason = 'x' where id = $1",
                          second["id"])  # fmt: skip


async def test_scopes_and_unknown_service(
    app: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await add_service(app, admin, "checkout", 1)
    r = await app.post(WINDOWS, json=window("11-10T02:00", "11-10T05:00"), headers=reader)
    assert r.status_code == 403
    r = await app.post("/v1/services/nope/maintenance-windows",
                       json=window("11-10T02:00", "11-10T05:00"), headers=admin)  # fmt: skip
    assert r.status_code == 404


async def test_planned_downtime_and_availability_as_builtin_kpi_series(
    app: httpx.AsyncClient, admin: Headers, reader: Headers, clock: Clock
) -> None:
    # The worked example as monthly series: November's planned downtime 90 min (1.5 h) and
    # availability 1 - 0.5 / 720 = 99.930556 %; October had no outage: 0 and 100 %.
    await add_service(app, admin, "checkout", 1)
    await send(app, admin, "POST", WINDOWS, window("11-10T02:00", "11-10T05:00"), status=201)
    clock.at = utc("12-06T09:00")
    await add_incident(app, admin, "db-1", "checkout", "sev1", "11-10T01:30", "11-10T03:30")
    for key, metric, unit in (("planned", "planned_downtime", "hours"),
                              ("avail", "availability", "percent")):  # fmt: skip
        await send(app, admin, "POST", "/v1/kpis", {
            "key": key, "name": key.title(), "unit": unit, "direction": "lower_is_better",
            "kind": "builtin", "metric": metric,
        }, status=201)  # fmt: skip
    params = {"service": "checkout", "grain": "month", "from": "2026-10-01T00:00:00Z",
              "to": "2026-12-01T00:00:00Z"}  # fmt: skip
    planned = await send(app, reader, "GET", "/v1/kpis/planned/series", params=params)
    assert [(p["bucket"][:7], p["value"], p["count"]) for p in planned["points"]] == [
        ("2026-10", 0.0, 0),
        ("2026-11", pytest.approx(1.5), 1),
    ]
    avail = await send(app, reader, "GET", "/v1/kpis/avail/series", params=params)
    assert [p["value"] for p in avail["points"]] == [100.0, pytest.approx(99.930556, abs=1e-6)]


async def test_deleting_the_service_takes_its_started_windows(
    app: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, clock: Clock
) -> None:
    await add_service(app, admin, "checkout", 1)
    await send(app, admin, "POST", WINDOWS, window("11-10T02:00", "11-10T05:00"), status=201)
    clock.at = utc("12-06T09:00")
    await send(app, admin, "DELETE", "/v1/services/checkout", status=204)
    assert await con.fetchval("select count(*) from maintenance_window") == 0
