"""An observed KPI's points bucketed by grain with its aggregation (sql/queries/series.sql):
overall, for some services together or for each apart. service/usecases/measure.py gives a
series of any kind."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from service.db import Connection, statements
from service.kpi.periods import DEFAULT, Calendar, whole_days
from service.models.catalog import Kpi
from service.models.enums import Grain
from service.models.observations import SeriesPoint
from service.store import calendars

q = statements("series")


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


def by_service_days(
    cal: Calendar, grain: Grain, start: dt.datetime | None, end: dt.datetime | None
) -> bool:
    """Whether the services' day rows answer a series of some services: buckets of whole UTC
    days in a calendar of UTC days, a window of whole days. They answer it whether or not
    the points are still kept, so its figures do not change when they expire."""
    return grain is not Grain.HOUR and _whole_days(start) and _whole_days(end) and whole_days(cal)


def aggregation(kpi: Kpi) -> str:
    """An observed KPI's aggregation (every observed KPI has one)."""
    assert kpi.aggregation is not None, kpi.key
    return kpi.aggregation.value


async def observed(
    con: Connection, *, kpi: Kpi, service_ids: Sequence[int] | None, grain: Grain,
    start: dt.datetime | None, end: dt.datetime | None, cal: Calendar = DEFAULT,
) -> list[SeriesPoint]:  # fmt: skip
    """An observed KPI's points bucketed by grain (in the calendar, UTC by default) with its
    aggregation: buckets with data only. `service_ids` None takes every point, with or
    without a service."""
    if service_ids is not None and by_service_days(cal, grain, start, end):
        return await observed_service_days(
            con, kpi=kpi, service_ids=service_ids, grain=grain, start=start, end=end, cal=cal
        )
    if not cal.is_default:
        return await calendars.observed(
            con, kpi_id=kpi.id, aggregation=aggregation(kpi), cal=cal, service_ids=service_ids,
            grain=grain, start=start, end=end,
        )  # fmt: skip
    if by_days(service_ids, grain, start, end):
        return await observed_days(con, kpi=kpi, grain=grain, start=start, end=end)
    if service_ids is None:
        rows = await con.fetch(q("observed"), kpi.id, grain.value, aggregation(kpi), start, end)
        return [SeriesPoint(**r) for r in rows]
    return await observed_services(
        con, kpi=kpi, service_ids=service_ids, grain=grain, start=start, end=end
    )


async def observed_days(
    con: Connection, *, kpi: Kpi, grain: Grain, start: dt.datetime | None,
    end: dt.datetime | None,
) -> list[SeriesPoint]:  # fmt: skip
    """`observed` over every point, from the KPI's day rows (see by_days)."""
    rows = await con.fetch(q("observed_days"), kpi.id, grain.value, aggregation(kpi), start, end)
    return [SeriesPoint(**r) for r in rows]


async def observed_services(
    con: Connection, *, kpi: Kpi, service_ids: Sequence[int], grain: Grain,
    start: dt.datetime | None, end: dt.datetime | None,
) -> list[SeriesPoint]:  # fmt: skip
    """`observed` over the points of some services together."""
    rows = await con.fetch(
        q("observed_services"), kpi.id, list(service_ids), grain.value,
        aggregation(kpi), start, end,
    )  # fmt: skip
    return [SeriesPoint(**r) for r in rows]


async def observed_by_service(
    con: Connection, *, kpi: Kpi, service_ids: Sequence[int], grain: Grain,
    start: dt.datetime | None, end: dt.datetime | None, cal: Calendar = DEFAULT,
) -> dict[int, list[SeriesPoint]]:  # fmt: skip
    """`observed` of each service's own points, in one statement."""
    found: dict[int, list[SeriesPoint]] = {sid: [] for sid in service_ids}
    if by_service_days(cal, grain, start, end):
        for sid, point in await observed_service_days_by_service(
            con, kpi=kpi, service_ids=service_ids, grain=grain, start=start, end=end, cal=cal
        ):
            found[sid].append(point)
        return found
    if not cal.is_default:
        return await calendars.calendar_observed_by_service(
            con, kpi_id=kpi.id, aggregation=aggregation(kpi), cal=cal, service_ids=service_ids,
            grain=grain, start=start, end=end,
        )  # fmt: skip
    rows = await con.fetch(
        q("observed_by_service"), kpi.id, list(service_ids), grain.value, aggregation(kpi),
        start, end,
    )  # fmt: skip
    for r in rows:
        found[r["service_id"]].append(
            SeriesPoint(bucket=r["bucket"], value=r["value"], count=r["count"])
        )
    return found


async def observed_service_days(
    con: Connection, *, kpi: Kpi, service_ids: Sequence[int], grain: Grain,
    start: dt.datetime | None, end: dt.datetime | None, cal: Calendar,
) -> list[SeriesPoint]:  # fmt: skip
    """`observed` of some services together from their day rows (see by_service_days)."""
    rows = await con.fetch(
        q("observed_service_days"), kpi.id, grain.value, aggregation(kpi), start, end,
        *calendars.era_args(cal), list(service_ids),
    )  # fmt: skip
    return [SeriesPoint(**r) for r in rows]


async def observed_service_days_by_service(
    con: Connection, *, kpi: Kpi, service_ids: Sequence[int], grain: Grain,
    start: dt.datetime | None, end: dt.datetime | None, cal: Calendar,
) -> list[tuple[int, SeriesPoint]]:  # fmt: skip
    """(service id, point) of `observed_by_service` from the services' day rows (see
    by_service_days)."""
    rows = await con.fetch(
        q("observed_service_days_by_service"), kpi.id, grain.value, aggregation(kpi), start,
        end, *calendars.era_args(cal), list(service_ids),
    )  # fmt: skip
    return [
        (r["service_id"], SeriesPoint(bucket=r["bucket"], value=r["value"], count=r["count"]))
        for r in rows
    ]


async def observed_overall(
    con: Connection, windows: Sequence[tuple[Kpi, Grain, dt.datetime, dt.datetime]]
) -> dict[int, list[SeriesPoint]]:
    """`observed` of several observed KPIs over every point, each with its own grain (a day
    or more) and window of whole UTC days [start, end), in one statement; by KPI id."""
    if not all(by_days(None, g, s, e) for _, g, s, e in windows):
        raise ValueError("windows of whole UTC days at a grain of a day or more only")
    found: dict[int, list[SeriesPoint]] = {k.id: [] for k, _, _, _ in windows}
    for kpi_id, point in await observed_days_overall(con, windows):
        found[kpi_id].append(point)
    return found


async def observed_days_overall(
    con: Connection, windows: Sequence[tuple[Kpi, Grain, dt.datetime, dt.datetime]]
) -> list[tuple[int, SeriesPoint]]:
    """(KPI id, point) of `observed_overall`, from the KPIs' day rows."""
    rows = await con.fetch(
        q("observed_days_overall"), [k.id for k, _, _, _ in windows],
        [g.value for _, g, _, _ in windows], [aggregation(k) for k, _, _, _ in windows],
        [s for _, _, s, _ in windows], [e for _, _, _, e in windows],
    )  # fmt: skip
    return [
        (r["key"], SeriesPoint(bucket=r["bucket"], value=r["value"], count=r["count"]))
        for r in rows
    ]
