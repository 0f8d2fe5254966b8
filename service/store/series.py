"""A KPI's series whatever its kind: observed points, a ratio of two KPIs, or a builtin metric,
all in the same shape so portals treat them alike."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from service.db import Connection, sql
from service.errors import invalid
from service.kpi.periods import default_start
from service.kpi.ratio import divide_series
from service.models.catalog import Kpi
from service.models.enums import Grain, KpiKind
from service.models.observations import SeriesPoint
from service.store import catalog, metrics
from service.store.metrics import MetricScope


def q(name: str) -> str:
    return sql("series", name)


def _whole_days(instant: dt.datetime | None) -> bool:
    return instant is None or instant.astimezone(dt.UTC).timetz() == dt.time(tzinfo=dt.UTC)


def by_days(service_ids: Sequence[int] | None, grain: Grain, start: dt.datetime | None,
            end: dt.datetime | None) -> bool:  # fmt: skip
    """Whether the KPI's day rows answer: every point, buckets of whole UTC days, a window
    of whole days."""
    return (
        service_ids is None and grain is not Grain.HOUR and _whole_days(start)
        and _whole_days(end)
    )  # fmt: skip


async def observed(
    con: Connection, *, kpi: Kpi, service_ids: Sequence[int] | None, grain: Grain,
    start: dt.datetime | None, end: dt.datetime | None,
) -> list[SeriesPoint]:  # fmt: skip
    """An observed KPI's points bucketed by grain (UTC) with its aggregation: buckets with data
    only. `service_ids` None takes every point, with or without a service."""
    if by_days(service_ids, grain, start, end):
        rows = await con.fetch(
            q("observed_days"), kpi.id, grain.value, kpi.aggregation.value, start, end
        )
    elif service_ids is None:
        rows = await con.fetch(
            q("observed"), kpi.id, grain.value, kpi.aggregation.value, start, end
        )
    else:
        rows = await con.fetch(
            q("observed_services"), kpi.id, list(service_ids), grain.value,
            kpi.aggregation.value, start, end,
        )  # fmt: skip
    return [SeriesPoint(**r) for r in rows]


async def observed_overall(
    con: Connection, windows: Sequence[tuple[Kpi, Grain, dt.datetime, dt.datetime]]
) -> dict[int, list[SeriesPoint]]:
    """`observed` of several observed KPIs over every point, each with its own grain (a day
    or more) and window of whole UTC days [start, end), in one statement; by KPI id."""
    if not all(by_days(None, g, s, e) for _, g, s, e in windows):
        raise ValueError("windows of whole UTC days at a grain of a day or more only")
    found: dict[int, list[SeriesPoint]] = {k.id: [] for k, _, _, _ in windows}
    rows = await con.fetch(
        q("observed_days_overall"), [k.id for k, _, _, _ in windows],
        [g.value for _, g, _, _ in windows], [k.aggregation.value for k, _, _, _ in windows],
        [s for _, _, s, _ in windows], [e for _, _, _, e in windows],
    )  # fmt: skip
    for r in rows:
        found[r["key"]].append(SeriesPoint(bucket=r["bucket"], value=r["value"], count=r["count"]))
    return found


async def series(
    con: Connection, *, kpi: Kpi, scope: MetricScope, grain: Grain,
    start: dt.datetime | None, end: dt.datetime | None, now: dt.datetime,
) -> list[SeriesPoint]:  # fmt: skip
    """Observed KPIs give the buckets that hold points; builtin ones every bucket of the window
    up to now (a window defaults to the last few buckets); a ratio divides its sides' series
    bucket by bucket, over the numerator's buckets."""
    if start is not None and end is not None and end <= start:
        raise invalid("to", "must be after from")
    if kpi.kind is KpiKind.OBSERVED:
        ids = None if scope.kind == "fleet" else scope.service_ids
        return await observed(con, kpi=kpi, service_ids=ids, grain=grain, start=start, end=end)
    if kpi.kind is KpiKind.RATIO:
        assert kpi.numerator is not None and kpi.denominator is not None
        sides = {
            k.key: k for k in await catalog.list_kpis(con, keys=[kpi.numerator, kpi.denominator])
        }
        num, den = [
            await series(
                con, kpi=sides[key], scope=scope, grain=grain, start=start, end=end, now=now
            )
            for key in (kpi.numerator, kpi.denominator)
        ]
        return divide_series(num, den)
    end = end if end is not None else now
    start = start if start is not None else default_start(grain, end)
    if end <= start:
        raise invalid("from", "must be before to (a window defaults to end now)")
    return await metrics.series(
        con, kpi=kpi, scope=scope, grain=grain, start=start, end=end, now=now
    )
