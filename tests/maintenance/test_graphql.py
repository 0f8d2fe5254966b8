"""Service.maintenanceWindows, Service.errorBudgetPolicy and Service.deployGate in the graph:
the same figures as REST, and statements flat in the number of services.

The scenario of test_deploy_gate.py: checkout (tier 1) spent 30 of 21.6 allowed minutes
(frozen), billing (tier 4) 120 of 432 (allowed)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from service import db as dbmod
from tests.maintenance.conftest import Clock
from tests.maintenance.test_deploy_gate import POLICY, scenario
from tests.usecases.test_reports import add_service, gql_data, send

Headers = dict[str, str]

QUERY = """query($type: ChangeKind!) { services(first: 100) { nodes {
  slug
  maintenanceWindows { nodes { startsAt endsAt reason createdBy } }
  errorBudgetPolicy { freezeWhenBudgetExhausted windowDays passingChangeTypes kpi }
  deployGate(changeType: $type) {
    changeType decision reason
    budget { target window allowedDowntimeMinutes spentMinutes remainingMinutes
             plannedDowntimeMinutes }
  }
} } }"""


async def ask(
    app: httpx.AsyncClient, reader: Headers, con: dbmod.Connection, kind: str = "DEPLOY"
) -> tuple[dict[str, Any], int]:
    statements: list[str] = []

    def log(record: Any) -> None:
        statements.append(record.query)

    con.add_query_logger(log)
    try:
        data = await gql_data(app, reader, QUERY, {"type": kind})
    finally:
        con.remove_query_logger(log)
    return {n["slug"]: n for n in data["services"]["nodes"]}, len(statements)


async def test_windows_policy_and_gate_in_the_graph(
    app: httpx.AsyncClient, con: dbmod.Connection, admin: Headers, reader: Headers,
    clock: Clock,
) -> None:  # fmt: skip
    await scenario(app, admin, clock)
    for slug in ("checkout", "billing"):
        await send(app, admin, "PUT", POLICY.format(slug), {})
    found, small = await ask(app, reader, con)
    checkout, billing = found["checkout"], found["billing"]
    assert checkout["maintenanceWindows"]["nodes"] == [{
        "startsAt": "2026-11-10T02:00:00Z", "endsAt": "2026-11-10T05:00:00Z",
        "reason": "database upgrade", "createdBy": "admin",
    }]  # fmt: skip
    assert billing["maintenanceWindows"]["nodes"] == []
    assert checkout["errorBudgetPolicy"] == {
        "freezeWhenBudgetExhausted": True, "windowDays": 30,
        "passingChangeTypes": ["HOTFIX", "ROLLBACK"], "kpi": None,
    }  # fmt: skip
    gate = checkout["deployGate"]
    assert (gate["changeType"], gate["decision"]) == ("DEPLOY", "freeze")
    assert gate["budget"] == {
        "target": 99.95, "window": "30d", "allowedDowntimeMinutes": pytest.approx(21.6),
        "spentMinutes": pytest.approx(30.0), "remainingMinutes": pytest.approx(-8.4),
        "plannedDowntimeMinutes": pytest.approx(90.0),
    }  # fmt: skip
    assert billing["deployGate"]["decision"] == "allow"
    assert billing["deployGate"]["budget"]["remainingMinutes"] == pytest.approx(312.0)
    rest = await send(app, reader, "GET", "/v1/services/checkout/deploy-gate")
    assert rest["reason"] == gate["reason"]
    hotfix, _ = await ask(app, reader, con, "HOTFIX")
    assert hotfix["checkout"]["deployGate"]["decision"] == "allow"
    # Ten more services with the same policy: the same statements.
    for i in range(10):
        await add_service(app, admin, f"s{i}", 2)
        await send(app, admin, "PUT", POLICY.format(f"s{i}"), {})
    found, large = await ask(app, reader, con)
    assert len(found) == 12
    assert large == small
