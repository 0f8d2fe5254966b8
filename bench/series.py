"""series: a KPI's daily series over one year, and the latest status of every board-level
KPI (the scorecard), through the service's own path against one hand-written SQL statement
for the same numbers, on the same connection in the same run, over a generated set of
observations (bench.observation_data) in a schema of its own.

    kpi bench series [--observations 10000000] [--services 200] [--kpis 40] [--board 6]
                     [--years 3] [--seed 1] [--repeat 9] [--end 2026-01-01T00:00:00Z]
                     [--time-zone Europe/Berlin] [--explain]

- series: what GET /v1/kpis/{key}/series?grain=day&from=..&to=.. and the graph's
  `Kpi.series(grain: DAY, from, to)` compute: the KPI, the scope and the series read, for
  the KPI with the most points in the last calendar year of the data over the whole fleet,
  then for the (KPI, service) with the most points there, for that service;
- scorecard: what GET /v1/scorecard and the graph's `scorecard` compute: each board-level
  KPI's status for the last closed period of its cadence (value, previous value, target,
  status, trend), first with no status stored (computed on demand), then after the leader's
  evaluation round stored them.

Every statement runs more than five times before timing starts, so Postgres has settled on
the plan it keeps for asyncpg's prepared statements (a generic plan, under plan_cache_mode
auto, when it looks no worse). Both sides must give the same numbers; a mismatch is printed
and the exit status is 1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench.harness import fresh_schema, report_agreement, run, same_value
from bench.observation_data import ObservationDataInfo, generate
from service import db as dbmod
from service.kpi import periods
from service.kpi.periods import Calendar
from service.models.enums import Grain
from service.models.observations import SeriesPoint
from service.models.reports import Scorecard
from service.store import kpis, metrics
from service.usecases import evaluation, reports
from service.usecases import measure as kpi_measure

#: Warm-up runs of each side: past the five custom plans after which Postgres may keep a
#: generic plan for a prepared statement.
WARM_UP = 6

_AGGREGATE = {
    "sum": "sum(value)",
    "avg": "avg(value)",
    "min": "min(value)",
    "max": "max(value)",
    "count": "count(*)::double precision",
    "last": "(array_agg(value order by ts desc, service_id desc nulls last))[1]",
}

#: The baseline of the series: the plain statement for one KPI's aggregation.
BASELINE_SERIES = """
select date_trunc('day', ts, 'UTC') as bucket, {aggregate} as value, count(*) as count
from observation
where kpi_id = $1 and ts >= $2 and ts < $3{service}
group by 1
order by 1
"""

#: The same in a time zone ($4): local days.
BASELINE_ZONE_SERIES = """
select date_trunc('day', ts, $4) as bucket, {aggregate} as value, count(*) as count
from observation
where kpi_id = $1 and ts >= $2 and ts < $3
group by 1
order by 1
"""

#: The baseline of the scorecard: every board-level KPI's last closed period (and the one
#: before, for the trend) aggregated from its points, against the global target in effect on
#: the period's first day, in one statement.
BASELINE_SCORECARD = """
with board as (
    select k.id, k.key, k.aggregation, k.direction, g.grain,
           date_trunc(g.grain, $1::timestamptz, 'UTC') as period_end
    from kpi k
    cross join lateral (
        select case k.cadence when 'daily' then 'day' when 'weekly' then 'week'
                              when 'monthly' then 'month' when 'quarterly' then 'quarter'
                              else 'year' end as grain
    ) g
    where k.board_level and k.cadence is not null
),
periods as (
    select b.*, p.period_start,
           date_trunc(b.grain, p.period_start - interval '1 microsecond', 'UTC') as previous_start
    from board b
    cross join lateral (
        select date_trunc(b.grain, b.period_end - interval '1 microsecond', 'UTC') as period_start
    ) p
),
buckets as (
    select p.id, date_trunc(p.grain, o.ts, 'UTC') as bucket,
           case p.aggregation
               when 'sum' then sum(o.value)
               when 'avg' then avg(o.value)
               when 'min' then min(o.value)
               when 'max' then max(o.value)
               when 'count' then count(*)::double precision
               when 'last' then (array_agg(o.value order by o.ts desc, o.service_id desc nulls last)
                                 filter (where p.aggregation = 'last'))[1]
           end as value
    from periods p
    join observation o on o.kpi_id = p.id and o.ts >= p.previous_start and o.ts < p.period_end
    group by p.id, 2, p.aggregation
)
select p.key, p.period_start, p.period_end, v.value, pv.value as previous_value,
       t.value as target, t.warning,
       case when v.value is null or t.value is null then 'no_data'
            when (p.direction = 'higher_is_better' and v.value < t.value)
                 or (p.direction = 'lower_is_better' and v.value > t.value) then 'breached'
            when t.warning is not null
                 and ((p.direction = 'higher_is_better' and v.value < t.warning)
                      or (p.direction = 'lower_is_better' and v.value > t.warning)) then 'at_risk'
            else 'met'
       end as status,
       case when v.value is null or pv.value is null then 'unknown'
            when abs(v.value - pv.value) <= 1e-9 * greatest(1, abs(pv.value)) then 'steady'
            when (v.value > pv.value) = (p.direction = 'higher_is_better') then 'improving'
            else 'worsening'
       end as trend
