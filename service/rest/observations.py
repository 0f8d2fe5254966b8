"""Observation ingestion (JSON batches and NDJSON streams) and KPI series reads."""

from __future__ import annotations

from collections.abc import AsyncIterator

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from service.db import Connection
from service.duplicate_keys import refuse_duplicate_keys, refuse_duplicate_keys_in_lines
from service.errors import PayloadTooLarge, from_pydantic
from service.gc_pause import gc_paused
from service.models.enums import Grain, Scope
from service.models.instants import Instant
from service.models.observations import IngestResult, Numbered, ObservationIn, Series
from service.rest import csv_tables
from service.rest.endpoint import (
    JSON,
    NDJSON,
    Call,
    Endpoint,
    body_chunks,
    check_media_type,
    path_param,
    read_body,
)
from service.rest.prometheus import points_ingested
from service.rest.team_reads import read_limit
from service.usecases import observations, team_scope
from service.usecases.team_scope import outside_team

#: Points per COPY while reading an NDJSON stream: memory stays flat however long the stream.
NDJSON_CHUNK = 5_000

_batch = TypeAdapter(list[ObservationIn])
_point = TypeAdapter(ObservationIn)


def _json_batch(call: Call, raw: bytes) -> list[Numbered]:
    refuse_duplicate_keys(raw)
    try:
        points = _batch.validate_json(raw)
    except ValidationError as exc:
        raise from_pydantic(exc) from exc
    limit = call.settings.max_batch_points
    if len(points) > limit:
        raise PayloadTooLarge(
            f"{len(points)} points in one batch; the limit is {limit} (send NDJSON for more)",
            limit=limit,
        )
    return list(enumerate(points))


async def _once(chunk: list[Numbered]) -> AsyncIterator[list[Numbered]]:
    yield chunk


async def _ndjson_lines(call: Call) -> AsyncIterator[list[bytes]]:
    """The stream's lines, those complete in each piece of the body as it arrives."""
    limit = call.settings.max_ndjson_line_bytes
    pending = b""
    async for chunk in body_chunks(call.request):
        pending += chunk
        *lines, pending = pending.split(b"\n")
        yield lines
        if len(pending) > limit:
            raise PayloadTooLarge(f"an NDJSON line is over the {limit}-byte limit", limit=limit)
    if pending:
        yield [pending]


async def _ndjson_stream(call: Call) -> AsyncIterator[list[Numbered]]:
    """Validated points of the stream, numbered by line (blank lines count, and are skipped)."""
    limit = call.settings.max_ndjson_line_bytes
    chunk: list[Numbered] = []
    index = -1
    async for lines in _ndjson_lines(call):
        full: list[list[Numbered]] = []
        numbered: list[tuple[int, bytes]] = []
        for line in lines:
            index += 1
            if not line.strip():
                continue
            if len(line) > limit:
                raise PayloadTooLarge(f"an NDJSON line is over the {limit}-byte limit", limit=limit)
            numbered.append((index, line))
        refuse_duplicate_keys_in_lines(numbered)
        for at, point in _validated_lines(numbered):
            chunk.append((at, point))
            if len(chunk) >= NDJSON_CHUNK:
                full.append(chunk)
                chunk = []
        for ready in full:
            yield ready
    yield chunk


def _validated_lines(numbered: list[tuple[int, bytes]]) -> list[Numbered]:
    """The lines' points, validated as one JSON array: a fifth less CPU a point than a call
    a line. Each line must then be one object (it starts with `{` and ends with `}`);
    joined by newlines, which no JSON string holds unescaped, a line can only run on into
    the next inside an array, which no point has; so as many valid points as lines are the
    lines' own. Otherwise, or when a line is bad, the lines are validated one by one, and
    the 422 names the first bad line alone, as it would had they come one at a time."""
    if not numbered:
        return []
    with gc_paused():
        if all(line[:1] == b"{" and line.rstrip()[-1:] == b"}" for _, line in numbered):
            try:
                points = _batch.validate_json(
                    b"[" + b",\n".join(line for _, line in numbered) + b"]"
                )
            except ValidationError:
                pass
            else:
                if len(points) == len(numbered):
                    return [(at, point) for (at, _), point in zip(numbered, points, strict=True)]
        checked: list[Numbered] = []
        for at, line in numbered:
            try:
                checked.append((at, _point.validate_json(line)))
            except ValidationError as exc:
                raise from_pydantic(exc, prefix=[at]) from exc
        return checked


async def ingest_observations(call: Call) -> IngestResult:
    """Store a batch atomically; answered only after commit. Re-sending changes nothing.
    Tokens without the admin scope write only inside the window around now."""
    kind = check_media_type(call.request, (JSON, NDJSON))
    if kind == NDJSON:  # a stream of any length is copied as it arrives
        return await _store(call, kind, _ndjson_stream(call))
    # A JSON batch is read and validated before a connection is taken, so a slow upload
    # holds none. From its validation to its commit, its points are alive: a collection
    # meanwhile would walk every one of them to free none of them (about 6% of the worker's
    # CPU for a 5,000-point batch), so none runs until they are gone. That includes any wait
    # for another writer's day locks: the worker's other requests collect nothing meanwhile,
    # and what they leave is collected once the batch commits.
    raw = await read_body(call.request, call.settings.max_body_bytes)
    with gc_paused():
        return await _store(call, kind, _once(_json_batch(call, raw)))


