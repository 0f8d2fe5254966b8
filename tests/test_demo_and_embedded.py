"""The demo data a newcomer queries first, and the embedded Postgres used without a URL."""

from __future__ import annotations

import datetime as dt
import statistics
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from service import db as dbmod
from service.demo import (
    demo_budgets,
    demo_changes,
    demo_costs,
    demo_incidents,
    demo_points,
    load_demo,
)
from service.demo_initiatives import demo_initiatives, with_initiatives
from service.embedded import EmbeddedPostgres

TODAY = dt.date(2026, 11, 23)


async def test_demo_unit_cost_matches_a_plain_python_computation(
    con: dbmod.Connection, client: httpx.AsyncClient, reader: dict[str, str]
) -> None:
    _, result = await load_demo(con, today=TODAY)
    points = list(demo_points(TODAY))
    assert result.points == len(points) == result.inserted
    # Unit cost for October 2026: the month's spend (the cost records of October, each a
    # whole month) over its average active users.
    october = [p for p in points if (p.ts.year, p.ts.month) == (2026, 10)]
    october_costs = [c for c in demo_costs(TODAY) if c.period_start == dt.date(2026, 10, 1)]
    assert len(october_costs) == 6 * 3 + 1  # six services x three categories, plus staff
    spend = sum(c.amount for c in october_costs)
    users = statistics.fmean(p.value for p in october if p.kpi == "active_users")

    r = await client.get(
        "/v1/kpis/it_unit_cost/series",
        params={"grain": "month", "from": "2026-10-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"},
        headers=reader,
    )
    assert r.status_code == 200, r.text
    (bucket,) = r.json()["points"]
    assert bucket["bucket"] == "2026-10-01T00:00:00Z"
    assert abs(bucket["value"] - spend / users) < 1e-9
    assert bucket["count"] == 19 + 31  # 19 cost records and one user count a day

    # Reloading the demo changes nothing: observations, costs, incidents and changes are
    # idempotent.
    counts = (
        "select (select count(*) from incident), (select count(*) from change), "
        "(select count(*) from cost_record)"
    )
    before = await con.fetchrow(counts)
    assert tuple(before) == (len(demo_incidents(TODAY)), len(demo_changes(TODAY)), 13 * 19)
    _, again = await load_demo(con, today=TODAY)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, len(points))
    assert await con.fetchrow(counts) == before


async def test_demo_budgets_give_the_variance_forecast_and_stability(
    con: dbmod.Connection, client: httpx.AsyncClient, reader: dict[str, str]
) -> None:
    """A year of monthly budgets per category, matching the cost records: the starter
    catalog's budget KPIs computed in plain Python from the demo's records."""
    await load_demo(con, today=TODAY)
    costs, budgets = demo_costs(TODAY), demo_budgets(TODAY)
    # Thirteen months (November 2025 - November 2026), each with six services x three
    # categories and the estate's staff budget: 13 x 19, on the same keys as the records.
    assert len(budgets) == 13 * 19
    key = lambda r: (r.service, r.category, r.period_start)  # noqa: E731
    assert sorted(map(key, budgets), key=str) == sorted(map(key, costs), key=str)
    assert await con.fetchval("select count(*) from budget") == 13 * 19

    def month_sum(records: list[Any], year: int, month: int) -> float:
        return sum(r.amount for r in records if r.period_start == dt.date(year, month, 1))

    async def points(key: str, grain: str, start: str, end: str) -> list[Any]:
        params = {"grain": grain, "from": start, "to": end}
        r = await client.get(f"/v1/kpis/{key}/series", params=params, headers=reader)
        assert r.status_code == 200, r.text
        return [(p["bucket"][:10], p["value"]) for p in r.json()["points"]]

    # October 2026: spend - budget, the budget being 6 x (9,000 + 3,500 + 2,000) + 1,050,000
    # = 1,137,000.
    assert month_sum(budgets, 2026, 10) == 1_137_000
    variance = month_sum(costs, 2026, 10) - 1_137_000
    assert await points(
        "budget_variance", "month", "2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z"
    ) == [("2026-10-01", pytest.approx(variance))]
    # The forecast as of October's end (fiscal year = calendar year): January - October's
    # spend plus the mean of August, September and October for the two months left.
    spent = sum(month_sum(costs, 2026, m) for m in range(1, 11))
    rate = sum(month_sum(costs, 2026, m) for m in (8, 9, 10)) / 3
    assert await points(
        "spend_forecast", "month", "2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z"
    ) == [("2026-10-01", pytest.approx(spent + 2 * rate))]
    # Stability of Q3 2026: population standard deviation over mean of July - September, in
    # percent.
    q3 = [month_sum(costs, 2026, m) for m in (7, 8, 9)]
    cv = 100 * statistics.pstdev(q3) / statistics.fmean(q3)
    assert await points(
        "opex_stability", "quarter", "2026-07-01T00:00:00Z", "2026-10-01T00:00:00Z"
    ) == [("2026-07-01", pytest.approx(cv))]


