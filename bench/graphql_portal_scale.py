"""graphql-portal --scale: how the time of a portal page grows with the catalog. The sizes
are --services services and each smaller catalog half the next (each service with its KPIs,
targets, escalation steps and statuses as the plain benchmark seeds them), the page is the
first --page services of each (all of a smaller catalog); each size is seeded in a schema of
its own, both answers are checked to carry the same facts, and sequential requests in rounds
alternating between the servers give p50 and p99. The times go to a CSV file and a chart
beside it (bench.scale).
"""

from __future__ import annotations

import argparse
import contextlib
import time
from pathlib import Path

from bench import graphql_portal as portal
from bench.harness import fresh_schema
from bench.scale import Point, Sweep, halving_sizes, report
from service.models.enums import Scope
from service.usecases.tokens import create_token

SWEEP = Sweep(
    bench="graphql-portal",
    size_column="services",
    size_label="services in the catalog",
    columns=("services", "kpis", "statuses", "page", "page_kpis", "case"),
    baseline="PostGraphile 4",
    service="ours",
    time_label="ms a page",
)


async def sweep(url: str, args: argparse.Namespace) -> int:
    portal.install_postgraphile()
    points: list[Point] = []
    for services in halving_sizes(args.services, args.scale):
        page = min(args.page, services)
        async with fresh_schema(url) as (con, schema):
            t = time.perf_counter()
            seeded = await portal.seed_portal(
                con, services=services, periods_per_kpi=args.periods, seed=args.seed
            )
            token = (await create_token(con, name="portal", scopes=[Scope.READ])).token
            loaded = time.perf_counter() - t
            ours, theirs = portal.page_sides(token, page)
            async with contextlib.AsyncExitStack() as stack:
                await portal.start_servers(stack, url, schema, args.workers, ours, theirs)
                mine = portal.ours_projected((await portal.answer(ours))[0])
                diff = portal.first_difference(
                    mine, portal.postgraphile_projected((await portal.answer(theirs))[0])
                )
                if diff is not None:
                    print(f"graphql-portal --scale: {services:,} services: same facts: NO\n{diff}")
                    return 1
                for side in (ours, theirs):
                    await portal.sequential(side, args.warmup)
                    side.latencies.clear()
                for _ in range(args.rounds):
                    for side in (ours, theirs):
                        await portal.sequential(side, max(1, args.requests // args.rounds))
        page_kpis = sum(len(s[4]) for s in mine)
        details = {"kpis": seeded.kpis, "statuses": seeded.statuses, "page": page,
                   "page_kpis": page_kpis}  # fmt: skip
        for case, q in (("p50", 0.5), ("p99", 0.99)):
            points.append(Point(
                services, case, portal.percentile(ours.latencies, q) * 1000,
                portal.percentile(theirs.latencies, q) * 1000, details,
            ))  # fmt: skip
        print(f"graphql-portal --scale: {services:,} services, {seeded.kpis:,} KPIs, "
              f"{seeded.statuses:,} statuses (loaded in {loaded:.1f} s), page of {page} with "
              f"{page_kpis} KPI nodes: same facts: yes; p50 ours {points[-2].service_ms:,.1f} "
              f"ms, PostGraphile {points[-2].baseline_ms:,.1f} ms")  # fmt: skip
    report(SWEEP, points, Path(args.scale_out))
    return 0
