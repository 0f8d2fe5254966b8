"""A KPI's value over windows, whatever its kind: the series of observed points, a ratio of
two KPIs, or a builtin metric, all in the same shape so portals treat them alike.

A builtin metric's value comes from the inputs its entry in service/kpi/metrics.py names
(incidents, changes, spend, budgets, monthly spend, outages, objectives, revenue), each read
in one statement by service/store/metrics.py or money.py over every window at once, then
computed per window by the entry's pure rule. Windows are the measured parts of buckets or
periods: clipped to the requested range and to `now`, so an open incident counts up to now
and a bucket in progress is measured over its elapsed part.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

from service.config import Settings
from service.db import Connection
from service.errors import invalid
from service.kpi.budgets import FiscalCalendar
from service.kpi.builtin import ChangeFigures, IncidentFigures, Outage
from service.kpi.metrics import METRICS, Input, Inputs, Value
from service.kpi.periods import Calendar, Period, buckets, default_start, is_complete, measured
from service.kpi.ratio import divide_series
from service.kpi.units import UnitFamily
from service.models.catalog import Kpi
from service.models.enums import Grain, KpiKind
from service.models.observations import SeriesPoint
from service.store import kpis
from service.store import series as series_store
from service.store.metrics import (
    IncidentBreakdown,
    MetricFilter,
    MetricScope,
    changes,
    changes_by_service,
    incidents,
    objective_targets,
    outages,
    revenue_per_hour,
)
from service.store.money import (
    MonthlySpend,
    Spend,
    budget,
    budget_by_service,
    money_currencies,
    monthly_spend,
    monthly_spend_by_service,
    spend,
    spend_by_service,
)
from service.usecases import calendars

T = TypeVar("T")
A = TypeVar("A")

#: The fiscal calendar the spend forecast uses: the settings' (use_settings), read by every
#: measurement of the process.
fiscal = FiscalCalendar()


def use_settings(settings: Settings) -> None:
    """Take the fiscal year's first month and the run rate's months from the settings (the
    app and the `kpi` command call this once at start)."""
    global fiscal  # one calendar per process, as the settings are
    fiscal = FiscalCalendar(settings.fiscal_year_start_month, settings.run_rate_months)


def mark_complete(
    points: Sequence[SeriesPoint], grain: Grain, start: dt.datetime | None,
    end: dt.datetime | None, now: dt.datetime, cal: Calendar,
) -> list[SeriesPoint]:  # fmt: skip
    """The points, each saying whether it covers its bucket's whole period."""
    return [
        p.model_copy(update={"complete": is_complete(grain, p.bucket, start, end, now, cal)})
        for p in points
    ]


async def series(
    con: Connection, *, kpi: Kpi, scope: MetricScope, grain: Grain,
    start: dt.datetime | None, end: dt.datetime | None, now: dt.datetime,
    cal: Calendar | None = None,
) -> list[SeriesPoint]:  # fmt: skip
    """Observed KPIs give the buckets that hold points; builtin ones every bucket of the window
    up to now (a window defaults to the last few buckets); a ratio divides its sides' series
    bucket by bucket, over the numerator's buckets. Buckets follow the KPI's calendar (a
    ratio's sides follow the ratio's)."""
    if start is not None and end is not None and end <= start:
        raise invalid("to", "must be after from")
    cal = cal or calendars.of_kpi(kpi)
    if kpi.kind is KpiKind.OBSERVED:
        ids = None if scope.kind == "fleet" else scope.service_ids
        points = await series_store.observed(
            con, kpi=kpi, service_ids=ids, grain=grain, start=start, end=end, cal=cal
        )
        return mark_complete(points, grain, start, end, now, cal)
    if kpi.kind is KpiKind.RATIO:
        assert kpi.numerator is not None and kpi.denominator is not None
        sides = {k.key: k for k in await kpis.list_kpis(con, keys=[kpi.numerator, kpi.denominator])}
        num, den = [
            await series(
                con,
                kpi=sides[key],
                scope=scope,
                grain=grain,
                start=start,
                end=end,
                now=now,
                cal=cal,
            )
            for key in (kpi.numerator, kpi.denominator)
        ]
        return divide_series(num, den, SeriesPoint)
    start, end = _builtin_window(grain, start, end, now, cal)
    return await builtin_series(
        con, kpi=kpi, scope=scope, grain=grain, start=start, end=end, now=now, cal=cal
    )


