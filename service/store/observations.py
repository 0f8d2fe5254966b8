"""Observation ingestion by COPY into a staging table and one merge; series reads."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterable, Iterable

from service.db import Connection, sql
from service.errors import Conflict, invalid
from service.kpi.ratio import divide_series
from service.models.catalog import Kpi
from service.models.enums import Grain, KpiKind
from service.models.observations import IngestResult, ObservationIn, SeriesPoint
from service.store import catalog

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
    service_id: int | None,
    grain: Grain,
    start: dt.datetime | None,
    end: dt.datetime | None,
) -> list[SeriesPoint]:
    """The KPI's series; a ratio KPI divides its two sides bucket by bucket."""
    if start is not None and end is not None and end <= start:
        raise invalid("to", "must be after from")
    if kpi.kind is KpiKind.OBSERVED:
        rows = await con.fetch(
            q("series"), kpi.id, service_id, grain.value, kpi.aggregation.value, start, end
        )
        return [SeriesPoint(**r) for r in rows]
    if kpi.kind is KpiKind.RATIO:
        assert kpi.numerator is not None and kpi.denominator is not None
        sides = await catalog.list_kpis(con, keys=[kpi.numerator, kpi.denominator])
        by_key = {k.key: k for k in sides}
        num = await series(
            con, kpi=by_key[kpi.numerator], service_id=service_id, grain=grain, start=start, end=end
        )
        den = await series(
            con,
            kpi=by_key[kpi.denominator],
            service_id=service_id,
            grain=grain,
            start=start,
            end=end,
        )
        return divide_series(num, den)
    raise Conflict(
        f"KPI {kpi.key!r} is the builtin metric {kpi.metric}; its series comes from the KPI "
        "engine (incidents, changes and costs), which this version does not compute yet",
        kpi=kpi.key,
    )
