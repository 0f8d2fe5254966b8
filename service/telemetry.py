"""Prometheus metrics of one app, served by GET /metrics in the text exposition format 0.0.4.

Built on prometheus_client rather than written here: its exposition format, histograms and
process collector are what Prometheus itself is tested against, and its multiprocess mode is
what lets several uvicorn workers answer a scrape together. Each app has a CollectorRegistry
of its own, never the library's global one: tests build many apps in one process, and each
must count only its own requests. Counters leave out the `_created` series (a start time per
label set, which Prometheus does not need from a 0.0.4 scrape).

What is measured, and when:

- HTTP requests and their latency, by route template (`/v1/kpis/{key}`, or `unmatched` for a
  path no route serves), method and status: RequestMetrics, a pure ASGI middleware, reads
  the route Starlette's router left in the scope, so no route is matched twice.
- What was ingested: observation points, cost records, incident and change events, webhook
  deliveries by outcome. These move only for work that is committed: see
  service/rest/prometheus.py, which the handlers call once their transaction has ended. Also
  webhook requests refused by the limits of service/webhook_guard.py.
- Database pool use, when the app has a pool (a test's single connection has none), and the
  backlogs (unmapped deliveries, notifications to send) and the recorded webhook rejections,
  read when scraped.

Several workers (`kpi serve --workers N`): each process counts on its own, and a scrape reaches
one of them. With PROMETHEUS_MULTIPROC_DIR naming an empty directory in the environment the
server starts with, every worker writes its counts there and any worker's scrape answers for
all of them (prometheus_client's multiprocess mode). Process metrics are then left out (they
would describe the one worker that answered), and the pool gauges carry a `pid` label, each
worker's values as of the last scrape it answered.
"""

from __future__ import annotations

import atexit
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service import __version__

disable_created_metrics()  # type: ignore[no-untyped-call]

#: What /metrics answers with.
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
#: The environment variable turning multiprocess mode on (prometheus_client's own).
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: Request latency buckets, in seconds: 5 ms to 10 s.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: The route label of a request no route serves (404s of unknown paths, redirects).
UNMATCHED = "unmatched"
#: Methods labelled as such; any other is `other`, so clients cannot mint label values.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: Scope key of the counts a request waits to commit (see service/rest/prometheus.py).
PENDING = "kpi.metrics.pending"

_CONVERTOR = re.compile(r"\{(\w+):\w+\}")
_exit_hook = threading.Lock()
_exit_hook_set = False


class _Families:
    """Metric families made at scrape time, as a collector."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self.families = list(families)

    def collect(self) -> Iterable[Metric]:
        return self.families


class _Chain:
    """Several collectors exposed as one."""

    def __init__(self, *parts: Collector) -> None:
        self.parts = parts

    def collect(self) -> Iterator[Metric]:
        for part in self.parts:
            yield from part.collect()


def _forget_this_process_at_exit() -> None:
    """In multiprocess mode a worker's live gauges (its pool) end with it."""
    global _exit_hook_set
    with _exit_hook:
        if not _exit_hook_set:
            atexit.register(mark_process_dead, os.getpid())
            _exit_hook_set = True


class PoolGauges:
    def __init__(self, registry: CollectorRegistry) -> None:
        mode: Any = "liveall"  # per worker, with a pid label, dropped when the worker ends
        self.size = Gauge(
            "kpi_db_pool_size", "Open connections of the database pool.",
            registry=registry, multiprocess_mode=mode,
        )  # fmt: skip
        self.connections = Gauge(
            "kpi_db_pool_connections", "Open connections of the database pool, idle or in use.",
            ["state"], registry=registry, multiprocess_mode=mode,
        )  # fmt: skip
        self.min_size = Gauge(
            "kpi_db_pool_min_size", "Connections the pool keeps open at least.",
            registry=registry, multiprocess_mode=mode,
        )  # fmt: skip
        self.max_size = Gauge(
            "kpi_db_pool_max_size", "Connections the pool opens at most.",
            registry=registry, multiprocess_mode=mode,
        )  # fmt: skip

    def set(self, pool: Any) -> None:
        size, idle = pool.get_size(), pool.get_idle_size()
        self.size.set(size)
        self.connections.labels("idle").set(idle)
        self.connections.labels("in_use").set(size - idle)
        self.min_size.set(pool.get_min_size())
        self.max_size.set(pool.get_max_size())