async def test_demo_builtin_kpis_have_values(
    con: dbmod.Connection, client: httpx.AsyncClient, reader: dict[str, str]
) -> None:
    await load_demo(con, today=TODAY)
    window = {"grain": "month", "from": "2026-10-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"}
    # Production deploys of the KPI's services in October, counted from the generated changes,
    # per week: October has 31 days, 31 / 7 weeks.
    deploy_services = {"checkout", "payments-api", "mobile-app"}
    deploys = [c for c in demo_changes(TODAY) if c.finished_at is not None
               and (c.finished_at.year, c.finished_at.month) == (2026, 10)
               and c.service in deploy_services]  # fmt: skip
    r = await client.get("/v1/kpis/deploys_per_week/series", params=window, headers=reader)
    assert r.status_code == 200, r.text
    (october,) = r.json()["points"]
    assert len(deploys) > 0
    assert october["value"] == pytest.approx(len(deploys) / (31 / 7))
    assert october["count"] == len(deploys)
    # Mean time to restore (sev1-sev2): the mean of resolved - impact start over the sev1 and
    # sev2 incidents of the KPI's five services whose impact started in October, in minutes.
    mttr_services = {"checkout", "payments-api", "identity", "mobile-app", "erp"}
    started = [i for i in demo_incidents(TODAY) if i.started_at is not None
               and (i.started_at.year, i.started_at.month) == (2026, 10)
               and i.severity in ("sev1", "sev2") and i.service in mttr_services]  # fmt: skip
    resolved = [i for i in started if i.resolved_at is not None]
    restore = statistics.fmean(
        (i.resolved_at - i.started_at).total_seconds() / 60  # type: ignore[operator]
        for i in resolved
    )
    r = await client.get("/v1/kpis/incident_mttr/series", params=window, headers=reader)
    (october,) = r.json()["points"]
    assert abs(october["value"] - restore) < 1e-6
    assert october["count"] == len(resolved)


async def test_demo_graph_answers_the_readme_query(
    con: dbmod.Connection, client: httpx.AsyncClient, reader: dict[str, str]
) -> None:
    await load_demo(con, today=TODAY)
    status = "value status target targetScope complete"
    query = ("{ services(first: 10) { nodes { slug tier team { name } "
             f"kpis {{ nodes {{ kpi {{ key }} status {{ {status} }} }} }} }} }} }}")  # fmt: skip
    r = await client.post("/graphql", json={"query": query}, headers=reader)
    nodes = r.json()["data"]["services"]["nodes"]
    by_slug = {n["slug"]: n for n in nodes}
    assert len(nodes) == 6
    assert by_slug["checkout"]["team"] == {"name": "Digital Channels"}
    assert sorted(k["kpi"]["key"] for k in by_slug["erp"]["kpis"]["nodes"]) == [
        "backup_success_rate", "incident_mttr", "patch_compliance", "service_availability",
    ]  # fmt: skip
    # Each service's KPI status is that service's own: the same as asking the KPI for it.
    pairs = [(n["slug"], k) for n in nodes for k in n["kpis"]["nodes"]]
    assert len(pairs) > 20
    for slug, k in pairs:
        own = f'{{ kpi(key: "{k["kpi"]["key"]}") {{ status(service: "{slug}") {{ {status} }} }} }}'
        r = await client.post("/graphql", json={"query": own}, headers=reader)
        assert k["status"] == r.json()["data"]["kpi"]["status"], (slug, k)
    # Not one fleet-wide figure repeated under every service: the services' own.
    availability = {n["slug"]: k["status"]["value"] for n in nodes for k in n["kpis"]["nodes"]
                    if k["kpi"]["key"] == "service_availability"}  # fmt: skip
    assert len(availability) == 6
    assert len(set(availability.values())) > 1, availability
    patch = defaultdict(list)
    for p in demo_points(TODAY):
        if p.kpi == "patch_compliance" and p.service == "erp" and p.ts.month == 3:
            patch[p.ts.year].append(p.value)
    r = await client.get(
        "/v1/kpis/patch_compliance/series",
        params={"service": "erp", "grain": "month", "from": "2026-03-01T00:00:00Z",
                "to": "2026-04-01T00:00:00Z"},
        headers=reader,
    )  # fmt: skip
    (march,) = r.json()["points"]
    assert abs(march["value"] - statistics.fmean(patch[2026])) < 1e-9


