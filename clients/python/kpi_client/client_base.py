"""What Client and AsyncClient share: their settings, how a request is built, and one method
per endpoint. Only sending (blocking or awaited) is written twice, in sync_client.py and
async_client.py."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Generic, TypedDict, TypeVar

import httpx

from kpi_client import exchange
from kpi_client.api import (
    admin,
    audit,
    backstage,
    budgets,
    burn_alerts,
    catalog,
    costs,
    data_sources,
    deploy_gate,
    escalations,
    incidents,
    initiatives,
    observations,
    reviews,
    sources,
    statuses,
    targets,
    teams,
)
from kpi_client.api import graphql as graphql_api
from kpi_client.api import health as health_api
from kpi_client.config import DEFAULT_TIMEOUT, default_headers, resolve_token, resolve_url
from kpi_client.methods import Endpoint
from kpi_client.models import IngestResult
from kpi_client.operation import Operation
from kpi_client.retry import RetryPolicy

T = TypeVar("T")
TransportT = TypeVar("TransportT", httpx.BaseTransport, httpx.AsyncBaseTransport)
HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)


class HttpOptions(TypedDict):
    """The settings of the httpx client a client sends with, but its transport."""

    base_url: str
    headers: dict[str, str]
    timeout: float | httpx.Timeout


class ClientBase(ABC, Generic[TransportT, HttpT]):
    """The settings and the methods of a client; `TransportT` and `HttpT` are httpx's sync or
    async transport and client."""

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        transport: TransportT | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.url = resolve_url(url)
        self.retry = retry or RetryPolicy()
        options = HttpOptions(
            base_url=self.url,
            headers=default_headers(resolve_token(token), headers),
            timeout=timeout,
        )
        self._http: HttpT = self._connect(options, transport)

    @abstractmethod
    def _connect(self, options: HttpOptions, transport: TransportT | None) -> HttpT: ...

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    def build_request(self, operation: Operation[T]) -> httpx.Request:
        """The request `execute` would send first (for logging or a dry run)."""
        return exchange.build_request(self._http, operation)

    def _stream_request(
        self, chunks: Iterator[bytes] | AsyncIterator[bytes], idempotency_key: str | None
    ) -> tuple[Operation[IngestResult], httpx.Request]:
        operation = observations.stream_observations_head(idempotency_key=idempotency_key)
        return operation, exchange.build_request(self._http, operation, chunks)

    # Catalog
    list_teams = Endpoint(catalog.list_teams)
    get_team = Endpoint(catalog.get_team)
    create_team = Endpoint(catalog.create_team)
    replace_team = Endpoint(catalog.replace_team)
    delete_team = Endpoint(catalog.delete_team)
    list_services = Endpoint(catalog.list_services)
    get_service = Endpoint(catalog.get_service)
    create_service = Endpoint(catalog.create_service)
    replace_service = Endpoint(catalog.replace_service)
    delete_service = Endpoint(catalog.delete_service)
    list_outcomes = Endpoint(catalog.list_outcomes)
    get_outcome = Endpoint(catalog.get_outcome)
    create_outcome = Endpoint(catalog.create_outcome)
    replace_outcome = Endpoint(catalog.replace_outcome)
    delete_outcome = Endpoint(catalog.delete_outcome)
    list_kpis = Endpoint(catalog.list_kpis)
    get_kpi = Endpoint(catalog.get_kpi)
    create_kpi = Endpoint(catalog.create_kpi)
    replace_kpi = Endpoint(catalog.replace_kpi)
    delete_kpi = Endpoint(catalog.delete_kpi)
    list_targets = Endpoint(targets.list_targets)
    get_target = Endpoint(targets.get_target)
    create_target = Endpoint(targets.create_target)
    replace_target = Endpoint(targets.replace_target)
    delete_target = Endpoint(targets.delete_target)
    list_kpi_outcomes = Endpoint(targets.list_kpi_outcomes)
    link_kpi_outcome = Endpoint(targets.link_kpi_outcome)
    unlink_kpi_outcome = Endpoint(targets.unlink_kpi_outcome)
    list_kpi_services = Endpoint(targets.list_kpi_services)
    link_kpi_service = Endpoint(targets.link_kpi_service)
    unlink_kpi_service = Endpoint(targets.unlink_kpi_service)
    apply_catalog = Endpoint(admin.apply_catalog)
    # Initiatives
    list_initiatives = Endpoint(initiatives.list_initiatives)
    get_initiative = Endpoint(initiatives.get_initiative)
    create_initiative = Endpoint(initiatives.create_initiative)
    replace_initiative = Endpoint(initiatives.replace_initiative)
    delete_initiative = Endpoint(initiatives.delete_initiative)
    review_initiative = Endpoint(initiatives.review_initiative)
    get_backstage_facts = Endpoint(backstage.get_backstage_facts)
    # Observations, costs and budgets
    ingest_observations = Endpoint(observations.ingest_observations)
    get_series = Endpoint(observations.get_series)
    ingest_costs = Endpoint(costs.ingest_costs)
    list_costs = Endpoint(costs.list_costs)
    get_cost = Endpoint(costs.get_cost)
    replace_cost = Endpoint(costs.replace_cost)
    delete_cost = Endpoint(costs.delete_cost)
    ingest_budgets = Endpoint(budgets.ingest_budgets)
    list_budgets = Endpoint(budgets.list_budgets)
    get_budget = Endpoint(budgets.get_budget)
    delete_budget = Endpoint(budgets.delete_budget)
    # Maintenance windows and the deploy gate
    create_maintenance_window = Endpoint(deploy_gate.create_maintenance_window)
    list_service_maintenance_windows = Endpoint(deploy_gate.list_service_maintenance_windows)
    get_maintenance_window = Endpoint(deploy_gate.get_maintenance_window)
    replace_maintenance_window = Endpoint(deploy_gate.replace_maintenance_window)
    delete_maintenance_window = Endpoint(deploy_gate.delete_maintenance_window)
    put_error_budget_policy = Endpoint(deploy_gate.put_error_budget_policy)
    get_error_budget_policy = Endpoint(deploy_gate.get_error_budget_policy)
    delete_error_budget_policy = Endpoint(deploy_gate.delete_error_budget_policy)
    get_deploy_gate = Endpoint(deploy_gate.get_deploy_gate)
    override_deploy_gate = Endpoint(deploy_gate.override_deploy_gate)
    list_change_annotations = Endpoint(deploy_gate.list_change_annotations)
    # Incidents and changes
    upsert_incident = Endpoint(incidents.upsert_incident)
    add_incident_event = Endpoint(incidents.add_incident_event)
    list_incidents = Endpoint(incidents.list_incidents)
    get_incident = Endpoint(incidents.get_incident)
    upsert_change = Endpoint(incidents.upsert_change)
    list_changes = Endpoint(incidents.list_changes)
    get_change = Endpoint(incidents.get_change)
    # Statuses, reports and escalations
    get_kpi_status = Endpoint(statuses.get_kpi_status)
    get_kpi_status_history = Endpoint(statuses.get_kpi_status_history)
    get_scorecard = Endpoint(statuses.get_scorecard)
    evaluate = Endpoint(statuses.evaluate)
    get_service_report = Endpoint(statuses.get_service_report)
    get_team_figures = Endpoint(teams.get_team_figures)
    get_team_dora_trend = Endpoint(teams.get_team_dora_trend)
    list_governance_gaps = Endpoint(statuses.list_governance_gaps)
    get_failure_clusters = Endpoint(statuses.get_failure_clusters)
    get_quarterly_review = Endpoint(reviews.get_quarterly_review)
    list_escalations = Endpoint(escalations.list_escalations)
    get_escalation = Endpoint(escalations.get_escalation)
    acknowledge_escalation = Endpoint(escalations.acknowledge_escalation)
    resolve_escalation = Endpoint(escalations.resolve_escalation)
    # Burn-rate alerts
    get_burn_policy = Endpoint(burn_alerts.get_burn_policy)
    set_burn_policy = Endpoint(burn_alerts.set_burn_policy)
    delete_burn_policy = Endpoint(burn_alerts.delete_burn_policy)
    list_burn_alerts = Endpoint(burn_alerts.list_burn_alerts)
    list_kpi_burn_alerts = Endpoint(burn_alerts.list_kpi_burn_alerts)
    # Sources and deliveries
    list_sources = Endpoint(sources.list_sources)
    get_source = Endpoint(sources.get_source)
    create_source = Endpoint(sources.create_source)
    replace_source = Endpoint(sources.replace_source)
    delete_source = Endpoint(sources.delete_source)
    list_deliveries = Endpoint(sources.list_deliveries)
    get_delivery = Endpoint(sources.get_delivery)
    list_webhook_rejections = Endpoint(sources.list_webhook_rejections)
    discard_delivery = Endpoint(sources.discard_delivery)
    replay_delivery = Endpoint(sources.replay_delivery)
    replay_unmapped = Endpoint(sources.replay_unmapped)
    # Data sources of SLIs
    list_data_sources = Endpoint(data_sources.list_data_sources)
    get_data_source = Endpoint(data_sources.get_data_source)
    create_data_source = Endpoint(data_sources.create_data_source)
    replace_data_source = Endpoint(data_sources.replace_data_source)
    delete_data_source = Endpoint(data_sources.delete_data_source)
    # Administration
    create_token = Endpoint(admin.create_token)
    list_tokens = Endpoint(admin.list_tokens)
    revoke_token = Endpoint(admin.revoke_token)
    list_notifications = Endpoint(admin.list_notifications)
    list_audit_entries = Endpoint(audit.list_audit_entries)
    # Health, metrics and GraphQL
    health = Endpoint(health_api.health)
    ready = Endpoint(health_api.ready)
    metrics = Endpoint(health_api.metrics)
    graphql = Endpoint(graphql_api.graphql)