class Telemetry:
    """The metrics of one app and their exposition."""

    def __init__(self, multiprocess_dir: str | None = None) -> None:
        self.multiprocess_dir = multiprocess_dir or os.environ.get(MULTIPROC_ENV) or None
        self.registry = registry = CollectorRegistry()
        self.requests = Counter(
            "kpi_http_requests", "HTTP requests answered, by route template, method and status.",
            ["route", "method", "status"], registry=registry,
        )  # fmt: skip
        self.latency = Histogram(
            "kpi_http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer, by route template and method.",
            ["route", "method"], buckets=LATENCY_BUCKETS, registry=registry,
        )  # fmt: skip
        self.points = Counter(
            "kpi_observation_points",
            "Observation points committed by POST /v1/observations, by body format (json, "
            "ndjson) and result (inserted, updated, unchanged).",
            ["format", "result"], registry=registry,
        )  # fmt: skip
        self.cost_records = Counter(
            "kpi_cost_records",
            "Cost records committed by POST /v1/costs, by result (inserted, updated, unchanged).",
            ["result"], registry=registry,
        )  # fmt: skip
        self.events = Counter(
            "kpi_ingested_events",
            "Incident and change events (timeline steps) and commit times applied, by source "
            "name and kind: from webhook deliveries, replays and the generic endpoints.",
            ["source", "kind", "record"], registry=registry,
        )  # fmt: skip
        self.deliveries = Counter(
            "kpi_webhook_deliveries",
            "Webhook deliveries received, by source name, kind and outcome (applied, unmapped, "
            "duplicate, invalid, rejected).",
            ["source", "kind", "outcome"], registry=registry,
        )  # fmt: skip
        self.webhook_rate_limited = Counter(
            "kpi_webhook_rate_limited",
            "Webhook requests answered 429 by the limit of refused requests per client address "
            "(limit=client; source empty) or per source (limit=source).",
            ["limit", "source"], registry=registry,
        )  # fmt: skip
        self._pool: PoolGauges | None = None
        self._pool_lock = threading.Lock()
        self._templates: dict[str, str] = {}
        self._platform = PlatformCollector(registry=None)
        if self.multiprocess_dir is None:
            ProcessCollector(registry=registry)
        else:
            _forget_this_process_at_exit()

    def route_label(self, scope: Scope, status: int) -> str:
        """The template of the route that served the request (`{id:int}` written `{id}`).

        A request the router saw but no route served is `unmatched`. One answered before
        routing, by a middleware serving a fixed set of paths (the documentation pages), is
        labelled with its path when answered with a success."""
        path = getattr(scope.get("route"), "path", None)
        if not isinstance(path, str):
            if "router" not in scope and status < 400:
                return str(scope["path"])
            return UNMATCHED
        label = self._templates.get(path)
        if label is None:
            label = self._templates[path] = _CONVERTOR.sub(r"{\1}", path)
        return label

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        method = method if method in METHODS else "other"
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route, method).observe(seconds)

    def observe_pool(self, pool: Any) -> None:
        """Set the pool gauges from an asyncpg pool (at scrape time)."""
        with self._pool_lock:
            if self._pool is None:
                self._pool = PoolGauges(self.registry)
        self._pool.set(pool)

    def render(self, families: Iterable[Metric] = ()) -> bytes:
        """The exposition: this app's metrics (every worker's, in multiprocess mode) and the
        given families read at scrape time."""
        info = GaugeMetricFamily("kpi_info", "The service's version.", labels=["version"])
        info.add_metric([__version__], 1)
        base: Collector
        if self.multiprocess_dir is None:
            base = self.registry
        else:
            base = MultiProcessCollector(None, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]
        return generate_latest(_Chain(base, self._platform, _Families([info, *families])))


class RequestMetrics:
    """Counts and times every HTTP request; runs the counts a request left pending once its
    answer starts as a success (its work is committed by then)."""

    def __init__(self, app: ASGIApp, telemetry: Telemetry) -> None:
        self.app = app
        self.telemetry = telemetry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        pending: list[Callable[[], None]] = []
        scope[PENDING] = pending
        started = time.perf_counter()
        status = 500  # unless an answer starts

        async def send_counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if status < 400:
                    for count in pending:
                        count()
                pending.clear()
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            elapsed = time.perf_counter() - started
            route = self.telemetry.route_label(scope, status)
            self.telemetry.observe_request(route, scope["method"], status, elapsed)
