"""Where failures cluster (GET /v1/failure-clusters, the graph's failureClusters): production
changes, their failures and the incidents' restore time grouped by service, tier, team, kind,
environment, a service attribute (vendor) or a change label, the largest share first.

The fixture, over the window 2026-03-01 to 2026-03-15 (the clock stands at 03-20):

| service  | tier | team     | vendor |
|----------|------|----------|--------|
| checkout | 1    | payments | acme   |
| billing  | 2    | payments | globex |
| search   | 2    | web      | acme   |

| change | service  | kind     | env        | status      | finished  | risk label | fails because |
|--------|----------|----------|------------|-------------|-----------|------------|---------------|
| c1     | checkout | deploy   | production | success     | 03-02 10h | high       | caused I1     |
| c2     | checkout | deploy   | production | failed      | 03-03 10h | high       | failed        |
| c3     | checkout | deploy   | production | success     | 03-04 10h | low        |               |
| b1     | billing  | deploy   | production | success     | 03-05 10h | low        |               |
| b2     | billing  | config   | production | rolled_back | 03-06 10h | high       | rolled back   |
| s1     | search   | deploy   | production | success     | 03-07 10h | (none)     |               |
| s2     | search   | hotfix   | staging    | failed      | 03-08 10h |            | not production|
| c0     | checkout | deploy   | production | failed      | 02-27 10h |            | before window |

Production changes in the window: c1 c2 c3 b1 b2 s1 = 6; failed: c1 c2 b2 = 3 (50 %).

| incident | service  | severity | started    | resolved   | restore | cause |
|----------|----------|----------|------------|------------|---------|-------|
| I1       | checkout | sev1     | 03-02 10:30| 03-02 12:30| 2 h     | c1    |
| I2       | search   | sev2     | 03-09 00:00| 03-09 01:00| 1 h     | none  |
| I3       | billing  | sev3     | 03-10 00:00| open       | -       | none  |
| I0       | checkout | sev2     | 02-27 12:00| 02-27 13:00| (before the window) |

Incidents in the window: 3, restore time 3 h over 2 resolved.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from service import db as dbmod
from service.config import Settings
from tests.conftest import app_client
from tests.usecases.test_reports import (
    NOW,
    Headers,
    add_incident,
    add_service,
    as_rest,
    at,
    gql_data,
    send,
)


@pytest.fixture
async def clocked(con: dbmod.Connection, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its clock stopped at 2026-03-20 12:00 UTC."""
    async with app_client(con, settings, lambda: NOW) as client:
        yield client


WINDOW = {"from": at("03-01T00:00"), "to": at("03-15T00:00")}

CHANGES = [
    # external id, service, kind, environment, status, finished, labels
    ("c1", "checkout", "deploy", "production", "success", "03-02T10:00", {"risk": "high"}),
    ("c2", "checkout", "deploy", "production", "failed", "03-03T10:00", {"risk": "high"}),
    ("c3", "checkout", "deploy", "production", "success", "03-04T10:00", {"risk": "low"}),
    ("b1", "billing", "deploy", "production", "success", "03-05T10:00", {"risk": "low"}),
    ("b2", "billing", "config", "production", "rolled_back", "03-06T10:00", {"risk": "high"}),
    ("s1", "search", "deploy", "production", "success", "03-07T10:00", {}),
    ("s2", "search", "hotfix", "staging", "failed", "03-08T10:00", {"risk": "high"}),
    ("c0", "checkout", "deploy", "production", "failed", "02-27T10:00", {"risk": "high"}),
]


