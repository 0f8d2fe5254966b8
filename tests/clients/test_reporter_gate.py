"""kpi-report gate against the service in-process: exit 0 on allow, 5 on freeze, hotfixes
passing, and --override-reason passing and recorded as a change annotation; and the client's
maintenance window, policy and gate methods.

Worked numbers: the app's clock is 2031-03-01T09:00Z, so the trailing 30 days run from
2031-01-30T09:00Z (43,200 min). Checkout (tier 1, 99.95 %) may be down 0.0005 x 43,200 =
21.6 min; a sev1 outage on 2031-02-10 from 01:30 to 03:30 spent 120 min, so remaining =
21.6 - 120 = -98.4 min: frozen.
"""

from __future__ import annotations

import json

import pytest
from kpi_client import AsyncClient
from kpi_client.errors import ApiError
from kpi_client.models import ErrorBudgetPolicyIn, IncidentIn, ServiceIn

from service import db as dbmod
from service.models.enums import Scope
from service.usecases import tokens
from tests.clients.catalog_data import at
from tests.clients.conftest import Headers
from tests.clients.test_reporter import GITHUB, environ_for, run
from tests.clients.transports import LoopForwardingTransport

GATE = ["gate", "--service", "checkout"]


async def ci_token(con: dbmod.Connection) -> Headers:
    """A pipeline's token: read (to ask the gate) and ingest (to record an override)."""
    made = await tokens.create_token(con, name="ci-checkout", scopes=[Scope.READ, Scope.INGEST])
    return {"Authorization": f"Bearer {made.token}"}


async def outage(kpi: AsyncClient) -> None:
    await kpi.create_service(ServiceIn(slug="checkout", name="Checkout", tier=1))
    await kpi.upsert_incident(IncidentIn(
        external_id="db-1", service="checkout", severity="sev1", status="resolved",
        started_at=at(2031, 2, 10, 1, 30), resolved_at=at(2031, 2, 10, 3, 30),
    ))  # fmt: skip


async def test_gate_exit_codes_hotfix_and_recorded_override(
    kpi: AsyncClient, con: dbmod.Connection, forwarding: LoopForwardingTransport,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    await outage(kpi)
    env = environ_for(await ci_token(con), GITHUB)
    # No policy: allow.
    assert await run(GATE, env, forwarding) == 0
    assert "allow (deploy): the service has no error-budget policy" in capsys.readouterr().out
    await kpi.put_error_budget_policy("checkout", ErrorBudgetPolicyIn())
    assert await run(GATE, env, forwarding) == 5
    out, err = capsys.readouterr()
    assert "checkout: freeze (deploy)" in out
    assert "allowed 21.6 min, spent 120.0 min, remaining -98.4 min" in out
    assert "the deploy gate is frozen" in err
    assert await run([*GATE, "--change-type", "hotfix"], env, forwarding) == 0
    assert "allow (hotfix)" in capsys.readouterr().out
    assert await run([*GATE, "--change-type", "config"], env, forwarding) == 5
    assert await kpi.list_change_annotations("checkout") == []
    capsys.readouterr()
    assert await run([*GATE, "--override-reason", "CVE-2031-0001 fix"], env, forwarding) == 0
    assert "overridden: 'CVE-2031-0001 fix'" in capsys.readouterr().out
    (note,) = await kpi.list_change_annotations("checkout")
    assert (note.kind, note.reason, note.change_type, note.created_by) == (
        "gate_override",
        "CVE-2031-0001 fix",
        "deploy",
        "ci-checkout",
    )
    assert note.reference == "https://github.com/acme/shop/actions/runs/9001"
    assert note.gate["decision"] == "freeze"
    assert note.gate["budget"]["remaining_minutes"] == pytest.approx(-98.4)


async def test_gate_refusals_exit_3_and_dry_run_shows_the_question(
    kpi: AsyncClient, reader: Headers, forwarding: LoopForwardingTransport,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    await outage(kpi)
    await kpi.put_error_budget_policy("checkout", ErrorBudgetPolicyIn())
    # A read-only token may ask, but not record an override: 403, exit 3.
    env = environ_for(reader, GITHUB)
    assert await run([*GATE, "--override-reason", "urgent"], env, forwarding) == 3
    assert "403" in capsys.readouterr().err
    assert await run(["gate", "--service", "nowhere"], env, forwarding) == 3
    assert await run([*GATE, "--change-type", "hotfix", "--dry-run"], env, forwarding) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["method"], shown["url"]) == (
        "GET",
        "http://kpi.test/v1/services/checkout/deploy-gate?change_type=hotfix",
    )


async def test_client_methods_for_windows_policies_and_the_gate(kpi: AsyncClient) -> None:
    await outage(kpi)
    window = {"starts_at": at(2031, 3, 2, 2), "ends_at": at(2031, 3, 2, 4), "reason": "upgrade"}
    made = await kpi.create_maintenance_window("checkout", window)
    assert (made.service, made.starts_at, made.reason) == ("checkout", at(2031, 3, 2, 2), "upgrade")
    moved = await kpi.replace_maintenance_window(made.id, {**window, "reason": "moved"})
    assert (await kpi.get_maintenance_window(made.id)).reason == moved.reason == "moved"
    assert [w.id for w in await kpi.list_service_maintenance_windows("checkout")] == [made.id]
    await kpi.delete_maintenance_window(made.id)
    assert await kpi.list_service_maintenance_windows("checkout") == []
    policy = await kpi.put_error_budget_policy("checkout", {"window_days": 7})
    assert (policy.window_days, policy.passing_change_types) == (7, ["hotfix", "rollback"])
    assert (await kpi.get_error_budget_policy("checkout")).window_days == 7
    # Over 7 days (10,080 min) the February outage is out of the window: allow.
    gate = await kpi.get_deploy_gate("checkout")
    assert (gate.decision, gate.budget.spent_minutes) == ("allow", 0.0)
    assert gate.budget.allowed_downtime_minutes == pytest.approx(5.04)
    await kpi.delete_error_budget_policy("checkout")
    with pytest.raises(ApiError) as found:
        await kpi.get_error_budget_policy("checkout")
    assert found.value.status == 404
