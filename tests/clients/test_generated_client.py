"""A client generated from openapi/openapi.json by openapi-python-client, as a team with its
own tooling would make one: generated once per session, imported, pointed at the app (on
the test's transaction) and used to seed a small catalog with the document's own request
examples, then to call every list endpoint, whose answers it must parse into its models."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from service.models.budgets import BudgetIn
from service.rest import examples, examples_gate
from service.rest.webhooks import ALERTMANAGER_DELIVERY
from tests.clients.conftest import BASE_URL, token_of

ROOT = Path(__file__).resolve().parents[2]
SPEC = json.loads((ROOT / "openapi" / "openapi.json").read_text())
PACKAGE = "kpi_openapi_client"


def _list_operations() -> set[str]:
    """Every GET operation answering an array, or a page of them: an object whose `items`
    (the scorecard's KPIs), `points` (a series' buckets) or `clusters` (failure clusters)
    are the array."""
    found = set()
    for methods in SPEC["paths"].values():
        op = methods.get("get")
        content = op and op["responses"]["200"].get("content", {}).get("application/json")
        if not content:
            continue
        schema = content["schema"]
        if "$ref" in schema:
            schema = SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        props = schema.get("properties", {})
        if schema.get("type") == "array" or any(
            props.get(name, {}).get("type") == "array" for name in ("items", "points", "clusters")
        ):
            found.add(op["operationId"])
    return found


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The generated package, imported. The generator runs ruff on its output: the venv's."""
    out = tmp_path_factory.mktemp("generated") / PACKAGE
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        [bin_dir / "openapi-python-client", "generate", "--path", ROOT / "openapi" / "openapi.json",
         "--output-path", out, "--meta", "none"],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    # The one part it leaves out: the NDJSON form of POST /v1/observations (it reads no
    # streaming media types); the JSON form of the same operation is generated.
    said = result.stdout + result.stderr
    warnings = [line for line in said.splitlines() if line.startswith("WARNING")]
    assert warnings == ["WARNING parsing POST /v1/observations within observations."]
    assert "Unsupported content type application/x-ndjson" in said
    assert "Unable to parse" not in said
    sys.path.insert(0, str(out.parent))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(out.parent))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def operation(gen: ModuleType, operation_id: str) -> Any:
    """The generated module of an operation: api/<its tag>/<its operationId>.py."""
    (tag,) = [
        tag["name"] for tag in SPEC["tags"]
        if (Path(gen.__file__).parent / "api" / tag["name"] / f"{operation_id}.py").exists()
    ]  # fmt: skip
    return importlib.import_module(f"{PACKAGE}.api.{tag}.{operation_id}")


def model(name: str) -> Any:
    return getattr(importlib.import_module(f"{PACKAGE}.models"), name)


#: An observed KPI that breaches its target in October 2026: the points average
#: (90 + 92 + 94) / 3 = 92, under the target of 95 (higher is better).
PATCHES = {
    "key": "patch_compliance", "name": "Patch compliance", "unit": "percent",
    "direction": "higher_is_better", "kind": "observed", "aggregation": "avg",
    "cadence": "monthly", "business_owner": "ciso@example.com",
    "technology_owner": "platform-lead@example.com",
    "escalation_path": [{"who": "Platform on call", "channel": "webhook",
                         "address": "https://hooks.example.com/kpi/patches",
                         "after_breached_periods": 1}],
}  # fmt: skip
#: No owner, target or escalation path: a governance gap.
REVENUE = {
    "key": "revenue_growth", "name": "Revenue growth", "unit": "percent",
    "direction": "higher_is_better", "aggregation": "last", "cadence": "quarterly",
}  # fmt: skip
POINTS = [
    {"kpi": "patch_compliance", "ts": f"2026-10-{day}T09:00:00Z", "value": value}
    for day, value in (("05", 90.0), ("12", 92.0), ("19", 94.0))
]


