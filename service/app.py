"""create_app(settings, db=None) -> Starlette: the REST API, /graphql and health endpoints."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import secrets
import time
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service import background
from service import db as dbmod
from service.clock import Clock, utc_now
from service.config import Settings
from service.errors import ApiError, handle_api_error, handle_http_exception, handle_unexpected
from service.graphql.app import GraphQLApp
from service.graphql.schema import build_schema
from service.logs import request_id
from service.replicas import close_replicas, open_replicas
from service.rest import (
    admin,
    audit,
    backstage,
    budgets,
    burn_alerts,
    catalog,
    costs,
    data_sources,
    deploy_gate,
    engine,
    health,
    incidents,
    initiatives,
    maintenance,
    notifications,
    observations,
    prometheus,
    reviews,
    teams,
    webhooks,
)
from service.rest.endpoint import Endpoint, routes
from service.telemetry import RequestMetrics, Telemetry
from service.usecases import calendars, measure
from service.usecases.persisted_queries import PersistedDocuments, load_trusted_documents
from service.web import demo_receiver
from service.web.pages import DocsPages

log = logging.getLogger("service.access")


def all_endpoints() -> list[Endpoint]:
    return [
        *health.ENDPOINTS,
        *catalog.ENDPOINTS,
        *teams.ENDPOINTS,
        *initiatives.ENDPOINTS,
        *backstage.ENDPOINTS,
        *observations.ENDPOINTS,
        *costs.ENDPOINTS,
        *budgets.ENDPOINTS,
        *burn_alerts.ENDPOINTS,
        *maintenance.ENDPOINTS,
        *deploy_gate.ENDPOINTS,
        *engine.ENDPOINTS,
        *reviews.ENDPOINTS,
        *incidents.ENDPOINTS,
        *webhooks.ENDPOINTS,
        *data_sources.ENDPOINTS,
        *admin.ENDPOINTS,
        *audit.ENDPOINTS,
        *notifications.ENDPOINTS,
        *prometheus.ENDPOINTS,
    ]


class RequestLog:
    """Gives each request an id (X-Request-ID, taken from the client if sane) and logs it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, b"x-request-id").decode("latin-1")
        rid = given if given.isascii() and 0 < len(given) <= 64 else secrets.token_hex(8)
        token = request_id.set(rid)
        started = time.perf_counter()
        status: int | None = None  # set once the response has started

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", rid.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            # Answered here rather than by Starlette's outermost handler, so that even a 500
            # carries the request id and is logged with it.
            if status is not None:
                raise
            response = await handle_unexpected(Request(scope), exc)
            await response(scope, receive, send_with_id)
        finally:
            if log.isEnabledFor(logging.INFO):
                log.info(
                    "request",
                    extra={
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status or 500,
                        "ms": round((time.perf_counter() - started) * 1000, 2),
                    },
                )
            request_id.reset(token)


def _header(scope: Scope, name: bytes) -> bytes:
    """The last value of a request header (as a dict of the headers would keep), else b""."""
    found = b""
    for key, value in scope["headers"]:
        if key == name:
            found = value
    return found


def cors(settings: Settings) -> list[Middleware]:
    """Cross-origin access for the configured origins only; with none, no CORS headers at all,
    so browsers keep other sites' pages from reading the API (a preflight gets 405)."""
    if not settings.cors_origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After", "Idempotent-Replayed"],
            max_age=600,
        )
    ]


def create_app(
    settings: Settings | None = None,
    db: dbmod.Database | None = None,
    clock: Clock = utc_now,
) -> Starlette:
    """The ASGI app. With `db` given (tests, benchmarks) no pool is opened and nothing migrates;
    `clock` is the time metrics are measured up to (open incidents, periods in progress)."""
    settings = settings or Settings()
    measure.use_settings(settings)
    calendars.use_settings(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if db is not None:
            yield
            return
        if settings.database_url is None:
            raise RuntimeError("KPI_DATABASE_URL is not set (kpi serve starts an embedded one)")
        url = settings.database_url.get_secret_value()
        con = await dbmod.connect_for_migrations(settings)
        try:
            await dbmod.migrate(con, settings.db_schema)
        finally:
            await con.close()
        pool = await dbmod.create_pool(
            url, settings.db_schema, settings.pool_min_size, settings.pool_max_size,
            settings=settings,
        )  # fmt: skip
        if settings.db_transaction_pooling:
            async with pool.acquire() as con:
                problems = await dbmod.pooled_session_problems(con, settings.db_schema)
            if problems:
                await pool.close()
                raise RuntimeError(
                    "through the transaction-mode pooler, "
                    + "; ".join(problems)
                    + ": set them on the database role (ALTER ROLE ... SET), see the README"
                )
        # The calendar in force is recorded once the pool's sessions are known to see the
        # schema (through a pooler, only the role's settings give them its search_path).
        try:
            async with pool.acquire() as con:
                await calendars.record(con, settings, clock())
        except BaseException:
            await pool.close()
            raise
        app.state.db = dbmod.PoolDatabase(pool, settings.db_acquire_timeout_seconds)
        try:
            app.state.replicas = await open_replicas(app.state.db, settings)
        except BaseException:
            await pool.close()
            raise
        stop = asyncio.Event()
        worker = checker = None
        if settings.background:
            worker = asyncio.create_task(background.run(app.state.db, settings, clock, stop))
        if app.state.replicas is not None:
            checker = asyncio.create_task(app.state.replicas.run(stop))
        # Everything loaded so far (modules, schema, pool) lives as long as the process: moved
        # out of the collector's sight, it is not traversed again on every collection, which
        # took a large share of the CPU of validating a 5,000-point batch.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            stop.set()
            if worker is not None:
                await worker
            if checker is not None:
                await checker
                await close_replicas(app.state.replicas)
            await pool.close()

    graphql = GraphQLApp(build_schema(settings))
    telemetry = Telemetry()
    route_list: list[BaseRoute] = [
        *routes([e for e in all_endpoints() if e not in prometheus.ENDPOINTS]),
        prometheus.route(),  # its own door: it answers while the database is down
        Route("/graphql", graphql, methods=["GET", "POST"]),
        *(demo_receiver.routes() if settings.demo_receiver_url else []),
    ]
    app = Starlette(
        routes=route_list,
        middleware=[
            Middleware(RequestMetrics, telemetry=telemetry),
            Middleware(RequestLog),
            Middleware(DocsPages, endpoints=all_endpoints),
            *cors(settings),
        ],
        exception_handlers={
            ApiError: handle_api_error,
            HTTPException: handle_http_exception,
            Exception: handle_unexpected,
        },
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.persisted_documents = PersistedDocuments(
        keep=settings.graphql_persisted_queries_max,
        trusted=load_trusted_documents(settings.graphql_trusted_documents)
        if settings.graphql_trusted_documents
        else None,
    )
    app.state.clock = clock
    app.state.telemetry = telemetry
    #: Read replicas, when KPI_DATABASE_READ_URL names any (opened with the pool).
    app.state.replicas = None
    if db is not None:
        app.state.db = db
    return app