def _builtin_window(
    grain: Grain, start: dt.datetime | None, end: dt.datetime | None, now: dt.datetime,
    cal: Calendar,
) -> tuple[dt.datetime, dt.datetime]:  # fmt: skip
    """A builtin metric's window: up to now, over the last few buckets, unless given."""
    end = end if end is not None else now
    start = start if start is not None else default_start(grain, end, cal)
    if end <= start:
        raise invalid("from", "must be before to (a window defaults to end now)")
    return start, end


async def series_by_service(
    con: Connection, *, kpi: Kpi, service_ids: Sequence[int], grain: Grain,
    start: dt.datetime | None, end: dt.datetime | None, now: dt.datetime,
    cal: Calendar | None = None,
) -> dict[int, list[SeriesPoint]]:  # fmt: skip
    """`series` for each service apart (as if asked with `service=` for each), with as many
    statements as for one service: a portal's page of services costs the same for any
    number of them."""
    if start is not None and end is not None and end <= start:
        raise invalid("to", "must be after from")
    if not service_ids:
        return {}
    cal = cal or calendars.of_kpi(kpi)
    if kpi.kind is KpiKind.OBSERVED:
        found = await series_store.observed_by_service(
            con, kpi=kpi, service_ids=service_ids, grain=grain, start=start, end=end, cal=cal
        )
        return {sid: mark_complete(p, grain, start, end, now, cal) for sid, p in found.items()}
    if kpi.kind is KpiKind.RATIO:
        assert kpi.numerator is not None and kpi.denominator is not None
        sides = {k.key: k for k in await kpis.list_kpis(con, keys=[kpi.numerator, kpi.denominator])}
        sides_by_service = []
        for key in (kpi.numerator, kpi.denominator):
            sides_by_service.append(await series_by_service(
                con, kpi=sides[key], service_ids=service_ids, grain=grain, start=start,
                end=end, now=now, cal=cal,
            ))  # fmt: skip
        num, den = sides_by_service
        return {sid: divide_series(num[sid], den[sid], SeriesPoint) for sid in service_ids}
    start, end = _builtin_window(grain, start, end, now, cal)
    return await builtin_series_by_service(
        con,
        kpi=kpi,
        service_ids=service_ids,
        grain=grain,
        start=start,
        end=end,
        now=now,
        cal=cal,
    )


#: Per window, a builtin KPI's value in its unit and the records behind it: overall (key
#: None) or for each service asked for.
Values = dict[int | None, list[Value]]


async def values(
    con: Connection, kpi: Kpi, scope: MetricScope, windows: Sequence[Period], now: dt.datetime
) -> list[Value]:
    """The builtin KPI's value (in its unit) and record count for each window."""
    return (await _values(con, kpi, scope, windows, now, None))[None]


async def values_by_service(
    con: Connection, kpi: Kpi, service_ids: Sequence[int], windows: Sequence[Period],
    now: dt.datetime,
) -> dict[int, list[Value]]:  # fmt: skip
    """`values` for each service apart, with the same statements as for them together (their
    number does not grow with the services)."""
    scope = MetricScope("services", None, tuple(service_ids))
    found = await _values(con, kpi, scope, windows, now, service_ids)
    return {sid: found[sid] for sid in service_ids}


@dataclass
class _Read:
    """What the engine read for a metric over the windows, overall and per service."""

    incidents: list[IncidentBreakdown] | None = None
    changes: dict[int | None, list[ChangeFigures]] = field(default_factory=dict)
    spend: dict[int | None, list[Spend]] = field(default_factory=dict)
    outages: list[dict[int, Outage]] | None = None
    objectives: list[dict[int, float]] | None = None
    revenue: dict[int, float] = field(default_factory=dict)
    budget: dict[int | None, list[Spend]] = field(default_factory=dict)
    monthly: dict[int | None, list[MonthlySpend]] = field(default_factory=dict)


