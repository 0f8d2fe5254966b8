"""ingest-webhook: signed PagerDuty v3 deliveries per second through POST /v1/webhooks/{source}
(signature verified, delivery logged, deduplicated, mapped and applied), against a baseline
measured in the same run: a bare Starlette endpoint inserting one row per request
(bench/bare_webhook.py), served by the same uvicorn setup, workers and Postgres.

    kpi bench ingest-webhook [--requests 4000] [--concurrency 16] [--rate 1000] [--seconds 10]
                             [--workers 2]

Both servers get the same request bytes from a lean load generator (bench/httpload.py)
on keep-alive connections: first closed loop (N connections, each sending its next request as
soon as the last is answered) for throughput and their ratio, then open loop at a fixed rate
for latency, counted from each request's scheduled instant. One delivery in ten of the closed
loop is sent a second time (same X-Webhook-Id and event id); the stored counts then show that
every delivery was applied once and every repeat answered as a duplicate.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import hmac
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import orjson

from bench import bare_webhook, httpload
from bench.harness import fresh_schema, run, running_server
from service.models.catalog import ServiceIn
from service.models.sources import ServiceRule, SourceIn, SourceKind
from service.store import sources
from service.usecases import catalog

SECRET = "bench-secret"
STEPS = ("incident.triggered", "incident.acknowledged", "incident.resolved")
WARM_UP = 200
#: Warm-up deliveries are numbered from here, apart from the measured ones.
WARM_UP_FIRST = 10**8
#: Every REPEAT_EVERY-th delivery of the closed loop is followed by a repeat of an earlier one.
REPEAT_EVERY = 10
REPEAT_DISTANCE = 4
#: Incidents happened over the SPREAD_SECONDS before the run started.
SPREAD_SECONDS = 20 * 3600


def delivery(n: int, since: dt.datetime) -> tuple[bytes, dict[str, str]]:
    """The n-th delivery: incidents of 3 steps each, distinct event ids, signed; incident i
    happened i seconds (modulo SPREAD) after `since`. The server checks PagerDuty's event
    times against its clock, so they are the last hours'."""
    incident, step = divmod(n, len(STEPS))
    occurred = since + dt.timedelta(seconds=incident % SPREAD_SECONDS, milliseconds=step)
    body = orjson.dumps({"event": {
        "id": f"EV{n:09d}", "event_type": STEPS[step], "resource_type": "incident",
        "occurred_at": occurred.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "data": {"id": f"INC{incident:08d}", "type": "incident", "title": f"Bench {incident}",
                 "html_url": f"https://example.pagerduty.com/incidents/INC{incident:08d}",
                 "status": STEPS[step].split(".")[1], "urgency": "high",
                 "service": {"id": "PSVC", "summary": "bench-svc", "type": "service_reference"}},
    }})  # fmt: skip
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return body, {
        "Content-Type": "application/json", "User-Agent": "PagerDuty-Webhook/V3.0",
        "X-Webhook-Id": f"WH{n:09d}", "X-PagerDuty-Signature": f"v1={signature}",
    }  # fmt: skip


def with_repeats(numbers: range) -> list[int]:
    """The deliveries in sending order, each REPEAT_EVERY-th followed by an earlier one again."""
    order = []
    for i, n in enumerate(numbers):
        order.append(n)
        if i % REPEAT_EVERY == REPEAT_EVERY - 1:
            order.append(n - REPEAT_DISTANCE)
    return order


@dataclass
class Target:
    """A server under load: where it listens and what it is sent."""

    name: str
    host: str
    port: int
    path: str
    since: dt.datetime
    check: httpload.Check | None = None

    def requests(self, numbers: list[int]) -> list[bytes]:
        built = {}
        for n in dict.fromkeys(numbers):
            body, headers = delivery(n, self.since)
            built[n] = httpload.build_request("POST", self.host, self.path, headers, body)
        return [built[n] for n in numbers]


@dataclass
class Answers:
    """Counts the outcomes our server answered with (applied or duplicate; else an error)."""

    applied: int = 0
    duplicate: int = 0
    seen: dict[str, int] = field(default_factory=dict)

    def check(self, status: int, body: bytes) -> str | None:
        if status != 200:
            return f"status {status}"
        outcome = orjson.loads(body).get("status")
        if outcome == "applied":
            self.applied += 1
        elif outcome == "duplicate":
            self.duplicate += 1
        else:
            return f"outcome {outcome}"
        return None


def _target(
    name: str, base: str, path: str, since: dt.datetime, check: httpload.Check | None
) -> Target:
    parts = urlsplit(base)
    assert parts.hostname is not None and parts.port is not None
    return Target(name, parts.hostname, parts.port, path, since, check)


async def _closed(target: Target, numbers: list[int], concurrency: int) -> httpload.Result:
    return await httpload.closed_loop(
        target.host, target.port, target.requests(numbers), count=len(numbers),
        connections=concurrency, check=target.check,
    )  # fmt: skip


