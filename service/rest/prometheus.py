"""GET /metrics for Prometheus, and the counting REST handlers do once their work is committed.

The endpoint needs a token with the `read` scope, like every read. It answers even while the
database is unreachable, since that is when its request and pool metrics matter most: the
backlogs read from the database are then left out and `kpi_database_up` is 0. Checking a
token needs the database too, so /metrics has a door of its own: the token is checked there as
everywhere, and one the database accepted in the last ten minutes is still let in while the
database cannot answer (another token then gets a 503). A revoked token is refused as soon as
the database says so.

Counting after commit: a handler calls one of the functions below once its transaction has
ended, which is the commit, except for a request sent with an Idempotency-Key, whose work
commits with its stored answer after the handler returns: the count then waits for that
answer to go out as a success (service/telemetry.py, RequestMetrics). A request that fails
or rolls back counts nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import cast

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service import ratelimit
from service.db import PoolDatabase
from service.errors import RateLimited, ServiceUnavailable, Unauthorized
from service.models.costs import CostIngestResult
from service.models.enums import Scope
from service.models.observations import IngestResult
from service.models.sources import Source
from service.models.tokens import Principal, hash_token
from service.read_routing import PRIMARY, usable
from service.replicas import ReplicaSet, replica_set
from service.rest.endpoint import Call, Endpoint
from service.store import data_sources, rejections
from service.store import telemetry as store
from service.telemetry import CONTENT_TYPE, PENDING, Telemetry
from service.usecases.ingestion_apply import DeliveryOutcome
from service.usecases.tokens import bearer_token, require, require_unlimited_reads

log = logging.getLogger("service.metrics")

#: How long a scrape waits for the database (token check, then backlogs) before going without.
DATABASE_TIMEOUT = 2.0
#: How long a token the database accepted still opens /metrics while the database is down.
TOKEN_MEMORY_SECONDS = 600.0
#: Tokens remembered at most (the oldest is forgotten first).
TOKEN_MEMORY_SIZE = 64
#: Scope key set when the door could not reach the database.
_DATABASE_DOWN = "kpi.metrics.database_down"


def _telemetry(request: Request) -> Telemetry | None:
    return cast(Telemetry | None, getattr(request.app.state, "telemetry", None))


# Counting -------------------------------------------------------------------------------------


def after_commit(call: Call, count: Callable[[Telemetry], None]) -> None:
    """Count work whose transaction has just ended: now, or for a keyed request once its
    answer goes out as a success."""
    telemetry = _telemetry(call.request)
    if telemetry is None:
        return
    pending: list[Callable[[], None]] | None = call.request.scope.get(PENDING)
    if call.shared is None or pending is None:
        count(telemetry)
    else:
        pending.append(lambda: count(telemetry))


def points_ingested(call: Call, body_format: str, result: IngestResult) -> None:
    def count(t: Telemetry) -> None:
        for name, n in (
            ("inserted", result.inserted),
            ("updated", result.updated),
            ("unchanged", result.unchanged),
        ):
            t.points.labels(body_format, name).inc(n)

    after_commit(call, count)


def cost_records_ingested(call: Call, result: CostIngestResult) -> None:
    def count(t: Telemetry) -> None:
        for name, n in (
            ("inserted", result.inserted),
            ("updated", result.updated),
            ("unchanged", result.unchanged),
        ):
            t.cost_records.labels(name).inc(n)

    after_commit(call, count)


def delivery_received(call: Call, source: Source, outcome: str) -> None:
    """A webhook delivery logged with its outcome (applied, unmapped, duplicate, invalid,
    rejected)."""
    after_commit(call, lambda t: t.deliveries.labels(source.name, source.kind.value, outcome).inc())


def webhook_rate_limited(call: Call, limit: str, source: Source | None) -> None:
    """A webhook request answered 429 by the limit per client address or per source."""
    name = source.name if source is not None else ""
    after_commit(call, lambda t: t.webhook_rate_limited.labels(limit, name).inc())


def events_applied(call: Call, outcome: DeliveryOutcome | None) -> None:
    """The events of an applied delivery (webhook, replay or generic endpoint)."""
    applied = outcome.applied if outcome is not None else None
    if applied is None:
        return

    def count(t: Telemetry) -> None:
        for record, n in (
            ("incident", applied.incidents),
            ("change", applied.changes),
            ("commit", applied.commits),
        ):
            if n:
                t.events.labels(applied.source, applied.kind, record).inc(n)

    after_commit(call, count)


# The endpoint ---------------------------------------------------------------------------------


class RecentTokens:
    """Tokens the database accepted for /metrics lately, by hash, with when."""

    def __init__(self) -> None:
        self._seen: OrderedDict[bytes, tuple[Principal, float]] = OrderedDict()

    def remember(self, token: str, principal: Principal) -> None:
        key = hash_token(token)
        self._seen.pop(key, None)
        self._seen[key] = (principal, time.monotonic())
        while len(self._seen) > TOKEN_MEMORY_SIZE:
            self._seen.popitem(last=False)

    def forget(self, token: str) -> None:
        self._seen.pop(hash_token(token), None)

    def recall(self, token: str) -> Principal | None:
        found = self._seen.get(hash_token(token))
        if found is None or time.monotonic() - found[1] > TOKEN_MEMORY_SECONDS:
            return None
        return found[0]


async def _authorize(request: Request, recent: RecentTokens) -> Principal:
    header = request.headers.get("authorization")
    token = bearer_token(header)  # 401 without one, before the database is asked
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT):
            async with request.app.state.db.acquire() as con:
                principal = await ratelimit.authenticate(request.app.state, con, header)
    except Unauthorized:
        recent.forget(token)
        raise
    except RateLimited:
        raise
    except Exception as exc:
        remembered = recent.recall(token)
        if remembered is None:
            raise ServiceUnavailable(
                "the database is not reachable to check the token; retry later",
                headers={"Retry-After": "5"},
            ) from exc
        log.warning("token not checked: database unreachable", extra={"error": repr(exc)})
        request.scope[_DATABASE_DOWN] = True
        principal = remembered
    else:
        if principal.allows(Scope.READ):
            recent.remember(token, principal)
    require(principal, Scope.READ)
    require_unlimited_reads(principal, "the metrics")
    return principal


async def _database_families(call: Call) -> list[Metric]:
    up = GaugeMetricFamily(
        "kpi_database_up",
        "By database: the primary 1 when this scrape read the backlogs from it, 0 when it "
        "could not and left them out; a read replica 1 when it answered its last check.",
        labels=["database"],
    )
    replicas = replica_set(call.request.app.state)
    extra = _replica_families(up, replicas) if replicas is not None else []
    if call.request.scope.get(_DATABASE_DOWN):
        up.add_metric([PRIMARY], 0)
        return [up, *extra]
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT):
            async with call.connection() as con:
                unmapped = await store.unmapped_deliveries(con)
                outbox = await store.outbox_backlog(con)
                rejected = await rejections.webhook_rejection_counts(con)
                queried = await data_sources.query_counts(con)
    except Exception as exc:
        log.warning("metrics without the database's backlogs", extra={"error": repr(exc)})
        up.add_metric([PRIMARY], 0)
        return [up, *extra]
    up.add_metric([PRIMARY], 1)
    waiting = GaugeMetricFamily(
        "kpi_unmapped_deliveries",
        "Webhook deliveries kept as unmapped, waiting for a replay, by source name and kind.",
        labels=["source", "kind"],
    )
    for source, kind, n in unmapped:
        waiting.add_metric([source, kind], n)
    backlog = GaugeMetricFamily(
        "kpi_outbox_notifications",
        "Notifications in the outbox still to deliver (pending) or given up on (failed).",
        labels=["state"],
    )
    for state, n in outbox.items():
        backlog.add_metric([state], n)
    stored = CounterMetricFamily(
        "kpi_webhook_rejections_recorded",
        "Webhook deliveries refused for not proving their source and recorded (GET "
        "/v1/webhook-rejections), by source name, kind and reason, since the first; every "
        "worker's, read from the database.",
        labels=["source", "kind", "reason"],
    )
    for count in rejected:
        stored.add_metric([count.source, count.kind, count.reason], count.count)
    return [up, waiting, backlog, stored, _data_source_queries(queried), *extra]


def _replica_families(up: GaugeMetricFamily, replicas: ReplicaSet) -> list[Metric]:
    """Each replica's state at its last check (its sample of `up` added), and the reads
    each database served."""
    lag = GaugeMetricFamily(
        "kpi_replica_lag_bytes",
        "WAL bytes each read replica's replay was behind the primary at its last check "
        "(absent while either does not answer).",
        labels=["replica"],
    )
    used = GaugeMetricFamily(
        "kpi_replica_used",
        "1 when reads go to the replica: it answered its last check within "
        "KPI_REPLICA_MAX_LAG_BYTES.",
        labels=["replica"],
    )
    for replica in replicas.readings:
        up.add_metric([replica.name], 1 if replica.reachable else 0)
        if replica.lag_bytes is not None:
            lag.add_metric([replica.name], replica.lag_bytes)
        used.add_metric([replica.name], 1 if usable(replica, replicas.max_lag_bytes) else 0)
    reads = CounterMetricFamily(
        "kpi_database_reads",
        "Connections lent to replica-eligible reads (REST reads of reports, series and lists; "
        "GraphQL queries), by the database that served them, in this process.",
        labels=["database"],
    )
    for name, count in replicas.reads.items():
        reads.add_metric([name], count)
    return [lag, used, reads]


def _data_source_queries(counts: list[tuple[str, int, int]]) -> Metric:
    family = CounterMetricFamily(
        "kpi_data_source_queries",
        "Queries the SLI evaluation sent to each data source (GET /v1/data-sources), by "
        "outcome (answered, failed), since the source was created; read from the database.",
        labels=["data_source", "outcome"],
    )
    for name, answered, failed in counts:
        family.add_metric([name, "answered"], answered)
        family.add_metric([name, "failed"], failed)
    return family


async def scrape_metrics(call: Call) -> Response:
    """The metrics, in the Prometheus text exposition format 0.0.4."""
    telemetry = _telemetry(call.request)
    assert telemetry is not None, "create_app gives every app its telemetry"
    if isinstance(call.db, PoolDatabase):
        telemetry.observe_pool(call.db.pool)
    families = await _database_families(call)
    return Response(telemetry.render(families), media_type=CONTENT_TYPE)


ENDPOINTS = [
    Endpoint(
        "GET", "/metrics", scrape_metrics, Scope.READ, "Prometheus metrics", "health",
        errors=(503,),
        description="Text exposition format 0.0.4 (text/plain; version=0.0.4): HTTP requests "
        "and latency by route template, ingested points, cost records, events and webhook "
        "deliveries, webhook requests refused by their rate limits, database pool use, "
        "unmapped deliveries, the notification outbox and recorded webhook rejections (the "
        "last three read from the database when scraped; left out, with "
        'kpi_database_up{database="primary"} 0, when it cannot be reached); with read '
        "replicas, each replica's kpi_database_up, kpi_replica_lag_bytes and kpi_replica_used, "
        "and kpi_database_reads_total by database. A token the database accepted in the last "
        "ten minutes still opens it while the database is down; another then gets a 503.",
        response=str, response_media_type="text/plain",
        response_example="# HELP kpi_http_requests_total HTTP requests answered, by route "
        "template, method and status.\n# TYPE kpi_http_requests_total counter\n"
        'kpi_http_requests_total{method="GET",route="/v1/kpis",status="200"} 1.0\n'
        "# HELP kpi_database_up By database: the primary 1 when this scrape read the "
        "backlogs from it, 0 when it could not and left them out; a read replica 1 when it "
        "answered its last check.\n"
        '# TYPE kpi_database_up gauge\nkpi_database_up{database="primary"} 1.0\n',
    ),
]  # fmt: skip


def route() -> Route:
    """The route serving ENDPOINTS, with its own door (see the module's docstring)."""
    (endpoint,) = ENDPOINTS
    recent = RecentTokens()

    async def metrics_door(request: Request) -> Response:
        principal = await _authorize(request, recent)
        state = request.app.state
        call = Call(request, state.settings, state.db, principal, request.path_params, None, None)
        response: Response = await endpoint.handler(call)
        return response

    return Route(endpoint.path, metrics_door, methods=[endpoint.method])
