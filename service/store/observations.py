"""Observation ingestion by COPY into a staging table and one merge; series reads."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterable, Iterable, Sequence

from service.db import Connection, sql
from service.errors import invalid
from service.models.catalog import Kpi
from service.models.enums import Grain, KpiKind
from service.models.observations import IngestResult, ObservationIn, SeriesPoint

_STAGE_COLUMNS = ("ord", "kpi", "service", "ts", "value", "dimensions", "source")


def q(name: str) -> str:
    return sql("observations", name)


#: A point with its position in the request (array index, or NDJSON line number - 1).
Numbered = tuple[int, ObservationIn]


def _records(points: Iterable[Numbered]) -> list[tuple[object, ...]]:
    return [(i, p.kpi, p.service, p.ts, p.value, p.dimensions, p.source) for i, p in points]


async def ingest(con: Connection, chunks: AsyncIterable[list[Numbered]]) -> IngestResult:
    """Store every point of every chunk, or none: the caller holds the transaction.

    A point naming an unknown KPI or service fails the whole request with a 422 whose pointer
    is the point's index in the request (its line number - 1 for NDJSON).
    """
    await con.execute(q("create_stage"))
    async for chunk in chunks:
        if chunk:
            await con.copy_records_to_table(
                "obs_stage", records=_records(chunk), columns=_STAGE_COLUMNS
            )
    await con.execute(q("lock_stage_kpis"))
    await con.execute(q("lock_stage_services"))
    bad = await con.fetchrow(q("first_unresolved_point"))
    if bad is not None:
        at = str(bad["ord"])
        if bad["kpi_id"] is None:
            raise invalid(f"{at}.kpi", f"unknown KPI {bad['kpi']!r}")
        if bad["kind"] != KpiKind.OBSERVED:
            raise invalid(
                f"{at}.kpi", f"KPI {bad['kpi']!r} is {bad['kind']}: it is computed, not observed"
            )
        raise invalid(f"{at}.service", f"unknown service {bad['service']!r}")
    await con.execute(q("ensure_stage_partitions"))
    row = await con.fetchrow(q("merge_stage"))
    await con.execute(q("drop_stage"))
    points, inserted, updated = row["points"], row["inserted"], row["updated"]
    return IngestResult(
        points=points, inserted=inserted, updated=updated, unchanged=points - inserted - updated
    )


async def series(
    con: Connection,
    *,
    kpi: Kpi,
    service_ids: Sequence[int] | None,
    grain: Grain,
    start: dt.datetime | None,
    end: dt.datetime | None,
) -> list[SeriesPoint]:
    """An observed KPI's points bucketed by grain (UTC) with its aggregation: buckets with data
    only. `service_ids` None takes every point, with or without a service."""
    ids = None if service_ids is None else list(service_ids)
    rows = await con.fetch(q("series"), kpi.id, ids, grain.value, kpi.aggregation.value, start, end)
    return [SeriesPoint(**r) for r in rows]