async def _fixed(target: Target, numbers: list[int], rate: int) -> httpload.Result:
    return await httpload.open_loop(
        target.host, target.port, target.requests(numbers), rate=rate, count=len(numbers),
        check=target.check,
    )  # fmt: skip


def _line(label: str, result: httpload.Result) -> str:
    return f"  {label}: {result.summary()}"


async def _bench(url: str, args: argparse.Namespace, report: Callable[[bool], None]) -> None:
    answers = Answers()
    closed_numbers = with_repeats(range(args.requests))
    fixed_numbers = list(range(args.requests, args.requests + int(args.rate * args.seconds)))
    warm_up = list(range(WARM_UP_FIRST, WARM_UP_FIRST + WARM_UP))
    since = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(seconds=SPREAD_SECONDS)
    async with fresh_schema(url) as (con, schema):
        await catalog.create_service(con, service=ServiceIn(slug="bench-svc", name="Bench", tier=1))
        await sources.create_source(con, source=SourceIn(
            name="pd", kind=SourceKind.PAGERDUTY, secret=SECRET,
            service_rules=[ServiceRule(match={"ref": "bench-svc"}, service="bench-svc")],
        ))  # fmt: skip
        await bare_webhook.create_table(con)
        async with (
            running_server(url, schema, args.workers) as ours_base,
            bare_webhook.running_baseline(url, schema, args.workers) as bare_base,
        ):
            ours = _target("ours", ours_base, "/v1/webhooks/pd", since, answers.check)
            bare = _target("baseline", bare_base, bare_webhook.PATH, since, None)
            load_before = os.getloadavg()[0]
            await _closed(ours, warm_up, 8)
            await _closed(bare, warm_up, 8)
            bare_closed = await _closed(bare, closed_numbers, args.concurrency)
            ours_closed = await _closed(ours, closed_numbers, args.concurrency)
            # Ours last: a backlog it could not serve in time must not weigh on the baseline.
            bare_fixed = await _fixed(bare, fixed_numbers, args.rate)
            ours_fixed = await _fixed(ours, fixed_numbers, args.rate)
            load_after = os.getloadavg()[0]
        # The servers have stopped, having finished what they had started: the log is final.
        applied = await con.fetchval("select count(*) from delivery where status = 'applied'")
        logged = await con.fetchval("select count(*) from delivery")
        events = await con.fetchval("select count(*) from incident_event")
        incidents = await con.fetchval("select count(*) from incident")

    repeats = len(closed_numbers) - args.requests
    expected = WARM_UP + args.requests + len(fixed_numbers)
    errors = ours_closed.error_count + ours_fixed.error_count
    # Nothing acknowledged is lost, each delivery is applied once (one timeline event each),
    # every repeat is answered as a duplicate and logged nowhere; and with no error, every
    # delivery sent is there.
    right = (
        answers.applied <= applied == logged == events
        and answers.duplicate == repeats
        and (errors > 0 or applied == expected)
    )  # fmt: skip
    ratio = ours_closed.throughput / bare_closed.throughput if bare_closed.throughput else 0.0
    print(f"ingest-webhook: {args.workers} server workers, {os.cpu_count()} cores, signature "
          f"verification on; both servers on uvicorn, loopback, the same Postgres; load "
          f"average {load_before:.2f} before, {load_after:.2f} after")  # fmt: skip
    print(f"closed loop, {args.concurrency} senders, {len(closed_numbers)} requests "
          f"({repeats} of them repeats):")  # fmt: skip
    print(_line("baseline (bare Starlette, one insert)", bare_closed))
    print(_line("ours (verify, log, dedupe, map, apply)", ours_closed))
    print(f"  ratio ours/baseline: {ratio:.2f} (goal: at least 0.70)")
    print(f"fixed rate {args.rate} req/s for {args.seconds:g} s, latency from the scheduled "
          f"instant (goal: p99 under 50 ms at 1000 req/s):")  # fmt: skip
    print(_line("ours", ours_fixed))
    print(_line("baseline", bare_fixed))
    print(f"stored: {applied} applied deliveries of {logged} logged, {events} incident events, "
          f"{incidents} incidents; {answers.applied} answered as applied; {repeats} repeats "
          f"sent, {answers.duplicate} answered as duplicates; every delivery applied once: "
          f"{'yes' if right else 'NO'}")  # fmt: skip
    for result in (bare_closed, ours_closed, ours_fixed, bare_fixed):
        for sample in result.samples:
            print(f"  error: {sample}")
    report(right)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="kpi bench ingest-webhook")
    p.add_argument("--requests", type=int, default=4000, help="distinct deliveries, closed loop")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--rate", type=int, default=1000)
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args(argv)
    outcome: list[bool] = []
    run(lambda url: _bench(url, args, outcome.append))
    return 0 if outcome == [True] else 1
