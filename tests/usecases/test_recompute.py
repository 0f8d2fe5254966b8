"""`kpi recompute` rebuilds rows as earlier versions wrote them: Alertmanager incidents split
into firing episodes, generic-API steps stored twice kept once, reopened incidents down only
while they were, links inferred whatever came first, commits linked to the changes that
shipped them, statuses of unfinished periods dropped and closed periods evaluated again.

The rows are written with SQL in the shapes earlier versions stored."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import orjson
import pytest

from service import db as dbmod
from service.usecases.recompute import recompute

NOW = dt.datetime(2026, 4, 10, 12, 0, tzinfo=dt.UTC)


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=dt.UTC)


def old_iso(t: dt.datetime) -> str:
    """Instants as earlier versions wrote them in keys: Python's isoformat, +00:00."""
    return t.isoformat()


async def service(con: dbmod.Connection, slug: str) -> int:
    service_id: int = await con.fetchval(
        "insert into business_service (slug, name, tier) values ($1, $1, 1) returning id", slug
    )
    return service_id


async def source(con: dbmod.Connection, name: str, kind: str) -> int:
    if kind == "api":
        found: int = await con.fetchval("select id from source where name = 'api'")
        return found
    source_id: int = await con.fetchval(
        "insert into source (name, kind, secret) values ($1, $2, 's') returning id", name, kind
    )
    return source_id


async def incident(
    con: dbmod.Connection, source_id: int, external_id: str, service_id: int, *,
    started: dt.datetime, resolved: dt.datetime | None, severity: str = "sev1",
    link: int | None = None,
) -> int:  # fmt: skip
    """The incident row as an earlier version saved it: no outage stretches (null)."""
    incident_id: int = await con.fetchval(
        """insert into incident (source_id, external_id, service_id, severity, status,
                                 started_at, detected_at, resolved_at, caused_by_change_id,
                                 link_kind)
           values ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9) returning id""",
        source_id, external_id, service_id, severity, "resolved" if resolved else "open",
        started, resolved, link, "inferred" if link else None,
    )  # fmt: skip
    return incident_id


async def event(
    con: dbmod.Connection, incident_id: int, key: str, step: str, occurred: dt.datetime,
    **data: Any,
) -> None:  # fmt: skip
    body = {"external_id": data.pop("external_id", "x"), "event_key": key, "step": step,
            "occurred_at": occurred.isoformat(), **data}  # fmt: skip
    await con.execute(
        "insert into incident_event (incident_id, event_key, step, occurred_at, data) "
        "values ($1, $2, $3, $4, $5)", incident_id, key, step, occurred, body,
    )  # fmt: skip