async def seed(client: httpx.AsyncClient, admin: Headers) -> None:
    for slug, name in (("payments", "Payments"), ("web", "Web")):
        await send(client, admin, "POST", "/v1/teams", {"slug": slug, "name": name}, status=201)
    await add_service(client, admin, "checkout", 1, team="payments",
                      attributes={"vendor": "acme"})  # fmt: skip
    await add_service(client, admin, "billing", 2, team="payments",
                      attributes={"vendor": "globex"})  # fmt: skip
    await add_service(client, admin, "search", 2, team="web", attributes={"vendor": "acme"})
    for ext, service, kind, env, status, finished, labels in CHANGES:
        await send(client, admin, "POST", "/v1/changes", {
            "external_id": ext, "service": service, "kind": kind, "environment": env,
            "status": status, "finished_at": at(finished), "labels": labels,
        }, status=200)  # fmt: skip
    await add_incident(client, admin, "I1", "checkout", "sev1", "03-02T10:30", "03-02T12:30",
                       caused_by="c1")  # fmt: skip
    await add_incident(client, admin, "I2", "search", "sev2", "03-09T00:00", "03-09T01:00")
    await add_incident(client, admin, "I3", "billing", "sev3", "03-10T00:00")
    await add_incident(client, admin, "I0", "checkout", "sev2", "02-27T12:00", "02-27T13:00")


async def clusters(
    client: httpx.AsyncClient, headers: Headers, by: str, **params: Any
) -> dict[str, Any]:
    found: dict[str, Any] = await send(
        client, headers, "GET", "/v1/failure-clusters",
        params={"by": by, **WINDOW, **params}, status=200,
    )  # fmt: skip
    return found


def rows(answer: dict[str, Any]) -> list[tuple[Any, ...]]:
    """(key, changes, failures, share of failures, incidents, restore hours, share of
    restore time) of each cluster, in the order given."""
    return [
        (c["key"], c["changes"], c["failures"], c["share_of_failures"], c["incidents"],
         c["restore_hours"], c["share_of_restore_time"])
        for c in answer["clusters"]
    ]  # fmt: skip


