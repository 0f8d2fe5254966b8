"""kpi-compute: what a portal's service page asks for (availability, each severity's count and
MTTR mean, median and p90, the four DORA keys and rework) over one year, for one service and
for the whole fleet, through the service's own path (service.store.metrics: outages, the
incident read narrowed to MTTR by severity as GraphQL's incidentStats reads it for that
selection, changes; the scope from resolve_scope) against the best single hand-written SQL
statement computing exactly those figures by the same rules, on the same connection in the
same run, over a generated data set (bench.dataset) in a schema of its own. --scale times
several sizes into a CSV file and a chart (bench.kpi_compute_scale).

    kpi bench kpi-compute [--services 1000] [--incidents 1000000] [--changes 1000000]
                          [--seed 1] [--repeat 5] [--days 730] [--end 2026-01-01T00:00:00Z]
                          [--explain] [--no-jit] [--plan-cache-mode auto]
                          [--keep-schema NAME | --reuse-schema NAME]
                          [--scale N [--scale-out FILE]]

Generating a large data set takes minutes: --keep-schema NAME generates it into schema NAME and
keeps it; --reuse-schema NAME times a data set kept that way (same sizes, seed and span, or it
refuses). Drop it by hand when done: `drop schema NAME cascade`.

Each case (one service, the fleet) runs on a connection of its own, both sides on it, with the
service's connection settings (service.db: jit off, work_mem). asyncpg prepares and caches
statements, and with plan_cache_mode auto Postgres may switch a statement to a generic plan
after five executions, one that assumes a scope array of about ten services: so both sides run
with force_custom_plan unless --plan-cache-mode says otherwise. (The service's metric reads
prepare their statement for each call, so they are planned for their arguments in any mode.)
A generated data set is vacuumed before timing, as a table long in service would be.

Both sides must give the same numbers; a mismatch is printed and the exit status is 1.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import os
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bench.dataset import DatasetInfo, generate
from bench.harness import fresh_schema, report_agreement, run, same_value
from bench.kpi_compute_baseline import BASELINE
from bench.scale import add_scale_options
from service import db as dbmod
from service.kpi import builtin
from service.kpi.periods import Period
from service.store import metrics
from service.store.metrics import MetricScope

WEEK_SECONDS = 7 * 86400


@dataclass(frozen=True)
class Figures:
    """The numbers both sides compute for one scope and window."""

    availability: float | None
    #: By severity: incidents, then the n, mean, median and p90 of their resolution times.
    mttr: dict[str, tuple[int, int, float | None, float | None, float | None]]
    deployments: int
    failures: int
    rework: int
    lead_n: int
    lead_median: float | None
    recovery_n: int
    recovery_median: float | None


async def ours(
    con: dbmod.Connection, scope: MetricScope, window: Period, now: dt.datetime
) -> Figures:
    """The service's path for a portal's service page: the outage read, the incident read
    narrowed to what the page selects (MTTR by severity, as GraphQL's incidentStats does for
    that selection), the change read, and the builtin arithmetic."""
    (cell,) = await metrics.outages(con, scope, [window], now)
    (breakdown,) = await incidents_asked(con, scope, window)
    (changes,) = await metrics.changes(con, scope, [window])
    return Figures(
        availability=builtin.availability(cell, len(scope.service_ids), window.seconds),
        mttr={
            str(sev): (f.incidents, f.resolve.n, f.resolve.mean, f.resolve.median, f.resolve.p90)
            for sev, f in sorted(breakdown.by_severity.items())
        },
        deployments=changes.deployments,
        failures=changes.failures,
        rework=changes.rework,
        lead_n=changes.lead_n,
        lead_median=changes.lead_median,
        recovery_n=changes.recovery_n,
        recovery_median=changes.recovery_median,
    )


async def incidents_asked(
    con: dbmod.Connection, scope: MetricScope, window: Period
) -> list[metrics.IncidentBreakdown]:
    return await metrics.incidents(
        con, scope, [window], figures=metrics.IncidentFigureSet.RESOLUTION_BY_SEVERITY
    )


async def baseline(
    con: dbmod.Connection, scope: MetricScope, window: Period, now: dt.datetime
) -> Figures:
    r = await con.fetchrow(BASELINE, list(scope.service_ids), window.start, window.end, now)
    return Figures(
        availability=r["availability"] if scope.service_ids else None,
        mttr={
            sev: (count, n, mean, median, p90)
            for sev, count, n, mean, median, p90 in zip(
                r["severities"],
                r["incidents"],
                r["mttr_n"],
                r["mttr_mean"],
                r["mttr_median"],
                r["mttr_p90"],
                strict=True,
            )
        },
        deployments=r["deployments"],
        failures=r["failures"],
        rework=r["rework"],
        lead_n=r["lead_n"],
        lead_median=r["lead_median"],
        recovery_n=r["recovery_n"],
        recovery_median=r["recovery_median"],
    )


def mismatches(a: Figures, b: Figures) -> list[str]:
    out = []
    for name in ("availability", "deployments", "failures", "rework", "lead_n", "lead_median",
                 "recovery_n", "recovery_median"):  # fmt: skip
        x, y = getattr(a, name), getattr(b, name)
        if not same_value(x, y):
            out.append(f"{name}: ours {x!r}, baseline {y!r}")
    if a.mttr.keys() != b.mttr.keys():
        out.append(f"mttr severities: ours {sorted(a.mttr)}, baseline {sorted(b.mttr)}")
    for sev in sorted(a.mttr.keys() & b.mttr.keys()):
        labels = ("incidents", "n", "mean", "median", "p90")
        for label, x, y in zip(labels, a.mttr[sev], b.mttr[sev], strict=True):
            if not same_value(x, y):
                out.append(f"mttr {sev} {label}: ours {x!r}, baseline {y!r}")
    return out


def _hours(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds / 3600:.2f} h"


def describe(f: Figures, window: Period) -> list[str]:
    availability = "n/a" if f.availability is None else f"{f.availability * 100:.5f} %"
    cfr = builtin.ratio(f.failures, f.deployments)
    mttr = ", ".join(
        f"{sev} {_hours(mean)} (median {_hours(median)}, p90 {_hours(p90)}, n {n} of {count})"
        for sev, (count, n, mean, median, p90) in f.mttr.items()
    )
    return [
        f"availability {availability}",
        f"MTTR mean by severity: {mttr or 'no resolved incidents'}",
        f"deployment frequency {f.deployments / (window.seconds / WEEK_SECONDS):.2f}/week "
        f"({f.deployments} deployments), lead time median {_hours(f.lead_median)} "
        f"(n {f.lead_n}), change failure rate "
        + ("n/a" if cfr is None else f"{cfr * 100:.2f} %")
        + f" ({f.failures} failures, {f.rework} rework), recovery time median "
        f"{_hours(f.recovery_median)} (n {f.recovery_n})",
    ]


async def _time(call: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await call()
    return time.perf_counter() - started


@dataclass
class Timings:
    ours: list[float]
    parts: dict[str, list[float]]
    baseline: list[float]


async def measure(
    con: dbmod.Connection, scope: MetricScope, window: Period, now: dt.datetime, repeat: int
) -> Timings:
    """A warm-up of each side, then `repeat` rounds alternating the two."""
    await ours(con, scope, window, now)
    await baseline(con, scope, window, now)
    t = Timings([], {"outages": [], "incidents": [], "changes": []}, [])
    windows = [window]
    for _ in range(repeat):
        t.parts["outages"].append(await _time(lambda: metrics.outages(con, scope, windows, now)))
        t.parts["incidents"].append(await _time(lambda: incidents_asked(con, scope, window)))
        t.parts["changes"].append(await _time(lambda: metrics.changes(con, scope, windows)))
        t.ours.append(await _time(lambda: ours(con, scope, window, now)))
        t.baseline.append(await _time(lambda: baseline(con, scope, window, now)))
    return t


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:9.1f} ms"


def _spread(values: list[float]) -> str:
    return f"(min {min(values) * 1000:.1f}, max {max(values) * 1000:.1f})"


async def _explain(con: dbmod.Connection, scope: MetricScope, window: Period,
                   now: dt.datetime) -> None:  # fmt: skip
    ids, starts, ends = list(scope.service_ids), [window.start], [window.end]
    span = (window.start, window.end)
    statements: list[tuple[str, str, tuple[Any, ...]]] = [
        # Every severity, environment and change kind; no per-window service.
        ("outage_seconds", metrics.q("outage_seconds"), (ids, starts, ends, now, *span, None)),
        (
            "incident_resolution_by_severity",
            metrics.q("incident_resolution_by_severity"),
            (ids, starts, ends, *span, None, None, None),
        ),
        (
            "change_stats",
            metrics.q("change_stats"),
            (ids, starts, ends, *span, None, None, None, None),
        ),
        ("baseline", BASELINE, (ids, window.start, window.end, now)),
    ]
    for name, statement, args in statements:
        print(f"  EXPLAIN ANALYZE {name} ({scope.kind}):")
        for r in await con.fetch("explain (analyze, buffers) " + statement, *args):
            print(f"    {r[0]}")


async def case(
    con: dbmod.Connection, label: str, scope: MetricScope, window: Period, now: dt.datetime,
    args: argparse.Namespace,
) -> tuple[list[str], Timings]:  # fmt: skip
    """Times one scope and prints it; the mismatches between the two sides, the timings."""
    t = await measure(con, scope, window, now, args.repeat)
    mine, theirs = await ours(con, scope, window, now), await baseline(con, scope, window, now)
    ratio = statistics.median(t.ours) / statistics.median(t.baseline)
    parts = ", ".join(f"{k} {statistics.median(v) * 1000:.1f}" for k, v in t.parts.items())
    print(f"  {label}:")
    print(f"    ours (outages + incidents + changes): {_ms(t.ours)} {_spread(t.ours)}")
    print(f"      of which, timed alone (ms): {parts}")
    print(f"    baseline (one hand-written statement):{_ms(t.baseline)} {_spread(t.baseline)}")
    print(f"    ratio ours/baseline: {ratio:.2f}")
    for line in describe(mine, window):
        print(f"    {line}")
    if args.explain:
        await _explain(con, scope, window, now)
    return [f"{label}: {m}" for m in mismatches(mine, theirs)], t


async def _in_window(con: dbmod.Connection, sid: int | None, window: Period) -> tuple[int, int]:
    row = await con.fetchrow(
        """select (select count(*) from incident
                   where ($1::bigint is null or service_id = $1)
                     and started_at >= $2 and started_at < $3) as incidents,
                  (select count(*) from change
                   where ($1::bigint is null or service_id = $1) and is_production
                     and finished_at >= $2 and finished_at < $3) as changes""",
        sid, window.start, window.end,
    )  # fmt: skip
    return row["incidents"], row["changes"]


async def _session(url: str, schema: str, args: argparse.Namespace) -> dbmod.Connection:
    """A connection of its own for one case, so one scope's cached plans never serve another."""
    con = await dbmod.connect(url, schema)
    await con.execute(f"set plan_cache_mode = {args.plan_cache_mode}")
    if args.no_jit:
        await con.execute("set jit = off")
    return con


