"""ingest-bulk: observation points per second through the HTTP API (5,000-point JSON batches,
and one NDJSON stream) against a raw asyncpg COPY of the same rows into the same table,
measured in the same run on the same database.

    kpi bench ingest-bulk [--batches 20] [--batch-size 5000] [--workers 2]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from collections.abc import AsyncIterator

import httpx
import orjson

from service import db as dbmod
from service.auth import create_token
from service.bench.harness import fresh_schema, run, running_server
from service.models.catalog import KpiIn, ServiceIn
from service.models.enums import Aggregation, Direction, Scope
from service.store import catalog

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _points(n: int, offset: int) -> list[dict[str, object]]:
    """n distinct points, a minute apart, alternating between two services."""
    return [
        {
            "kpi": "bench_latency",
            "service": "svc-a" if i % 2 else "svc-b",
            "ts": (START + dt.timedelta(minutes=offset + i)).isoformat(),
            "value": float(i % 1000) / 10,
        }
        for i in range(n)
    ]


async def _prepare(con: dbmod.Connection) -> str:
    for slug in ("svc-a", "svc-b"):
        await catalog.create_service(con, service=ServiceIn(slug=slug, name=slug, tier=2))
    await catalog.create_kpi(
        con,
        kpi=KpiIn(key="bench_latency", name="Bench latency", unit="ms",
                  direction=Direction.LOWER_IS_BETTER, aggregation=Aggregation.AVG),
    )  # fmt: skip
    return (await create_token(con, name="bench", scopes=[Scope.INGEST])).token


async def _http_batches(base: str, token: str, batches: list[bytes]) -> float:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    async with httpx.AsyncClient(timeout=120) as client:
        started = time.perf_counter()
        for body in batches:
            r = await client.post(f"{base}/v1/observations", content=body, headers=headers)
            r.raise_for_status()
        return time.perf_counter() - started


async def _http_ndjson(base: str, token: str, points: list[dict[str, object]]) -> float:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"}

    async def lines() -> AsyncIterator[bytes]:
        for i in range(0, len(points), 1000):
            yield b"".join(orjson.dumps(p) + b"\n" for p in points[i : i + 1000])

    async with httpx.AsyncClient(timeout=300) as client:
        started = time.perf_counter()
        r = await client.post(f"{base}/v1/observations", content=lines(), headers=headers)
        r.raise_for_status()
        return time.perf_counter() - started


async def _copy_baseline(con: dbmod.Connection, points: list[dict[str, object]]) -> float:
    ids = dict(await con.fetch("select slug, id from business_service"))
    kpi_id = await con.fetchval("select id from kpi where key = 'bench_latency'")
    records: list[tuple[object, ...]] = [
        (kpi_id, ids[p["service"]], dt.datetime.fromisoformat(str(p["ts"])), p["value"], {})
        for p in points
    ]
    started = time.perf_counter()
    await con.copy_records_to_table(
        "observation", records=records,
        columns=("kpi_id", "service_id", "ts", "value", "dimensions"),
    )  # fmt: skip
    return time.perf_counter() - started


async def _bench(url: str, args: argparse.Namespace) -> None:
    async with fresh_schema(url) as (con, schema):
        token = await _prepare(con)
        total = args.batches * args.batch_size
        points = _points(total, 0)
        # Partitions exist before any timing, so neither side pays for creating them.
        await con.execute(
            "select ensure_observation_partitions($1)",
            [START, START + dt.timedelta(minutes=total)],
        )
        batches = [
            orjson.dumps(points[i : i + args.batch_size]) for i in range(0, total, args.batch_size)
        ]
        async with running_server(url, schema, args.workers) as base:
            await _http_batches(base, token, batches[:1])  # warm-up: connections, plans
            await con.execute("truncate observation, observation_revision")
            results = {}
            http_s = await _http_batches(base, token, batches)
            results["HTTP JSON batches"] = total / http_s
            await con.execute("truncate observation, observation_revision")
            ndjson_s = await _http_ndjson(base, token, points)
            results["HTTP NDJSON stream"] = total / ndjson_s
        await con.execute("truncate observation, observation_revision")
        copy_s = await _copy_baseline(con, points)
        baseline = total / copy_s
        stored = await con.fetchval("select count(*) from observation")
        assert stored == total, stored

    print(f"ingest-bulk: {total} points, batches of {args.batch_size}, "
          f"{args.workers} server workers, {os.cpu_count()} cores")  # fmt: skip
    print(f"  baseline raw asyncpg COPY: {baseline:>10,.0f} points/s")
    for name, rate in results.items():
        print(f"  {name:<25}: {rate:>10,.0f} points/s  ratio {rate / baseline:.2f}")


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="kpi bench ingest-bulk")
    p.add_argument("--batches", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=5000)
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args(argv)
    return run(lambda url: _bench(url, args))
