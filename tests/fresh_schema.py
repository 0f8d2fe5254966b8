"""Two real, separate connections to a fresh, migrated schema holding an `orders` KPI that
sums its points, for the tests of what concurrent sessions do with committed data."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from service import db as dbmod
from service.config import Settings
from service.models.catalog import KpiIn, ServiceIn
from service.models.enums import Aggregation, Direction
from service.usecases import catalog

Two = tuple[dbmod.Connection, dbmod.Connection]


@asynccontextmanager
async def two_connections(
    url: str, prefix: str, services: tuple[str, ...] = (), settings: Settings | None = None
) -> AsyncIterator[Two]:
    """The schema is named `prefix` and a random suffix and dropped afterwards; each slug of
    `services` is a tier 2 service."""
    schema = f"{prefix}_{secrets.token_hex(4)}"
    first = await dbmod.connect(url, schema, settings=settings)
    await dbmod.migrate(first, schema)
    second = await dbmod.connect(url, schema, settings=settings)
    for slug in services:
        await catalog.create_service(first, service=ServiceIn(slug=slug, name=slug, tier=2))
    await catalog.create_kpi(first, kpi=KpiIn(
        key="orders", name="Orders", unit="n", direction=Direction.HIGHER_IS_BETTER,
        aggregation=Aggregation.SUM))  # fmt: skip
    try:
        yield first, second
    finally:
        await first.execute(f'drop schema if exists "{schema}" cascade')
        await first.close()
        await second.close()