from periods p
left join buckets v on v.id = p.id and v.bucket = p.period_start
left join buckets pv on pv.id = p.id and pv.bucket = p.previous_start
left join lateral (
    select t.value, t.warning from target t
    where t.kpi_id = p.id and t.service_id is null and t.tier is null
      and t.effective_from <= (p.period_start at time zone 'UTC')::date
      and (t.effective_to is null or (p.period_start at time zone 'UTC')::date < t.effective_to)
    order by t.effective_from desc
    limit 1
) t on true
order by p.id
"""

_ScorecardRow = tuple[str, Any, Any, Any, Any, Any, Any, str, str]


async def ours_series(
    con: dbmod.Connection, key: str, service: str | None, start: dt.datetime, end: dt.datetime,
    now: dt.datetime, zone: str | None = None,
) -> list[SeriesPoint]:  # fmt: skip
    """What the series endpoint does: the KPI, the scope (a service, or the fleet), the
    series (in the KPI's own zone, if one is given)."""
    kpi = await kpis.get_kpi(con, key=key)
    if zone is not None:
        kpi = kpi.model_copy(update={"time_zone": zone})
    scope = await metrics.resolve_scope(con, service=service)
    return await kpi_measure.series(
        con, kpi=kpi, scope=scope, grain=Grain.DAY, start=start, end=end, now=now
    )


async def baseline_series(
    con: dbmod.Connection, kpi_id: int, aggregation: str, service_id: int | None,
    start: dt.datetime, end: dt.datetime,
) -> list[SeriesPoint]:  # fmt: skip
    statement = BASELINE_SERIES.format(
        aggregate=_AGGREGATE[aggregation],
        service="" if service_id is None else " and service_id = $4",
    )
    args = (kpi_id, start, end) if service_id is None else (kpi_id, start, end, service_id)
    return [SeriesPoint(**r) for r in await con.fetch(statement, *args)]


def _scorecard_rows(card: Scorecard) -> list[_ScorecardRow]:
    return [
        (i.kpi, i.period_start, i.period_end, i.value, i.previous_value, i.target, i.warning,
         str(i.status), str(i.trend))
        for i in card.items
    ]  # fmt: skip


async def baseline_scorecard(con: dbmod.Connection, now: dt.datetime) -> list[_ScorecardRow]:
    rows = await con.fetch(BASELINE_SCORECARD, now)
    return [tuple(r.values()) for r in rows]


def series_mismatches(a: list[SeriesPoint], b: list[SeriesPoint]) -> list[str]:
    if [p.bucket for p in a] != [p.bucket for p in b]:
        return [f"buckets: ours {len(a)}, baseline {len(b)} (or at other instants)"]
    return [
        f"{p.bucket:%Y-%m-%d}: ours {p.value!r} ({p.count}), baseline {r.value!r} ({r.count})"
        for p, r in zip(a, b, strict=True)
        if p.count != r.count or not same_value(p.value, r.value)
    ]


def scorecard_mismatches(a: list[_ScorecardRow], b: list[_ScorecardRow]) -> list[str]:
    if [r[0] for r in a] != [r[0] for r in b]:
        return [f"KPIs: ours {[r[0] for r in a]}, baseline {[r[0] for r in b]}"]
    return [
        f"{x[0]}: ours {x[1:]}, baseline {y[1:]}"
        for x, y in zip(a, b, strict=True)
        if not all(same_value(u, v) for u, v in zip(x, y, strict=True))
    ]


async def _time(call: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await call()
    return time.perf_counter() - started


async def measure(
    ours: Callable[[], Awaitable[Any]], baseline: Callable[[], Awaitable[Any]], repeat: int
) -> tuple[list[float], list[float]]:
    """Warm-ups of each side, then `repeat` rounds alternating the two."""
    for _ in range(WARM_UP):
        await ours()
        await baseline()
    mine, theirs = [], []
    for _ in range(repeat):
        mine.append(await _time(ours))
        theirs.append(await _time(baseline))
    return mine, theirs


def _ms(values: list[float]) -> str:
    return (
        f"{statistics.median(values) * 1000:8.2f} ms (min {min(values) * 1000:.2f}, "
        f"max {max(values) * 1000:.2f})"
    )


def _report(label: str, mine: list[float], theirs: list[float], rows: str) -> None:
    ratio = statistics.median(mine) / statistics.median(theirs)
    print(f"  {label}:")
    print(f"    ours:     {_ms(mine)}")
    print(f"    baseline: {_ms(theirs)}")
    print(f"    ratio ours/baseline: {ratio:.2f}; {rows}")


def _explain_to_stdout(con: dbmod.Connection) -> Callable[[], Awaitable[None]]:
    """Prints the plans Postgres runs (auto_explain, sent to this client) until the returned
    coroutine function is awaited."""

    def show(_con: Any, message: Any) -> None:
        for line in str(message.message).splitlines():
            print(f"      | {line}")

    async def stop() -> None:
        await con.execute("set auto_explain.log_min_duration = -1")
        con.remove_log_listener(show)

    con.add_log_listener(show)
    return stop


async def _explain_once(con: dbmod.Connection, label: str,
                        call: Callable[[], Awaitable[Any]]) -> None:  # fmt: skip
    await con.execute(
        "load 'auto_explain'; set auto_explain.log_analyze = on; "
        "set auto_explain.log_buffers = on; set auto_explain.log_nested_statements = on; "
        "set client_min_messages = log; set auto_explain.log_min_duration = 0"
    )
    print(f"    plans of {label} (auto_explain):")
    stop = _explain_to_stdout(con)
    try:
        await call()
    finally:
        await stop()
        await con.execute("reset client_min_messages")


async def _series_case(
    con: dbmod.Connection, info: ObservationDataInfo, args: argparse.Namespace,
    one_service: bool,
) -> list[str]:  # fmt: skip
    """The KPI with the most points in the last year, of the fleet; or the (KPI, service)
    with the most, for that service."""
    start = info.end.replace(year=info.end.year - 1)
    end = now = info.end
    row = await con.fetchrow(
        "select k.id, k.key, k.aggregation, s.id as service_id, s.slug, count(*) as points "
        "from observation o join kpi k on k.id = o.kpi_id "
        "left join business_service s on s.id = o.service_id and $3 "
        "where o.ts >= $1 and o.ts < $2 and (not $3 or o.service_id is not null) "
        "group by k.id, s.id order by count(*) desc, k.id, s.id limit 1",
        start, end, one_service,
    )  # fmt: skip
    key, kpi_id, aggregation = row["key"], row["id"], row["aggregation"]
    slug, sid = row["slug"], row["service_id"]

    async def ours() -> list[SeriesPoint]:
        return await ours_series(con, key, slug, start, end, now)

    async def baseline() -> list[SeriesPoint]:
        return await baseline_series(con, kpi_id, aggregation, sid, start, end)

    mine, theirs = await measure(ours, baseline, args.repeat)
    a, b = await ours(), await baseline()
    _report(
        f"series: {key} ({aggregation}), grain day, {start:%Y-%m-%d} .. {end:%Y-%m-%d}, "
        + (f"one service ({slug})" if one_service else "the fleet"), mine, theirs,
        f"rows read: {row['points']:,} points into {len(a)} buckets",
    )  # fmt: skip
    if args.explain:
        await _explain_once(con, "ours", ours)
        await _explain_once(con, "baseline", baseline)
    label = "one service" if one_service else "fleet"
    return [f"series {label} {m}" for m in series_mismatches(a, b)]


async def _zone_series_case(
    con: dbmod.Connection, info: ObservationDataInfo, args: argparse.Namespace
) -> list[str]:
    """The fleet's daily series of the busiest KPI over the last local year in a zone."""
    cal = Calendar.of(args.time_zone)
    end = now = periods.truncate(Grain.DAY, info.end, cal)
    start = periods.truncate(Grain.DAY, end.replace(year=end.year - 1), cal)
    row = await con.fetchrow(
        "select k.id, k.key, k.aggregation, count(*) as points from observation o "
        "join kpi k on k.id = o.kpi_id where o.ts >= $1 and o.ts < $2 "
        "group by k.id order by count(*) desc, k.id limit 1",
        start, end,
    )  # fmt: skip
    key, kpi_id, aggregation = row["key"], row["id"], row["aggregation"]
    statement = BASELINE_ZONE_SERIES.format(aggregate=_AGGREGATE[aggregation])

    async def ours() -> list[SeriesPoint]:
        return await ours_series(con, key, None, start, end, now, args.time_zone)

    async def baseline() -> list[SeriesPoint]:
        rows = await con.fetch(statement, kpi_id, start, end, args.time_zone)
        return [SeriesPoint(**r) for r in rows]

    mine, theirs = await measure(ours, baseline, args.repeat)
    a, b = await ours(), await baseline()
    _report(
        f"series: {key} ({aggregation}), grain day in {args.time_zone}, "
        f"{start:%Y-%m-%d %H:%M}Z .. {end:%Y-%m-%d %H:%M}Z, the fleet", mine, theirs,
        f"rows read: {row['points']:,} points into {len(a)} buckets",
    )  # fmt: skip
    return [f"series in {args.time_zone} {m}" for m in series_mismatches(a, b)]


async def _scorecard_rows_read(con: dbmod.Connection, now: dt.datetime) -> int:
    """Points in the two latest closed periods of every board-level KPI."""
    statement = BASELINE_SCORECARD.replace(
        "select p.key, p.period_start",
        "select (select count(*) from periods p join observation o on o.kpi_id = p.id "
        "and o.ts >= p.previous_start and o.ts < p.period_end) as n, p.key, p.period_start",
    )
    n: int | None = await con.fetchval(statement, now)
    return n or 0


async def _scorecard_case(
    con: dbmod.Connection, info: ObservationDataInfo, args: argparse.Namespace, label: str
) -> list[str]:
    now = info.end

    async def ours() -> list[_ScorecardRow]:
        return _scorecard_rows(await reports.scorecard(con, None, now))

    async def baseline() -> list[_ScorecardRow]:
        return await baseline_scorecard(con, now)

    mine, theirs = await measure(ours, baseline, args.repeat)
    a, b = await ours(), await baseline()
    statuses = ", ".join(f"{r[0].rsplit('_', 1)[-1]} {r[7]}" for r in a)
    read = await _scorecard_rows_read(con, now)
    _report(
        f"scorecard, {label}: {len(a)} board-level KPIs ({statuses})", mine, theirs,
        f"rows read by the baseline: {read:,} points",
    )  # fmt: skip
    if args.explain:
        await _explain_once(con, "ours", ours)
    return [f"scorecard {label}: {m}" for m in scorecard_mismatches(a, b)]


async def _bench(url: str, args: argparse.Namespace) -> int:
    end = dt.datetime.fromisoformat(args.end.replace("Z", "+00:00"))
    if end.tzinfo is None:
        end = end.replace(tzinfo=dt.UTC)
    async with fresh_schema(url) as (con, schema):
        started = time.perf_counter()
        info = await generate(
            con, observations=args.observations, seed=args.seed, end=end, years=args.years,
            services=args.services, kpis=args.kpis, board=args.board,
        )  # fmt: skip
        loaded = time.perf_counter() - started
        # What autovacuum does to an insert-mostly table in time: statistics and the
        # visibility map.
        await con.execute("vacuum analyze observation")
        vacuumed = time.perf_counter() - started - loaded
        size = await con.fetchval(
            "select pg_size_pretty(sum(pg_total_relation_size(inhrelid))) from pg_inherits "
            "where inhparent = 'observation'::regclass"
        )
        print(f"series: {info.observations:,} observations, {len(info.kpi_keys)} KPIs "
              f"({len(info.board_keys)} board-level), {len(info.service_ids)} services, "
              f"seed {info.seed}, {os.cpu_count()} cores")  # fmt: skip
        print(f"  data set: {info.start:%Y-%m-%d} .. {info.end:%Y-%m-%d}, {info.partitions} "
              f"month partitions, {info.revised:,} points revised, {size} with indexes; "
              f"generated and loaded in {loaded:.1f} s, "
              f"vacuum analyze {vacuumed:.1f} s")  # fmt: skip
        session = await dbmod.connect(url, schema)
        try:
            settings = await session.fetch(
                "select name, current_setting(name) as value from pg_settings "
                "where name in ('jit', 'work_mem', 'shared_buffers', 'plan_cache_mode', "
                "'max_parallel_workers_per_gather') order by name"
            )
            server = await session.fetchval("show server_version")
            print(f"  PostgreSQL {server}: "
                  + ", ".join(f"{r['name']} {r['value']}" for r in settings))  # fmt: skip
            print(f"  timings: median of {args.repeat} after {WARM_UP} warm-ups of each side, "
                  "both sides alternating on one connection")  # fmt: skip
            problems = await _series_case(session, info, args, one_service=False)
            problems += await _series_case(session, info, args, one_service=True)
            if args.time_zone:
                problems += await _zone_series_case(session, info, args)
            problems += await _scorecard_case(session, info, args, "nothing stored")
            await evaluation.evaluate_due(session, info.end)
            problems += await _scorecard_case(session, info, args, "statuses stored")
        finally:
            await session.close()
    return report_agreement(problems)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="kpi bench series")
    p.add_argument("--observations", type=int, default=10_000_000)
    p.add_argument("--services", type=int, default=200)
    p.add_argument("--kpis", type=int, default=40)
    p.add_argument("--board", type=int, default=6, help="board-level KPIs among --kpis")
    p.add_argument("--years", type=int, default=3, help="calendar years of data before --end")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--repeat", type=int, default=9)
    p.add_argument("--end", default="2026-01-01T00:00:00Z", help="a UTC midnight")
    p.add_argument(
        "--time-zone",
        default=None,
        help="also the fleet's daily series over a local year in this IANA zone",
    )
    p.add_argument(
        "--explain", action="store_true", help="print the plans each side ran (auto_explain)"
    )
    args = p.parse_args(argv)
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    outcome = {"code": 0}

    async def bench(url: str) -> None:
        outcome["code"] = await _bench(url, args)

    run(bench)
    return outcome["code"]
