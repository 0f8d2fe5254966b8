"""ingest-bulk: observation points per second through the HTTP API (5,000-point JSON batches
sent by concurrent clients, and one NDJSON stream) against a raw asyncpg COPY of the same
distinct rows into the same table, measured in the same run on the same database.

    kpi bench ingest-bulk [--batches 20] [--batch-size 5000] [--workers 2] [--clients 2]
                          [--duplicate-every 20] [--repeat 3]
                          [--scale N [--scale-out FILE]]

Every `--duplicate-every`-th point of a batch repeats the key of an earlier point of the same
batch with another value: the server drops the earlier one (the last duplicate wins), and the
baseline copies only the rows that remain. Bodies are serialised before the clock starts, and
the CPU the sending process uses is reported, so the client is seen not to be the bottleneck.
The three are run side by side `--repeat` times and the fastest run of each is reported (the
machine may be shared); every run is checked against the distinct rows.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import orjson

from bench.harness import fresh_schema, run, running_server
from bench.scale import add_scale_options
from service import db as dbmod
from service.models.catalog import KpiIn, ServiceIn
from service.models.enums import Aggregation, Direction, Scope
from service.usecases import catalog
from service.usecases.tokens import create_token

#: The first point's instant: midnight 80 days before the run, so that the default 100,000
#: points a minute apart stay inside the window ingest tokens may write in (90 days back).
START = dt.datetime.combine(dt.date.today() - dt.timedelta(days=80), dt.time(), dt.UTC)
#: The most points a minute apart from START that stay before tomorrow's end (ingest tokens
#: may write a day ahead): 81 days of minutes.
MOST_POINTS = 81 * 24 * 60
KPI = "bench_latency"
SERVICES = ("svc-a", "svc-b")
#: Bytes per piece of the NDJSON body as the client sends it.
NDJSON_PIECE = 64 * 1024


def batch_points(batch: int, size: int, duplicate_every: int) -> list[dict[str, object]]:
    """One batch: points a minute apart over two services; every `duplicate_every`-th point
    (0: none) repeats the key of the point half a period before it, with another value."""
    out: list[dict[str, object]] = []
    for j in range(size):
        n = batch * size + j
        value = float(n % 1000) / 10
        if duplicate_every and j % duplicate_every == duplicate_every - 1:
            n -= duplicate_every // 2
            value += 0.5
        out.append({
            "kpi": KPI,
            "service": SERVICES[n % 2],
            "ts": (START + dt.timedelta(minutes=n)).isoformat(),
            "value": value,
        })  # fmt: skip
    return out


def all_points(args: argparse.Namespace) -> Iterator[dict[str, object]]:
    for b in range(args.batches):
        yield from batch_points(b, args.batch_size, args.duplicate_every)


def distinct_rows(points: Iterator[dict[str, object]]) -> dict[tuple[str, str], float]:
    """(service, ts) -> value of the last point with that key: what the store must hold."""
    rows: dict[tuple[str, str], float] = {}
    for p in points:
        rows[(str(p["service"]), str(p["ts"]))] = float(p["value"])  # type: ignore[arg-type]
    return rows


def ndjson_pieces(points: Iterator[dict[str, object]], piece: int = NDJSON_PIECE) -> list[bytes]:
    out: list[bytes] = []
    pending: list[bytes] = []
    size = 0
    for p in points:
        line = orjson.dumps(p) + b"\n"
        pending.append(line)
        size += len(line)
        if size >= piece:
            out.append(b"".join(pending))
            pending, size = [], 0
    if pending:
        out.append(b"".join(pending))
    return out


async def _prepare(con: dbmod.Connection, scope: Scope = Scope.INGEST) -> str:
    for slug in SERVICES:
        await catalog.create_service(con, service=ServiceIn(slug=slug, name=slug, tier=2))
    await catalog.create_kpi(
        con,
        kpi=KpiIn(key=KPI, name="Bench latency", unit="ms",
                  direction=Direction.LOWER_IS_BETTER, aggregation=Aggregation.AVG),
    )  # fmt: skip
    return (await create_token(con, name="bench", scopes=[scope])).token


@dataclass
class Timing:
    seconds: float
    client_cpu: float  # CPU seconds the sending process used
    points: int  # the server's count of distinct points received

    def cores(self) -> float:
        return self.client_cpu / self.seconds


async def http_batches(base: str, token: str, batches: list[bytes], clients: int) -> Timing:
    """Every batch, sent by `clients` concurrent senders each taking the next one unsent."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    queue = iter(batches)
    received = 0
    # A connection per request: a kept-alive one stays with the worker that accepted it, and
    # both could land on one worker; a new one is accepted by a worker that is free.
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=0)

    async def sender(client: httpx.AsyncClient) -> None:
        nonlocal received
        for body in queue:
            r = await client.post(f"{base}/v1/observations", content=body, headers=headers)
            r.raise_for_status()
            received += r.json()["points"]

    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        cpu, started = time.process_time(), time.perf_counter()
        await asyncio.gather(*(sender(client) for _ in range(clients)))
        return Timing(time.perf_counter() - started, time.process_time() - cpu, received)


