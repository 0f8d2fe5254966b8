"""A KPI's series whatever its kind: observed points, a ratio of two KPIs, or a builtin metric,
all in the same shape so portals treat them alike."""

from __future__ import annotations

import datetime as dt

from service.db import Connection
from service.errors import invalid
from service.kpi.periods import default_start
from service.kpi.ratio import divide_series
from service.models.catalog import Kpi
from service.models.enums import Grain, KpiKind
from service.models.observations import SeriesPoint
from service.store import catalog, metrics, observations
from service.store.metrics import MetricScope


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
        return await observations.series(
            con, kpi=kpi, service_ids=ids, grain=grain, start=start, end=end
        )
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
