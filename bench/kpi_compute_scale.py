"""kpi-compute --scale: how the time of both sides grows with the data set. The data set is
generated at several sizes (the largest is --incidents and --changes, each smaller one half
the next, over --services services), each case is timed on each, and the times go to a CSV
file and a chart beside it (bench.scale).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
from pathlib import Path

from bench import kpi_compute
from bench.harness import fresh_schema, report_agreement
from bench.scale import Point, Sweep, halving_sizes, report
from service import db as dbmod
from service.kpi.periods import Period

SWEEP = Sweep(
    bench="kpi-compute",
    size_column="incidents",
    size_label="incidents in the data set (changes alike)",
    columns=("incidents", "changes", "services", "case", "incidents_in_window"),
    baseline="hand-written SQL",
)


def sweep_sizes(incidents: int, changes: int, steps: int) -> list[tuple[int, int]]:
    """`steps` sizes, the largest (incidents, changes) as given and each other half the next,
    smallest first: 5 steps span a factor of 16."""
    return list(zip(halving_sizes(incidents, steps), halving_sizes(changes, steps), strict=True))


async def sweep(url: str, args: argparse.Namespace, end: dt.datetime) -> int:
    """Generates each size in a schema of its own (dropped afterwards), times both cases on
    it and writes the CSV and the chart; 1 if the two sides disagree anywhere."""
    points: list[Point] = []
    problems: list[str] = []
    window = Period(end - dt.timedelta(days=365), end)
    for incidents, changes in sweep_sizes(args.incidents, args.changes, args.scale):
        sized = argparse.Namespace(**{**vars(args), "incidents": incidents, "changes": changes})
        async with fresh_schema(url) as (con, schema):
            info, generated = await kpi_compute.fill(con, sized, end)
            print(f"kpi-compute --scale: {incidents:,} incidents, {changes:,} changes, "
                  f"{args.services:,} services (generated in {generated:.1f} s)")  # fmt: skip
            for label, scope in await kpi_compute.cases(con, info, window):
                session = await dbmod.connect(url, schema)
                try:
                    await session.execute(f"set plan_cache_mode = {args.plan_cache_mode}")
                    found, t = await kpi_compute.case(session, label, scope, window, end, sized)
                finally:
                    await session.close()
                problems += found
                in_window = await con.fetchval(
                    "select count(*) from incident where service_id = any($1::bigint[]) "
                    "and started_at >= $2 and started_at < $3",
                    list(scope.service_ids), window.start, window.end,
                )  # fmt: skip
                points.append(Point(
                    incidents, "one service" if scope.kind == "service" else "fleet",
                    statistics.median(t.ours) * 1000, statistics.median(t.baseline) * 1000,
                    {"changes": changes, "services": args.services,
                     "incidents_in_window": in_window},
                ))  # fmt: skip
    report(SWEEP, points, Path(args.scale_out))
    return report_agreement(problems)
