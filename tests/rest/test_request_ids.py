"""Every answer carries a request id, an unexpected 500 included, and never a stack trace."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx

from service.app import create_app
from service.config import Settings


class BrokenDatabase:
    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[object]:
        raise RuntimeError("boom: internal detail")
        yield  # pragma: no cover


async def test_an_unexpected_error_is_a_500_problem_with_the_request_id() -> None:
    app = create_app(Settings(), db=BrokenDatabase())
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://kpi.test") as client:
        r = await client.get("/v1/teams", headers={"X-Request-ID": "req-42",
                                                   "Authorization": "Bearer kpi_x"})  # fmt: skip
        assert r.status_code == 500
        assert r.headers["x-request-id"] == "req-42"
        assert r.headers["content-type"] == "application/problem+json"
        assert "boom" not in r.text and "Traceback" not in r.text
        ok = await client.get("/healthz")
        assert len(ok.headers["x-request-id"]) == 16