async def http_ndjson(base: str, token: str, pieces: list[bytes]) -> Timing:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"}

    async def body() -> AsyncIterator[bytes]:
        for piece in pieces:
            yield piece

    async with httpx.AsyncClient(timeout=600) as client:
        cpu, started = time.process_time(), time.perf_counter()
        r = await client.post(f"{base}/v1/observations", content=body(), headers=headers)
        r.raise_for_status()
        return Timing(time.perf_counter() - started, time.process_time() - cpu, r.json()["points"])


async def copy_baseline(con: dbmod.Connection, rows: dict[tuple[str, str], float]) -> float:
    ids = dict(await con.fetch("select slug, id from business_service"))
    kpi_id = await con.fetchval("select id from kpi where key = $1", KPI)
    records: list[tuple[object, ...]] = [
        (kpi_id, ids[service], dt.datetime.fromisoformat(ts), value, {})
        for (service, ts), value in rows.items()
    ]
    started = time.perf_counter()
    await con.copy_records_to_table(
        "observation", records=records,
        columns=("kpi_id", "service_id", "ts", "value", "dimensions"),
    )  # fmt: skip
    return time.perf_counter() - started


async def check_stored(con: dbmod.Connection, rows: dict[tuple[str, str], float]) -> None:
    """The table holds exactly the distinct rows, each with its last value."""
    count, total = await con.fetchrow("select count(*), sum(value) from observation")
    expected = sum(rows.values())
    if count != len(rows) or abs(total - expected) > 1e-6 * max(1.0, abs(expected)):
        raise SystemExit(
            f"stored {count} rows summing to {total}; expected {len(rows)}, {expected}"
        )


@dataclass
class Measured:
    """The fastest run of each path over `--repeat` rounds, every run checked."""

    rows: dict[tuple[str, str], float]  # the distinct rows
    results: dict[str, Timing]  # the HTTP paths
    copy_s: float  # raw COPY


async def measure(
    con: dbmod.Connection, base: str, token: str, args: argparse.Namespace
) -> Measured:
    """`--batches` batches of `--batch-size` points through both HTTP paths and raw COPY,
    side by side `--repeat` times, the table emptied before and checked after each run."""
    rows = distinct_rows(all_points(args))
    batches = [
        orjson.dumps(batch_points(b, args.batch_size, args.duplicate_every))
        for b in range(args.batches)
    ]
    pieces = ndjson_pieces(all_points(args))
    results: dict[str, Timing] = {}
    copies: list[float] = []

    def keep(name: str, timing: Timing) -> None:
        if name not in results or timing.seconds < results[name].seconds:
            results[name] = timing

    # Warm-up: every worker's connections and statements.
    await http_batches(base, token, batches[:1] * 2 * args.workers, 2 * args.workers)
    await http_ndjson(base, token, pieces[:1])
    # Rounds of the three side by side; the fastest run of each counts.
    for _ in range(args.repeat):
        await con.execute("truncate observation, observation_revision")
        keep("HTTP JSON batches", await http_batches(base, token, batches, args.clients))
        await check_stored(con, rows)
        await con.execute("truncate observation, observation_revision")
        keep("HTTP NDJSON stream", await http_ndjson(base, token, pieces))
        await check_stored(con, rows)
        await con.execute("truncate observation, observation_revision")
        copies.append(await copy_baseline(con, rows))
        await check_stored(con, rows)
    for name, timing in results.items():
        if timing.points != len(rows):
            raise SystemExit(f"{name}: the server counted {timing.points} distinct points")
    return Measured(rows, results, min(copies))


