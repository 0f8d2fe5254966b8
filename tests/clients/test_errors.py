"""Error answers become the matching exception with the problem+json fields; instants without
a timezone and a missing URL are refused before anything is sent."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from kpi_client import (
    ApiError,
    AsyncClient,
    Client,
    ClientError,
    ConfigurationError,
    Conflict,
    Forbidden,
    KpiError,
    NotFound,
    Operation,
    PayloadTooLarge,
    RateLimited,
    RequestInvalid,
    ServerError,
    ServiceUnavailable,
    TransportError,
    Unauthorized,
    UnexpectedAnswer,
    UnsupportedMediaType,
    ValidationFailed,
)
from kpi_client.errors import error_from_response
from kpi_client.models import ObservationIn, ServiceIn
from kpi_client.operation import no_content
from pydantic import ValidationError

from service import db as dbmod
from service.app import create_app
from service.config import Settings
from tests.clients.catalog_data import at, make_catalog
from tests.clients.conftest import BASE_URL, Headers, async_client
from tests.conftest import SingleConnectionDatabase

PROBLEMS = "https://kpi.example/problems/"


async def test_validation_problem_fields(kpi: AsyncClient) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await kpi.create_service(ServiceIn(slug="checkout", name="Checkout", tier=9))
    error = caught.value
    assert (error.status, error.title, error.type, error.instance) == (
        422,
        "Unprocessable Content",
        PROBLEMS + "validation",
        "/v1/services",
    )
    assert "tier" in error.detail
    assert [(e.pointer, e.field) for e in error.errors] == [("#/tier", "tier")]
    assert error.errors[0].detail
    assert error.request_id is not None and len(error.request_id) == 16
    assert error.request_id in str(error)
    assert error.body["status"] == 422


async def test_each_status_family(
    kpi: AsyncClient, asgi: httpx.ASGITransport, reader: Headers
) -> None:
    await make_catalog(kpi)
    with pytest.raises(Conflict) as conflict:
        await kpi.create_team({"slug": "shop", "name": "Shop"})
    assert conflict.value.type == PROBLEMS + "conflict"
    with pytest.raises(Conflict):
        await kpi.delete_team("shop")  # services still belong to it
    with pytest.raises(NotFound) as missing:
        await kpi.get_kpi("nope")
    assert (missing.value.status, missing.value.instance) == (404, "/v1/kpis/nope")
    with pytest.raises(UnsupportedMediaType):
        await kpi.execute(
            Operation("POST", "/v1/costs", no_content, body=b"x", content_type="text/plain")
        )
    async with async_client(asgi, reader) as read_only:
        assert [t.slug for t in await read_only.list_teams()] == ["shop"]
        with pytest.raises(Forbidden) as forbidden:
            await read_only.create_team({"slug": "ops", "name": "Ops"})
    assert forbidden.value.status == 403
    async with async_client(asgi, {"Authorization": "Bearer kpi_unknown"}) as stranger:
        with pytest.raises(Unauthorized):
            await stranger.list_teams()
    async with AsyncClient(BASE_URL, transport=asgi) as anonymous:
        with pytest.raises(Unauthorized):
            await anonymous.list_teams()


async def test_payload_too_large_carries_the_limit(
    con: dbmod.Connection, settings: Settings, admin: Headers
) -> None:
    small = Settings(db_schema=settings.db_schema, max_batch_points=3)
    app = create_app(small, db=SingleConnectionDatabase(con))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with async_client(transport, admin) as kpi:
        await make_catalog(kpi)
        points = [{"kpi": "orders", "ts": at(2031, 1, d), "value": 1} for d in range(1, 5)]
        with pytest.raises(PayloadTooLarge) as caught:
            await kpi.ingest_observations(points)
        assert caught.value.body["limit"] == 3
        streamed = await kpi.stream_observations(points)
        assert streamed.inserted == 4


def test_naive_datetimes_are_refused_before_sending() -> None:
    naive = dt.datetime(2031, 1, 1, 12, 0)
    with pytest.raises(ValidationError, match="naive datetime"):
        ObservationIn(kpi="orders", ts=naive, value=1)
    with pytest.raises(ValidationError, match="naive datetime"):
        ObservationIn.model_validate({"kpi": "orders", "ts": "2031-01-01T12:00:00", "value": 1})
    transport = httpx.MockTransport(lambda request: pytest.fail("nothing may be sent"))
    with Client(BASE_URL, "t", transport=transport) as kpi:
        with pytest.raises(RequestInvalid, match="point 0 is invalid: ts: naive datetime"):
            kpi.ingest_observations([{"kpi": "orders", "ts": naive, "value": 1}])
        with pytest.raises(RequestInvalid, match="from: naive datetime"):
            kpi.get_series("orders", from_=naive)
        with pytest.raises(RequestInvalid, match="period: naive datetime"):
            kpi.evaluate(period=naive)
        with pytest.raises(RequestInvalid, match="occurred_at"):
            kpi.add_incident_event(1, {"step": "resolved", "occurred_at": naive})


def test_url_and_token_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KPI_URL", raising=False)
    with pytest.raises(ConfigurationError, match="KPI_URL"):
        Client()
    with pytest.raises(ConfigurationError, match="http"):
        Client("kpi.example")
    monkeypatch.setenv("KPI_URL", "https://kpi.example/base/")
    monkeypatch.setenv("KPI_TOKEN", "kpi_from_env")
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[])

    with Client(transport=httpx.MockTransport(answer)) as kpi:
        assert kpi.list_teams() == []
    assert str(seen[0].url) == "https://kpi.example/base/v1/teams"
    assert seen[0].headers["authorization"] == "Bearer kpi_from_env"
    assert "idempotency-key" not in seen[0].headers


def test_the_exception_tree() -> None:
    for family in (ApiError, TransportError, RequestInvalid, ConfigurationError):
        assert issubclass(family, KpiError)
    for cls in (
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        PayloadTooLarge,
        ValidationFailed,
        RateLimited,
        UnsupportedMediaType,
    ):
        assert issubclass(cls, ClientError) and issubclass(cls, ApiError)
    assert issubclass(ServiceUnavailable, ServerError) and issubclass(ServerError, ApiError)


def test_errors_from_answers_that_are_not_problems() -> None:
    request = httpx.Request("GET", "https://kpi.example/v1/teams")
    proxy = httpx.Response(502, text="<html>Bad gateway</html>", request=request)
    error = error_from_response(proxy)
    assert type(error) is ServerError
    assert (error.status, error.title, error.errors) == (502, "Bad Gateway", [])
    assert "Bad gateway" in error.detail
    limited = httpx.Response(429, headers={"Retry-After": "7"}, request=request)
    assert isinstance(error_from_response(limited), RateLimited)
    assert error_from_response(limited).retry_after == "7"
    teapot = httpx.Response(418, json={"title": "I'm a teapot", "detail": "no"}, request=request)
    assert type(error_from_response(teapot)) is ClientError


def test_a_success_answer_that_is_not_the_documented_body() -> None:
    page = httpx.MockTransport(lambda request: httpx.Response(200, text="<html>portal</html>"))
    with Client(BASE_URL, "t", transport=page) as kpi:
        with pytest.raises(UnexpectedAnswer, match="GET /v1/teams: the 200 answer"):
            kpi.list_teams()
