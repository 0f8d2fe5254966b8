"""Team roll-ups on a three-level tree, with a fixed clock and hand-worked figures:

    org
    └── dept            owns wiki (tier 4)
        ├── team-a      owns pay (tier 1); owned shop (tier 3) until 03-06T00:00
        └── team-b      owns shop from 03-06T00:00

The window is 03-01T00:00 to 03-11T00:00 (10 days = 14,400 minutes). shop moves from team-a
to team-b at 03-06T00:00, mid-window: its outage minutes, incidents, changes and spend split
at the move. Every expected figure is worked out in the comments next to it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.rest.test_csv import at_path, csv_rows, same
from tests.usecases.test_reports import Headers, add_incident, at, clocked, iso, send

__all__ = ["clocked"]

WINDOW = {"from": at("03-01T00:00"), "to": at("03-11T00:00")}


async def add_team(
    client: httpx.AsyncClient, admin: Headers, slug: str, parent: str | None = None,
    *, status: int = 201,
) -> Any:  # fmt: skip
    body = {"slug": slug, "name": slug.title(), "parent": parent}
    return await send(client, admin, "POST", "/v1/teams", body, status=status)


async def add_change(
    client: httpx.AsyncClient, admin: Headers, external_id: str, service: str, status: str,
    finished: str, committed: str,
) -> None:  # fmt: skip
    sha = external_id.encode().hex().ljust(40, "0")
    await send(client, admin, "POST", "/v1/changes", {
        "external_id": external_id, "service": service, "environment": "production",
        "kind": "deploy", "status": status, "started_at": at(finished),
        "finished_at": at(finished), "commit_sha": sha,
        "commits": [{"sha": sha, "committed_at": at(committed)}],
    }, status=200)  # fmt: skip


async def build_tree(client: httpx.AsyncClient, admin: Headers) -> None:
    await add_team(client, admin, "org")
    await add_team(client, admin, "dept", "org")
    await add_team(client, admin, "team-a", "dept")
    await add_team(client, admin, "team-b", "dept")
    since = at("03-01T00:00")
    for slug, tier, team, users in (("pay", 1, "team-a", 300), ("shop", 3, "team-a", 100),
                                    ("wiki", 4, "dept", None)):  # fmt: skip
        await send(client, admin, "POST", "/v1/services", {
            "slug": slug, "name": slug.title(), "tier": tier, "team": team,
            "team_since": since, "users": users,
        }, status=201)  # fmt: skip
    # shop moves to team-b at 03-06T00:00.
    await send(client, admin, "PUT", "/v1/services/shop", {
        "slug": "shop", "name": "Shop", "tier": 3, "team": "team-b",
        "team_since": at("03-06T00:00"), "users": 100,
    }, status=200)  # fmt: skip


async def add_history(client: httpx.AsyncClient, admin: Headers) -> None:
    # Outages (sev1, above every outage threshold), as (service, start, end):
    await add_incident(client, admin, "p1", "pay", "sev1", "03-02T10:00", "03-02T12:00")  # 120
    await add_incident(client, admin, "s1", "shop", "sev1", "03-03T00:00", "03-03T03:00")  # 180
    # Across the move: 60 minutes under team-a, 60 under team-b; it started under team-a.
    await add_incident(client, admin, "s2", "shop", "sev1", "03-05T23:00", "03-06T01:00")
    await add_incident(client, admin, "s3", "shop", "sev1", "03-08T00:00", "03-08T01:00")  # 60
    # Production deploys (service, status, finished, committed -> lead time):
    await add_change(client, admin, "c1", "shop", "success", "03-04T12:00", "03-04T00:00")  # 12 h
    await add_change(client, admin, "c2", "shop", "failed", "03-07T12:00", "03-06T12:00")  # 24 h
    await add_change(client, admin, "c3", "pay", "success", "03-09T00:00", "03-08T00:00")  # 24 h
    costs = [
        # 1,000 over 10 days: 100 a day, 500 before the move and 500 after.
        {"service": "shop", "category": "cloud", "period_start": "2026-03-01",
         "period_end": "2026-03-11", "amount": 1000, "currency": "EUR"},
        {"service": "pay", "category": "cloud", "period_start": "2026-03-01",
         "period_end": "2026-03-11", "amount": 2000, "currency": "EUR"},
    ]  # fmt: skip
    await send(client, admin, "POST", "/v1/costs", costs, status=200)


async def figures_of(client: httpx.AsyncClient, reader: Headers, team: str) -> Any:
    return await send(client, reader, "GET", f"/v1/teams/{team}/figures", params=WINDOW,
                      status=200)  # fmt: skip


async def test_availability_rolls_up_service_minutes_split_at_a_move(
    clocked: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await build_tree(clocked, admin)
    await add_history(clocked, admin)

    a = (await figures_of(clocked, reader, "team-a"))["availability"]
    # team-a: pay for 14,400 minutes and shop until the move, 03-01 to 03-06: 7,200 minutes;
    # 21,600 service-minutes. Outage: pay 120 + shop 180 + 60 (the half of s2 before the
    # move) = 360. 1 - 360 / 21,600 = 0.983333 -> 98.3333 %.
    # Weighted by tier (pay tier 1: 4, shop tier 3: 2): 4 x 14,400 + 2 x 7,200 = 72,000;
    # down 4 x 120 + 2 x 240 = 960; 1 - 960 / 72,000 = 0.986667 -> 98.6667 %.
    assert a["availability"] == pytest.approx(98.33333, abs=1e-4)
    assert a["weighted_availability"] == pytest.approx(98.66667, abs=1e-4)
    assert a["service_minutes"] == pytest.approx(21_600)
    assert a["outage_minutes"] == pytest.approx(360)
    assert (a["outage_incidents"], a["services"]) == (3, 2)

    b = (await figures_of(clocked, reader, "team-b"))["availability"]
    # team-b: shop from the move, 03-06 to 03-11: 7,200 minutes; outage 60 (s2 after the
    # move) + 60 (s3) = 120. 1 - 120 / 7,200 = 0.983333 -> 98.3333 % (one tier: the same
    # weighted).
    assert b["availability"] == pytest.approx(98.33333, abs=1e-4)
    assert b["weighted_availability"] == pytest.approx(98.33333, abs=1e-4)
    assert (b["service_minutes"], b["outage_minutes"]) == (pytest.approx(7200), pytest.approx(120))

    dept = (await figures_of(clocked, reader, "dept"))["availability"]
    # dept: its own wiki and both teams' services; shop is dept's for the whole window (the
    # move stays inside dept): 3 x 14,400 = 43,200 service-minutes. Outage: pay 120 + shop
    # 360 = 480. 1 - 480 / 43,200 = 0.988889 -> 98.8889 %.
    # Weighted: 4 x 14,400 + 2 x 14,400 + 1 x 14,400 = 100,800; down 4 x 120 + 2 x 360 =
    # 1,200; 1 - 1,200 / 100,800 = 0.988095 -> 98.8095 %.
    assert dept["availability"] == pytest.approx(98.88889, abs=1e-4)
    assert dept["weighted_availability"] == pytest.approx(98.80952, abs=1e-4)
    assert dept["service_minutes"] == pytest.approx(43_200)
    assert (dept["outage_incidents"], dept["services"]) == (4, 3)
    org = (await figures_of(clocked, reader, "org"))["availability"]
    # org owns nothing itself: dept's figures.
    assert org == dept


async def test_incidents_changes_and_spend_split_at_the_move(
    clocked: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await build_tree(clocked, admin)
    await add_history(clocked, admin)
    a, b, dept = [await figures_of(clocked, reader, t) for t in ("team-a", "team-b", "dept")]

    # Incidents by impact start: team-a p1, s1, s2 (started 03-05T23:00, before the move);
    # team-b s3. Time to restore: team-a 120, 180, 120 -> mean 140, median 120; team-b 60.
    restore = a["incidents"]["overall"]["time_to_restore"]
    assert a["incidents"]["overall"]["incidents"] == 3
    assert (restore["mean"], restore["median"]) == (pytest.approx(140), pytest.approx(120))
    assert b["incidents"]["overall"]["incidents"] == 1
    assert b["incidents"]["overall"]["time_to_restore"]["median"] == pytest.approx(60)
    # dept: 60, 120, 120, 180 -> mean 120, median 120, p90 at 0.9 x 3 = 2.7 of the sorted
    # list: 120 + 0.7 x (180 - 120) = 162.
    restore = dept["incidents"]["overall"]["time_to_restore"]
    assert dept["incidents"]["overall"]["incidents"] == 4
    assert (restore["mean"], restore["median"], restore["p90"]) == (
        pytest.approx(120), pytest.approx(120), pytest.approx(162))  # fmt: skip
    assert [g["service"] for g in dept["incidents"]["by_service"]] == ["pay", "shop"]

    # DORA: c1 (shop, 03-04, team-a's), c3 (pay, team-a's) and c2 (shop, 03-07, failed:
    # team-b's, after the move). team-a: 2 deploys, no failure, lead median of 12 h and 24 h
    # = 18 h. team-b: 1 deploy, 1 failure -> 100 %, lead 24 h.
    assert a["dora"]["deployments"] == 2
    assert a["dora"]["change_failure_rate"]["value"] == pytest.approx(0)
    assert a["dora"]["lead_time"]["value"] == pytest.approx(18)
    assert b["dora"]["deployments"] == 1
    assert b["dora"]["change_failure_rate"]["value"] == pytest.approx(100)
    # dept counts each change once: 3 deploys, 1 failure -> 33.33 %; lead median of 12, 24,
    # 24 h = 24 h; 3 deploys over 10 days = 3 / (10 / 7) = 2.1 a week.
    assert dept["dora"]["deployments"] == 3
    assert dept["dora"]["change_failure_rate"]["value"] == pytest.approx(100 / 3)
    assert dept["dora"]["lead_time"]["value"] == pytest.approx(24)
    assert dept["dora"]["deployments_per_week"]["value"] == pytest.approx(2.1)

    # Spend: shop's 1,000 EUR at 100 a day, 500 to team-a and 500 to team-b; pay's 2,000 to
    # team-a. Users: team-a pay 300 x 1 + shop 100 x 5/10 = 350 -> 2,500 / 350 = 7.142857 a
    # user; team-b shop 100 x 5/10 = 50 -> 500 / 50 = 10; dept 300 + 100 (wiki states no
    # count) = 400 -> 3,000 / 400 = 7.5.
    (eur,) = a["spend"]["currencies"]
    assert (eur["total"], eur["per_user"]) == (pytest.approx(2500), pytest.approx(2500 / 350))
    assert a["spend"]["users"] == pytest.approx(350)
    (eur,) = b["spend"]["currencies"]
    assert (eur["total"], eur["per_user"]) == (pytest.approx(500), pytest.approx(10))
    (eur,) = dept["spend"]["currencies"]
    assert (eur["total"], eur["per_user"]) == (pytest.approx(3000), pytest.approx(7.5))
    assert eur["by_category"] == [{"category": "cloud", "amount": pytest.approx(3000)}]


async def test_a_team_of_one_service_has_that_services_figures(
    clocked: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await build_tree(clocked, admin)
    await add_history(clocked, admin)
    # From 03-07 team-b owns shop alone for the whole window: its figures are shop's own.
    window = {"from": at("03-07T00:00"), "to": at("03-11T00:00")}
    team = await send(clocked, reader, "GET", "/v1/teams/team-b/figures", params=window,
                      status=200)  # fmt: skip
    shop = await send(clocked, reader, "GET", "/v1/services/shop/report", params=window,
                      status=200)  # fmt: skip
    # shop: 60 outage minutes (s3) in 4 days = 5,760 minutes: 1 - 60 / 5,760 -> 98.9583 %.
    assert team["availability"]["availability"] == pytest.approx(98.958333, abs=1e-4)
    assert team["availability"]["availability"] == pytest.approx(
        shop["availability"]["availability"]
    )
    assert team["incidents"] == shop["incidents"]
    assert team["dora"] == shop["dora"]
    assert team["spend"]["currencies"][0]["total"] == pytest.approx(
        shop["spend"]["currencies"][0]["total"])  # fmt: skip


async def test_dora_trend_per_week(
    clocked: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await build_tree(clocked, admin)
    await add_history(clocked, admin)
    params = {"grain": "week", "from": at("03-02T00:00"), "to": at("03-16T00:00")}
    trend = await send(clocked, reader, "GET", "/v1/teams/dept/dora-trend", params=params,
                       status=200)  # fmt: skip
    assert (trend["team"], trend["grain"]) == ("dept", "week")
    # Weeks start on Monday: 03-02 and 03-09. Week 1: c1 (success) and c2 (failed): 2
    # deploys, CFR 50 %; week 2: c3: 1 deploy, CFR 0 %.
    weeks = [(w["window"]["start"], w["deployments"], w["change_failure_rate"]["value"])
             for w in trend["buckets"]]  # fmt: skip
    assert weeks == [(iso("03-02T00:00"), 2, pytest.approx(50)),
                     (iso("03-09T00:00"), 1, pytest.approx(0))]  # fmt: skip
    # team-b's week 1 holds only c2 (after the move); c1 was team-a's.
    trend = await send(clocked, reader, "GET", "/v1/teams/team-b/dora-trend", params=params,
                       status=200)  # fmt: skip
    assert [w["deployments"] for w in trend["buckets"]] == [1, 0]


async def test_unknown_team_and_bad_grain(
    clocked: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await send(clocked, reader, "GET", "/v1/teams/nobody/figures", params=WINDOW, status=404)
    await add_team(clocked, admin, "org")
    params = {"grain": "hour", "from": at("01-01T00:00"), "to": at("03-01T00:00")}
    body = await send(clocked, reader, "GET", "/v1/teams/org/dora-trend", params=params,
                      status=422)  # fmt: skip
    assert body["errors"][0]["field"] == "grain"


async def test_figures_and_trend_as_csv_equal_the_json(
    clocked: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await build_tree(clocked, admin)
    await add_history(clocked, admin)
    figures = await figures_of(clocked, reader, "dept")
    header, rows, r = await csv_rows(clocked, reader, "/v1/teams/dept/figures", WINDOW)
    assert header == ["field", "value"]
    assert r.headers["content-type"].startswith("text/csv")
    values = {row["field"]: row["value"] for row in rows}
    for field, cell in values.items():
        assert same(cell, at_path(figures, field)), (field, cell)
    # 3,000 EUR over 400 users served (see above): 7.5 a user.
    assert float(values["spend.currencies[EUR].per_user"]) == 7.5
    assert float(values["availability.service_minutes"]) == 43_200

    params = {"grain": "week", "from": at("03-02T00:00"), "to": at("03-16T00:00")}
    header, rows, _ = await csv_rows(clocked, reader, "/v1/teams/dept/dora-trend", params)
    assert header[:3] == ["window.start", "window.end", "window.complete"]
    # One row a week: 2 deploys, then 1.
    assert [(row["window.start"], row["deployments"]) for row in rows] == [
        (iso("03-02T00:00"), "2"), (iso("03-09T00:00"), "1")]  # fmt: skip
