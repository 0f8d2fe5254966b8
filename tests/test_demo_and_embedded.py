"""The demo data a newcomer queries first, and the embedded Postgres used without a URL."""

from __future__ import annotations

import datetime as dt
import statistics
import tempfile
from collections import defaultdict
from pathlib import Path

import asyncpg
import httpx
import pytest

from service import db as dbmod
from service.demo import demo_points, load_demo
from service.embedded import EmbeddedPostgres

TODAY = dt.date(2026, 11, 23)


async def test_demo_unit_cost_matches_a_plain_python_computation(
    con: dbmod.Connection, client: httpx.AsyncClient, reader: dict[str, str]
) -> None:
    _, result = await load_demo(con, today=TODAY)
    points = list(demo_points(TODAY))
    assert result.points == len(points) == result.inserted
    # Unit cost for October 2026: the month's spend (sum) over its average active users.
    october = [p for p in points if (p.ts.year, p.ts.month) == (2026, 10)]
    spend = sum(p.value for p in october if p.kpi == "it_spend")
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
    assert bucket["count"] == 31 + 31  # one spend and one user count a day

    # Reloading the demo changes nothing: observations are idempotent.
    _, again = await load_demo(con, today=TODAY)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, len(points))


async def test_demo_graph_answers_the_readme_query(
    con: dbmod.Connection, client: httpx.AsyncClient, reader: dict[str, str]
) -> None:
    await load_demo(con, today=TODAY)
    query = "{ services(first: 10) { nodes { slug tier team { name } kpis { key } } } }"
    r = await client.post("/graphql", json={"query": query}, headers=reader)
    nodes = r.json()["data"]["services"]["nodes"]
    by_slug = {n["slug"]: n for n in nodes}
    assert len(nodes) == 6
    assert by_slug["checkout"]["team"] == {"name": "Digital Channels"}
    assert sorted(k["key"] for k in by_slug["erp"]["kpis"]) == [
        "backup_success_rate", "incident_mttr", "patch_compliance", "service_availability",
    ]  # fmt: skip
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
