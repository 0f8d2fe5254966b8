"""memory: resident memory of a server worker while it ingests one long NDJSON stream, against
the same worker idle (after start-up and a warm-up request, before the stream).

    kpi bench memory [--points 5000000] [--workers 1] [--samples 10]

The stream is generated as it is sent (never held whole by the client). RSS is read from
/proc/<pid>/status of every worker every 0.2 s; the report gives the RSS of the worker that
grew most each time another tenth of the stream has been sent, its largest growth over the
idle figure, and its growth over the second half of the stream (flat means close to zero).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import httpx
import orjson

from bench.harness import fresh_schema, run, running_server
from bench.ingest_bulk import KPI, START, _prepare
from bench.load import rss_kib, server_processes
from service.models.enums import Scope

#: Points per piece of the body as the client sends it.
PIECE_POINTS = 2_000


def _point(n: int) -> bytes:
    service = "svc-a" if n % 2 else "svc-b"
    ts = (START + dt.timedelta(minutes=n)).isoformat()
    return orjson.dumps({"kpi": KPI, "service": service, "ts": ts, "value": n % 1000 / 10})


def stream_pieces(points: int, progress: list[int]) -> Iterator[bytes]:
    """The NDJSON body, a piece at a time: points a minute apart over two services.
    `progress[0]` counts the points handed out so far."""
    for first in range(0, points, PIECE_POINTS):
        lines = [_point(n) for n in range(first, min(first + PIECE_POINTS, points))]
        progress[0] += len(lines)
        yield b"\n".join(lines) + b"\n"


@dataclass
class Sampler:
    """RSS of each worker over time, tagged with how much of the stream had been sent."""

    workers: list[int]
    samples: list[tuple[float, int, dict[int, int]]] = field(default_factory=list)

    def take(self, elapsed: float, sent: int) -> None:
        rss = {pid: rss_kib(pid) for pid in self.workers}
        self.samples.append((elapsed, sent, {p: v for p, v in rss.items() if v is not None}))


async def _sample_until(sampler: Sampler, done: asyncio.Event, progress: list[int]) -> None:
    started = time.perf_counter()
    while not done.is_set():
        sampler.take(time.perf_counter() - started, progress[0])
        try:
            await asyncio.wait_for(done.wait(), 0.2)
        except TimeoutError:
            pass
    sampler.take(time.perf_counter() - started, progress[0])


async def _send(base: str, token: str, points: int, progress: list[int]) -> dict[str, int]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"}

    async def body() -> AsyncIterator[bytes]:
        for piece in stream_pieces(points, progress):
            yield piece
            await asyncio.sleep(0)  # let the sampler run

    async with httpx.AsyncClient(timeout=3600) as client:
        r = await client.post(f"{base}/v1/observations", content=body(), headers=headers)
        r.raise_for_status()
        result: dict[str, int] = r.json()
        return result


def _mib(kib: float) -> str:
    return f"{kib / 1024:.1f} MiB"


def report(sampler: Sampler, idle: dict[int, int], points: int, tenths: int) -> list[str]:
    """The lines printed: samples every 1/tenths of the stream, max growth, late growth."""
    grew = {pid: max(s[2].get(pid, 0) for s in sampler.samples) - idle[pid] for pid in idle}
    pid = max(grew, key=lambda p: grew[p])
    series = [(t, sent, rss[pid]) for t, sent, rss in sampler.samples if pid in rss]
    lines = [f"  worker pid {pid}: idle {_mib(idle[pid])}"]
    marks = [points * k // tenths for k in range(1, tenths + 1)]
    for mark in marks:
        t, sent, rss = next((s for s in series if s[1] >= mark), series[-1])
        where = f"{sent * 100 // max(points, 1):>3}% sent ({sent:>9,} points, {t:6.1f} s)"
        lines.append(f"  {where}: {_mib(rss):>10}  growth {_mib(rss - idle[pid]):>9}")
    t, _, rss = series[-1]
    where = f"answered ({t:6.1f} s)"
    lines.append(f"  {where:<40}: {_mib(rss):>10}  growth {_mib(rss - idle[pid]):>9}")
    half = [s for s in series if s[1] >= points // 2]
    late = max(s[2] for s in half) - half[0][2] if half else 0
    lines.append(f"  max growth over idle: {_mib(grew[pid])} (goal: under 100 MiB)")
    lines.append(f"  growth over the second half of the stream: {_mib(late)} (flat: about 0)")
    return lines


async def _bench(url: str, args: argparse.Namespace) -> None:
    async with fresh_schema(url) as (con, schema):
        # Millions of points a minute apart reach years past the window of ingest tokens: a
        # backfill, sent with an admin token.
        token = await _prepare(con, Scope.ADMIN)
        await con.execute(
            "select ensure_observation_partitions($1, '-infinity', 'infinity')",
            [START, START + dt.timedelta(minutes=args.points)],
        )
        async with running_server(url, schema, args.workers) as base:
            master, workers = server_processes(int(base.rsplit(":", 1)[1]))
            pids = workers or ([master] if master is not None else [])
            if not pids:
                raise SystemExit("memory: no /proc here to read the workers' RSS from")
            # Warm-up: a small stream per worker, so that the idle figure is a warm worker.
            for _ in range(2 * len(pids)):
                await _send(base, token, 2 * PIECE_POINTS, [0])
            await asyncio.sleep(0.5)
            idle = {pid: rss_kib(pid) or 0 for pid in pids}
            sampler, done, progress = Sampler(pids), asyncio.Event(), [0]
            sampling = asyncio.create_task(_sample_until(sampler, done, progress))
            started = time.perf_counter()
            try:
                result = await _send(base, token, args.points, progress)
            finally:
                done.set()
                await sampling
            seconds = time.perf_counter() - started
        stored = await con.fetchval("select count(*) from observation")
    if stored != args.points or result["points"] != args.points:
        raise SystemExit(f"memory: stored {stored}, answered {result}; sent {args.points}")
    print(f"memory: one NDJSON stream of {args.points:,} points, {args.workers} server "
          f"workers, {os.cpu_count()} cores; {seconds:.1f} s, "
          f"{args.points / seconds:,.0f} points/s")  # fmt: skip
    for line in report(sampler, idle, args.points, args.samples):
        print(line)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="kpi bench memory")
    p.add_argument("--points", type=int, default=5_000_000)
    p.add_argument("--workers", type=int, default=1, help="server worker processes")
    p.add_argument("--samples", type=int, default=10, help="report points along the stream")
    args = p.parse_args(argv)
    return run(lambda url: _bench(url, args))