def _sizes(args: argparse.Namespace, end: dt.datetime) -> dict[str, Any]:
    return {"services": args.services, "incidents": args.incidents, "changes": args.changes,
            "seed": args.seed, "end": end.isoformat(), "days": args.days}  # fmt: skip


def _info_text(info: DatasetInfo, sizes: dict[str, Any], generated: float) -> str:
    data = dataclasses.asdict(info)
    data["start"], data["end"] = info.start.isoformat(), info.end.isoformat()
    return json.dumps({"sizes": sizes, "info": data, "generated": generated})


def _info_from(text: str) -> tuple[dict[str, Any], DatasetInfo, float]:
    saved = json.loads(text)
    data = saved["info"]
    for name in ("start", "end"):
        data[name] = dt.datetime.fromisoformat(data[name])
    for name in ("team_slugs", "service_ids", "service_slugs"):
        data[name] = tuple(data[name])
    return saved["sizes"], DatasetInfo(**data), saved["generated"]


async def fill(
    con: dbmod.Connection, args: argparse.Namespace, end: dt.datetime
) -> tuple[DatasetInfo, float]:
    """Generates the data set of `args` (sizes, seed, span) and vacuums it; the seconds taken."""
    started = time.perf_counter()
    info = await generate(
        con, services=args.services, incidents=args.incidents, changes=args.changes,
        seed=args.seed, end=end, days=args.days,
    )  # fmt: skip
    # As a table long in service would be: its pages marked all-visible (both sides may
    # then read covering indexes alone), not waiting for autovacuum to get to it.
    await con.execute("vacuum (analyze) incident, change, commit_time")
    return info, time.perf_counter() - started


