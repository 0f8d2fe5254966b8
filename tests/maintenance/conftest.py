"""Fixtures of the maintenance window and deploy gate tests: the app with a clock the test
moves."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from service import db as dbmod
from service.config import Settings
from tests.conftest import app_client


class Clock:
    """The app's clock, moved by the test."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at


def utc(stamp: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"2026-{stamp}:00+00:00")


@pytest.fixture
def clock() -> Clock:
    return Clock(utc("10-20T12:00"))


@pytest.fixture
async def app(
    con: dbmod.Connection, settings: Settings, clock: Clock
) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(con, settings, clock) as client:
        yield client


def window(start: str, end: str, reason: str = "database upgrade") -> dict[str, Any]:
    return {"starts_at": f"2026-{start}:00Z", "ends_at": f"2026-{end}:00Z", "reason": reason}


WINDOWS = "/v1/services/checkout/maintenance-windows"