@contextlib.asynccontextmanager
async def ready_server(
    url: str, args: argparse.Namespace
) -> AsyncIterator[tuple[dbmod.Connection, str, str]]:
    """A fresh schema with the services, the KPI and the monthly partitions of `--batches`
    batches (so no run pays for creating them), `kpi serve` on it and an ingest token."""
    async with fresh_schema(url) as (con, schema):
        token = await _prepare(con)
        days = args.batches * args.batch_size // (24 * 60) + 1
        await con.execute(
            "select ensure_observation_partitions($1, '-infinity', 'infinity')",
            [START + dt.timedelta(days=d) for d in range(days + 1)],  # every month it spans
        )
        async with running_server(url, schema, args.workers) as base:
            yield con, base, token


async def _bench(url: str, args: argparse.Namespace) -> None:
    total = args.batches * args.batch_size
    async with ready_server(url, args) as (con, base, token):
        measured = await measure(con, base, token, args)
    rows, results = measured.rows, measured.results
    copy_s = measured.copy_s
    baseline = len(rows) / copy_s

    print(f"ingest-bulk: {total} points ({len(rows)} distinct, {total - len(rows)} duplicates "
          f"dropped), batches of {args.batch_size}, {args.clients} concurrent clients, "
          f"{args.workers} server workers, {os.cpu_count()} cores")  # fmt: skip
    print(f"  baseline raw asyncpg COPY: {baseline:>10,.0f} points/s "
          f"({len(rows)} distinct rows in {copy_s:.2f} s)")  # fmt: skip
    for name, t in results.items():
        rate = len(rows) / t.seconds
        print(f"  {name:<25}: {rate:>10,.0f} points/s  ratio {rate / baseline:.2f}  "
              f"({t.seconds:.2f} s; client CPU {t.cores():.2f} cores)")  # fmt: skip
    print(f"  load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="kpi bench ingest-bulk")
    p.add_argument("--batches", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=5000)
    p.add_argument("--workers", type=int, default=2, help="server worker processes")
    p.add_argument("--clients", type=int, default=2, help="concurrent JSON batch senders")
    p.add_argument("--repeat", type=int, default=3, help="rounds; the best of each counts")
    p.add_argument(
        "--duplicate-every", type=int, default=20,
        help="every N-th point of a batch repeats an earlier key (0: no duplicates)",
    )  # fmt: skip
    add_scale_options(
        p, "ingest-bulk",
        "sizes instead, the largest --batches batches and each other half the batches of the next",
    )  # fmt: skip
    args = p.parse_args(argv)
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    if args.batches * args.batch_size > MOST_POINTS:
        p.error(f"at most {MOST_POINTS:,} points (a minute apart, inside the ingest window)")
    if args.scale is not None and (args.scale < 2 or args.batches >> (args.scale - 1) < 1):
        p.error("--scale needs at least 2 sizes and --batches of at least 2^(N-1)")
    if args.scale is None:
        return run(lambda url: _bench(url, args))
    from bench.ingest_bulk_scale import sweep

    outcome = {"code": 0}

    async def scaled(url: str) -> None:
        outcome["code"] = await sweep(url, args)

    run(scaled)
    return outcome["code"]
