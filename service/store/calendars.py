"""Typed wrappers over sql/queries/calendars.sql: the business calendars recorded, a
KPI's own zone, and observed series bucketed in a calendar other than the default one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from service.db import Connection, statements
from service.kpi.periods import Calendar, Era, Rules, buckets, whole_hours
from service.models.enums import Grain
from service.models.observations import SeriesPoint

q = statements("calendars")

_NEG_INF = dt.datetime.min.replace(tzinfo=dt.UTC)


def era_args(cal: Calendar) -> tuple[list[dt.datetime], list[str], list[int], list[int]]:
    """The calendar as calendar_bucket's arrays: era starts (the first -infinity), zones,
    week starts and fiscal start months."""
    return (
        [e.since if e.since is not None else _NEG_INF for e in cal.eras],
        [e.rules.zone for e in cal.eras],
        [e.rules.week_start for e in cal.eras],
        [e.rules.fiscal_start_month for e in cal.eras],
    )


def _whole_hour(instant: dt.datetime | None) -> bool:
    if instant is None:
        return True
    t = instant.astimezone(dt.UTC)
    return t.minute == 0 and t.second == 0 and t.microsecond == 0


def by_hours(
    cal: Calendar, service_ids: Sequence[int] | None, start: dt.datetime | None,
    end: dt.datetime | None,
) -> bool:  # fmt: skip
    """Whether the KPI's hour rows answer: every point, a calendar whose bounds are whole UTC
    hours, a window of whole hours."""
    return (
        service_ids is None and _whole_hour(start) and _whole_hour(end) and whole_hours(cal)
    )  # fmt: skip


async def observed(
    con: Connection, *, kpi_id: int, aggregation: str, cal: Calendar,
    service_ids: Sequence[int] | None, grain: Grain, start: dt.datetime | None,
    end: dt.datetime | None,
) -> list[SeriesPoint]:  # fmt: skip
    """An observed KPI's points bucketed in `cal`: from its hour rows when they answer (placed
    by the bucket starts of a closed window, else converted to local time), else from the
    points (of some services together, or every one)."""
    common = (kpi_id, grain.value, aggregation, start, end, *era_args(cal))
    if by_hours(cal, service_ids, start, end):
        starts = _bucket_starts(cal, grain, start, end)
        if starts is None:
            return await calendar_observed_hours(con, common)
        assert start is not None and end is not None
        return await calendar_observed_hour_bounds(con, kpi_id, aggregation, start, end, starts)
    if service_ids is None:
        return await calendar_observed(con, common)
    return await calendar_observed_services(con, common, service_ids)


def _bucket_starts(
    cal: Calendar, grain: Grain, start: dt.datetime | None, end: dt.datetime | None
) -> list[dt.datetime] | None:
    """The starts of the buckets of a closed window coarser than an hour, None for an open
    one or one of too many buckets."""
    if start is None or end is None or end <= start or grain is Grain.HOUR:
        return None
    try:
        return [b.start for b in buckets(grain, start, end, cal)]
    except ValueError:
        return None


async def calendar_observed_hour_bounds(
    con: Connection, kpi_id: int, aggregation: str, start: dt.datetime, end: dt.datetime,
    starts: Sequence[dt.datetime],
) -> list[SeriesPoint]:  # fmt: skip
    rows = await con.fetch(
        q("calendar_observed_hour_bounds"), kpi_id, aggregation, start, end, list(starts)
    )
    return [SeriesPoint(**r) for r in rows]


async def calendar_observed(con: Connection, common: tuple[Any, ...]) -> list[SeriesPoint]:
    return [SeriesPoint(**r) for r in await con.fetch(q("calendar_observed"), *common)]


async def calendar_observed_hours(con: Connection, common: tuple[Any, ...]) -> list[SeriesPoint]:
    return [SeriesPoint(**r) for r in await con.fetch(q("calendar_observed_hours"), *common)]


async def calendar_observed_services(
    con: Connection, common: tuple[Any, ...], service_ids: Sequence[int]
) -> list[SeriesPoint]:
    rows = await con.fetch(q("calendar_observed_services"), *common, list(service_ids))
    return [SeriesPoint(**r) for r in rows]


async def calendar_observed_by_service(
    con: Connection, *, kpi_id: int, aggregation: str, cal: Calendar,
    service_ids: Sequence[int], grain: Grain, start: dt.datetime | None,
    end: dt.datetime | None,
) -> dict[int, list[SeriesPoint]]:  # fmt: skip
    """`observed` of each service's own points, in one statement."""
    found: dict[int, list[SeriesPoint]] = {sid: [] for sid in service_ids}
    rows = await con.fetch(
        q("calendar_observed_by_service"), kpi_id, grain.value, aggregation, start, end,
        *era_args(cal), list(service_ids),
    )  # fmt: skip
    for r in rows:
        found[r["service_id"]].append(
            SeriesPoint(bucket=r["bucket"], value=r["value"], count=r["count"])
        )
    return found


async def business_calendar_eras(con: Connection) -> list[Era]:
    """The calendars recorded, oldest first."""
    return [
        Era(Rules(r["time_zone"], r["week_start"], r["fiscal_start_month"]), r["since"])
        for r in await con.fetch(q("business_calendar_eras"))
    ]


async def record_business_calendar(con: Connection, era: Era) -> None:
    assert era.since is not None
    await con.execute(
        q("record_business_calendar"), era.since, era.rules.zone, era.rules.week_start,
        era.rules.fiscal_start_month,
    )  # fmt: skip


async def set_kpi_time_zone(con: Connection, kpi_id: int, zone: str | None) -> None:
    await con.execute(q("set_kpi_time_zone"), kpi_id, zone)
