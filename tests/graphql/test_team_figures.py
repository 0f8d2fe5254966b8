"""Team in the graph: parent and children, KPIs, and the roll-up figures (availability,
incident statistics, DORA, spend, the DORA trend), whose statements do not grow with the
number of teams; the graph's figures are the REST ones."""

from __future__ import annotations

from typing import Any

import httpx

from service import db as dbmod
from tests.graphql.helpers import Headers, gql_data, rest, unwrap

WINDOW = 'from: "2026-03-01T00:00:00Z", to: "2026-03-11T00:00:00Z"'
TEAMS_QUERY = (
    """{
  teams(first: 100) {
    nodes {
      slug parent { slug } children { nodes { slug } } services { nodes { slug } }
      kpis { nodes { key } }
      availability(WINDOW) { availability weightedAvailability serviceMinutes outageMinutes }
      incidentStats(WINDOW) { overall { incidents timeToRestore { median } } }
      dora(WINDOW) { deployments changeFailureRate { value } leadTime { value } }
      spend(WINDOW) { currencies { currency total perUser } users }
      doraTrend(grain: WEEK, from: "2026-03-02T00:00:00Z", to: "2026-03-16T00:00:00Z") {
        window { start } deployments
      }
    }
  }
}"""
).replace("WINDOW", WINDOW)


async def seed_teams(client: httpx.AsyncClient, admin: Headers, start: int, stop: int) -> None:
    """Teams t<start>..t<stop-1> under `org`, each owning a service with a 60-minute outage,
    a successful deploy and a 1,000 EUR cost record, all in the window."""
    for i in range(start, stop):
        team, service = f"t{i}", f"s{i}"
        await rest(client, admin, "POST", "/v1/teams", {"slug": team, "name": team,
                                                        "parent": "org"})  # fmt: skip
        await rest(client, admin, "POST", "/v1/services", {
            "slug": service, "name": service, "tier": 2, "team": team, "users": 10,
            "team_since": "2026-01-01T00:00:00Z",
        })  # fmt: skip
        await rest(client, admin, "PUT", f"/v1/kpis/k_a/services/{service}", status=200)
        await rest(client, admin, "POST", "/v1/incidents", {
            "external_id": f"i{i}", "service": service, "severity": "sev1", "status": "resolved",
            "started_at": "2026-03-02T10:00:00Z", "resolved_at": "2026-03-02T11:00:00Z",
        }, status=200)  # fmt: skip
        sha = f"{i:040x}"
        await rest(client, admin, "POST", "/v1/changes", {
            "external_id": f"c{i}", "service": service, "environment": "production",
            "status": "success", "finished_at": "2026-03-04T12:00:00Z", "commit_sha": sha,
            "commits": [{"sha": sha, "committed_at": "2026-03-04T00:00:00Z"}],
        }, status=200)  # fmt: skip
        await rest(client, admin, "POST", "/v1/costs", [{
            "service": service, "category": "cloud", "period_start": "2026-03-01",
            "period_end": "2026-03-11", "amount": 1000, "currency": "EUR",
        }], status=200)  # fmt: skip


async def count_statements(
    con: dbmod.Connection, client: httpx.AsyncClient, headers: Headers
) -> tuple[int, dict[str, Any]]:
    statements: list[str] = []

    def log(record: Any) -> None:
        statements.append(record.query)

    con.add_query_logger(log)
    try:
        data = unwrap(await gql_data(client, headers, TEAMS_QUERY))
    finally:
        con.remove_query_logger(log)
    return len(statements), data


async def test_team_figures_take_the_same_statements_for_3_and_30_teams(
    client: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, reader: Headers
) -> None:
    await rest(client, admin, "POST", "/v1/teams", {"slug": "org", "name": "Org"})
    await rest(client, admin, "POST", "/v1/kpis", {
        "key": "k_a", "name": "A", "unit": "n", "direction": "higher_is_better",
        "aggregation": "sum",
    })  # fmt: skip
    await seed_teams(client, admin, 0, 2)
    # A first run lets the driver learn the types it has not met yet.
    await count_statements(con, client, reader)
    small, data = await count_statements(con, client, reader)
    teams = {t["slug"]: t for t in data["teams"]["nodes"]}
    assert len(teams) == 3
    org, t0 = teams["org"], teams["t0"]
    assert (org["parent"], t0["parent"]) == (None, {"slug": "org"})
    assert org["children"] == [{"slug": "t0"}, {"slug": "t1"}]
    assert (org["services"], t0["services"]) == ([], [{"slug": "s0"}])
    assert org["kpis"] == t0["kpis"] == [{"key": "k_a"}]
    # t0: s0 for the window, 10 days = 14,400 minutes, 60 down: 1 - 60 / 14,400 = 99.5833 %.
    assert t0["availability"]["outageMinutes"] == 60
    assert round(t0["availability"]["availability"], 4) == 99.5833
    # org: s0 and s1, 28,800 service-minutes, 120 down: the same share.
    assert org["availability"]["serviceMinutes"] == 28_800
    assert round(org["availability"]["availability"], 4) == 99.5833
    # One incident and one deploy a team, two for org; 12 h lead time each.
    assert org["incidentStats"]["overall"]["incidents"] == 2
    assert org["incidentStats"]["overall"]["timeToRestore"]["median"] == 60
    assert org["dora"] == {"deployments": 2, "changeFailureRate": {"value": 0.0},
                           "leadTime": {"value": 12.0}}  # fmt: skip
    # 1,000 EUR each, 10 users each: org 2,000 / 20 = 100 a user.
    assert org["spend"] == {"currencies": [{"currency": "EUR", "total": 2000.0,
                                            "perUser": 100.0}], "users": 20.0}  # fmt: skip
    # Weeks of 03-02 and 03-09: both deploys (03-04) in the first.
    assert [w["deployments"] for w in org["doraTrend"]] == [2, 0]

    await seed_teams(client, admin, 2, 29)
    large, data = await count_statements(con, client, reader)
    assert len(data["teams"]["nodes"]) == 30
    org = next(t for t in data["teams"]["nodes"] if t["slug"] == "org")
    assert org["dora"]["deployments"] == 29
    assert org["incidentStats"]["overall"]["incidents"] == 29
    print(f"SQL statements for a teams query with figures: 3 teams -> {small}, 30 -> {large}")
    assert small == large


async def test_team_parent_through_mutations_and_the_cycle_refused(
    client: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await rest(client, admin, "POST", "/v1/teams", {"slug": "org", "name": "Org"})
    await rest(client, admin, "POST", "/v1/teams", {"slug": "dept", "name": "Dept",
                                                    "parent": "org"})  # fmt: skip
    # org under dept would make org its own ancestor.
    data = await gql_data(
        client,
        admin,
        """mutation {
      upsertTeam(input: {slug: "org", name: "Org", parent: "dept"}) {
        __typename ... on Problem { status errors { field } }
      }
    }""",
    )
    assert data["upsertTeam"] == {"__typename": "Problem", "status": 422,
                                  "errors": [{"field": "parent"}]}  # fmt: skip
    data = await gql_data(
        client,
        admin,
        """mutation {
      upsertTeam(input: {slug: "team-a", name: "A", parent: "dept"}) {
        __typename ... on Team { parent { slug } }
      }
    }""",
    )
    assert data["upsertTeam"] == {"__typename": "Team", "parent": {"slug": "dept"}}
    data = await gql_data(client, reader, '{ team(slug: "dept") { parent { slug } } }')
    assert data["team"]["parent"] == {"slug": "org"}