@pytest.mark.database  # starts an embedded Postgres of its own
async def test_embedded_postgres_starts_migrates_and_stops() -> None:
    with tempfile.TemporaryDirectory(prefix="kpi-embedded-") as tmp:
        server = EmbeddedPostgres(Path(tmp), delete_on_exit=True)
        url = server.start()
        try:
            con = await dbmod.connect(url)
            try:
                applied = await dbmod.migrate(con)
                assert applied == [f"{m.version:04d}_{m.name}" for m in dbmod.load_migrations()]
                assert await con.fetchval("select count(*) from kpi") == 0
            finally:
                await con.close()
        finally:
            server.stop()
        with pytest.raises((OSError, asyncpg.PostgresError)):
            await asyncpg.connect(url, timeout=3)


async def test_demo_initiatives_show_spend_and_movement(
    con: dbmod.Connection, client: httpx.AsyncClient, reader: dict[str, str]
) -> None:
    await load_demo(con, today=TODAY)
    r = await client.get("/v1/initiatives/patch-automation/review", headers=reader)
    assert r.status_code == 200, r.text
    review = r.json()
    # Started 2026-03-10, delivered 2026-06-15: baseline Dec 2025 .. Feb 2026, after Jul .. Sep
    # 2026. The same means from the demo's points in plain Python: each month's mean of erp's
    # daily patch compliance (the KPI averages), then the mean of the three months.
    monthly = defaultdict(list)
    for p in demo_points(TODAY):
        if p.kpi == "patch_compliance" and p.service == "erp":
            monthly[(p.ts.year, p.ts.month)].append(p.value)

    def mean_of(months: list[tuple[int, int]]) -> float:
        return statistics.fmean(statistics.fmean(monthly[m]) for m in months)

    before = mean_of([(2025, 12), (2026, 1), (2026, 2)])
    after = mean_of([(2026, 7), (2026, 8), (2026, 9)])
    patch = review["kpis"][0]
    assert (patch["kpi"], patch["service"]) == ("patch_compliance", "erp")
    assert patch["baseline"]["mean"] == pytest.approx(before)
    assert patch["after"]["mean"] == pytest.approx(after)
    # Patching automated on delivery lifts each day by 2 points (capped at 100): met.
    assert patch["change"] == pytest.approx(after - before) and patch["change"] > 1.5
    assert patch["met"] is True and patch["caveat"] is None
    # Its spend: erp's and data-warehouse's support records of March .. May 2026.
    paid = [c for c in with_initiatives(demo_costs(TODAY), demo_initiatives(TODAY))
            if c.initiative == "patch-automation"]  # fmt: skip
    assert len(paid) == 2 * 3
    assert review["spend"]["spent"] == pytest.approx(sum(c.amount for c in paid))
    r = await client.get("/v1/initiatives/resilience-program/review", headers=reader)
    availability, mttr = r.json()["kpis"]
    assert r.json()["spend"]["spent"] > 0
    assert availability["kpi"] == "service_availability" and availability["change"] is not None
    # MTTR: one baseline month had no incident to restore, so the review says so.
    assert mttr["baseline"]["periods_with_data"] == 2
    assert mttr["caveat"] == "only 2 period(s) with data before the start (at least 3 wanted)"
    assert mttr["change"] < 0