async def test_recompute_rebuilds_what_earlier_versions_stored(
    con: dbmod.Connection, client: httpx.AsyncClient, reader: dict[str, str]
) -> None:
    shop, api = await service(con, "shop"), await source(con, "api", "api")
    am = await source(con, "am", "alertmanager")

    # 1. Alertmanager: fired 1 March 10:00, resolved 10:30, fired again 3 March 08:00; one
    #    incident named by the fingerprint, open since 1 March 10:00.
    fp = await incident(con, am, "fp1", shop, started=at(1, 10), resolved=None)
    common = {"external_id": "fp1", "service_ref": "shop", "severity": "sev1"}
    await event(con, fp, f"fp1:triggered:{old_iso(at(1, 10))}", "triggered", at(1, 10),
                impact_start=at(1, 10).isoformat(), **common)  # fmt: skip
    await event(con, fp, f"fp1:resolved:{old_iso(at(1, 10, 30))}", "resolved", at(1, 10, 30),
                impact_start=at(1, 10).isoformat(), **common)  # fmt: skip
    await event(con, fp, f"fp1:triggered:{old_iso(at(3, 8))}", "triggered", at(3, 8),
                impact_start=at(3, 8).isoformat(), **common)  # fmt: skip

    # 2. Generic API: the same trigger stored twice (two key formats); resolved 5 March 11:00,
    #    reopened 12:00, resolved 13:00; stored as down 10:00-13:00 (no stretches).
    reopened = await incident(con, api, "INC-R", shop, started=at(5, 10), resolved=at(5, 13))
    for key in ("triggered:2026-03-05 10:00:00+00:00", "triggered:2026-03-05T10:00:00+00:00"):
        await event(con, reopened, key, "triggered", at(5, 10), external_id="INC-R",
                    service_ref="shop", severity="sev1")  # fmt: skip
    for step, when in (("resolved", at(5, 11)), ("reopened", at(5, 12)),
                       ("resolved", at(5, 13))):  # fmt: skip
        await event(con, reopened, f"{step}:{old_iso(when)}", step, when, external_id="INC-R")

    # 3. An incident posted before the deploy that preceded it: never linked.
    unlinked = await incident(con, api, "INC-L", shop, started=at(7, 10), resolved=at(7, 11),
                              severity="sev2")  # fmt: skip
    await event(con, unlinked, f"triggered:{old_iso(at(7, 10))}", "triggered", at(7, 10),
                external_id="INC-L", service_ref="shop", severity="sev2")  # fmt: skip
    await event(con, unlinked, f"resolved:{old_iso(at(7, 11))}", "resolved", at(7, 11),
                external_id="INC-L")  # fmt: skip
    deploy: int = await con.fetchval(
        """insert into change (source_id, external_id, service_id, environment, is_production,
                               kind, status, finished_at)
           values ($1, 'D1', $2, 'production', true, 'deploy', 'success', $3) returning id""",
        api, shop, at(7, 8),
    )  # fmt: skip
    data = {"external_id": "D1", "event_key": "success", "status": "success",
            "occurred_at": at(7, 8).isoformat(), "environment": "production",
            "service_ref": "shop", "finished_at": at(7, 8).isoformat()}  # fmt: skip
    await con.execute(
        "insert into change_event (change_id, event_key, status, occurred_at, data) "
        "values ($1, 'success', 'success', $2, $3)", deploy, at(7, 8), data,
    )  # fmt: skip
    # ... and sent with two commits, kept in the delivery and in commit_time, not linked.
    commits = [{"sha": "a" * 40, "committed_at": at(6, 8).isoformat()},
               {"sha": "b" * 40, "committed_at": at(7, 2).isoformat()}]  # fmt: skip
    for c in commits:
        await con.execute("insert into commit_time (sha, committed_at) values ($1, $2)",
                          c["sha"], dt.datetime.fromisoformat(c["committed_at"]))  # fmt: skip
    await con.execute(
        "insert into delivery (source_id, event_type, headers, body, status) "
        "values ($1, 'api', '{}', $2, 'applied')",
        api, orjson.dumps({"incidents": [], "changes": [data], "commits": commits}),
    )  # fmt: skip

    # 4. A builtin KPI with a status stored for April, a period under way on 10 April, and
    #    one stored for March with a made-up value.
    kpi: int = await con.fetchval(
        """insert into kpi (key, name, unit, direction, kind, builtin_metric, cadence)
           values ('outage', 'Outage', 'percent', 'higher_is_better', 'builtin',
                   'availability', 'monthly') returning id"""
    )
    for start, end, value in ((dt.date(2026, 3, 1), dt.date(2026, 4, 1), 12.5),
                              (dt.date(2026, 4, 1), dt.date(2026, 5, 1), 99.0)):  # fmt: skip
        await con.execute(
            """insert into kpi_status (kpi_id, cadence, period_start, period_end, value,
                                       status, trend, evaluated_at)
               values ($1, 'monthly', $2, $3, $4, 'no_data', 'unknown', $5)""",
            kpi, dt.datetime.combine(start, dt.time(), dt.UTC),
            dt.datetime.combine(end, dt.time(), dt.UTC), value, NOW,
        )  # fmt: skip

    report = await recompute(con, NOW)

    assert (report.episodes_split, report.episodes_made) == (1, 2)
    rows = await con.fetch(
        "select external_id, status, started_at, resolved_at from incident "
        "where source_id = $1 order by started_at", am,
    )  # fmt: skip
    assert [tuple(r.values()) for r in rows] == [
        ("fp1@2026-03-01T10:00:00Z", "resolved", at(1, 10), at(1, 10, 30)),
        ("fp1@2026-03-03T08:00:00Z", "open", at(3, 8), None),
    ]
    # INC-R: 4 steps keyed again, its second trigger dropped; INC-L: 2 steps keyed again.
    assert (report.steps_rekeyed, report.steps_dropped) == (6, 1)
    keys = [r["event_key"] for r in await con.fetch(
        "select event_key from incident_event where incident_id = $1 order by occurred_at",
        reopened)]  # fmt: skip
    assert keys == ["triggered:2026-03-05T10:00:00Z", "resolved:2026-03-05T11:00:00Z",
                    "reopened:2026-03-05T12:00:00Z", "resolved:2026-03-05T13:00:00Z"]  # fmt: skip
    link = await con.fetchrow(
        "select caused_by_change_id, link_kind from incident where id = $1", unlinked
    )
    assert tuple(link.values()) == (deploy, "inferred")
    assert report.commits_linked == 2
    assert report.unfinished_statuses_deleted == 1
    assert report.statuses == 1  # March, overall (the KPI applies to no service)

    # Through the API: shop in March (31 days = 44,640 minutes) was down 1 March
    # 10:00-10:30 (30), 3 March 08:00 on (still open: to the end of March, 28 days 16 hours =
    # 41,280), 5 March 10:00-11:00 and 12:00-13:00 (120, not 180), 7 March 10:00-11:00 (a
    # sev2: 60). Union: 30 + 41,280 = 41,310 (the others lie inside the open one).
    got = (await client.get("/v1/services/shop/report", headers=reader, params={
        "from": "2026-03-01T00:00:00Z", "to": "2026-04-01T00:00:00Z"})).json()  # fmt: skip
    assert got["availability"]["outage_minutes"] == pytest.approx(41310)
    # Lead time: D1 finished 7 March 08:00 shipped commits of 6 March 08:00 (24 h) and 7 March
    # 02:00 (6 h): median 15 h.
    assert got["dora"]["lead_time"]["value"] == pytest.approx(15)
    march = await con.fetchrow(
        "select value, status from kpi_status where kpi_id = $1 and period_start = $2",
        kpi, at(1, 0).replace(hour=0),
    )  # fmt: skip
    # The KPI names no service: the fleet (shop) in March, 1 - 41,310 / 44,640.
    assert march["value"] == pytest.approx(100 * (1 - 41310 / 44640))
    # Recomputing again changes nothing more.
    again = await recompute(con, NOW)
    assert (again.episodes_split, again.steps_rekeyed, again.steps_dropped) == (0, 0, 0)
