"""CORS is closed unless origins are configured, and then open to those origins only."""

from __future__ import annotations

import httpx
import pytest

from service import db as dbmod
from service.config import Settings
from tests.conftest import app_client

PORTAL = "https://portal.example.com"
PREFLIGHT = {
    "Origin": PORTAL,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type",
}


async def test_by_default_no_origin_is_allowed(
    client: httpx.AsyncClient, reader: dict[str, str]
) -> None:
    r = await client.get("/v1/teams", headers={**reader, "Origin": PORTAL})
    assert r.status_code == 200
    assert not [h for h in r.headers if h.startswith("access-control-")]
    preflight = await client.options("/v1/teams", headers=PREFLIGHT)
    assert preflight.status_code == 405
    assert "access-control-allow-origin" not in preflight.headers


async def test_configured_origins_may_call_and_others_may_not(
    con: dbmod.Connection, settings: Settings, reader: dict[str, str]
) -> None:
    open_to_portal = settings.model_copy(update={"cors_origins": [PORTAL]})
    async with app_client(con, open_to_portal) as client:
        preflight = await client.options("/v1/teams", headers=PREFLIGHT)
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == PORTAL
        assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
        r = await client.get("/v1/teams", headers={**reader, "Origin": PORTAL})
        assert r.headers["access-control-allow-origin"] == PORTAL
        assert "x-request-id" in r.headers["access-control-expose-headers"].lower()

        elsewhere = {**PREFLIGHT, "Origin": "https://evil.example.net"}
        refused = await client.options("/v1/teams", headers=elsewhere)
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers
        r = await client.get("/v1/teams", headers={**reader, "Origin": elsewhere["Origin"]})
        assert "access-control-allow-origin" not in r.headers


@pytest.mark.parametrize(
    ("raw", "origins"),
    [
        ("", []),
        (PORTAL, [PORTAL]),
        (f" {PORTAL} , https://b.example.org,", [PORTAL, "https://b.example.org"]),
    ],
)
def test_origins_are_read_comma_separated_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, raw: str, origins: list[str]
) -> None:
    monkeypatch.setenv("KPI_CORS_ORIGINS", raw)
    assert Settings().cors_origins == origins