async def _seed(gen: ModuleType, client: Any, http: httpx.AsyncClient) -> None:
    """A catalog, points, a cost, an incident with the change it names, a source with one
    delivery and one refused delivery, and a token: each sent by the generated client (the
    webhooks by hand, as a tool signs them), mostly as the document's examples give them."""

    async def call(operation_id: str, **kwargs: Any) -> Any:
        response = await operation(gen, operation_id).asyncio_detailed(client=client, **kwargs)
        assert response.status_code < 300, (operation_id, response.status_code, response.content)
        return response.parsed

    await call("create_team", body=model("TeamIn").from_dict(examples.TEAM_IN))
    for slug in ("identity", "payments-api"):
        await call("create_service", body=model("ServiceIn").from_dict(
            {"slug": slug, "name": slug.title(), "tier": 1, "team": "payments"}))  # fmt: skip
    await call("create_service", body=model("ServiceIn").from_dict(examples.SERVICE_IN))
    await call("create_outcome", body=model("OutcomeIn").from_dict(examples.OUTCOME_IN))
    await call("create_kpi", body=model("KpiIn").from_dict(examples.KPI_IN))
    await call("create_kpi", body=model("KpiIn").from_dict(PATCHES))
    await call("create_kpi", body=model("KpiIn").from_dict(REVENUE))
    await call("create_target", body=model("TargetIn").from_dict(
        {"kpi": "patch_compliance", "value": 95.0, "effective_from": "2026-01-01"}))  # fmt: skip
    await call("link_kpi_outcome", key="patch_compliance", outcome="protect-revenue",
               body=model("OutcomeLinkIn").from_dict(examples.OUTCOME_LINK_IN))  # fmt: skip
    await call("link_kpi_service", key="patch_compliance", service="checkout")
    await call("ingest_observations", body=[model("ObservationIn").from_dict(p) for p in POINTS])
    await call("evaluate", body=model("EvaluateIn").from_dict(
        {"kpi": "patch_compliance", "period": "2026-10-15T00:00:00Z"}))  # fmt: skip
    await call("ingest_costs", body=[model("CostIn").from_dict(examples.COST_IN)])
    await call("ingest_budgets", body=[model("BudgetIn").from_dict(examples.example_of(BudgetIn))])
    await call("create_initiative", body=model("InitiativeIn").from_dict(examples.INITIATIVE_IN))
    await call("upsert_change", body=model("ChangeIn").from_dict(examples.CHANGE_IN))
    await call("upsert_incident", body=model("IncidentIn").from_dict(examples.INCIDENT_IN))
    await call("create_source", body=model("SourceIn").from_dict(examples.SOURCE_IN))
    await call(
        "create_token", body=model("TokenIn").from_dict({"name": "ci", "scopes": ["ingest"]})
    )
    # The document's example delivery, with the source's secret, then with a wrong one.
    for secret, status in (("a-long-random-secret", 200), ("a-wrong-secret", 401)):
        sent = await http.post(
            "/v1/webhooks/alertmanager",
            json=ALERTMANAGER_DELIVERY,
            headers={"Authorization": f"Bearer {secret}"},
        )
        assert sent.status_code == status, sent.text
    # A window announced after the app's clock (2031-03-01), and a gate override.
    window = {**examples_gate.WINDOW_IN, "starts_at": "2031-03-02T02:00:00Z",
              "ends_at": "2031-03-02T05:00:00Z"}  # fmt: skip
    await call("create_maintenance_window", slug="checkout",
               body=model("MaintenanceWindowIn").from_dict(window))  # fmt: skip
    await call("override_deploy_gate", slug="checkout",
               body=model("GateOverrideIn").from_dict(examples_gate.OVERRIDE_IN))  # fmt: skip


