"""Observation ingestion: every point of a request stored in one transaction, or none.

A request's KPI keys and service slugs are resolved to ids, and locked, as its chunks arrive;
before its first write it waits for any other request writing points of the same KPI-days
(one advisory lock per KPI-day, taken in one order, so crossed writers queue, not deadlock).
A request of one chunk (every JSON batch) drops its duplicates here and is merged straight
from arrays; a longer stream is copied into a staging table chunk by chunk, each COPY running
while the next chunk is read, and merged once at the end (plainly inserted when none of its
KPIs has a point stored in its time span).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from asyncpg import DeadlockDetectedError, UniqueViolationError

from service.db import Connection, statements
from service.errors import FieldError, ValidationFailed, field_error, invalid_fields
from service.gc_pause import gc_paused
from service.models.enums import KpiKind
from service.models.observation_limits import Horizon
from service.models.observations import IngestResult, Numbered, ObservationIn

_COLUMNS = ("kpi_id", "service_id", "ts", "value", "dimensions", "source")
_STAGE_COLUMNS = ("ord", *_COLUMNS)
#: Stands for "no service" in a point's key: after every id, as Postgres sorts nulls.
_NO_SERVICE = 2**63


q = statements("observations")


@dataclass
class _Keys:
    """The request's KPI keys and service slugs resolved so far (and locked until commit)."""

    kpis: dict[str, tuple[int, str]] = field(default_factory=dict)  # key -> (id, kind)
    services: dict[str, int] = field(default_factory=dict)
    unknown_kpis: set[str] = field(default_factory=set)
    unknown_services: set[str] = field(default_factory=set)

    async def resolve(self, con: Connection, chunk: list[Numbered]) -> ValidationFailed | None:
        """Look up the chunk's new names; the problem naming every point of it that names
        an unknown KPI or service, or a KPI that is not observed, if any."""
        kpis = {p.kpi for _, p in chunk}
        services = {p.service for _, p in chunk if p.service is not None}
        new_kpis = kpis - self.kpis.keys() - self.unknown_kpis
        if new_kpis:
            self.kpis.update(await lock_kpis(con, new_kpis))
            self.unknown_kpis |= new_kpis - self.kpis.keys()
        new_services = services - self.services.keys() - self.unknown_services
        if new_services:
            self.services.update(await lock_services(con, new_services))
            self.unknown_services |= new_services - self.services.keys()
        if (
            kpis & self.unknown_kpis
            or services & self.unknown_services
            or any(self.kpis[k][1] != KpiKind.OBSERVED for k in kpis)
        ):
            return invalid_fields([e for i, p in chunk for e in self._problems(i, p)])
        return None

    def _problems(self, at: int, point: ObservationIn) -> list[FieldError]:
        found = []
        kpi = self.kpis.get(point.kpi)
        if kpi is None:
            found.append(field_error(f"{at}.kpi", f"unknown KPI {point.kpi!r}"))
        elif kpi[1] != KpiKind.OBSERVED:
            found.append(field_error(
                f"{at}.kpi", f"KPI {point.kpi!r} is {kpi[1]}: it is computed, not observed"
            ))  # fmt: skip
        if point.service is not None and point.service not in self.services:
            found.append(field_error(f"{at}.service", f"unknown service {point.service!r}"))
        return found


def _utc(ts: dt.datetime) -> dt.datetime:
    return ts if ts.tzinfo is dt.UTC else ts.astimezone(dt.UTC)


def _months(
    instants: Sequence[dt.datetime], first: dt.datetime, last: dt.datetime,
    into: dict[tuple[int, int], dt.datetime],
) -> None:  # fmt: skip
    """One instant of each UTC month among `instants`, the earliest `first` and the latest
    `last` (the partitions they need): only the two ends when they share a month."""
    for ts in (first, last) if _same_month(first, last) else instants:
        utc = _utc(ts)
        into.setdefault((utc.year, utc.month), utc)