async def _store(call: Call, kind: str, chunks: AsyncIterator[list[Numbered]]) -> IngestResult:
    backfill = call.principal is not None and call.principal.allows(Scope.ADMIN)
    async with call.transaction() as con:
        limit = await team_scope.write_limit(con, call.principal)
        if limit is not None:
            chunks = team_scope.checked_points(chunks, limit)
        result = await observations.ingest(
            con, chunks, now=call.now(), settings=call.settings, backfill=backfill
        )
    points_ingested(call, "json" if kind == JSON else "ndjson", result)
    return result


class SeriesQuery(BaseModel):
    service: str | None = Field(default=None, description="A service slug.")
    team: str | None = Field(default=None, description="A team slug: its services together.")
    tier: int | None = Field(
        default=None, ge=1, le=4, description="A tier (1-4): its services together."
    )
    from_: Instant | None = Field(
        default=None, alias="from", description="Inclusive start, ISO 8601 with zone."
    )
    to: Instant | None = Field(default=None, description="Exclusive end, ISO 8601 with zone.")
    grain: Grain = Field(
        default=Grain.DAY,
        description="Bucket size. `hour` lists no buckets for months whose points retention "
        "has dropped; day and coarser keep their figures.",
    )


async def kpi_series(call: Call) -> Series:
    """The KPI's series bucketed by grain (UTC), for a service, a team, a tier or the fleet."""
    query: SeriesQuery = call.query
    limit = await read_limit(call)
    if limit is not None:
        async with call.connection() as con:
            await _readable_scope(con, limit, query)
    async with call.connection() as con:
        return await observations.series(
            con, key=path_param(call, "key"), service=query.service, team=query.team,
            tier=query.tier, grain=query.grain, start=query.from_, end=query.to, now=call.now(),
        )  # fmt: skip


async def _readable_scope(
    con: Connection, limit: team_scope.TeamServices, query: SeriesQuery
) -> None:
    """For a token whose reads are limited to a team: the series must be of one of its
    services or of a team of its tree (404 otherwise); a tier or the fleet is a 403."""
    if query.service is not None:
        team_scope.readable(limit, query.service, f"service {query.service!r}")
    elif query.team is not None:
        await team_scope.teams_readable(con, limit, query.team)
    else:
        raise outside_team(limit.team, None, "service")


ENDPOINTS = [
    Endpoint(
        "POST", "/v1/observations", ingest_observations, Scope.INGEST,
        "Ingest observation points", "observations",
        body=list[ObservationIn], response=IngestResult, content_types=(JSON, NDJSON),
        errors=(413, 415, 422), stream_body=True, idempotency="natural",
        description="A JSON array of at most 10,000 points (and 8 MiB), or an "
        "application/x-ndjson stream of any length (one point per line, 64 KiB per line). "
        "A token without the admin scope may send points from 90 days before now to a day "
        "after (KPI_OBSERVATION_WINDOW_PAST_DAYS / _FUTURE_DAYS); older history is a backfill "
        "for an admin token or `kpi import`. "
        "All points are stored or none; the answer comes after commit. A point is identified "
        "by (kpi, service, ts, dimensions): re-sending it changes nothing, a new value "
        "replaces it and keeps the old one as a revision. In a batch, the last duplicate wins. "
        "A bad point fails the request with a 422 whose pointer is its index (line - 1). "
        "A token limited to a team writes only points of its team's services: the first "
        "other one (or one without a service) fails the whole request with a 403 naming it.",
    ),
    Endpoint(
        "GET", "/v1/kpis/{key}/series", kpi_series, Scope.READ,
        "A KPI's series, bucketed and aggregated", "observations",
        response=Series, query=SeriesQuery, errors=(404, 422), csv=csv_tables.SERIES,
        team_reads=True,
        description="Observed KPIs give the buckets that hold points, combined by the KPI's "
        "aggregation; builtin metrics (availability, incident times, DORA, spend) give every "
        "bucket of the window up to now, null where undefined, and default to the last few "
        "buckets; ratio KPIs divide their sides bucket by bucket (a zero denominator is null). "
        "Scope: one of service, team or tier; else a builtin KPI's own services (those it "
        "applies to, or every one) and every point of an observed KPI. A token whose reads are "
        "limited to a team names one of its services or teams: another is a 404, none a 403. "
        "Retention (KPI_RETAIN_OBSERVATIONS_MONTHS): months whose points have expired keep "
        "their figures at a grain of a day or more (from the day roll-ups), but have no "
        "buckets at grain `hour`: such a request answers 200 with no points for them.",
        replica_reads=True,
    ),
]  # fmt: skip
