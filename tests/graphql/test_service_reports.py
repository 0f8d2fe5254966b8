"""Service.incidentStats, dora and spend on a page of services: each service's own figures, equal to
the same field asked of that service alone, in as many SQL statements for 3 services as for 9."""

from __future__ import annotations

from typing import Any

import httpx

from service import db as dbmod
from tests.graphql.test_service_kpis import api, catalog, gql, send, services  # noqa: F401

Headers = dict[str, str]

WINDOW = 'from: "2026-02-01T00:00:00Z", to: "2026-03-01T00:00:00Z"'
FIELDS = f"""
    dora({WINDOW}) {{
        deployments deploymentsPerWeek {{ value band }} leadTime {{ value band }}
        changeFailureRate {{ value band }} reworkRate
    }}
    spend({WINDOW}) {{ currencies {{ currency total byCategory {{ category amount }} }} }}
    incidentStats({WINDOW}) {{
        overall {{ incidents mttr {{ n mean median p90 }} timeToRestore {{ n mean }} }}
        bySeverity {{ severity incidents }} byService {{ service incidents }}
        recurrenceRate usersAffected downtimeCost
    }}
"""
PAGE = f"{{ services(first: 20) {{ nodes {{ slug {FIELDS} }} }} }}"


async def activity(client: httpx.AsyncClient, admin: Headers, first: int, last: int) -> None:
    """s{i} deployed i times to production in February (every other one failed), and spent
    10 x i EUR on compute and, for odd i, 5 USD on licences."""
    for i in range(first, last):
        for n in range(i):
            await send(client, admin, "POST", "/v1/changes", {
                "external_id": f"c{i}-{n}", "service": f"s{i}", "environment": "production",
                "kind": "deploy", "status": "failed" if n % 2 else "success",
                "started_at": f"2026-02-{n + 2:02d}T10:00:00Z",
                "finished_at": f"2026-02-{n + 2:02d}T10:05:00Z",
            }, status=200)  # fmt: skip
        costs = [
            {
                "service": f"s{i}",
                "category": "compute",
                "period_start": "2026-02-01",
                "period_end": "2026-02-28",
                "amount": 10.0 * i,
                "currency": "EUR",
            }
        ]
        if i % 2:
            costs.append({"service": f"s{i}", "category": "licences",
                          "period_start": "2026-02-01", "period_end": "2026-02-28",
                          "amount": 5.0, "currency": "USD"})  # fmt: skip
        await send(client, admin, "POST", "/v1/costs", costs)


async def page_statements(
    con: dbmod.Connection, client: httpx.AsyncClient, reader: Headers
) -> tuple[int, list[dict[str, Any]]]:
    seen: list[str] = []

    def log(record: Any) -> None:
        seen.append(record.query)

    con.add_query_logger(log)
    try:
        data = await gql(client, reader, PAGE)
    finally:
        con.remove_query_logger(log)
    nodes: list[dict[str, Any]] = data["services"]["nodes"]
    return len(seen), nodes


async def test_reports_of_a_page_are_each_services_own_in_flat_statements(
    api: httpx.AsyncClient,  # noqa: F811
    con: dbmod.Connection, admin: Headers, reader: Headers,
) -> None:  # fmt: skip
    await catalog(api, admin)
    await services(api, admin, 0, 3)
    await activity(api, admin, 0, 3)
    await page_statements(con, api, reader)  # the driver learns the types it has not met
    small, nodes = await page_statements(con, api, reader)
    await services(api, admin, 3, 9)
    await activity(api, admin, 3, 9)
    large, nodes = await page_statements(con, api, reader)
    assert [n["slug"] for n in nodes] == [f"s{i}" for i in range(9)]
    for node in nodes:
        alone = await gql(api, reader, f'{{ service(slug: "{node["slug"]}") {{ {FIELDS} }} }}')
        assert {k: node[k] for k in ("dora", "spend", "incidentStats")} == alone["service"]
    s3 = nodes[3]
    assert s3["dora"]["deployments"] == 3
    assert s3["spend"]["currencies"] == [
        {"currency": "EUR", "total": 30.0, "byCategory": [{"category": "compute", "amount": 30.0}]},
        {"currency": "USD", "total": 5.0, "byCategory": [{"category": "licences", "amount": 5.0}]},
    ]
    assert nodes[0]["dora"]["deployments"] == 0
    assert nodes[0]["incidentStats"]["overall"]["incidents"] == 0
    assert s3["incidentStats"]["overall"]["incidents"] == 1
    assert s3["incidentStats"]["overall"]["timeToRestore"] == {"n": 1, "mean": 90.0}
    assert s3["incidentStats"]["byService"] == [{"service": "s3", "incidents": 1}]
    assert [c["currency"] for c in nodes[2]["spend"]["currencies"]] == ["EUR"]
    print(f"SQL statements for services with their reports: 3 -> {small}, 9 -> {large}")
    assert small == large


MTTR_BY_SEVERITY = f"""incidentStats({WINDOW}) {{
    window {{ start }} bySeverity {{ severity incidents mttr {{ n mean median p90 }} }}
}}"""


async def test_mttr_by_severity_alone_gives_the_figures_of_the_full_read(
    api: httpx.AsyncClient,  # noqa: F811
    con: dbmod.Connection, admin: Headers, reader: Headers,
) -> None:  # fmt: skip
    await catalog(api, admin)
    await services(api, admin, 0, 4)
    page = f"{{ services(first: 20) {{ nodes {{ slug {MTTR_BY_SEVERITY} }} }} }}"
    data = await gql(api, reader, page)
    nodes = data["services"]["nodes"]
    # s3 was down from 10:00 to 11:30 on 10 February, a sev1 detected at its start: one
    # incident, resolved 90 minutes after detection (mean, median and p90 of one value).
    assert nodes[3]["incidentStats"] == {
        "window": {"start": "2026-02-01T00:00:00Z"},
        "bySeverity": [{"severity": "SEV1", "incidents": 1,
                        "mttr": {"n": 1, "mean": 90.0, "median": 90.0, "p90": 90.0}}],
    }  # fmt: skip
    assert nodes[0]["incidentStats"]["bySeverity"] == []  # s0 had no incident
    # Asking for one more figure (the overall count) reads every figure, and the groups by
    # severity are the same.
    wider = MTTR_BY_SEVERITY.replace("window { start }", "window { start } overall { incidents }")
    full = await gql(api, reader, f"{{ services(first: 20) {{ nodes {{ slug {wider} }} }} }}")
    for narrow, wide in zip(nodes, full["services"]["nodes"], strict=True):
        assert narrow["incidentStats"]["bySeverity"] == wide["incidentStats"]["bySeverity"]
    assert full["services"]["nodes"][3]["incidentStats"]["overall"] == {"incidents": 1}


def test_the_narrow_read_serves_only_selections_it_can_answer() -> None:
    from service.graphql.types.service import RESOLUTION_GROUP_FIELDS, RESOLUTION_REPORT_FIELDS

    # What the portal's MTTR-by-severity selection names, and nothing it leaves empty.
    assert {"window", "bySeverity"} <= RESOLUTION_REPORT_FIELDS
    assert not {"overall", "byService", "recurrenceRate", "usersAffected",
                "downtimeCost"} & RESOLUTION_REPORT_FIELDS  # fmt: skip
    assert not {"mttd", "mtta", "timeToRestore", "service"} & RESOLUTION_GROUP_FIELDS
