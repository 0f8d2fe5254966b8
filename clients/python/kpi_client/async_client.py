"""AsyncClient: the asyncio client, with the same methods as Client, awaitable."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Iterable, Mapping
from types import TracebackType
from typing import Self, TypeVar

import httpx

from kpi_client import exchange
from kpi_client.api import (
    admin,
    catalog,
    costs,
    escalations,
    incidents,
    observations,
    sources,
    statuses,
    targets,
)
from kpi_client.api import graphql as graphql_api
from kpi_client.api import health as health_api
from kpi_client.config import DEFAULT_TIMEOUT, default_headers, resolve_token, resolve_url
from kpi_client.methods import AsyncEndpoint as endpoint
from kpi_client.models import IngestResult
from kpi_client.ndjson import DEFAULT_CHUNK_POINTS, NdjsonBody, Point
from kpi_client.operation import Operation
from kpi_client.retry import RetryPolicy, retry_error, retry_status

T = TypeVar("T")


class AsyncClient:
    """An asyncio client of the KPI service.

    `url` and `token` default to the environment's KPI_URL and KPI_TOKEN. Failed sends are
    retried per `retry`; writes carry an Idempotency-Key (pass `idempotency_key=` to choose
    it). `transport` replaces the network (tests, proxies).
    """

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.url = resolve_url(url)
        self.retry = retry or RetryPolicy()
        self._http = httpx.AsyncClient(
            base_url=self.url,
            headers=default_headers(resolve_token(token), headers),
            timeout=timeout,
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"AsyncClient({self.url!r})"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def build_request(self, operation: Operation[T]) -> httpx.Request:
        """The request `execute` would send first (for logging or a dry run)."""
        return exchange.build_request(self._http, operation)

    async def execute(self, operation: Operation[T]) -> T:
        """Sends an operation, retrying per the policy, and gives its parsed answer."""
        return await self._send(operation, self.build_request(operation), None)

    async def stream_observations(
        self,
        points: Iterable[Point] | AsyncIterable[Point],
        *,
        chunk_points: int = DEFAULT_CHUNK_POINTS,
        idempotency_key: str | None = None,
    ) -> IngestResult:
        """Sends any number of points as one NDJSON stream, encoded as it is read, so memory
        stays flat. Atomic like a batch. A generator cannot be sent twice, so the stream is
        retried only while none of it was read; sending the same points again yourself is
        safe (a point sent again changes nothing)."""
        operation = observations.stream_observations_head(idempotency_key=idempotency_key)
        body = NdjsonBody(points, chunk_points)
        request = exchange.build_request(self._http, operation, aiter(body))
        return await self._send(operation, request, body)

    async def _send(
        self, operation: Operation[T], request: httpx.Request, body: NdjsonBody | None
    ) -> T:
        policy = self.retry
        for attempt in range(1, policy.max_attempts + 1):
            try:
                response = await self._http.send(request)
            except httpx.TransportError as exc:
                if body is not None and body.error is not None:
                    raise body.error from exc
                last = exchange.is_last(attempt, policy, body)
                if last or not retry_error(exc, may_resend=operation.replay_safe):
                    raise exchange.no_answer(operation, exc, attempt) from exc
                await asyncio.sleep(policy.delay(attempt))
                continue
            if body is not None and body.error is not None:
                raise body.error
            last = exchange.is_last(attempt, policy, body)
            if last or not retry_status(response.status_code, may_resend=operation.replay_safe):
                return exchange.read_answer(operation, response)
            await asyncio.sleep(policy.delay(attempt, response.headers.get("retry-after")))
        raise AssertionError("unreachable: the last attempt returns or raises")

    # Catalog
    list_teams = endpoint(catalog.list_teams)
    get_team = endpoint(catalog.get_team)
    create_team = endpoint(catalog.create_team)
    replace_team = endpoint(catalog.replace_team)
    delete_team = endpoint(catalog.delete_team)
    list_services = endpoint(catalog.list_services)
    get_service = endpoint(catalog.get_service)
    create_service = endpoint(catalog.create_service)
    replace_service = endpoint(catalog.replace_service)
    delete_service = endpoint(catalog.delete_service)
    list_outcomes = endpoint(catalog.list_outcomes)
    get_outcome = endpoint(catalog.get_outcome)
    create_outcome = endpoint(catalog.create_outcome)
    replace_outcome = endpoint(catalog.replace_outcome)
    delete_outcome = endpoint(catalog.delete_outcome)
    list_kpis = endpoint(catalog.list_kpis)
    get_kpi = endpoint(catalog.get_kpi)
    create_kpi = endpoint(catalog.create_kpi)
    replace_kpi = endpoint(catalog.replace_kpi)
    delete_kpi = endpoint(catalog.delete_kpi)
    list_targets = endpoint(targets.list_targets)
    get_target = endpoint(targets.get_target)
    create_target = endpoint(targets.create_target)
    replace_target = endpoint(targets.replace_target)
    delete_target = endpoint(targets.delete_target)
    list_kpi_outcomes = endpoint(targets.list_kpi_outcomes)
    link_kpi_outcome = endpoint(targets.link_kpi_outcome)
    unlink_kpi_outcome = endpoint(targets.unlink_kpi_outcome)
    list_kpi_services = endpoint(targets.list_kpi_services)
    link_kpi_service = endpoint(targets.link_kpi_service)
    unlink_kpi_service = endpoint(targets.unlink_kpi_service)
    apply_catalog = endpoint(admin.apply_catalog)
    # Observations and costs
    ingest_observations = endpoint(observations.ingest_observations)
    get_series = endpoint(observations.get_series)
    ingest_costs = endpoint(costs.ingest_costs)
    list_costs = endpoint(costs.list_costs)
    get_cost = endpoint(costs.get_cost)
    replace_cost = endpoint(costs.replace_cost)
    delete_cost = endpoint(costs.delete_cost)
    # Incidents and changes
    upsert_incident = endpoint(incidents.upsert_incident)
    add_incident_event = endpoint(incidents.add_incident_event)
    list_incidents = endpoint(incidents.list_incidents)
    get_incident = endpoint(incidents.get_incident)
    upsert_change = endpoint(incidents.upsert_change)
    list_changes = endpoint(incidents.list_changes)
    get_change = endpoint(incidents.get_change)
    # Statuses, reports and escalations
    get_kpi_status = endpoint(statuses.get_kpi_status)
    get_kpi_status_history = endpoint(statuses.get_kpi_status_history)
    get_scorecard = endpoint(statuses.get_scorecard)
    evaluate = endpoint(statuses.evaluate)
    get_service_report = endpoint(statuses.get_service_report)
    list_governance_gaps = endpoint(statuses.list_governance_gaps)
    list_escalations = endpoint(escalations.list_escalations)
    get_escalation = endpoint(escalations.get_escalation)
    acknowledge_escalation = endpoint(escalations.acknowledge_escalation)
    resolve_escalation = endpoint(escalations.resolve_escalation)
    # Sources and deliveries
    list_sources = endpoint(sources.list_sources)
    get_source = endpoint(sources.get_source)
    create_source = endpoint(sources.create_source)
    replace_source = endpoint(sources.replace_source)
    delete_source = endpoint(sources.delete_source)
    list_deliveries = endpoint(sources.list_deliveries)
    get_delivery = endpoint(sources.get_delivery)
    list_webhook_rejections = endpoint(sources.list_webhook_rejections)
    replay_delivery = endpoint(sources.replay_delivery)
    replay_unmapped = endpoint(sources.replay_unmapped)
    # Administration
    create_token = endpoint(admin.create_token)
    list_tokens = endpoint(admin.list_tokens)
    revoke_token = endpoint(admin.revoke_token)
    list_notifications = endpoint(admin.list_notifications)
    # Health, metrics and GraphQL
    health = endpoint(health_api.health)
    ready = endpoint(health_api.ready)
    metrics = endpoint(health_api.metrics)
    graphql = endpoint(graphql_api.graphql)