async def test_the_generated_client_calls_every_list_endpoint(
    generated: ModuleType, asgi: httpx.ASGITransport, admin: dict[str, str]
) -> None:
    gen = generated
    async with httpx.AsyncClient(transport=asgi, base_url=BASE_URL, headers=admin) as http:
        client = gen.AuthenticatedClient(base_url=BASE_URL, token=token_of(admin))
        client.set_async_httpx_client(http)
        await _seed(gen, client, http)
        got = {}
        calls = {
            "list_teams": {}, "list_services": {}, "list_outcomes": {}, "list_kpis": {},
            "list_targets": {}, "list_kpi_outcomes": {"key": "patch_compliance"},
            "list_kpi_services": {"key": "patch_compliance"}, "list_costs": {}, "list_budgets": {},
            "list_initiatives": {}, "list_burn_alerts": {},
            "list_kpi_burn_alerts": {"key": "patch_compliance"},
            "list_service_maintenance_windows": {"slug": "checkout"},
            "list_change_annotations": {"slug": "checkout"},
            "kpi_status_history": {"key": "patch_compliance"}, "list_escalations": {},
            "governance_gaps": {}, "list_incidents": {}, "list_changes": {},
            "list_sources": {}, "list_deliveries": {}, "list_webhook_rejections": {},
            "list_data_sources": {},
            "list_tokens": {}, "list_notifications": {}, "get_scorecard": {},
            "list_audit_entries": {"kind": "team"},
            "kpi_series": {"key": "patch_compliance", "grain": model("KpiSeriesGrain").MONTH},
            "failure_clusters": {"by": model("ClusterDimension").SERVICE,
                                 "from_": dt.datetime(2026, 10, 1, tzinfo=dt.UTC)},
        }  # fmt: skip
        assert set(calls) == _list_operations()
        for operation_id, kwargs in calls.items():
            answer = await operation(gen, operation_id).asyncio_detailed(client=client, **kwargs)
            assert answer.status_code == 200, (operation_id, answer.content)
            got[operation_id] = answer.parsed
    _check_catalog(got)
    _check_measures(got)
    _check_events_and_admin(got)


def _check_catalog(got: dict[str, Any]) -> None:
    assert [(t.slug, t.name, t.email) for t in got["list_teams"]] == [
        ("payments", "Payments", "payments@example.com")
    ]
    services = {s.slug: s for s in got["list_services"]}
    assert sorted(services) == ["checkout", "identity", "payments-api"]
    assert services["checkout"].revenue_per_hour == 52000.0
    assert services["checkout"].depends_on == ["identity", "payments-api"]
    assert [o.slug for o in got["list_outcomes"]] == ["protect-revenue"]
    kpis = {k.key: k for k in got["list_kpis"]}
    assert sorted(kpis) == ["patch_compliance", "revenue_growth", "service_availability"]
    assert kpis["service_availability"].metric.value == "availability"
    assert kpis["patch_compliance"].escalation_path[0].who == "Platform on call"
    assert [(t.kpi, t.value) for t in got["list_targets"]] == [("patch_compliance", 95.0)]
    ((link,),) = [got["list_kpi_outcomes"]]
    assert (link.outcome, link.weight) == ("protect-revenue", 3.0)
    assert [s.service for s in got["list_kpi_services"]] == ["checkout"]


