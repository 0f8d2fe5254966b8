"""Liveness and readiness: the only endpoints without a token."""

from __future__ import annotations

import asyncio
from typing import Literal

from pydantic import BaseModel
from starlette.responses import JSONResponse

from service.db import ping
from service.errors import ServiceUnavailable
from service.rest.endpoint import Call, Endpoint


class Health(BaseModel):
    status: Literal["ok", "ready"]


async def healthz(call: Call) -> JSONResponse:
    """The process is up."""
    return JSONResponse({"status": "ok"})


async def readyz(call: Call) -> JSONResponse:
    """The database answers within two seconds."""
    try:
        async with asyncio.timeout(2):
            async with call.connection() as con:
                await ping(con)
    except Exception as exc:
        raise ServiceUnavailable(
            f"database not reachable: {type(exc).__name__}", headers={"Retry-After": "5"}
        ) from exc
    return JSONResponse({"status": "ready"})


ENDPOINTS = [
    Endpoint("GET", "/healthz", healthz, None, "Liveness", "health", response=Health,
             auth="none", description="Answers as long as the process is up."),
    Endpoint("GET", "/readyz", readyz, None, "Readiness (database reachable)", "health",
             response=Health, errors=(503,), auth="none",
             description="Answers once the database does, within two seconds.",
             response_example={"status": "ready"}),
]  # fmt: skip
