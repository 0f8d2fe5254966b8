"""ingest-bulk --scale: how the time of the HTTP paths and of raw COPY grows with the points
sent. The sizes are --batches batches of --batch-size points and each smaller one half the
batches of the next; one `kpi serve` takes every size in turn, and each size is timed and
checked as the plain benchmark does (bench.ingest_bulk.measure). The times go to a CSV file
and a chart beside it (bench.scale).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bench import ingest_bulk
from bench.scale import Point, Sweep, halving_sizes, report

SWEEP = Sweep(
    bench="ingest-bulk",
    size_column="points",
    size_label="points sent (5% duplicates)",
    columns=("points", "distinct_points", "batches", "batch_size", "case"),
    baseline="raw asyncpg COPY",
    time_label="ms (fastest run)",
)
CASES = {"HTTP JSON batches": "JSON batches", "HTTP NDJSON stream": "NDJSON stream"}


async def sweep(url: str, args: argparse.Namespace) -> int:
    points: list[Point] = []
    async with ingest_bulk.ready_server(url, args) as (con, base, token):
        for batches in halving_sizes(args.batches, args.scale):
            sized = argparse.Namespace(**{**vars(args), "batches": batches})
            measured = await ingest_bulk.measure(con, base, token, sized)
            total = batches * args.batch_size
            copy_ms = measured.copy_s * 1000
            print(f"ingest-bulk --scale: {total:,} points ({len(measured.rows):,} distinct): "
                  f"raw COPY {copy_ms:,.0f} ms, " + ", ".join(
                      f"{CASES[name]} {t.seconds * 1000:,.0f} ms"
                      for name, t in measured.results.items()))  # fmt: skip
            for name, timing in measured.results.items():
                points.append(Point(
                    total, CASES[name], timing.seconds * 1000, copy_ms,
                    {"distinct_points": len(measured.rows), "batches": batches,
                     "batch_size": args.batch_size},
                ))  # fmt: skip
    report(SWEEP, points, Path(args.scale_out))
    print("same rows: yes (every run left exactly the distinct rows, each with its last value)")
    return 0
