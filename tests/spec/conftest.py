"""Fixtures of the contract tests: a schema of their own holding committed demo data, and the
app opening its own pool on it (schemathesis calls the app from its own event loop thread, so
the app cannot share the per-test connection of tests/conftest.py)."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator

import pytest
from schemathesis.python import asgi
from starlette.applications import Starlette

from service import db as dbmod
from service.app import create_app
from service.config import Settings
from tests.spec import seed as seeding


@pytest.fixture(scope="session")
async def spec_schema(database_url: str) -> AsyncIterator[tuple[str, seeding.Seeded]]:
    name = f"kpi_spec_{os.getpid()}_{secrets.token_hex(3)}"
    con = await dbmod.connect(database_url, name)
    try:
        await dbmod.migrate(con, name)
        seeding.SEEDED = await seeding.seed(con)
        yield name, seeding.SEEDED
    finally:
        await con.execute(f'drop schema if exists "{name}" cascade')
        await con.close()


@pytest.fixture(scope="session")
def spec_app(database_url: str, spec_schema: tuple[str, seeding.Seeded]) -> Iterator[Starlette]:
    """The app as deployed: its lifespan migrates and opens a pool (no background worker)."""
    settings = Settings(
        database_url=database_url,
        db_schema=spec_schema[0],
        background=False,
        rate_limit_per_second=0,  # thousands of requests from one token, as fast as they go
        # Hundreds of deliveries with every scheme's credentials left out or wrong, to one
        # source and from one client address: each must be the 401 the spec documents, not
        # the 429 past the source's or the address's limit.
        webhook_source_rejections_per_second=0,
        webhook_client_refusals_per_second=0,
        pool_min_size=1,
        pool_max_size=4,
    )
    app = create_app(settings)
    try:
        yield app
    finally:
        # Runs the app's lifespan shutdown (closing its pool) before the schema is dropped.
        asgi.shutdown_lifespans()


@pytest.fixture(scope="session")
def bearer(spec_schema: tuple[str, seeding.Seeded]) -> dict[str, str]:
    return {"Authorization": f"Bearer {spec_schema[1].token}"}
