"""A seeded, reproducible set of observations of any size: services, observed KPIs (some
board-level, with cadences and global targets) and their points over several years, loaded in
time order with COPY into the month partitions of `observation`.

Same seed, same arguments: same rows (only the generated ids may differ). What it holds:

- services over tiers 1-4;
- observed KPIs of every aggregation (sum, avg, min, max, last, count), some measured per
  service (each on a subset of the services), some for the estate (no service); some KPIs far
  busier than others (log-normal weights);
- the first `board` KPIs are board-level, with a reporting cadence (daily, weekly, monthly,
  quarterly in turn), a global target and a warning threshold near their typical value, so
  their statuses are a mix of met, at risk and breached;
- points of one stream (KPI and service) evenly spaced with a phase of their own, values
  noisy around the stream's level; rows go in month by month, each month in time order, as
  a live feed would write them, so one KPI's points are spread over every page of a month;
- late corrections: about one point in fifty of the last 40 days revised to a new value.

Keys and slugs carry the seed, so two sets of different seeds can share a schema.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass
from operator import itemgetter

from bench.harness import allocate_ids
from service.db import Connection

AGGREGATIONS = ("avg", "sum", "max", "last", "min", "count")
BOARD_CADENCES = ("daily", "weekly", "monthly", "quarterly")
_COLUMNS = ("kpi_id", "service_id", "ts", "value", "dimensions", "source")
_MICROS = 1_000_000


@dataclass(frozen=True)
class ObservationDataInfo:
    seed: int
    start: dt.datetime
    end: dt.datetime
    observations: int
    service_ids: tuple[int, ...]
    kpi_keys: tuple[str, ...]
    board_keys: tuple[str, ...]
    partitions: int
    revised: int


@dataclass(frozen=True)
class _Stream:
    kpi_id: int
    service_id: int | None
    interval_us: int
    phase_us: int
    level: float


def _months(start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    out = []
    current = start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    while current < end:
        out.append(current)
        index = current.year * 12 + current.month
        current = current.replace(year=index // 12, month=index % 12 + 1)
    return out


async def _catalog(
    con: Connection, rng: random.Random, prefix: str, services: int, kpis: int, board: int,
    start: dt.datetime,
) -> tuple[list[int], list[int], list[str], list[float]]:  # fmt: skip
    service_ids = await allocate_ids(con, "business_service", services)
    await con.copy_records_to_table(
        "business_service",
        records=[
            (sid, f"{prefix}-svc-{i:05d}", f"Service {i}", 1 + i % 4)
            for i, sid in enumerate(service_ids)
        ],
        columns=("id", "slug", "name", "tier"),
    )
    kpi_ids = await allocate_ids(con, "kpi", kpis)
    keys = [f"{prefix}_kpi_{i:03d}" for i in range(kpis)]
    levels = [round(10 ** rng.uniform(1, 3), 1) for _ in range(kpis)]
    records = []
    for i, (kid, key) in enumerate(zip(kpi_ids, keys, strict=True)):
        on_board = i < board
        # Board-level KPIs read best as levels (avg, max, min, last), not as totals.
        aggregation = AGGREGATIONS[i % 4] if on_board else AGGREGATIONS[i % len(AGGREGATIONS)]
        direction = "higher_is_better" if i % 2 == 0 else "lower_is_better"
        cadence = BOARD_CADENCES[i % len(BOARD_CADENCES)] if on_board else None
        records.append((
            kid, key, f"KPI {i}", "count", direction, aggregation, "observed", cadence,
            f"owner-{i % 5}", f"tech-{i % 7}", on_board,
        ))  # fmt: skip
    await con.copy_records_to_table(
        "kpi",
        records=records,
        columns=("id", "key", "name", "unit", "direction", "aggregation", "kind", "cadence",
                 "business_owner", "technology_owner", "board_level"),
    )  # fmt: skip
    targets = []
    for i in range(board):
        # Near the typical level, on the good side by a little: statuses come out mixed.
        level = levels[i]
        higher = i % 2 == 0
        target = round(level * (0.99 if higher else 1.01), 2)
        warning = round(level * (1.01 if higher else 0.99), 2)
        targets.append((kpi_ids[i], target, warning, start.date()))
    await con.copy_records_to_table(
        "target", records=targets, columns=("kpi_id", "value", "warning", "effective_from")
    )
    return service_ids, kpi_ids, keys, levels


def _streams(
    rng: random.Random, observations: int, service_ids: list[int], kpi_ids: list[int],
    levels: list[float], span_us: int,
) -> list[_Stream]:  # fmt: skip
    weights = [rng.lognormvariate(0.0, 0.8) for _ in kpi_ids]
    total = sum(weights)
    streams = []
    for kid, weight, level in zip(kpi_ids, weights, levels, strict=True):
        points = max(1, round(observations * weight / total))
        if rng.random() < 0.3:
            owners: list[int | None] = [None]  # measured for the whole estate
        else:
            k = rng.randint(max(1, len(service_ids) // 10), len(service_ids))
            owners = list(rng.sample(service_ids, k))
        per_stream = max(1, points // len(owners))
        interval = max(1, span_us // per_stream)
        for sid in owners:
            factor = rng.lognormvariate(0.0, 0.05)
            streams.append(_Stream(kid, sid, interval, rng.randrange(interval), level * factor))
    return streams


async def generate(
    con: Connection, *, observations: int, seed: int, end: dt.datetime, years: int = 3,
    services: int = 200, kpis: int = 40, board: int = 6,
) -> ObservationDataInfo:  # fmt: skip
    """Insert about `observations` points (exactly as many as the streams divide into) over
    the `years` calendar years before `end` (a UTC midnight); same seed, same rows."""
    if observations < 1 or years < 1 or services < 1 or not 1 <= board <= kpis:
        raise ValueError("need points, a span, services and 1 <= board <= kpis")
    if end.tzinfo is None:
        raise ValueError("end must be an aware datetime")
    end = end.astimezone(dt.UTC)
    start = end.replace(year=end.year - years)
    span_us = int((end - start).total_seconds()) * _MICROS
    rng = random.Random(seed)
    prefix = f"o{seed}"
    service_ids, kpi_ids, keys, levels = await _catalog(
        con, rng, prefix, services, kpis, board, start
    )
    streams = _streams(rng, observations, service_ids, kpi_ids, levels, span_us)
    months = _months(start, end)
    await con.execute(
        "select ensure_observation_partitions($1::timestamptz[], '-infinity', 'infinity')", months
    )
    loaded = 0
    empty: dict[str, object] = {}
    for m, month in enumerate(months):
        lo = int((month - start).total_seconds()) * _MICROS
        hi = span_us if m + 1 == len(months) else int(
            (months[m + 1] - start).total_seconds()
        ) * _MICROS  # fmt: skip
        rows = []
        for s in streams:
            first = max(0, math.ceil((lo - s.phase_us) / s.interval_us))
            at = s.phase_us + first * s.interval_us
            # A slow drift over the span and noise around it.
            while at < hi:
                drift = 1.0 + 0.05 * math.sin(at / span_us * 6.0)
                value = round(s.level * drift * (1.0 + 0.1 * (rng.random() - 0.5)), 3)
                rows.append((s.kpi_id, s.service_id, at, value))
                at += s.interval_us
        rows.sort(key=itemgetter(2))
        loaded += len(rows)
        await con.copy_records_to_table(
            "observation",
            records=[
                (k, sid, start + dt.timedelta(microseconds=at), v, empty, "bench")
                for k, sid, at, v in rows
            ],
            columns=_COLUMNS,
        )
    # Late corrections, as sources send them: about one point in fifty of the last 40 days
    # gets a new value (each keeps its old one as a revision).
    revised = await con.fetchval(
        """with changed as (
               update observation set value = round((value * 1.02)::numeric, 3)::float8
               where ts >= $1 and hashint8(kpi_id * 7919 + extract(epoch from ts)::bigint) % 50 = 0
               returning 1)
           select count(*) from changed""",
        end - dt.timedelta(days=40),
    )  # fmt: skip
    return ObservationDataInfo(
        seed=seed, start=start, end=end, observations=loaded, service_ids=tuple(service_ids),
        kpi_keys=tuple(keys), board_keys=tuple(keys[:board]), partitions=len(months),
        revised=revised,
    )  # fmt: skip