async def _overall_or_each(
    overall: Callable[[Connection, MetricScope, Sequence[Period], A], Awaitable[T]],
    apart: Callable[[Connection, Sequence[int], Sequence[Period], A], Awaitable[dict[int, T]]],
    con: Connection, scope: MetricScope, windows: Sequence[Period], arg: A,
    each: Sequence[int] | None,
) -> dict[int | None, T]:  # fmt: skip
    """The figures of the whole scope under None; with `each`, those of each service apart
    under its id instead."""
    if each is None:
        return {None: await overall(con, scope, windows, arg)}
    return dict((await apart(con, each, windows, arg)).items())


async def _read(
    con: Connection, kpi: Kpi, scope: MetricScope, windows: Sequence[Period],
    now: dt.datetime, each: Sequence[int] | None,
) -> _Read:  # fmt: skip
    """The inputs the KPI's metric names (service/kpi/metrics.py), one statement each."""
    assert kpi.metric is not None
    need, only, read = METRICS[kpi.metric].inputs, MetricFilter.of(kpi), _Read()
    if Input.INCIDENTS in need:
        read.incidents = await incidents(con, scope, windows, only)
    if Input.CHANGES in need:
        read.changes = await _overall_or_each(
            changes, changes_by_service, con, scope, windows, only, each
        )
    if Input.OUTAGES in need:
        read.outages = await outages(con, scope, windows, now, only)
    if Input.OBJECTIVES in need:
        targets = await objective_targets(con, kpi, scope.service_ids)
        read.objectives = [
            {sid: t for sid, (t, _) in targets.on(w.start.date()).items()} for w in windows
        ]
    if Input.REVENUE in need:
        read.revenue = await revenue_per_hour(con, scope.service_ids)
    if need & _MONEY:
        await _read_money(con, kpi, scope, windows, each, read)
    return read


#: The inputs of spend per month, and every input read in one currency.
_MONTHS = frozenset({Input.MONTHLY_SPEND, Input.FISCAL_YEAR_SPEND})
_MONEY = frozenset({Input.SPEND, Input.BUDGET}) | _MONTHS


async def currencies_of(
    con: Connection, kpi: Kpi, scope: MetricScope, each: Sequence[int] | None
) -> dict[str, Sequence[int] | None]:
    """The currency a KPI's money figures are read in, with the services read in it (None:
    the scope together). A currency unit names it; else (a share or percent) it is the one
    currency of the cost records and budgets of the scope, or of each service apart, and a
    scope or service with none or several has no value."""
    assert kpi.metric is not None
    if METRICS[kpi.metric].unit is UnitFamily.CURRENCY:
        return {kpi.unit.upper(): each}
    found = await money_currencies(con, scope)
    if each is None:
        together = set().union(*found.values())
        return {together.pop(): None} if len(together) == 1 else {}
    groups: dict[str, list[int]] = {}
    for sid in each:
        own = found.get(sid, set())
        if len(own) == 1:
            groups.setdefault(next(iter(own)), []).append(sid)
    return dict(groups)


async def _read_money(
    con: Connection, kpi: Kpi, scope: MetricScope, windows: Sequence[Period],
    each: Sequence[int] | None, read: _Read,
) -> None:  # fmt: skip
    """Spend, budgets and monthly spend, as the metric needs them, each in its currency: one
    statement per input and currency, whatever the number of services."""
    assert kpi.metric is not None
    need = METRICS[kpi.metric].inputs
    spans = [fiscal.reads(w) if Input.FISCAL_YEAR_SPEND in need else w for w in windows]
    for currency, ids in (await currencies_of(con, kpi, scope, each)).items():
        if Input.SPEND in need:
            read.spend |= await _overall_or_each(
                spend, spend_by_service, con, scope, windows, currency, ids
            )
        if Input.BUDGET in need:
            read.budget |= await _overall_or_each(
                budget, budget_by_service, con, scope, windows, currency, ids
            )
        if need & _MONTHS:
            read.monthly |= await _overall_or_each(
                monthly_spend, monthly_spend_by_service, con, scope, spans, currency, ids
            )


