"""Liveness and readiness: the only endpoints without a token."""

from __future__ import annotations

import asyncio
from typing import Literal

from pydantic import BaseModel, Field
from starlette.responses import JSONResponse

from service.db import ping
from service.errors import ServiceUnavailable
from service.read_routing import PRIMARY, usable
from service.replicas import replica_set
from service.rest.endpoint import Call, Endpoint


class DatabaseHealth(BaseModel):
    """One database as /readyz last found it (with read replicas only)."""

    name: str = Field(description="`primary`, or `replica1`, `replica2` ... in the order of "
                      "KPI_DATABASE_READ_URL.")  # fmt: skip
    reachable: bool = Field(description="The primary: answered now. A replica: answered its "
                            "last check (every KPI_REPLICA_CHECK_SECONDS).")  # fmt: skip
    lag_bytes: int | None = Field(
        default=None,
        description="A replica: WAL bytes its replay was behind the primary at its last check "
        "(null when either did not answer).",
    )
    used: bool | None = Field(
        default=None,
        description="A replica: whether reads go to it (reachable and within "
        "KPI_REPLICA_MAX_LAG_BYTES).",
    )


class Health(BaseModel):
    status: Literal["ok", "ready"]


class Readiness(BaseModel):
    status: Literal["ready"]
    databases: list[DatabaseHealth] | None = Field(
        default=None,
        description="With read replicas (KPI_DATABASE_READ_URL) only: the primary and each "
        "replica. The service is ready when the primary is, whatever the replicas.",
    )


async def healthz(call: Call) -> JSONResponse:
    """The process is up."""
    return JSONResponse({"status": "ok"})


async def readyz(call: Call) -> JSONResponse:
    """The database (the primary) answers within two seconds; with read replicas, each
    database is listed as last checked."""
    try:
        async with asyncio.timeout(2):
            async with call.connection() as con:
                await ping(con)
    except Exception as exc:
        raise ServiceUnavailable(
            f"database not reachable: {type(exc).__name__}", headers={"Retry-After": "5"}
        ) from exc
    replicas = replica_set(call.request.app.state)
    if replicas is None:
        return JSONResponse({"status": "ready"})
    databases = [DatabaseHealth(name=PRIMARY, reachable=True)] + [
        DatabaseHealth(name=r.name, reachable=r.reachable, lag_bytes=r.lag_bytes,
                       used=usable(r, replicas.max_lag_bytes))
        for r in replicas.readings
    ]  # fmt: skip
    return JSONResponse(Readiness(status="ready", databases=databases).model_dump(mode="json"))


ENDPOINTS = [
    Endpoint("GET", "/healthz", healthz, None, "Liveness", "health", response=Health,
             auth="none", description="Answers as long as the process is up."),
    Endpoint("GET", "/readyz", readyz, None, "Readiness (database reachable)", "health",
             response=Readiness, errors=(503,), auth="none",
             description="Answers once the database (the primary) does, within two seconds; "
             "with read replicas it lists each database, reachable or not, and each replica's "
             "lag and whether reads go to it (without them: `{\"status\": \"ready\"}`)."),
]  # fmt: skip
