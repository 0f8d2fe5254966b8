"""The ingest-webhook baseline: the least a webhook receiver does, one row per delivery.

A bare Starlette app with one route that reads the body, inserts it as one row (from an asyncpg
pool made like the service's, into a table of its own in the bench schema) and answers 200
with a small JSON object; no signature, no dedupe, no parsing, no middleware. It is served by
the same code as `kpi serve` (service/serve.py: uvicorn, the same loop, HTTP implementation,
socket options and worker processes), so that the two differ only in what the app does.

    python -m bench.bare_webhook --port 8001 --workers 2   # with KPI_DATABASE_URL
                                                                    # and KPI_DB_SCHEMA set
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bench.harness import running_server
from service import db as dbmod
from service.config import Settings

TABLE = "bare_delivery"
PATH = "/hook"
CREATE_TABLE = (
    f"create table {TABLE} (id bigserial primary key, "
    "received_at timestamptz not null default now(), body bytea not null)"
)
INSERT = f"insert into {TABLE} (body) values ($1) returning id"


def create_app() -> Starlette:
    """The baseline app; its database from KPI_DATABASE_URL and KPI_DB_SCHEMA."""
    settings = Settings()
    assert settings.database_url is not None, "KPI_DATABASE_URL must be set"
    url = settings.database_url.get_secret_value()
    pools: list[dbmod.PoolDatabase] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        pool = await dbmod.create_pool(
            url, settings.db_schema, settings.pool_min_size, settings.pool_max_size,
            settings=settings,
        )  # fmt: skip
        pools.append(dbmod.PoolDatabase(pool, settings.db_acquire_timeout_seconds))
        try:
            yield
        finally:
            await pool.close()

    async def receive(request: Request) -> Response:
        body = await request.body()
        async with pools[0].acquire() as con:
            delivery_id = await con.fetchval(INSERT, body)
        return JSONResponse({"delivery_id": delivery_id, "status": "applied"})

    async def ready(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[Route(PATH, receive, methods=["POST"]), Route("/readyz", ready)],
        lifespan=lifespan,
    )


async def create_table(con: dbmod.Connection) -> None:
    await con.execute(CREATE_TABLE)


def running_baseline(
    url: str, schema: str, workers: int
) -> contextlib.AbstractAsyncContextManager[str]:
    """The baseline served on loopback like `kpi serve`; yields its base URL once ready."""
    return running_server(url, schema, workers, module=("bench.bare_webhook",))


def main(argv: list[str]) -> int:
    from service import logs, serve

    p = argparse.ArgumentParser(prog="python -m bench.bare_webhook")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--workers", type=int, default=1)
    args = p.parse_args(argv)
    level = Settings().log_level
    logs.configure(level)
    serve.run_app(
        "bench.bare_webhook:create_app", args.host, args.port, args.workers,
        log_level=level,
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
