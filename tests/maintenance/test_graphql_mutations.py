"""Maintenance windows and error-budget policies written through GraphQL: the use cases REST
calls, so the database's rules (a window is immutable once started, by the app's clock) and
the audit trail apply; problems name the field; only admins mutate. And
Service.changeAnnotations, the deploy-gate overrides, paged newest first as REST lists them,
in statements flat in the number of services.

The clock starts at 2026-10-20T12:00Z (tests/maintenance/conftest.py). The gate's figures are
those of test_deploy_gate.py: at 2026-12-01T00:00Z, checkout (tier 1, 99.95 %) was down 120
min on November 10th, 90 of them inside its window, so it spent 30 of 0.0005 x 43,200 = 21.6
allowed minutes over 30 days."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from service import db as dbmod
from service.models.enums import Scope
from service.usecases import tokens
from tests.maintenance.conftest import WINDOWS, Clock, utc, window
from tests.maintenance.test_audit import audit_of
from tests.maintenance.test_deploy_gate import GATE, POLICY, scenario
from tests.usecases.test_reports import add_service, gql, gql_data, send

Headers = dict[str, str]
Json = dict[str, Any]

PROBLEM = "... on Problem { status detail errors { field pointer detail } }"
ANNOUNCE = f"""mutation($service: String!, $input: MaintenanceWindowInput!) {{
  announceMaintenanceWindow(service: $service, input: $input) {{
    __typename
    ... on MaintenanceWindow {{ id startsAt endsAt reason createdBy createdAt }}
    {PROBLEM}
  }}
}}"""
CHANGE = f"""mutation($id: Int!, $input: MaintenanceWindowInput!) {{
  changeMaintenanceWindow(id: $id, input: $input) {{
    __typename
    ... on MaintenanceWindow {{ id startsAt endsAt reason createdBy createdAt }}
    {PROBLEM}
  }}
}}"""
CANCEL = f"""mutation($id: Int!) {{
  cancelMaintenanceWindow(id: $id) {{ __typename ... on Deleted {{ ok }} {PROBLEM} }}
}}"""
SET_POLICY = f"""mutation($service: String!, $input: ErrorBudgetPolicyInput!) {{
  setErrorBudgetPolicy(service: $service, input: $input) {{
    __typename
    ... on ErrorBudgetPolicy {{
      freezeWhenBudgetExhausted kpi windowDays passingChangeTypes
    }}
    {PROBLEM}
  }}
}}"""
DELETE_POLICY = f"""mutation($service: String!) {{
  deleteErrorBudgetPolicy(service: $service) {{ __typename ... on Deleted {{ ok }} {PROBLEM} }}
}}"""
GATE_QUERY = """query($slug: String!) { service(slug: $slug) {
  deployGate { decision reason budget { allowedDowntimeMinutes spentMinutes remainingMinutes } }
} }"""


async def mutate(app: httpx.AsyncClient, headers: Headers, query: str, **variables: Any) -> Json:
    (result,) = (await gql_data(app, headers, query, variables)).values()
    assert isinstance(result, dict)
    return result


def gwindow(start: str, end: str, reason: str = "database upgrade") -> Json:
    """A window as GraphQL takes it."""
    return {"startsAt": f"2026-{start}:00Z", "endsAt": f"2026-{end}:00Z", "reason": reason}


def problem(status: int, field: str, detail: str) -> Json:
    return {"status": status, "field": field, "detail": detail}


def seen(result: Json) -> Json:
    """A Problem as (status, the one field it names, that field's detail)."""
    assert result["__typename"] == "Problem", result
    (error,) = result["errors"]
    assert error["pointer"] == f"#/{error['field']}"
    return problem(result["status"], error["field"], error["detail"])


async def test_a_window_announced_changed_and_cancelled_through_graphql(
    app: httpx.AsyncClient, admin: Headers, reader: Headers, clock: Clock
) -> None:
    await add_service(app, admin, "checkout", 1)
    made = await mutate(app, admin, ANNOUNCE, service="checkout",
                        input=gwindow("11-10T02:00", "11-10T05:00"))  # fmt: skip
    assert made == {
        "__typename": "MaintenanceWindow", "id": made["id"],
        "startsAt": "2026-11-10T02:00:00Z", "endsAt": "2026-11-10T05:00:00Z",
        "reason": "database upgrade", "createdBy": "admin",
        "createdAt": "2026-10-20T12:00:00Z",  # the app's clock, not the database's
    }  # fmt: skip
    path = f"/v1/maintenance-windows/{made['id']}"
    created = await send(app, reader, "GET", path)
    assert (created["service"], created["starts_at"], created["ends_at"]) == (
        "checkout", "2026-11-10T02:00:00Z", "2026-11-10T05:00:00Z",
    )  # fmt: skip

    clock.at = utc("10-25T08:00")
    moved = await mutate(app, admin, CHANGE, id=made["id"],
                         input=gwindow("11-11T01:00", "11-11T03:30", "moved a day"))  # fmt: skip
    assert (moved["id"], moved["startsAt"], moved["endsAt"], moved["reason"]) == (
        made["id"], "2026-11-11T01:00:00Z", "2026-11-11T03:30:00Z", "moved a day",
    )  # fmt: skip
    # Still announced by the admin on the 20th: a change keeps who and when.
    assert (moved["createdBy"], moved["createdAt"]) == ("admin", "2026-10-20T12:00:00Z")
    changed = await send(app, reader, "GET", path)
    graph = await gql_data(
        app,
        reader,
        """{ service(slug: "checkout") {
      maintenanceWindows { nodes { id startsAt endsAt reason } } } }""",
    )
    assert graph["service"]["maintenanceWindows"]["nodes"] == [{
        "id": made["id"], "startsAt": "2026-11-11T01:00:00Z", "endsAt": "2026-11-11T03:30:00Z",
        "reason": "moved a day",
    }]  # fmt: skip

    assert await mutate(app, admin, CANCEL, id=made["id"]) == {"__typename": "Deleted", "ok": True}
    assert (await app.get(path, headers=reader)).status_code == 404

    # The audit trail: three entries made through GraphQL by the admin token, with the window
    # before and after as REST reads it.
    found = await audit_of(app, admin, "maintenance-window", str(made["id"]))
    assert [(e["action"], e["via"], e["actor_name"]) for e in found] == [
        ("delete", "graphql", "admin"), ("update", "graphql", "admin"),
        ("create", "graphql", "admin"),
    ]  # fmt: skip
    deleted, updated, announced = found
    assert (announced["before"], announced["after"]) == (None, created)
    assert (updated["before"], updated["after"]) == (created, changed)
    assert (deleted["before"], deleted["after"]) == (changed, None)


async def test_a_started_window_is_refused_naming_the_field(
    app: httpx.AsyncClient, admin: Headers, reader: Headers, clock: Clock
) -> None:
    await add_service(app, admin, "checkout", 1)
    # Announced after the fact: the clock is at 10-20T12:00, an hour after the start.
    late = await mutate(app, admin, ANNOUNCE, service="checkout",
                        input=gwindow("10-20T11:00", "10-20T13:00"))  # fmt: skip
    announced = "must be after now: a window is announced before it starts"
    assert seen(late) == problem(409, "startsAt", announced)
    backwards = await mutate(app, admin, ANNOUNCE, service="checkout",
                             input=gwindow("11-10T05:00", "11-10T02:00"))  # fmt: skip
    assert seen(backwards) == problem(422, "endsAt", "must be after starts_at")
    naive = await mutate(app, admin, ANNOUNCE, service="checkout",
                         input={**gwindow("11-10T02:00", "11-10T05:00"),
                                "startsAt": "2026-11-10T02:00:00"})  # fmt: skip
    assert seen(naive)["status"] == 422
    assert seen(naive)["field"] == "startsAt"
    unknown = await mutate(app, admin, ANNOUNCE, service="nope",
                           input=gwindow("11-10T02:00", "11-10T05:00"))  # fmt: skip
    assert (unknown["__typename"], unknown["status"]) == ("Problem", 404)

    made = await mutate(app, admin, ANNOUNCE, service="checkout",
                        input=gwindow("11-10T02:00", "11-10T05:00"))  # fmt: skip
    before = await send(app, reader, "GET", f"/v1/maintenance-windows/{made['id']}")
    clock.at = utc("11-10T03:00")  # an hour into the window
    started = "the window has started: it can no longer be changed"
    # The field named is the first one the change touches: the end only, then the start.
    longer = await mutate(app, admin, CHANGE, id=made["id"],
                          input=gwindow("11-10T02:00", "11-10T06:00"))  # fmt: skip
    assert seen(longer) == problem(409, "endsAt", started)
    # The detail names the field as REST does (the README shows this answer).
    assert longer["detail"] == f"ends_at: {started}"
    later = await mutate(app, admin, CHANGE, id=made["id"],
                         input=gwindow("11-10T04:00", "11-10T06:00"))  # fmt: skip
    assert seen(later) == problem(409, "startsAt", started)
    cancelled = await mutate(app, admin, CANCEL, id=made["id"])
    assert seen(cancelled) == problem(409, "startsAt", started)
    missing = await mutate(app, admin, CANCEL, id=made["id"] + 1000)
    assert (missing["status"], missing["detail"]) == (404, f"no maintenance window "
                                                            f"{made['id'] + 1000}")  # fmt: skip

    # Nothing changed, and only the announcement is in the audit trail.
    assert await send(app, reader, "GET", f"/v1/maintenance-windows/{made['id']}") == before
    found = await audit_of(app, admin, "maintenance-window", str(made["id"]))
    assert [(e["action"], e["via"]) for e in found] == [("create", "graphql")]


async def test_only_admins_mutate_windows_and_policies(
    app: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, reader: Headers
) -> None:
    await add_service(app, admin, "checkout", 1)
    made = await send(app, admin, "POST", WINDOWS, window("11-10T02:00", "11-10T05:00"),
                      status=201)  # fmt: skip
    await send(app, admin, "PUT", POLICY.format("checkout"), {"window_days": 7})
    attempts = [
        (ANNOUNCE, {"service": "checkout", "input": gwindow("11-12T02:00", "11-12T05:00")}),
        (CHANGE, {"id": made["id"], "input": gwindow("11-12T02:00", "11-12T05:00")}),
        (CANCEL, {"id": made["id"]}),
        (SET_POLICY, {"service": "checkout", "input": {"windowDays": 90}}),
        (DELETE_POLICY, {"service": "checkout"}),
    ]
    # A reader, and a pipeline's token (read and ingest: it may override the gate over
    # REST), are refused.
    pipeline = await tokens.create_token(con, name="pipeline", scopes=[Scope.READ, Scope.INGEST])
    for headers in (reader, {"Authorization": f"Bearer {pipeline.token}"}):
        for query, variables in attempts:
            body = await gql(app, headers, query, variables, status=403)
            assert body.get("data") is None
            (error,) = body["errors"]
            assert error["extensions"]["code"] == "FORBIDDEN", query
    assert await send(app, reader, "GET", f"/v1/maintenance-windows/{made['id']}") == made
    assert await con.fetchval("select count(*) from maintenance_window") == 1
    policy = await send(app, reader, "GET", POLICY.format("checkout"))
    assert policy["window_days"] == 7
    assert [e["via"] for e in await audit_of(app, admin, "error-budget-policy", "checkout")] == [
        "rest"
    ]


async def gate_now(app: httpx.AsyncClient, reader: Headers) -> Json:
    found: Json = (await gql_data(app, reader, GATE_QUERY, {"slug": "checkout"}))["service"]
    return found["deployGate"]


async def test_an_error_budget_policy_set_changed_and_removed_through_graphql(
    app: httpx.AsyncClient, admin: Headers, reader: Headers, clock: Clock
) -> None:
    await scenario(app, admin, clock)
    # Over 90 days (129,600 min) checkout may be down 0.0005 x 129,600 = 64.8 min; it spent
    # 30, so 34.8 remain and the gate allows.
    wide = {"windowDays": 90, "passingChangeTypes": ["ROLLBACK"],
            "freezeWhenBudgetExhausted": True}  # fmt: skip
    policy = await mutate(app, admin, SET_POLICY, service="checkout", input=wide)
    assert policy == {"__typename": "ErrorBudgetPolicy", "kpi": None, **wide}
    rest = await send(app, reader, "GET", POLICY.format("checkout"))
    assert rest == {
        "service": "checkout", "freeze_when_budget_exhausted": True, "kpi": None,
        "window_days": 90, "passing_change_types": ["rollback"],
    }  # fmt: skip
    gate = await gate_now(app, reader)
    assert (gate["decision"], gate["reason"]) == ("allow", "error budget remaining")
    assert gate["budget"] == {"allowedDowntimeMinutes": pytest.approx(64.8),
                              "spentMinutes": pytest.approx(30.0),
                              "remainingMinutes": pytest.approx(34.8)}  # fmt: skip

    # Left out, the fields take their defaults: 30 days, hotfix and rollback pass. Then
    # 21.6 allowed - 30 spent = -8.4 minutes: frozen.
    default = await mutate(app, admin, SET_POLICY, service="checkout", input={})
    assert default == {
        "__typename": "ErrorBudgetPolicy", "freezeWhenBudgetExhausted": True, "kpi": None,
        "windowDays": 30, "passingChangeTypes": ["HOTFIX", "ROLLBACK"],
    }  # fmt: skip
    gate = await gate_now(app, reader)
    assert gate["decision"] == "freeze"
    assert gate["budget"]["remainingMinutes"] == pytest.approx(-8.4)
    assert (await send(app, reader, "GET", GATE.format("checkout")))["decision"] == "freeze"

    # Bad input names the field; an unknown service is a 404; nothing of them is stored.
    for given, field in (({"windowDays": 0}, "windowDays"), ({"kpi": "no_such_kpi"}, "kpi"),
                         ({"windowDays": 367}, "windowDays")):  # fmt: skip
        bad = await mutate(app, admin, SET_POLICY, service="checkout", input=given)
        assert (bad["status"], [e["field"] for e in bad["errors"]]) == (422, [field]), given
    unknown = await mutate(app, admin, SET_POLICY, service="nope", input={})
    assert (unknown["status"], unknown["errors"]) == (404, [])

    removed = await mutate(app, admin, DELETE_POLICY, service="checkout")
    assert removed == {"__typename": "Deleted", "ok": True}
    again = await mutate(app, admin, DELETE_POLICY, service="checkout")
    assert (again["status"], again["detail"]) == (
        404, "service 'checkout' has no error-budget policy",
    )  # fmt: skip
    gate = await gate_now(app, reader)
    assert (gate["decision"], gate["reason"]) == ("allow", "the service has no error-budget policy")

    # The audit trail: set, changed, removed, each through GraphQL by the admin token.
    found = await audit_of(app, admin, "error-budget-policy", "checkout")
    assert [(e["action"], e["via"], e["actor_name"]) for e in found] == [
        ("delete", "graphql", "admin"), ("update", "graphql", "admin"),
        ("create", "graphql", "admin"),
    ]  # fmt: skip
    deleted, updated, created = found
    assert (created["before"], created["after"]) == (None, rest)
    assert (updated["before"]["window_days"], updated["after"]["window_days"]) == (90, 30)
    assert deleted["after"] is None
    assert deleted["before"]["passing_change_types"] == ["hotfix", "rollback"]


ANNOTATIONS = """query($first: Int!, $after: String) { services(first: 100) { nodes {
  slug
  changeAnnotations(first: $first, after: $after) {
    nodes { id kind changeType reason reference createdBy createdAt
            gate { changeType decision budget { spentMinutes remainingMinutes } } }
    pageInfo { hasNextPage endCursor }
  }
} } }"""


async def annotations(
    app: httpx.AsyncClient, reader: Headers, con: dbmod.Connection, first: int,
    after: str | None = None,
) -> tuple[dict[str, Json], int]:  # fmt: skip
    """Each service's page of annotations, and the statements the query ran."""
    statements: list[str] = []

    def log(record: Any) -> None:
        statements.append(record.query)

    con.add_query_logger(log)
    try:
        data = await gql_data(app, reader, ANNOTATIONS, {"first": first, "after": after})
    finally:
        con.remove_query_logger(log)
    pages = {n["slug"]: n["changeAnnotations"] for n in data["services"]["nodes"]}
    return pages, len(statements)


async def override(
    app: httpx.AsyncClient, ingester: Headers, slug: str, reason: str, **more: str
) -> Json:
    found: Json = await send(app, ingester, "POST", GATE.format(slug) + "/overrides",
                             {"reason": reason, **more}, status=201)  # fmt: skip
    return found


async def test_change_annotations_page_newest_first_in_flat_statements(
    app: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, reader: Headers,
    ingester: Headers, clock: Clock,
) -> None:  # fmt: skip
    await scenario(app, admin, clock)  # the clock now at 12-01T00:00
    await send(app, admin, "PUT", POLICY.format("checkout"), {})
    first = await override(app, ingester, "checkout", "CVE-2026-1234 fix",
                           reference="https://ci.example.com/run/42")  # fmt: skip
    clock.at = utc("12-01T06:00")
    second = await override(app, ingester, "checkout", "undo the flag", change_type="rollback")
    # Recorded by a process whose clock is behind: newest first goes by when each was
    # recorded (as REST lists them), not by id.
    clock.at = utc("12-01T03:00")
    third = await override(app, ingester, "checkout", "config drift", change_type="config")

    pages, small = await annotations(app, reader, con, first=2)
    assert pages["billing"] == {"nodes": [], "pageInfo": {"hasNextPage": False,
                                                          "endCursor": None}}  # fmt: skip
    page = pages["checkout"]
    assert [n["id"] for n in page["nodes"]] == [second["id"], third["id"]]
    assert page["pageInfo"]["hasNextPage"] is True
    newest = page["nodes"][0]
    assert newest == {
        "id": second["id"], "kind": "gate_override", "changeType": "ROLLBACK",
        "reason": "undo the flag", "reference": None, "createdBy": "ingest",
        "createdAt": "2026-12-01T06:00:00Z",
        # The gate's answer then: a rollback passes the freeze; 30 of 21.6 minutes spent.
        "gate": {"changeType": "ROLLBACK", "decision": "allow",
                 "budget": {"spentMinutes": pytest.approx(30.0),
                            "remainingMinutes": pytest.approx(-8.4)}},
    }  # fmt: skip
    rest, _ = await annotations(app, reader, con, first=2, after=page["pageInfo"]["endCursor"])
    last = rest["checkout"]
    assert [n["id"] for n in last["nodes"]] == [first["id"]]
    assert last["pageInfo"]["hasNextPage"] is False
    oldest = last["nodes"][0]
    assert (oldest["changeType"], oldest["reference"], oldest["createdAt"]) == (
        "DEPLOY", "https://ci.example.com/run/42", "2026-12-01T00:00:00Z",
    )  # fmt: skip
    assert oldest["gate"]["decision"] == "freeze"
    listed = await send(app, reader, "GET", "/v1/services/checkout/change-annotations")
    assert [a["id"] for a in listed] == [second["id"], third["id"], first["id"]]

    # Ten more services with three overrides each: the same statements.
    for i in range(10):
        await add_service(app, admin, f"s{i}", 2)
        for n in range(3):
            await override(app, ingester, f"s{i}", f"release {n}")
    pages, large = await annotations(app, reader, con, first=2)
    assert len(pages) == 12
    assert [len(pages[f"s{i}"]["nodes"]) for i in range(10)] == [2] * 10
    assert all(pages[f"s{i}"]["pageInfo"]["hasNextPage"] for i in range(10))
    assert large == small