def _kpi_days(rows: Iterable[tuple[Any, ...]]) -> tuple[list[int], list[dt.datetime]]:
    """One (KPI id, instant) of each KPI and UTC day among the rows (in _COLUMNS order):
    their day locks, without sending every point's instant to be locked."""
    days: dict[tuple[int, dt.date], dt.datetime] = {}
    for row in rows:
        ts = row[2]
        days.setdefault((row[0], _utc(ts).date()), ts)
    return [kpi_id for kpi_id, _ in days], list(days.values())


async def _non_empty(chunks: AsyncIterable[list[Numbered]]) -> AsyncIterator[list[Numbered]]:
    async for chunk in chunks:
        if chunk:
            yield chunk


async def ingest(
    con: Connection, chunks: AsyncIterable[list[Numbered]], *, horizon: Horizon
) -> IngestResult:
    """Store every point of every chunk, or none: the caller holds the transaction.

    Months inside `horizon` (models.observation_limits.partition_horizon) get a
    partition of their own when first written; points of other months go to the default
    partition.

    A point naming an unknown KPI or service fails the whole request with a 422 whose pointer
    is the point's index in the request (its line number - 1 for NDJSON); a point that fails
    validation later in the stream is reported instead, as its chunk never arrives.
    """
    stream = aiter(_non_empty(chunks))
    first = await anext(stream, None)
    if first is None:
        return IngestResult(points=0, inserted=0, updated=0, unchanged=0)
    second = await anext(stream, None)
    if second is None:
        return await _merge_chunk(con, first, horizon)
    return await _merge_stream(con, first, second, stream, horizon)


async def _merge_chunk(con: Connection, chunk: list[Numbered], horizon: Horizon) -> IngestResult:
    keys = _Keys()
    problem = await keys.resolve(con, chunk)
    if problem is not None:
        raise problem
    distinct = _distinct(chunk, keys)
    instants = [row[2] for row in distinct.values()]
    first, last = min(instants), max(instants)
    months: dict[tuple[int, int], dt.datetime] = {}
    _months(instants, first, last, months)
    await ensure_partitions(con, months.values(), horizon)
    await lock_days(con, *_kpi_days(distinct.values()))
    kpis = {row[0] for row in distinct.values()}
    stored = await _stored_keys(con, kpis, first, last, len(distinct))
    if stored is not None:
        copied = await _copy_new(con, distinct, stored)
        if copied is not None:
            return copied
    inserted, updated = await merge_points(con, distinct.values())
    return _result(len(distinct), inserted, updated)


def _distinct(chunk: list[Numbered], keys: _Keys) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """The chunk's rows by point key: a later duplicate replaces the earlier one. (The loop
    is the hot path of a batch, hence written out.)"""
    kpi_ids = {key: kpi[0] for key, kpi in keys.kpis.items()}
    service_ids = keys.services
    distinct: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    with gc_paused():
        for _, p in chunk:
            kpi_id, service, ts, dims = kpi_ids[p.kpi], p.service, p.ts, p.dimensions
            service_id = None if service is None else service_ids[service]
            key = (
                kpi_id, _NO_SERVICE if service_id is None else service_id, ts,
                tuple(sorted(dims.items())) if dims else (),
            )  # fmt: skip
            distinct[key] = (kpi_id, service_id, ts, p.value, dims, p.source)
    return distinct


async def _copy_new(
    con: Connection, distinct: dict[tuple[Any, ...], tuple[Any, ...]], stored: set[tuple[Any, ...]]
) -> IngestResult | None:
    """New points copied, the stored ones merged; None when the copy met a point stored
    meanwhile (then the caller merges the whole batch)."""
    with gc_paused():
        new = [row for key, row in distinct.items() if key not in stored]
        columns: tuple[str, ...] = _COLUMNS
        if not any(row[4] or row[5] is not None for row in new):
            # No dimensions and no source: the columns' defaults ('{}', null) say as much,
            # without encoding and parsing them for every row.
            new, columns = [row[:4] for row in new], _COLUMNS[:4]
    try:
        # New points are copied (COPY inserts in bulk; INSERT ... ON CONFLICT goes row by
        # row). The day locks keep other writers of these points out until we commit; should
        # a point be stored meanwhile all the same, the COPY fails and the whole batch is
        # merged by the caller.
        async with con.transaction():
            await con.copy_records_to_table("observation", records=new, columns=columns)
    except (UniqueViolationError, DeadlockDetectedError):
        return None
    if len(new) == len(distinct):
        return _result(len(distinct), len(new), 0)
    old = [row for key, row in distinct.items() if key in stored]
    inserted, updated = await merge_points(con, old)
    return _result(len(distinct), len(new) + inserted, updated)


