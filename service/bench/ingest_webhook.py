"""ingest-webhook: signed PagerDuty v3 deliveries per second through POST /v1/webhooks/{source}
(signature verified, delivery logged, deduplicated, mapped and applied), closed-loop with N
concurrent senders, then at a fixed rate for p50/p99 latency.

    kpi bench ingest-webhook [--requests 3000] [--concurrency 16] [--rate 200] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import os
import socket
import statistics
import time

import httpx
import orjson

from service.bench.harness import fresh_schema, run, running_server
from service.models.catalog import ServiceIn
from service.models.sources import ServiceRule, SourceIn, SourceKind
from service.store import catalog, sources

SECRET = "bench-secret"
STEPS = ("incident.triggered", "incident.acknowledged", "incident.resolved")


def _delivery(n: int) -> tuple[bytes, dict[str, str]]:
    """The n-th delivery: incidents of 3 steps each, distinct event ids, signed."""
    incident, step = divmod(n, len(STEPS))
    body = orjson.dumps({"event": {
        "id": f"EV{n:09d}", "event_type": STEPS[step], "resource_type": "incident",
        "occurred_at": f"2026-01-01T{(incident // 3600) % 24:02d}:{(incident // 60) % 60:02d}:"
                       f"{incident % 60:02d}.{step:03d}Z",
        "data": {"id": f"INC{incident:08d}", "type": "incident", "title": f"Bench {incident}",
                 "html_url": f"https://example.pagerduty.com/incidents/INC{incident:08d}",
                 "status": STEPS[step].split(".")[1], "urgency": "high",
                 "service": {"id": "PSVC", "summary": "bench-svc", "type": "service_reference"}},
    }})  # fmt: skip
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "X-PagerDuty-Signature": f"v1={signature}"}


async def _closed_loop(url: str, first: int, count: int, concurrency: int) -> list[float]:
    latencies: list[float] = []
    next_n = first

    async def sender(client: httpx.AsyncClient) -> None:
        nonlocal next_n
        while next_n < first + count:
            n = next_n
            next_n += 1
            body, headers = _delivery(n)
            started = time.perf_counter()
            r = await client.post(url, content=body, headers=headers)
            latencies.append(time.perf_counter() - started)
            if r.status_code != 200:
                raise RuntimeError(f"delivery {n}: {r.status_code} {r.text}")

    async with _client(concurrency) as client:
        await asyncio.gather(*(sender(client) for _ in range(concurrency)))
    return latencies


async def _fixed_rate(url: str, first: int, rate: int, seconds: float) -> list[float]:
    latencies: list[float] = []
    total = int(rate * seconds)

    async def one(client: httpx.AsyncClient, n: int) -> None:
        body, headers = _delivery(n)
        started = time.perf_counter()
        r = await client.post(url, content=body, headers=headers)
        latencies.append(time.perf_counter() - started)
        r.raise_for_status()

    async with _client(200) as client:
        tasks = []
        start = time.perf_counter()
        for i in range(total):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(client, first + i)))
        await asyncio.gather(*tasks)
    return latencies


def _client(connections: int) -> httpx.AsyncClient:
    # Headers and body go out in two writes; without TCP_NODELAY, Nagle holds the body back
    # for the server's delayed ACK (~40 ms) on a reused connection: a client artefact.
    transport = httpx.AsyncHTTPTransport(
        limits=httpx.Limits(max_connections=connections),
        socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
    )
    return httpx.AsyncClient(timeout=30, transport=transport)


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


async def _bench(url: str, args: argparse.Namespace) -> None:
    async with fresh_schema(url) as (con, schema):
        await catalog.create_service(con, service=ServiceIn(slug="bench-svc", name="Bench", tier=1))
        await sources.create_source(con, source=SourceIn(
            name="pd", kind=SourceKind.PAGERDUTY, secret=SECRET,
            service_rules=[ServiceRule(match={"ref": "bench-svc"}, service="bench-svc")],
        ))  # fmt: skip
        async with running_server(url, schema, args.workers) as base:
            target = f"{base}/v1/webhooks/pd"
            await _closed_loop(target, 10**8, 200, 8)  # warm-up, other ids
            started = time.perf_counter()
            closed = await _closed_loop(target, 0, args.requests, args.concurrency)
            elapsed = time.perf_counter() - started
            fixed = await _fixed_rate(target, args.requests, args.rate, args.seconds)
        deliveries = await con.fetchval("select count(*) from delivery where status = 'applied'")
        incidents = await con.fetchval("select count(*) from incident")

    print(f"ingest-webhook: {args.workers} server workers, {os.cpu_count()} cores, "
          f"signature verification on")  # fmt: skip
    print(f"  closed loop, {args.concurrency} senders: {args.requests / elapsed:,.0f} req/s, "
          f"p50 {_pct(closed, 0.5):.1f} ms, p99 {_pct(closed, 0.99):.1f} ms")  # fmt: skip
    print(f"  fixed rate {args.rate} req/s for {args.seconds:g} s: "
          f"p50 {_pct(fixed, 0.5):.1f} ms, p99 {_pct(fixed, 0.99):.1f} ms, "
          f"mean {statistics.fmean(fixed) * 1000:.1f} ms")  # fmt: skip
    print(f"  stored: {deliveries} applied deliveries, {incidents} incidents")


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="kpi bench ingest-webhook")
    p.add_argument("--requests", type=int, default=3000)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--rate", type=int, default=100)
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args(argv)
    return run(lambda url: _bench(url, args))
