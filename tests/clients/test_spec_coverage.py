"""The client follows openapi/openapi.json: every operation has a method on both clients, and
the request and answer models have the fields the spec gives (a new endpoint or field in the
spec fails here until the client has it)."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import pytest
from kpi_client import AsyncClient, Client, models
from pydantic import BaseModel

SPEC = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"

#: operationId -> client method.
METHODS = {
    "healthz": "health", "readyz": "ready", "scrape_metrics": "metrics", "graphql": "graphql",
    "list_teams": "list_teams", "get_team": "get_team", "create_team": "create_team",
    "replace_team": "replace_team", "delete_team": "delete_team",
    "list_services": "list_services", "get_service": "get_service",
    "create_service": "create_service", "replace_service": "replace_service",
    "delete_service": "delete_service",
    "list_outcomes": "list_outcomes", "get_outcome": "get_outcome",
    "create_outcome": "create_outcome", "replace_outcome": "replace_outcome",
    "delete_outcome": "delete_outcome",
    "list_kpis": "list_kpis", "get_kpi": "get_kpi", "create_kpi": "create_kpi",
    "replace_kpi": "replace_kpi", "delete_kpi": "delete_kpi",
    "list_targets": "list_targets", "get_target": "get_target", "create_target": "create_target",
    "replace_target": "replace_target", "delete_target": "delete_target",
    "list_kpi_outcomes": "list_kpi_outcomes", "link_kpi_outcome": "link_kpi_outcome",
    "unlink_kpi_outcome": "unlink_kpi_outcome", "list_kpi_services": "list_kpi_services",
    "link_kpi_service": "link_kpi_service", "unlink_kpi_service": "unlink_kpi_service",
    "apply_catalog": "apply_catalog",
    "list_initiatives": "list_initiatives", "get_initiative": "get_initiative",
    "create_initiative": "create_initiative", "replace_initiative": "replace_initiative",
    "delete_initiative": "delete_initiative", "review_initiative": "review_initiative",
    "ingest_observations": "ingest_observations", "kpi_series": "get_series",
    "ingest_costs": "ingest_costs", "list_costs": "list_costs", "get_cost": "get_cost",
    "replace_cost": "replace_cost", "delete_cost": "delete_cost",
    "ingest_budgets": "ingest_budgets", "list_budgets": "list_budgets",
    "get_budget": "get_budget", "delete_budget": "delete_budget",
    "create_maintenance_window": "create_maintenance_window",
    "list_service_maintenance_windows": "list_service_maintenance_windows",
    "get_maintenance_window": "get_maintenance_window",
    "replace_maintenance_window": "replace_maintenance_window",
    "delete_maintenance_window": "delete_maintenance_window",
    "put_error_budget_policy": "put_error_budget_policy",
    "get_error_budget_policy": "get_error_budget_policy",
    "delete_error_budget_policy": "delete_error_budget_policy",
    "get_deploy_gate": "get_deploy_gate", "override_deploy_gate": "override_deploy_gate",
    "list_change_annotations": "list_change_annotations",
    "upsert_incident": "upsert_incident", "add_incident_event": "add_incident_event",
    "list_incidents": "list_incidents", "get_incident": "get_incident",
    "upsert_change": "upsert_change", "list_changes": "list_changes", "get_change": "get_change",
    "kpi_status": "get_kpi_status", "kpi_status_history": "get_kpi_status_history",
    "get_scorecard": "get_scorecard", "evaluate": "evaluate",
    "service_report": "get_service_report",
    "team_figures_read": "get_team_figures", "team_dora_trend": "get_team_dora_trend",
    "governance_gaps": "list_governance_gaps",
    "failure_clusters": "get_failure_clusters", "quarterly_review": "get_quarterly_review",
    "list_escalations": "list_escalations", "get_escalation": "get_escalation",
    "acknowledge_escalation": "acknowledge_escalation",
    "resolve_escalation": "resolve_escalation",
    "list_sources": "list_sources", "get_source": "get_source", "create_source": "create_source",
    "replace_source": "replace_source", "delete_source": "delete_source",
    "list_deliveries": "list_deliveries", "get_delivery": "get_delivery",
    "list_webhook_rejections": "list_webhook_rejections",
    "replay_delivery": "replay_delivery", "replay_unmapped": "replay_unmapped",
    "discard_delivery": "discard_delivery",
    "list_data_sources": "list_data_sources", "get_data_source": "get_data_source",
    "create_data_source": "create_data_source", "replace_data_source": "replace_data_source",
    "delete_data_source": "delete_data_source",
    "create_token": "create_token", "list_tokens": "list_tokens", "revoke_token": "revoke_token",
    "list_notifications": "list_notifications", "backstage_facts": "get_backstage_facts",
    "list_audit_entries": "list_audit_entries",
    "get_burn_policy": "get_burn_policy", "put_burn_policy": "set_burn_policy",
    "delete_burn_policy": "delete_burn_policy", "list_burn_alerts": "list_burn_alerts",
    "list_kpi_burn_alerts": "list_kpi_burn_alerts",
}  # fmt: skip
#: Operations a client of the API does not call.
NOT_FOR_CLIENTS = {"receive_webhook": "tools post there, signed with their source's secret"}

#: Client model -> spec schema of the same body.
MODELS: dict[type[BaseModel], str] = {
    models.TeamIn: "TeamIn", models.Team: "Team", models.ServiceIn: "ServiceIn",
    models.Service: "Service", models.OutcomeIn: "OutcomeIn", models.Outcome: "Outcome",
    models.KpiIn: "KpiIn", models.Kpi: "Kpi", models.EscalationStepIn: "EscalationStep",
    models.TargetIn: "TargetIn", models.Target: "Target", models.OutcomeLinkIn: "OutcomeLinkIn",
    models.OutcomeLink: "OutcomeLink", models.ServiceLink: "ServiceLink",
    models.ObservationIn: "ObservationIn", models.IngestResult: "IngestResult",
    models.Series: "Series", models.SeriesPoint: "SeriesPoint", models.CostIn: "CostIn",
    models.Cost: "Cost", models.CostIngestResult: "CostIngestResult",
    models.BudgetIn: "BudgetIn", models.Budget: "Budget",
    models.BudgetIngestResult: "BudgetIngestResult",
    models.MaintenanceWindowIn: "MaintenanceWindowIn",
    models.MaintenanceWindow: "MaintenanceWindow",
    models.ErrorBudgetPolicyIn: "ErrorBudgetPolicyIn",
    models.ErrorBudgetPolicy: "ErrorBudgetPolicy", models.DeployGate: "DeployGate",
    models.GateBudget: "GateBudget", models.GateOverrideIn: "GateOverrideIn",
    models.ChangeAnnotation: "ChangeAnnotation",
    models.MaintenanceWindowSpec: "MaintenanceWindowSpec",
    models.ErrorBudgetPolicySpec: "ErrorBudgetPolicySpec",
    models.IncidentIn: "IncidentIn", models.IncidentEventIn: "IncidentEventIn",
    models.Incident: "Incident", models.IncidentDetail: "IncidentDetail",
    models.ChangeIn: "ChangeIn", models.CommitIn: "CommitIn", models.Change: "Change",
    models.ChangeDetail: "ChangeDetail", models.TimelineEntry: "TimelineEntry",
    models.KpiStatus: "KpiStatus", models.Scorecard: "Scorecard",
    models.ScorecardItem: "ScorecardItem", models.Escalation: "Escalation",
    models.EscalationEvent: "EscalationEvent", models.GovernanceGap: "GovernanceGap",
    models.ServiceReport: "ServiceReport", models.AvailabilityReport: "AvailabilityReport",
    models.IncidentReport: "IncidentReport", models.IncidentGroup: "IncidentGroup",
    models.DurationStats: "DurationStats", models.DoraReport: "DoraReport",
    models.BandedValue: "BandedValue", models.SpendReport: "SpendReport",
    models.CurrencySpend: "CurrencySpend", models.CategoryAmount: "CategoryAmount",
    models.Window: "Window", models.SourceIn: "SourceIn", models.Source: "Source",
    models.ServiceRule: "ServiceRule", models.DeliveryRow: "DeliveryRow",
    models.DeliveryDetail: "DeliveryDetail", models.DeliveryOutcome: "DeliveryOutcome",
    models.ReplayReport: "ReplayReport", models.WebhookRejections: "WebhookRejections",
    models.RejectionSample: "RejectionSample", models.TokenIn: "TokenIn",
    models.TokenInfo: "TokenInfo", models.AuditEntry: "AuditEntry",
    models.NewToken: "NewToken", models.Notification: "Notification", models.Attempt: "Attempt",
    models.CatalogFile: "CatalogFile", models.KpiDefinition: "KpiDefinition",
    models.TargetSpec: "TargetSpec", models.OutcomeLinkSpec: "OutcomeLinkSpec",
    models.ApplyReport: "ApplyReport", models.InitiativeIn: "InitiativeIn",
    models.Initiative: "Initiative", models.InitiativeKpiIn: "InitiativeKpiIn",
    models.InitiativeKpi: "InitiativeKpi", models.InitiativeReview: "InitiativeReview",
    models.InitiativeSpend: "InitiativeSpend", models.CurrencyAmount: "CurrencyAmount",
    models.ReviewWindow: "ReviewWindow", models.KpiReview: "KpiReview",
    models.BackstageFacts: "BackstageFacts",
    models.EntityFacts: "EntityFacts", models.EntityName: "EntityName",
    models.FactDefinition: "FactDefinition",
    models.TeamFigures: "TeamFigures", models.TeamAvailability: "TeamAvailability",
    models.TeamSpend: "TeamSpend", models.TeamCurrencySpend: "TeamCurrencySpend",
    models.DoraTrend: "DoraTrend",
    models.BurnPolicyIn: "BurnPolicyIn", models.BurnPolicy: "BurnPolicy",
    models.BurnRule: "BurnRuleIn", models.BurnAlert: "BurnAlert",
    models.DataSourceIn: "DataSourceIn", models.DataSource: "DataSource",
    models.SliState: "SliState", models.PrometheusSli: "PrometheusSli",
}  # fmt: skip


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SPEC.read_text())
    return loaded


async def test_every_operation_has_a_method_on_both_clients(spec: dict[str, Any]) -> None:
    operations = {
        op["operationId"]
        for item in spec["paths"].values()
        for method, op in item.items()
        if method in {"get", "post", "put", "delete", "patch"}
    }
    assert operations - set(NOT_FOR_CLIENTS) == set(METHODS)
    with Client("http://kpi.test") as blocking:
        async with AsyncClient("http://kpi.test") as asynchronous:
            for name in METHODS.values():
                sync, run = getattr(blocking, name), getattr(asynchronous, name)
                assert inspect.signature(sync) == inspect.signature(run)
                assert inspect.iscoroutinefunction(run)
                assert not inspect.iscoroutinefunction(sync)


@pytest.mark.parametrize(("model", "schema"), MODELS.items(), ids=MODELS.values())
def test_models_have_the_spec_fields(
    spec: dict[str, Any], model: type[BaseModel], schema: str
) -> None:
    properties = spec["components"]["schemas"][schema]["properties"]
    assert set(model.model_fields) == set(properties)
