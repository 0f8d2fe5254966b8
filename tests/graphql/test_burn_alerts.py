"""Burn-rate alerts in the graph: the policy set by mutation (its problems naming the field),
`Kpi.burnPolicy` and `Kpi.burnAlerts` with their history, `burnAlerts(state:)`, and the
statements of a page of KPIs flat in their number."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from service import db as dbmod
from service.usecases import burn_alerts
from tests.graphql.helpers import Headers, gql_data, rest

T0 = dt.datetime(2031, 5, 6, 10, 0, tzinfo=dt.UTC)

SET = """mutation($kpi: String!, $input: BurnPolicyInput!) {
  setBurnPolicy(kpi: $kpi, input: $input) {
    ... on BurnPolicy { kpi objective rules { name severity burnRate longWindowMinutes
                                              shortWindowMinutes } }
    ... on Problem { status errors { field detail } }
  }
}"""

KPIS = """{
  kpis(first: 50) { nodes {
    key
    burnPolicy { objective rules { name } }
    burnAlerts { nodes { rule severity state firedAt resolvedAt longBurnRate } }
  } }
}"""


async def availability(client: httpx.AsyncClient, admin: Headers, key: str, slug: str) -> None:
    await rest(client, admin, "POST", "/v1/services", {"slug": slug, "name": slug, "tier": 1})
    await rest(client, admin, "POST", "/v1/kpis", {
        "key": key, "name": f"Availability {slug}", "unit": "percent",
        "direction": "higher_is_better", "kind": "builtin", "metric": "availability"})  # fmt: skip
    await rest(client, admin, "PUT", f"/v1/kpis/{key}/services/{slug}", status=200)


async def outage(client: httpx.AsyncClient, admin: Headers, slug: str, minutes: int) -> None:
    await rest(client, admin, "POST", "/v1/incidents", {
        "external_id": f"INC-{slug}", "service": slug, "severity": "sev1",
        "status": "resolved", "started_at": T0.isoformat(),
        "resolved_at": (T0 + dt.timedelta(minutes=minutes)).isoformat()}, status=200)  # fmt: skip


async def set_policy(client: httpx.AsyncClient, admin: Headers, kpi: str,
                     given: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    data = await gql_data(client, admin, SET, {"kpi": kpi, "input": given})
    out: dict[str, Any] = data["setBurnPolicy"]
    return out


async def test_set_by_mutation_and_read_with_history(
    con: dbmod.Connection, client: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await availability(client, admin, "avail_checkout", "checkout")
    await outage(client, admin, "checkout", 30)
    policy = await set_policy(client, admin, "avail_checkout", {"objective": 0.999})
    assert policy["objective"] == 0.999
    assert [(r["name"], r["burnRate"], r["longWindowMinutes"], r["shortWindowMinutes"])
            for r in policy["rules"]] == [("page_fast", 14.4, 60, 5), ("page_slow", 6.0, 360, 30),
                                          ("ticket", 1.0, 4320, 360)]  # fmt: skip
    bad = await set_policy(client, admin, "avail_checkout", {"rules": [
        {"name": "fast", "severity": "PAGE", "burnRate": 2, "longWindowMinutes": 5,
         "shortWindowMinutes": 60}]})  # fmt: skip
    assert bad["status"] == 422
    assert [e["field"] for e in bad["errors"]] == ["rules.0.shortWindowMinutes"]

    # 60 s into the outage page_fast fires (51.84 s needed); 60 min after it ended, at 11:30,
    # every short window is clear of it but the ticket's 6 h: page_fast and page_slow resolved.
    assert await burn_alerts.evaluate_policies(con, T0 + dt.timedelta(seconds=60)) == 1
    assert await burn_alerts.evaluate_policies(con, T0 + dt.timedelta(seconds=300)) == 2
    assert await burn_alerts.evaluate_policies(con, T0 + dt.timedelta(minutes=90)) == 2
    data = await gql_data(client, reader, KPIS)
    (kpi,) = data["kpis"]["nodes"]
    assert kpi["burnPolicy"]["objective"] == 0.999
    assert [(a["rule"], a["severity"], a["state"]) for a in kpi["burnAlerts"]["nodes"]] == [
        ("ticket", "TICKET", "FIRING"), ("page_slow", "PAGE", "RESOLVED"),
        ("page_fast", "PAGE", "RESOLVED")]  # fmt: skip
    # fired at 60 s: 60 / 3600 / 0.001 = 16.67 over the hour
    fast = kpi["burnAlerts"]["nodes"][2]
    assert round(fast["longBurnRate"], 6) == round(60 / 3.6, 6)
    assert fast["firedAt"] == "2031-05-06T10:01:00Z"
    assert fast["resolvedAt"] == "2031-05-06T11:30:00Z"
    firing = await gql_data(client, reader, "{ burnAlerts(state: FIRING) { nodes { rule kpi } } }")
    assert firing["burnAlerts"]["nodes"] == [{"rule": "ticket", "kpi": "avail_checkout"}]

    removed = await gql_data(client, admin,
                             'mutation { deleteBurnPolicy(kpi: "avail_checkout") { ... on Deleted '
                             "{ ok } } }")  # fmt: skip
    assert removed["deleteBurnPolicy"] == {"ok": True}
    data = await gql_data(client, reader, KPIS)
    assert data["kpis"]["nodes"][0]["burnPolicy"] is None


async def count_statements(
    con: dbmod.Connection, client: httpx.AsyncClient, headers: Headers
) -> int:
    statements: list[str] = []

    def log(record: Any) -> None:
        statements.append(record.query)

    con.add_query_logger(log)
    try:
        await gql_data(client, headers, KPIS)
    finally:
        con.remove_query_logger(log)
    return len(statements)


async def test_a_page_of_kpis_reads_policies_and_alerts_in_flat_statements(
    con: dbmod.Connection, client: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    async def seed(start: int, stop: int) -> None:
        for i in range(start, stop):
            await availability(client, admin, f"avail_{i}", f"svc-{i}")
            await outage(client, admin, f"svc-{i}", 10)
            await set_policy(client, admin, f"avail_{i}", {"objective": 0.99})
        await burn_alerts.evaluate_policies(con, T0 + dt.timedelta(minutes=5))

    await seed(0, 2)
    await count_statements(con, client, reader)  # warms whatever a first request reads once
    small = await count_statements(con, client, reader)
    await seed(2, 8)
    large = await count_statements(con, client, reader)
    assert small == large
