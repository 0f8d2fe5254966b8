"""Observations: storing points (all of a request or none) and reading a KPI's series."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterable, AsyncIterator

from service.config import Settings
from service.db import Connection
from service.models import retention
from service.models.enums import Grain
from service.models.observation_limits import Window, ingest_window, partition_horizon
from service.models.observations import IngestResult, Numbered, Series
from service.store import kpis, metrics, observations
from service.usecases import measure


async def _in_window(
    chunks: AsyncIterable[list[Numbered]], window: Window
) -> AsyncIterator[list[Numbered]]:
    async for chunk in chunks:
        window.check(chunk)
        yield chunk


async def _not_expired(
    chunks: AsyncIterable[list[Numbered]], horizon: dt.datetime
) -> AsyncIterator[list[Numbered]]:
    async for chunk in chunks:
        retention.check_not_expired(chunk, horizon)
        yield chunk


async def ingest(
    con: Connection, chunks: AsyncIterable[list[Numbered]], *, now: dt.datetime,
    settings: Settings | None = None, backfill: bool,
) -> IngestResult:  # fmt: skip
    """Store every point of every chunk, or none (the caller holds the transaction). Unless
    this is a `backfill` (an admin token, `kpi import`), every point must lie inside the
    ingest window around `now`. Months near now get a partition of their own. No point may
    lie before the observations' retention horizon, if one is set."""
    if not backfill:
        assert settings is not None, "the ingest window comes from the settings"
        chunks = _in_window(chunks, ingest_window(now, settings))
    horizon = retention.observations_horizon(now, settings) if settings is not None else None
    if horizon is not None:
        chunks = _not_expired(chunks, horizon)
    return await observations.ingest(con, chunks, horizon=partition_horizon(now, settings))


async def series(
    con: Connection, *, key: str, service: str | None, team: str | None, tier: int | None,
    grain: Grain, start: dt.datetime | None, end: dt.datetime | None, now: dt.datetime,
) -> Series:  # fmt: skip
    """The KPI's series bucketed by grain (UTC), for a service, a team, a tier or (none of
    them) the KPI's own scope."""
    kpi = await kpis.get_kpi(con, key=key)
    scope = await metrics.scope_of_kpi(con, kpi, service=service, team=team, tier=tier)
    points = await measure.series(
        con, kpi=kpi, scope=scope, grain=grain, start=start, end=end, now=now
    )
    return Series(
        kpi=kpi.key, service=service, team=team, tier=tier, grain=grain,
        aggregation=kpi.aggregation, unit=kpi.unit, points=points,
    )  # fmt: skip
