"""Clients of the service running in-process on the test's connection and transaction."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from kpi_client import AsyncClient, Client, RetryPolicy

from service import db as dbmod
from service.app import create_app
from service.config import Settings
from tests.clients.transports import LoopForwardingTransport
from tests.conftest import SingleConnectionDatabase

UTC = dt.UTC
BASE_URL = "http://kpi.test"
#: The app's clock: January and February 2031 have closed.
NOW = dt.datetime(2031, 3, 1, 9, 0, tzinfo=UTC)
#: Retries without waiting, so fault tests run fast.
NO_WAIT = RetryPolicy(max_attempts=4, backoff_base=0.0)

Headers = dict[str, str]


def token_of(headers: Headers) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


@pytest.fixture
def asgi(con: dbmod.Connection, settings: Settings) -> httpx.ASGITransport:
    app = create_app(settings, db=SingleConnectionDatabase(con), clock=lambda: NOW)
    return httpx.ASGITransport(app=app, raise_app_exceptions=False)


def async_client(
    transport: httpx.AsyncBaseTransport, headers: Headers, retry: RetryPolicy = NO_WAIT
) -> AsyncClient:
    return AsyncClient(BASE_URL, token_of(headers), transport=transport, retry=retry)


@pytest.fixture
async def kpi(asgi: httpx.ASGITransport, admin: Headers) -> AsyncIterator[AsyncClient]:
    """An async client with an admin token."""
    async with async_client(asgi, admin) as client:
        yield client


@pytest.fixture
async def forwarding(asgi: httpx.ASGITransport) -> LoopForwardingTransport:
    """A sync transport into the app, for clients running in a worker thread."""
    return LoopForwardingTransport(asgi, asyncio.get_running_loop())


@pytest.fixture
def sync_client(forwarding: LoopForwardingTransport) -> Callable[..., Client]:
    """Makes a sync client (use it inside asyncio.to_thread) with the given token headers."""

    def make(
        headers: Headers,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy = NO_WAIT,
    ) -> Client:
        return Client(BASE_URL, token_of(headers), transport=transport or forwarding, retry=retry)

    return make