def _check_measures(got: dict[str, Any]) -> None:
    ((cost,),) = [got["list_costs"]]
    assert (cost.service, cost.amount, cost.currency) == ("checkout", 9120.5, "EUR")
    ((initiative,),) = [got["list_initiatives"]]
    assert (initiative.key, initiative.budget, initiative.services) == (
        "cloud-migration", 250000.0, ["checkout"]
    )  # fmt: skip
    ((budget,),) = [got["list_budgets"]]
    assert (budget.service, budget.amount, str(budget.period_start)) == (
        "checkout", 9500.0, "2026-10-01"
    )  # fmt: skip
    assert str(cost.period_start) == "2026-10-01"
    # October's points: (90 + 92 + 94) / 3 = 92.0, under the target of 95: breached.
    ((status,),) = [got["kpi_status_history"]]
    assert (status.value, status.target, status.status.value) == (92.0, 95.0, "breached")
    assert status.period_start.isoformat() == "2026-10-01T00:00:00+00:00"
    series = got["kpi_series"]
    october = [p for p in series.points if p.bucket.isoformat().startswith("2026-10")]
    assert [(p.value, p.count) for p in october] == [(92.0, 3)]
    # The board-level KPI in February 2031 (the month before the app's clock): the example
    # alert left checkout down since 2026-11-02, the two other services were up, so the
    # services' availability is (0 + 100 + 100) / 3 = 66.67 %.
    ((item,),) = [got["get_scorecard"].items]
    assert (item.kpi, item.period_start.isoformat()) == (
        "service_availability", "2031-02-01T00:00:00+00:00"
    )  # fmt: skip
    assert item.value == pytest.approx(200 / 3)
    ((escalation,),) = [got["list_escalations"]]
    assert (escalation.kpi, escalation.state, escalation.breached_periods) == (
        "patch_compliance", "open", 1
    )  # fmt: skip
    ((notification,),) = [got["list_notifications"]]
    assert notification.url == "https://hooks.example.com/kpi/patches"
    assert notification.escalation_id == escalation.id
    # Checkout since October 2026: one production deploy, failed as the incident it caused
    # (1 / 1 = 100 %); two incidents, one resolved, restored in 28 min 12 s
    # (02:20:00 to 02:48:12), that is 28.2 minutes or 0.47 hours.
    ((cluster,),) = [got["failure_clusters"].clusters]
    assert (cluster.key, cluster.changes, cluster.failures, cluster.change_failure_rate) == (
        "checkout", 1, 1, 100.0
    )  # fmt: skip
    assert (cluster.incidents, cluster.resolved_incidents) == (2, 1)
    assert cluster.mean_time_to_restore == pytest.approx(28.2)
    assert cluster.restore_hours == pytest.approx(0.47)
    gaps = {g.kpi: set(g.missing) for g in got["governance_gaps"]}
    assert gaps["revenue_growth"] >= {"business_owner", "target", "escalation_path"}
    assert "patch_compliance" not in gaps


def _check_events_and_admin(got: dict[str, Any]) -> None:
    incidents = {i.source: i for i in got["list_incidents"]}
    assert sorted(incidents) == ["alertmanager", "api"]
    ((change,),) = [got["list_changes"]]
    incident = incidents["api"]
    assert (incident.external_id, incident.severity.value) == ("INC-4711", "sev2")
    # The example alert fired for checkout at 09:00 with severity critical (sev1 by the
    # source's severity map).
    alert = incidents["alertmanager"]
    assert (alert.service, alert.severity.value, alert.status.value) == ("checkout", "sev1", "open")
    assert alert.started_at.isoformat() == "2026-11-02T09:00:00+00:00"
    # The incident names the deploy that caused it: an explicit link.
    assert incident.caused_by_change_id == change.id
    assert change.commit_sha == "f6e5203ca2379e6fd47345345aea635257632e1e"
    sources = {s.name: s for s in got["list_sources"]}
    assert sources["alertmanager"].has_secret is True
    assert sources["alertmanager"].webhook_path == "/v1/webhooks/alertmanager"
    by_source = [d for d in got["list_deliveries"] if d.source == "alertmanager"]
    assert len(by_source) == 1
    ((rejected,),) = [got["list_webhook_rejections"]]
    assert (rejected.source, rejected.count) == ("alertmanager", 1)
    assert "ci" in [t.name for t in got["list_tokens"]]
    # The seed created one team over REST with the admin token: its audit entry.
    ((created,),) = [got["list_audit_entries"]]
    assert (created.entity_key, created.action.value, created.via.value) == (
        "payments",
        "create",
        "rest",
    )
    assert created.before is None
    ((window,),) = [got["list_service_maintenance_windows"]]
    assert (window.service, window.starts_at.isoformat()) == (
        "checkout", "2031-03-02T02:00:00+00:00"
    )  # fmt: skip
    ((note,),) = [got["list_change_annotations"]]
    # No error-budget policy on checkout: the gate allowed, and the override is kept anyway.
    assert (note.kind, note.reason, note.gate["decision"]) == (
        "gate_override", "CVE-2026-1234 fix", "allow"
    )  # fmt: skip