async def _values(
    con: Connection, kpi: Kpi, scope: MetricScope, windows: Sequence[Period],
    now: dt.datetime, each: Sequence[int] | None,
) -> Values:  # fmt: skip
    assert kpi.kind is KpiKind.BUILTIN and kpi.metric is not None
    compute = METRICS[kpi.metric].compute
    read = await _read(con, kpi, scope, windows, now, each)
    groups: dict[int | None, tuple[int, ...]] = {None: scope.service_ids}
    groups.update({sid: (sid,) for sid in each or ()})
    return {
        key: [compute(_inputs(read, key, ids, i, w), kpi.unit) for i, w in enumerate(windows)]
        for key, ids in groups.items()
    }


def _inputs(read: _Read, key: int | None, ids: tuple[int, ...], i: int, w: Period) -> Inputs:
    """Window i's inputs for the scope (key None) or the service `key`."""
    found = Inputs(
        seconds=w.seconds, services=ids, revenue=_only(read.revenue, ids), window=w, fiscal=fiscal
    )
    if read.incidents is not None:
        b = read.incidents[i]
        figures = b.overall if key is None else b.by_service.get(key, IncidentFigures())
        found = replace(found, incidents=figures)
    if key in read.changes:
        found = replace(found, changes=read.changes[key][i])
    if key in read.spend:
        spent = read.spend[key][i]
        found = replace(found, spend=(spent.total, spent.records))
    if read.outages is not None:
        found = replace(found, outages=_only(read.outages[i], ids))
    if read.objectives is not None:
        found = replace(found, objectives=_only(read.objectives[i], ids))
    if key in read.budget:
        planned = read.budget[key][i]
        found = replace(found, budget=(planned.total, planned.records))
    if key in read.monthly:
        months = read.monthly[key][i]
        found = replace(found, monthly=(months.by_month, months.records))
    return found


def _only(cell: Mapping[int, T], ids: Sequence[int]) -> dict[int, T]:
    return {sid: cell[sid] for sid in ids if sid in cell}


def series_windows(
    grain: Grain, start: dt.datetime, end: dt.datetime, now: dt.datetime,
    cal: Calendar | None = None,
) -> tuple[list[Period], list[Period]]:  # fmt: skip
    """The buckets of [start, end) that have begun by `now`, and their measured parts."""
    try:
        whole = buckets(grain, start, end, cal or calendars.organisation())
    except ValueError as exc:
        raise invalid("from", str(exc)) from exc
    kept, parts = [], []
    for b in whole:
        part = measured(b, start, min(end, now))
        if part is not None:
            kept.append(b)
            parts.append(part)
    return kept, parts


async def builtin_series(
    con: Connection, *, kpi: Kpi, scope: MetricScope, grain: Grain, start: dt.datetime,
    end: dt.datetime, now: dt.datetime, cal: Calendar | None = None,
) -> list[SeriesPoint]:  # fmt: skip
    """A builtin KPI's series: every bucket of the window up to now, null where undefined."""
    kept, parts = series_windows(grain, start, end, now, cal or calendars.of_kpi(kpi))
    figures = await values(con, kpi, scope, parts, now)
    return _points(kept, parts, figures)


async def builtin_series_by_service(
    con: Connection, *, kpi: Kpi, service_ids: Sequence[int], grain: Grain,
    start: dt.datetime, end: dt.datetime, now: dt.datetime, cal: Calendar | None = None,
) -> dict[int, list[SeriesPoint]]:  # fmt: skip
    """`builtin_series` of each service apart, in the statements of one."""
    kept, parts = series_windows(grain, start, end, now, cal or calendars.of_kpi(kpi))
    found = await values_by_service(con, kpi, service_ids, parts, now)
    return {sid: _points(kept, parts, figures) for sid, figures in found.items()}


def _points(
    buckets: Sequence[Period], parts: Sequence[Period], figures: Sequence[Value]
) -> list[SeriesPoint]:
    """The series' points: a bucket is complete when all of it was measured."""
    return [
        SeriesPoint(bucket=b.start, value=v, count=n, complete=b == part)
        for b, part, (v, n) in zip(buckets, parts, figures, strict=True)
    ]