def _same_month(first: dt.datetime, last: dt.datetime) -> bool:
    a, b = _utc(first), _utc(last)
    return (a.year, a.month) == (b.year, b.month)


async def _stored_keys(
    con: Connection, kpi_ids: set[int], first: dt.datetime, last: dt.datetime, points: int
) -> set[tuple[Any, ...]] | None:
    """The keys of the stored points in the batch's KPIs and time span; None when there are
    too many to fetch (points of other services or dimensions crowd the span)."""
    limit = 2 * points + 1_000
    rows = await stored_points_between(con, kpi_ids, first, last, limit)
    if len(rows) >= limit:
        return None
    return {
        (r[0], _NO_SERVICE if r[1] is None else r[1], r[2],
         tuple(sorted(r[3].items())) if r[3] else ())
        for r in rows
    }  # fmt: skip


async def _merge_stream(
    con: Connection,
    first: list[Numbered],
    second: list[Numbered],
    rest: AsyncIterator[list[Numbered]],
    horizon: Horizon,
) -> IngestResult:
    keys = _Keys()
    months: dict[tuple[int, int], dt.datetime] = {}
    span: list[dt.datetime] = []  # the first and last instant so far
    problem: ValidationFailed | None = None
    copying: asyncio.Task[Any] | None = None

    async def chunks() -> AsyncIterator[list[Numbered]]:
        yield first
        yield second
        async for chunk in rest:
            yield chunk

    await create_stage(con)
    try:
        async for chunk in chunks():
            if problem is not None:
                continue  # read on: a point failing validation later is reported instead
            if copying is not None:
                await copying
                copying = None
            problem = await keys.resolve(con, chunk)
            if problem is not None:
                continue
            with gc_paused():
                records, columns = _stage_records(chunk, keys)
            instants = [r[3] for r in records]
            first_ts, last_ts = min(instants), max(instants)
            _months(instants, first_ts, last_ts, months)
            span = [min(first_ts, span[0]), max(last_ts, span[1])] if span else [first_ts, last_ts]
            # The COPY runs while the next chunk is read and validated.
            copying = asyncio.ensure_future(
                con.copy_records_to_table("obs_stage", records=records, columns=columns)
            )
        if copying is not None:
            await copying
            copying = None
    finally:
        if copying is not None:  # the stream failed: let the COPY end before the rollback
            await asyncio.gather(copying, return_exceptions=True)
    if problem is not None:
        raise problem
    await ensure_partitions(con, months.values(), horizon)
    await lock_stage_days(con)
    kpi_ids = {kpi_id for kpi_id, _ in keys.kpis.values()}
    fresh = None
    if not await stored_points_between(con, kpi_ids, span[0], span[1], 1):
        fresh = await _insert_fresh_stage(con)
    if fresh is not None:
        points, inserted, updated = fresh, fresh, 0
    else:
        points, inserted, updated = await merge_stage(con)
    await drop_stage(con)
    return _result(points, inserted, updated)


async def _insert_fresh_stage(con: Connection) -> int | None:
    """The staged points inserted, when none of the stream's KPIs has a point stored in its
    time span (a plain INSERT skips the conflict checks and the count of revisions): how
    many; None when a point was stored meanwhile all the same (as _copy_new)."""
    try:
        async with con.transaction():
            return await insert_stage(con)
    except (UniqueViolationError, DeadlockDetectedError):
        return None


