"""Demo data: the starter catalog plus a year of realistic observations (seeded, repeatable)."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import AsyncIterator, Iterator
from importlib import resources

import yaml

from service.catalog_apply import ApplyReport, CatalogFile, apply_catalog
from service.db import Connection
from service.models.observations import IngestResult, ObservationIn
from service.store.observations import Numbered

DAYS = 365


def starter_catalog() -> CatalogFile:
    text = resources.files("service").joinpath("data/starter-catalog.yaml").read_text()
    return CatalogFile.model_validate(yaml.safe_load(text))


def demo_points(today: dt.date, seed: int = 42) -> Iterator[ObservationIn]:
    """A year of daily and weekly points up to `today`, the same for the same seed and day."""
    rng = random.Random(seed)
    start = today - dt.timedelta(days=DAYS)
    services = ["checkout", "payments-api", "identity", "mobile-app", "erp", "data-warehouse"]
    for day_index in range(DAYS):
        day = start + dt.timedelta(days=day_index)
        ts = dt.datetime.combine(day, dt.time(0), dt.UTC)
        growth = 1 + 0.15 * day_index / DAYS
        season = 1 + 0.05 * math.sin(2 * math.pi * day_index / 365)
        yield ObservationIn(kpi="it_spend", ts=ts, value=round(46_000 * rng.uniform(0.9, 1.1), 2))
        yield ObservationIn(
            kpi="active_users",
            ts=ts,
            value=round(140_000 * growth * season * rng.uniform(0.98, 1.02)),
        )
        for service in services:
            yield ObservationIn(
                kpi="patch_compliance", service=service, ts=ts,
                value=round(min(100.0, rng.gauss(96.5, 1.8)), 2),
            )  # fmt: skip
        for service in ("payments-api", "erp", "data-warehouse"):
            ok = 100.0 if rng.random() > 0.04 else round(rng.uniform(90, 99), 2)
            yield ObservationIn(kpi="backup_success_rate", service=service, ts=ts, value=ok)
        if day.weekday() == 0:
            yield ObservationIn(
                kpi="manual_hours_removed", ts=ts, value=round(rng.uniform(80, 120) * growth, 1)
            )
            yield ObservationIn(kpi="security_incidents", ts=ts, value=float(rng.random() < 0.2))
        if day.day == 1:
            yield ObservationIn(kpi="revenue_growth", ts=ts, value=round(rng.uniform(7, 11), 2))
            yield ObservationIn(
                kpi="customer_retention", ts=ts, value=round(rng.uniform(88, 94), 2)
            )


async def _chunks(points: Iterator[ObservationIn], size: int) -> AsyncIterator[list[Numbered]]:
    chunk: list[Numbered] = []
    for numbered in enumerate(points):
        chunk.append(numbered)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    yield chunk


async def load_demo(
    con: Connection, today: dt.date | None = None
) -> tuple[ApplyReport, IngestResult]:
    """Apply the starter catalog and ingest the demo year in one transaction."""
    from service.store import observations

    async with con.transaction():
        report = await apply_catalog(con, starter_catalog(), dry_run=False)
        result = await observations.ingest(
            con, _chunks(demo_points(today or dt.date.today()), 5000)
        )
    return report, result
