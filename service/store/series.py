"""A KPI's series whatever its kind: observed points, a ratio of two KPIs, or a builtin metric,
all in the same shape so portals treat them alike."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from service.db import Connection, sql
from service.errors import invalid
from service.kpi.periods import default_start, is_complete
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


def aggregation(kpi: Kpi) -> str:
    """An observed KPI's aggregation (every observed KPI has one)."""
    assert kpi.aggregation is not None, kpi.key
    return kpi.aggregation.value


def mark_complete(
    points: Sequence[SeriesPoint], grain: Grain, start: dt.datetime | None,
    end: dt.datetime | None, now: dt.datetime,
) -> list[SeriesPoint]:  # fmt: skip
    """The points, each saying whether it covers its bucket's whole period."""
    return [
        p.model_copy(update={"complete": is_complete(grain, p.bucket, start, end, now)})
        for p in points
    ]


async def observed(
    con: Connection, *, kpi: Kpi, service_ids: Sequence[int] | None, grain: Grain,
    start: dt.datetime | None, end: dt.datetime | None,
) -> list[SeriesPoint]:  # fmt: skip
    """An observed KPI's points bucketed by grain (UTC) with its aggregation: buckets with data
    only. `service_ids` None takes every point, with or without a service."""
    if by_days(service_ids, grain, start, end):
        rows = await con.fetch(
            q("observed_days"), kpi.id, grain.value, aggregation(kpi), start, end
        )
    elif service_ids is None:
        rows = await con.fetch(q("observed"), kpi.id, grain.value, aggregation(kpi), start, end)
    else:
        rows = await con.fetch(
            q("observed_services"), kpi.id, list(service_ids), grain.value,
            aggregation(kpi), start, end,
        )  # fmt: skip
    return [SeriesPoint(**r) for r in rows]


async def observed_by_service(
    con: Connection, *, kpi: Kpi, service_ids: Sequence[int], grain: Grain,
    start: dt.datetime | None, end: dt.datetime | None,
) -> dict[int, list[SeriesPoint]]:  # fmt: skip
    """`observed` of each service's own points, in one statement."""
    found: dict[int, list[SeriesPoint]] = {sid: [] for sid in service_ids}
    rows = await con.fetch(
        q("observed_by_service"), kpi.id, list(service_ids), grain.value, aggregation(kpi),
        start, end,
    )  # fmt: skip
    for r in rows:
        found[r["service_id"]].append(
            SeriesPoint(bucket=r["bucket"], value=r["value"], count=r["count"])
        )
    return found


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
        [g.value for _, g, _, _ in windows], [aggregation(k) for k, _, _, _ in windows],
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
        points = await observed(con, kpi=kpi, service_ids=ids, grain=grain, start=start, end=end)
        return mark_complete(points, grain, start, end, now)
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
        return divide_series(num, den, SeriesPoint)
    start, end = _builtin_window(grain, start, end, now)
    return await metrics.series(
        con, kpi=kpi, scope=scope, grain=grain, start=start, end=end, now=now
    )


def _builtin_window(
    grain: Grain, start: dt.datetime | None, end: dt.datetime | None, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """A builtin metric's window: up to now, over the last few buckets, unless given."""
    end = end if end is not None else now
    start = start if start is not None else default_start(grain, end)
    if end <= start:
        raise invalid("from", "must be before to (a window defaults to end now)")
    return start, end


async def series_by_service(
    con: Connection, *, kpi: Kpi, service_ids: Sequence[int], grain: Grain,
    start: dt.datetime | None, end: dt.datetime | None, now: dt.datetime,
) -> dict[int, list[SeriesPoint]]:  # fmt: skip
    """`series` for each service apart (as if asked with `service=` for each), with as many
    statements as for one service: a portal's page of services costs the same for any
    number of them."""
    if start is not None and end is not None and end <= start:
        raise invalid("to", "must be after from")
    if not service_ids:
        return {}
    if kpi.kind is KpiKind.OBSERVED:
        found = await observed_by_service(
            con, kpi=kpi, service_ids=service_ids, grain=grain, start=start, end=end
        )
        return {sid: mark_complete(p, grain, start, end, now) for sid, p in found.items()}
    if kpi.kind is KpiKind.RATIO:
        assert kpi.numerator is not None and kpi.denominator is not None
        sides = {
            k.key: k for k in await catalog.list_kpis(con, keys=[kpi.numerator, kpi.denominator])
        }
        sides_by_service = []
        for key in (kpi.numerator, kpi.denominator):
            sides_by_service.append(await series_by_service(
                con, kpi=sides[key], service_ids=service_ids, grain=grain, start=start,
                end=end, now=now,
            ))  # fmt: skip
        num, den = sides_by_service
        return {sid: divide_series(num[sid], den[sid], SeriesPoint) for sid in service_ids}
    start, end = _builtin_window(grain, start, end, now)
    return await metrics.series_by_service(
        con, kpi=kpi, service_ids=service_ids, grain=grain, start=start, end=end, now=now
    )