async def test_by_service_ranks_by_share_of_failures(
    clocked: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await seed(clocked, admin)
    answer = await clusters(clocked, reader, "service")
    # 6 production changes in the window, 3 failed; 3 incidents, 2 h + 1 h restored.
    assert (answer["changes"], answer["failures"], answer["change_failure_rate"]) == (6, 3, 50.0)
    assert (answer["incidents"], answer["restore_hours"]) == (3, 3.0)
    assert rows(answer) == [
        # checkout: c1 c2 c3, 2 failed = 2/3 of all failures; I1 2 h of 3 h.
        ("checkout", 3, 2, pytest.approx(200 / 3), 1, 2.0, pytest.approx(200 / 3)),
        # billing: b1 b2, 1 failed = 1/3; I3 still open, no restore time.
        ("billing", 2, 1, pytest.approx(100 / 3), 1, 0.0, 0.0),
        # search: s1 (s2 is staging), none failed; I2 1 h of 3 h.
        ("search", 1, 0, 0.0, 1, 1.0, pytest.approx(100 / 3)),
    ]
    checkout = answer["clusters"][0]
    # 2 of checkout's 3 changes failed; I1 restored in 120 minutes.
    assert checkout["change_failure_rate"] == pytest.approx(200 / 3)
    assert (checkout["resolved_incidents"], checkout["mean_time_to_restore"]) == (1, 120.0)
    billing = answer["clusters"][1]
    assert (billing["resolved_incidents"], billing["mean_time_to_restore"]) == (0, None)


async def test_ordered_by_restore_time(
    clocked: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await seed(clocked, admin)
    answer = await clusters(clocked, reader, "service", order="restore_time")
    # checkout 2 h, search 1 h, billing 0 h (its failure share comes second as a tie-break).
    assert [c["key"] for c in answer["clusters"]] == ["checkout", "search", "billing"]


async def test_by_team_tier_and_vendor(
    clocked: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await seed(clocked, admin)
    # payments = checkout + billing: 5 changes, 3 failed (all of them); I1 2 h + I3 open.
    # web = search: 1 change, none failed; I2 1 h.
    assert rows(await clusters(clocked, reader, "team")) == [
        ("payments", 5, 3, 100.0, 2, 2.0, pytest.approx(200 / 3)),
        ("web", 1, 0, 0.0, 1, 1.0, pytest.approx(100 / 3)),
    ]
    # tier 1 = checkout; tier 2 = billing + search: 3 changes, 1 failed, I2 1 h + I3 open.
    assert rows(await clusters(clocked, reader, "tier")) == [
        ("1", 3, 2, pytest.approx(200 / 3), 1, 2.0, pytest.approx(200 / 3)),
        ("2", 3, 1, pytest.approx(100 / 3), 2, 1.0, pytest.approx(100 / 3)),
    ]
    # acme = checkout + search: 4 changes, 2 failed, 3 h of 3 h; globex = billing.
    assert rows(await clusters(clocked, reader, "service_attribute", name="vendor")) == [
        ("acme", 4, 2, pytest.approx(200 / 3), 2, 3.0, 100.0),
        ("globex", 2, 1, pytest.approx(100 / 3), 1, 0.0, 0.0),
    ]


async def test_by_change_dimensions_incidents_follow_their_cause(
    clocked: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await seed(clocked, admin)
    # risk=high: c1 c2 b2, all failed; I1 (caused by c1) 2 h. risk=low: c3 b1. No label: s1,
    # and the incidents naming no change (I2 1 h, I3 open) - the null group, shown last.
    assert rows(await clusters(clocked, reader, "change_label", name="risk")) == [
        ("high", 3, 3, 100.0, 1, 2.0, pytest.approx(200 / 3)),
        (None, 1, 0, 0.0, 2, 1.0, pytest.approx(100 / 3)),
        ("low", 2, 0, 0.0, 0, 0.0, 0.0),
    ]
    # deploy: c1 c2 c3 b1 s1, 2 failed; config: b2, failed. I1's cause c1 is a deploy.
    assert rows(await clusters(clocked, reader, "kind")) == [
        ("deploy", 5, 2, pytest.approx(200 / 3), 1, 2.0, pytest.approx(200 / 3)),
        ("config", 1, 1, pytest.approx(100 / 3), 0, 0.0, 0.0),
        (None, 0, 0, 0.0, 2, 1.0, pytest.approx(100 / 3)),
    ]
    # Every production change is in "production" (staging's s2 is not a production change).
    by_env = await clusters(clocked, reader, "environment")
    assert [(c["key"], c["changes"], c["failures"]) for c in by_env["clusters"]] == [
        ("production", 6, 3), (None, 0, 0),
    ]  # fmt: skip


async def test_figures_match_each_service_report(
    clocked: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    """The failures counted here are those the DORA change failure rate counts: each
    service's group holds the deployments and failure rate of its own service report."""
    await seed(clocked, admin)
    answer = await clusters(clocked, reader, "service")
    for group in answer["clusters"]:
        report = await send(clocked, reader, "GET", f"/v1/services/{group['key']}/report",
                            params=WINDOW, status=200)  # fmt: skip
        dora = report["dora"]
        assert group["changes"] == dora["deployments"]
        assert group["change_failure_rate"] == pytest.approx(dora["change_failure_rate"]["value"])
        assert group["incidents"] == report["incidents"]["overall"]["incidents"]


async def test_scope_and_severity_filters(
    clocked: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await seed(clocked, admin)
    # Only the web team's services: search.
    web = await clusters(clocked, reader, "service", team="web")
    assert [(c["key"], c["changes"], c["incidents"]) for c in web["clusters"]] == [("search", 1, 1)]
    # Only sev1 and sev2 incidents: I1 and I2 (I3 is sev3); changes are not filtered.
    severe = await clusters(clocked, reader, "service", severity=["sev1", "sev2"])
    assert (severe["changes"], severe["incidents"]) == (6, 2)


async def test_graphql_gives_the_same_breakdown(
    clocked: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await seed(clocked, admin)
    data = await gql_data(clocked, reader, """
        query($from: DateTime!, $to: DateTime!) {
          failureClusters(by: SERVICE_ATTRIBUTE, name: "vendor", from: $from, to: $to) {
            changes failures changeFailureRate incidents restoreHours name
            clusters { key changes failures changeFailureRate shareOfFailures incidents
                       resolvedIncidents restoreHours shareOfRestoreTime meanTimeToRestore }
          }
        }""", WINDOW)  # fmt: skip
    rest = await clusters(clocked, reader, "service_attribute", name="vendor")
    graph = as_rest(data["failureClusters"])
    assert graph["clusters"] == rest["clusters"]
    assert (graph["changes"], graph["failures"], graph["name"]) == (6, 3, "vendor")


async def test_attributes_and_labels_read_back(
    clocked: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await seed(clocked, admin)
    service = await send(clocked, reader, "GET", "/v1/services/checkout", status=200)
    assert service["attributes"] == {"vendor": "acme"}
    changes = await send(clocked, reader, "GET", "/v1/changes",
                         params={"service": "billing"}, status=200)  # fmt: skip
    assert {c["external_id"]: c["labels"] for c in changes} == {
        "b1": {"risk": "low"}, "b2": {"risk": "high"},
    }  # fmt: skip
    data = await gql_data(clocked, reader, """
        { service(slug: "billing") { attributes { name value }
            changes { nodes { externalId labels { name value } } } } }""")  # fmt: skip
    assert data["service"]["attributes"] == [{"name": "vendor", "value": "globex"}]
    assert {n["externalId"]: n["labels"] for n in data["service"]["changes"]["nodes"]} == {
        "b1": [{"name": "risk", "value": "low"}], "b2": [{"name": "risk", "value": "high"}],
    }  # fmt: skip


async def test_a_later_report_replaces_a_label(
    clocked: httpx.AsyncClient, admin: Headers, reader: Headers
) -> None:
    await seed(clocked, admin)
    # c3 reported again later (running, then succeeded) with risk=medium and a new label.
    await send(clocked, admin, "POST", "/v1/changes", {
        "external_id": "c3", "service": "checkout", "status": "success",
        "environment": "production", "finished_at": at("03-04T11:00"),
        "labels": {"risk": "medium", "pipeline": "nightly"},
    }, status=200)  # fmt: skip
    changes = await send(clocked, reader, "GET", "/v1/changes",
                         params={"service": "checkout"}, status=200)  # fmt: skip
    assert {c["external_id"]: c["labels"] for c in changes}["c3"] == {
        "risk": "medium", "pipeline": "nightly",
    }  # fmt: skip


async def test_graphql_sets_service_attributes(clocked: httpx.AsyncClient, admin: Headers) -> None:
    data = await gql_data(clocked, admin, """
        mutation { upsertService(input: {slug: "ledger", name: "Ledger", tier: 3,
            attributes: [{name: "vendor", value: "initech"}, {name: "region", value: "eu"}]}) {
          ... on Service { slug attributes { name value } }
          ... on Problem { detail } } }""")  # fmt: skip
    assert data["upsertService"]["attributes"] == [
        {"name": "region", "value": "eu"}, {"name": "vendor", "value": "initech"},
    ]  # fmt: skip
    twice = await gql_data(
        clocked,
        admin,
        """
        mutation { upsertService(input: {slug: "ledger", name: "Ledger", tier: 3,
            attributes: [{name: "vendor", value: "a"}, {name: "vendor", value: "b"}]}) {
          ... on Service { slug } ... on Problem { status errors { field detail } } } }""",
    )
    problem = twice["upsertService"]
    assert problem["status"] == 422
    assert problem["errors"][0]["field"] == "attributes"
    assert "given twice" in problem["errors"][0]["detail"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"by": "vendor"}, "by"),
        ({"by": "service_attribute"}, "name"),
        ({"by": "team", "name": "vendor"}, "name"),
        ({"by": "team", "team": "nobody"}, "team"),
        ({"by": "team", "team": "web", "tier": "1"}, "tier"),
    ],
)
async def test_bad_queries_name_the_field(
    clocked: httpx.AsyncClient, reader: Headers, params: dict[str, str], field: str
) -> None:
    r = await clocked.get("/v1/failure-clusters", params={**WINDOW, **params}, headers=reader)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert field in {e["field"] for e in r.json()["errors"]}


async def test_bad_attributes_and_labels_name_the_field(
    clocked: httpx.AsyncClient, admin: Headers
) -> None:
    r = await clocked.post("/v1/services", headers=admin, json={
        "slug": "x", "name": "X", "tier": 1, "attributes": {"vendor": ""},
    })  # fmt: skip
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "attributes.vendor"
    r = await clocked.post("/v1/changes", headers=admin, json={
        "external_id": "z", "service": "x", "status": "success", "labels": {"risk": 3},
    })  # fmt: skip
    assert r.status_code == 422, r.text
    assert "labels.risk" in {e["field"] for e in r.json()["errors"]}
