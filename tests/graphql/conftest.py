"""Fixtures of the GraphQL tests."""

from __future__ import annotations

import httpx
import pytest

from tests.graphql.helpers import Headers, make_catalog


@pytest.fixture
async def catalog(client: httpx.AsyncClient, admin: Headers) -> None:
    await make_catalog(client, admin)