async def cases(
    con: dbmod.Connection, info: DatasetInfo, window: Period
) -> list[tuple[str, MetricScope]]:
    """The two cases: the service with the most incidents in the window, and the fleet."""
    busiest = await con.fetchval(
        "select service_id from incident where service_id is not null "
        "and started_at >= $1 and started_at < $2 "
        "group by service_id order by count(*) desc, service_id limit 1",
        window.start, window.end,
    )  # fmt: skip
    slug = (
        await con.fetchval("select slug from business_service where id = $1", busiest)
        if busiest is not None
        else info.service_slugs[0]
    )
    one = await metrics.resolve_scope(con, service=slug)
    fleet = await metrics.resolve_scope(con)
    one_inc, one_chg = await _in_window(con, one.service_ids[0], window)
    all_inc, all_chg = await _in_window(con, None, window)
    return [
        (f"one service ({slug}: {one_inc:,} incidents, {one_chg:,} production changes in "
         "the window)", one),
        (f"fleet ({len(fleet.service_ids):,} services: {all_inc:,} incidents, {all_chg:,} "
         "production changes in the window)", fleet),
    ]  # fmt: skip


@contextlib.asynccontextmanager
async def _dataset(
    url: str, args: argparse.Namespace, end: dt.datetime
) -> AsyncIterator[tuple[dbmod.Connection, str, DatasetInfo, float]]:
    """The data set in a schema: fresh and dropped afterwards, kept (--keep-schema), or one
    kept earlier (--reuse-schema; its sizes are in the schema's comment)."""
    sizes = _sizes(args, end)
    if args.reuse_schema:
        con = await dbmod.connect(url, args.reuse_schema)
        try:
            text = await con.fetchval(
                "select obj_description(oid, 'pg_namespace') from pg_namespace where nspname = $1",
                args.reuse_schema,
            )
            if text is None:
                raise SystemExit(f"no data set kept in schema {args.reuse_schema!r}")
            kept, info, generated = _info_from(text)
            if kept != sizes:
                raise SystemExit(f"schema {args.reuse_schema!r} holds another data set: {kept}")
            await dbmod.migrate(con, args.reuse_schema)  # any migration added since
            yield con, args.reuse_schema, info, generated
        finally:
            await con.close()
        return

    if args.keep_schema:
        con = await dbmod.connect(url, args.keep_schema)
        try:
            if await con.fetchval(
                "select true from pg_namespace where nspname = $1", args.keep_schema
            ):
                raise SystemExit(f"schema {args.keep_schema!r} exists: reuse or drop it")
            await dbmod.migrate(con, args.keep_schema)
            info, generated = await fill(con, args, end)
            comment = _info_text(info, sizes, generated).replace("'", "''")
            await con.execute(f"comment on schema \"{args.keep_schema}\" is '{comment}'")
            yield con, args.keep_schema, info, generated
        finally:
            await con.close()
        return
    async with fresh_schema(url) as (con, schema):
        info, generated = await fill(con, args, end)
        yield con, schema, info, generated


