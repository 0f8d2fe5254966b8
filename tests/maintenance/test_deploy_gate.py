"""The deploy gate over REST: a service's error-budget policy, allow or freeze with the
budget's numbers, hotfixes and rollbacks passing a freeze, and overrides recorded as change
annotations.

Worked numbers, the clock at 2026-12-01T00:00Z, so the trailing 30 days are November
(43,200 min). Checkout (tier 1, 99.95 %): allowed = 0.0005 x 43,200 = 21.6 min. Billing
(tier 4, 99 %): allowed = 0.01 x 43,200 = 432 min. Each is down 01:30-03:30 on the 10th
(120 min); checkout announced a window 02:00-05:00 (90 min of it planned), so it spent 30 min:
    checkout: remaining = 21.6 - 30 = -8.4 min (1 - 30 / 21.6 = -38.8889 %): freeze
    billing:  remaining = 432 - 120 = 312 min (1 - 120 / 432 = 72.2222 %): allow
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.maintenance.conftest import WINDOWS, Clock, utc, window
from tests.usecases.test_reports import add_incident, add_service, send

Headers = dict[str, str]
GATE = "/v1/services/{}/deploy-gate"
POLICY = "/v1/services/{}/error-budget-policy"


async def scenario(app: httpx.AsyncClient, admin: Headers, clock: Clock) -> None:
    await add_service(app, admin, "checkout", 1)
    await add_service(app, admin, "billing", 4)
    await send(app, admin, "POST", WINDOWS, window("11-10T02:00", "11-10T05:00"), status=201)
    clock.at = utc("12-01T00:00")
    for slug in ("checkout", "billing"):
        await add_incident(app, admin, f"{slug}-1", slug, "sev1", "11-10T01:30", "11-10T03:30")


async def gate(app: httpx.AsyncClient, headers: Headers, slug: str, **params: str) -> Any:
    return await send(app, headers, "GET", GATE.format(slug), params=params)


async def test_freeze_while_the_budget_is_spent_allow_while_some_is_left(
    app: httpx.AsyncClient, admin: Headers, reader: Headers, clock: Clock
) -> None:
    await scenario(app, admin, clock)
    # No policy: the gate allows, and still shows the numbers.
    found = await gate(app, reader, "checkout")
    assert (found["decision"], found["policy"]) == ("allow", None)
    assert found["reason"] == "the service has no error-budget policy"
    for slug in ("checkout", "billing"):
        policy = await send(app, admin, "PUT", POLICY.format(slug), {})
        assert policy == {
            "service": slug, "freeze_when_budget_exhausted": True, "kpi": None,
            "window_days": 30, "passing_change_types": ["hotfix", "rollback"],
        }  # fmt: skip
    found = await gate(app, reader, "checkout")
    assert (found["decision"], found["change_type"]) == ("freeze", "deploy")
    assert "error budget exhausted" in found["reason"]
    budget = found["budget"]
    assert (budget["target"], budget["window"]) == (99.95, "30d")
    assert (budget["window_start"], budget["window_end"]) == (
        "2026-11-01T00:00:00Z",
        "2026-12-01T00:00:00Z",
    )
    assert budget["allowed_downtime_minutes"] == pytest.approx(21.6)
    assert budget["spent_minutes"] == pytest.approx(30.0)
    assert budget["remaining_minutes"] == pytest.approx(-8.4)
    assert budget["remaining"] == pytest.approx(-38.888889, abs=1e-6)
    assert budget["planned_downtime_minutes"] == pytest.approx(90.0)
    billing = await gate(app, reader, "billing")
    assert billing["decision"] == "allow"
    assert billing["reason"] == "error budget remaining"
    assert billing["budget"]["remaining_minutes"] == pytest.approx(312.0)
    assert billing["budget"]["remaining"] == pytest.approx(72.222222, abs=1e-6)


async def test_hotfixes_and_rollbacks_pass_a_freeze_as_the_policy_lists(
    app: httpx.AsyncClient, admin: Headers, reader: Headers, clock: Clock
) -> None:
    await scenario(app, admin, clock)
    await send(app, admin, "PUT", POLICY.format("checkout"), {})
    for kind, decision in (("hotfix", "allow"), ("rollback", "allow"), ("config", "freeze")):
        found = await gate(app, reader, "checkout", change_type=kind)
        assert (found["change_type"], found["decision"]) == (kind, decision)
    assert (await gate(app, reader, "checkout", change_type="hotfix"))["reason"] == (
        "error budget exhausted, but a hotfix passes the freeze"
    )
    # A policy that lets only rollbacks through freezes hotfixes too; one that does not
    # freeze allows everything.
    await send(app, admin, "PUT", POLICY.format("checkout"),
               {"passing_change_types": ["rollback"]})  # fmt: skip
    assert (await gate(app, reader, "checkout", change_type="hotfix"))["decision"] == "freeze"
    await send(app, admin, "PUT", POLICY.format("checkout"),
               {"freeze_when_budget_exhausted": False})  # fmt: skip
    assert (await gate(app, reader, "checkout"))["decision"] == "allow"
    # A longer window dilutes the outage: over 90 days (129,600 min) checkout may be down
    # 64.8 min, and spent 30.
    await send(app, admin, "PUT", POLICY.format("checkout"), {"window_days": 90})
    found = await gate(app, reader, "checkout")
    assert (found["decision"], found["budget"]["window"]) == ("allow", "90d")
    assert found["budget"]["remaining_minutes"] == pytest.approx(34.8)


async def test_an_override_passes_and_is_recorded_as_a_change_annotation(
    app: httpx.AsyncClient, admin: Headers, reader: Headers, ingester: Headers, clock: Clock
) -> None:
    await scenario(app, admin, clock)
    await send(app, admin, "PUT", POLICY.format("checkout"), {})
    body = {"reason": "CVE-2026-1234 fix", "change_type": "deploy",
            "reference": "https://ci.example.com/run/42"}  # fmt: skip
    note = await send(app, ingester, "POST", GATE.format("checkout") + "/overrides", body,
                      status=201)  # fmt: skip
    assert (note["kind"], note["reason"], note["change_type"], note["reference"]) == (
        "gate_override",
        "CVE-2026-1234 fix",
        "deploy",
        "https://ci.example.com/run/42",
    )
    assert (note["created_by"], note["created_at"]) == ("ingest", "2026-12-01T00:00:00Z")
    assert note["gate"]["decision"] == "freeze"
    assert note["gate"]["budget"]["spent_minutes"] == pytest.approx(30.0)
    listed = await send(app, reader, "GET", "/v1/services/checkout/change-annotations")
    assert listed == [note]


async def test_bad_policies_and_unknown_services_are_refused(
    app: httpx.AsyncClient, admin: Headers, reader: Headers, clock: Clock
) -> None:
    await scenario(app, admin, clock)
    for body, field in (
        ({"window_days": 0}, "window_days"),
        ({"passing_change_types": ["sometimes"]}, "passing_change_types/0"),
        ({"kpi": "no_such_kpi"}, "kpi"),
    ):
        r = await app.put(POLICY.format("checkout"), json=body, headers=admin)
        assert r.status_code == 422, r.text
        assert [e["pointer"] for e in r.json()["errors"]] == [f"#/{field}"]
    r = await app.get(GATE.format("checkout"), params={"change_type": "yolo"}, headers=reader)
    assert r.status_code == 422
    assert (await app.get(GATE.format("nope"), headers=reader)).status_code == 404
    assert (await app.get(POLICY.format("checkout"), headers=reader)).status_code == 404
    assert (await app.put(POLICY.format("checkout"), json={}, headers=reader)).status_code == 403
    await send(app, admin, "PUT", POLICY.format("checkout"), {})
    await send(app, admin, "DELETE", POLICY.format("checkout"), status=204)
    assert (await gate(app, reader, "checkout"))["policy"] is None