def _stage_records(
    chunk: list[Numbered], keys: _Keys
) -> tuple[list[tuple[Any, ...]], tuple[str, ...]]:
    """The chunk's rows for the staging table, and their columns: without dimensions and
    source when no point of the chunk has them (the stage's defaults say as much)."""
    kpi_ids = {key: kpi[0] for key, kpi in keys.kpis.items()}
    service_ids = keys.services
    if any(p.dimensions or p.source is not None for _, p in chunk):
        return [
            (i, kpi_ids[p.kpi], None if p.service is None else service_ids[p.service], p.ts,
             p.value, p.dimensions, p.source)
            for i, p in chunk
        ], _STAGE_COLUMNS  # fmt: skip
    return [
        (i, kpi_ids[p.kpi], None if p.service is None else service_ids[p.service], p.ts,
         p.value)
        for i, p in chunk
    ], _STAGE_COLUMNS[:5]  # fmt: skip


def _result(points: int, inserted: int, updated: int) -> IngestResult:
    return IngestResult(
        points=points, inserted=inserted, updated=updated, unchanged=points - inserted - updated
    )


# The statements of sql/queries/observations.sql that the ingest runs ---------------------------


async def lock_kpis(con: Connection, keys: Iterable[str]) -> dict[str, tuple[int, str]]:
    """{key: (id, kind)} of the KPIs among `keys`, locked until commit."""
    rows = await con.fetch(q("lock_kpis"), list(keys))
    return {r["key"]: (r["id"], r["kind"]) for r in rows}


async def lock_services(con: Connection, slugs: Iterable[str]) -> dict[str, int]:
    """{slug: id} of the services among `slugs`, locked until commit."""
    rows = await con.fetch(q("lock_services"), list(slugs))
    return {r["slug"]: r["id"] for r in rows}


async def ensure_partitions(
    con: Connection, months: Iterable[dt.datetime], horizon: Horizon
) -> None:
    """A partition for each month (an instant in it) inside the horizon that has none."""
    await con.execute(q("ensure_partitions"), list(months), horizon.start, horizon.end)


async def lock_days(con: Connection, kpi_ids: list[int], instants: list[dt.datetime]) -> None:
    """Lock, until commit, the (KPI, day) of each point against other writers."""
    await con.execute(q("lock_days"), kpi_ids, instants)


async def merge_points(con: Connection, rows: Iterable[tuple[Any, ...]]) -> tuple[int, int]:
    """Insert or update the rows (in _COLUMNS order); how many were inserted and updated."""
    written = await con.fetchrow(q("merge_points"), *zip(*rows, strict=True))
    return written["inserted"], written["updated"]


async def stored_points_between(
    con: Connection, kpi_ids: Iterable[int], first: dt.datetime, last: dt.datetime, limit: int
) -> list[tuple[Any, ...]]:
    """(KPI id, service id, ts, dimensions) of at most `limit` stored points of the KPIs
    between `first` and `last`."""
    rows = await con.fetch(q("stored_points_between"), list(kpi_ids), first, last, limit)
    return [tuple(r) for r in rows]


async def create_stage(con: Connection) -> None:
    """The temporary table a stream of points is copied into."""
    await con.execute(q("create_stage"))


async def lock_stage_days(con: Connection) -> None:
    await con.execute(q("lock_stage_days"))


async def merge_stage(con: Connection) -> tuple[int, int, int]:
    """Merge the staged points; how many points there were, inserted and updated."""
    written = await con.fetchrow(q("merge_stage"))
    return written["points"], written["inserted"], written["updated"]


async def insert_stage(con: Connection) -> int:
    """Insert the staged points, none of which is stored; how many there were."""
    status: str = await con.execute(q("insert_stage"))
    return int(status.rsplit(" ", 1)[1])  # "INSERT 0 <rows>"


async def drop_stage(con: Connection) -> None:
    await con.execute(q("drop_stage"))