def _end(args: argparse.Namespace) -> dt.datetime:
    end = dt.datetime.fromisoformat(args.end.replace("Z", "+00:00"))
    return end if end.tzinfo is not None else end.replace(tzinfo=dt.UTC)


async def _bench(url: str, args: argparse.Namespace) -> int:
    end = _end(args)
    async with _dataset(url, args, end) as (con, schema, info, generated):
        window = Period(end - dt.timedelta(days=365), end)
        now = end
        both = await cases(con, info, window)
        print(f"kpi-compute: {info.incidents:,} incidents, {info.changes:,} changes, "
              f"{len(info.service_ids):,} services ({len(info.team_slugs)} teams), "
              f"seed {info.seed}, {os.cpu_count()} cores")  # fmt: skip
        print(f"  data set: {args.days} days to {info.end:%Y-%m-%d %H:%M} UTC; "
              f"{info.open_incidents:,} incidents open, {info.linked_incidents:,} linked to a "
              f"change; {info.production_changes:,} production changes, {info.commits:,} "
              f"commit times; generated and loaded in {generated:.1f} s")  # fmt: skip
        problems: list[str] = []
        for n, (label, scope) in enumerate(both):
            session = await _session(url, schema, args)
            try:
                if n == 0:
                    settings = await session.fetch(
                        "select name, current_setting(name) as value from pg_settings "
                        "where name in ('jit', 'work_mem', 'shared_buffers', 'plan_cache_mode', "
                        "'max_parallel_workers_per_gather') order by name"
                    )
                    server = await session.fetchval("show server_version")
                    shown = ", ".join(f"{r['name']} {r['value']}" for r in settings)
                    print(f"  PostgreSQL {server}: {shown}")
                    print(f"  window: {window.start:%Y-%m-%d} .. {window.end:%Y-%m-%d} (one "
                          f"year, now = its end); each case on a connection of its own; "
                          f"timings are the median of {args.repeat} after a warm-up")  # fmt: skip
                problems += (await case(session, label, scope, window, now, args))[0]
            finally:
                await session.close()
    return report_agreement(problems)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="kpi bench kpi-compute")
    p.add_argument("--services", type=int, default=1000)
    p.add_argument("--incidents", type=int, default=1_000_000)
    p.add_argument("--changes", type=int, default=1_000_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--days", type=int, default=730, help="span of the data set, ending at --end")
    p.add_argument("--end", default="2026-01-01T00:00:00Z", help="the data set's last instant")
    p.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of each query")
    p.add_argument(
        "--plan-cache-mode",
        default="force_custom_plan",
        choices=("auto", "force_custom_plan", "force_generic_plan"),
        help="for both sides; the default plans every execution for its own scope, "
        "'auto' lets Postgres switch to a generic plan after five executions",
    )
    p.add_argument("--no-jit", action="store_true",
                   help="time both sides with jit = off (else the server's setting)")  # fmt: skip
    kept = p.add_mutually_exclusive_group()
    kept.add_argument("--keep-schema", metavar="NAME",
                      help="generate the data set into schema NAME and keep it")  # fmt: skip
    kept.add_argument("--reuse-schema", metavar="NAME",
                      help="time the data set kept in schema NAME (no generation)")  # fmt: skip
    add_scale_options(
        p, "kpi-compute",
        "sizes of the data set instead, the largest the sizes given and each other half the next",
    )  # fmt: skip
    args = p.parse_args(argv)
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    if args.scale is not None and (args.scale < 2 or args.keep_schema or args.reuse_schema):
        p.error("--scale needs at least 2 sizes and generates its own data sets")
    outcome = {"code": 0}

    async def bench(url: str) -> None:
        if args.scale is not None:
            from bench.kpi_compute_scale import sweep

            outcome["code"] = await sweep(url, args, _end(args))
            return
        outcome["code"] = await _bench(url, args)

    run(bench)
    return outcome["code"]
