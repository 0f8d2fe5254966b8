"""kpi-compute --scale: how the time of both sides grows with the data set. The data set is
generated at several sizes (the largest is --incidents and --changes, each smaller one half
the next, over --services services), each case is timed on each, and the times go to a CSV
file and a chart (PNG, drawn with matplotlib: `pip install -e '.[bench]'`) beside it.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import datetime as dt
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import kpi_compute
from bench.harness import fresh_schema, report_agreement
from service import db as dbmod
from service.kpi.periods import Period

#: The columns of the CSV file, one row per size and case.
COLUMNS = ("incidents", "changes", "services", "case", "incidents_in_window",
           "service_ms", "baseline_ms", "ratio")  # fmt: skip


@dataclass(frozen=True)
class Point:
    """The median times of one case at one size of the data set."""

    incidents: int
    changes: int
    services: int
    case: str  # "one service" or "fleet"
    incidents_in_window: int
    service_ms: float
    baseline_ms: float

    @property
    def ratio(self) -> float:
        return self.service_ms / self.baseline_ms


def sweep_sizes(incidents: int, changes: int, steps: int) -> list[tuple[int, int]]:
    """`steps` sizes, the largest (incidents, changes) as given and each other half the next,
    smallest first: 5 steps span a factor of 16."""
    if steps < 2:
        raise ValueError("a sweep needs at least two sizes")
    return [(incidents >> k, changes >> k) for k in range(steps - 1, -1, -1)]


def write_csv(points: Sequence[Point], path: Path) -> None:
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(COLUMNS)
        for p in points:
            row = dataclasses.asdict(p)
            out.writerow([*(row[c] for c in COLUMNS[:-3]), f"{p.service_ms:.2f}",
                          f"{p.baseline_ms:.2f}", f"{p.ratio:.3f}"])  # fmt: skip


def growth(points: Sequence[Point], case: str, side: str) -> float:
    """The exponent k of time ~ size^k between the smallest and the largest size of a case
    (1: linear), from the side's ("service" or "baseline") times."""
    mine = sorted((p for p in points if p.case == case), key=lambda p: p.incidents)
    first, last = mine[0], mine[-1]
    ms = f"{side}_ms"
    return math.log(getattr(last, ms) / getattr(first, ms)) / math.log(
        last.incidents / first.incidents
    )


def write_chart(points: Sequence[Point], path: Path) -> None:
    """Time against size, both axes logarithmic, one panel per case, both sides in each."""
    import matplotlib

    matplotlib.use("Agg")  # no display: a file only
    import matplotlib.pyplot as plt

    cases = list(dict.fromkeys(p.case for p in points))
    fig, axes = plt.subplots(1, len(cases), figsize=(5.5 * len(cases), 4.2), squeeze=False)
    for ax, case in zip(axes[0], cases, strict=True):
        mine = sorted((p for p in points if p.case == case), key=lambda p: p.incidents)
        sizes = [p.incidents for p in mine]
        ax.plot(sizes, [p.service_ms for p in mine], "o-", label="service")
        ax.plot(sizes, [p.baseline_ms for p in mine], "s--", label="hand-written SQL")
        ax.set_xscale("log", base=2)
        ax.set_xticks(sizes, [f"{n:,}" for n in sizes], rotation=20)
        ax.minorticks_off()
        ax.set_yscale("log")
        ax.set_title(f"kpi-compute, {case}, one year")
        ax.set_xlabel("incidents in the data set (changes alike)")
        ax.set_ylabel("ms (median)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


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
                    incidents, changes, args.services,
                    "one service" if scope.kind == "service" else "fleet", in_window,
                    statistics.median(t.ours) * 1000, statistics.median(t.baseline) * 1000,
                ))  # fmt: skip
    out = Path(args.scale_out)
    write_csv(points, out)
    print(f"kpi-compute --scale: times in {out}")
    for case in dict.fromkeys(p.case for p in points):
        print(f"  {case}: time ~ size^{growth(points, case, 'service'):.2f} (service), "
              f"size^{growth(points, case, 'baseline'):.2f} (hand-written SQL)")  # fmt: skip
    try:
        write_chart(points, out.with_suffix(".png"))
        print(f"  chart in {out.with_suffix('.png')}")
    except ImportError:
        print("  no chart: matplotlib is not installed (pip install -e '.[bench]')")
    return report_agreement(problems)
