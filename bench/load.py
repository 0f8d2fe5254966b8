"""load: a mixed load for a fixed time, then a check that nothing acknowledged was lost.

    kpi bench load [--seconds 60] [--workers 2] [--concurrency 16] [--rate REQ_PER_S]
                   [--mix webhook=5,observations=2,graphql=3] [--batch-size 500]
                   [--services 100] [--json]

It starts `kpi serve` on loopback against a fresh schema, seeds a catalog (teams, services,
outcomes, the builtin availability and MTTR KPIs and two observed KPIs) and a signed PagerDuty
source, and gives every client its own token; the server runs with rate limits off
(KPI_RATE_LIMIT_PER_SECOND=0), so that they do not shape the figures, and takes PagerDuty
events from as far back as the workload's incidents go (nine days of tolerance). Then N concurrent
clients send, in the proportions of --mix:

- webhook: signed PagerDuty v3 deliveries shaped like the tool's own (triggered, acknowledged
  and resolved steps of incidents spread over the services), each with a unique X-Webhook-Id;
- observations: JSON batches of points that are all new (KPI, service, ts);
- graphql: a portal page (a tier's services with team, KPIs and availability, one service's
  KPI statuses, the latest stored status of each KPI).

Without --rate each client sends its next request as soon as the last is answered (closed
loop); with --rate the requests are scheduled at that total rate and their latency is counted
from the scheduled instant, so a backlog shows. The report gives, per kind, counts, throughput,
latency percentiles and errors, and the RSS of the server's processes before and after.

Then every acknowledged (2xx) delivery is looked up in the delivery log, with its event on the
incident's timeline, and every point of every acknowledged batch in the observation table,
with its value; anything missing is listed and the exit code is 1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import hashlib
import hmac
import itertools
import json
import os
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.harness import fresh_schema, running_server
from service import db as dbmod
from service.config import Settings
from service.embedded import database_url
from service.models.enums import Scope
from service.usecases.catalog_file import CatalogFile, apply_catalog
from service.usecases.tokens import create_token

DESCRIPTION = "a mixed load for a fixed time, then a check that nothing acknowledged was lost"
KINDS = ("webhook", "observations", "graphql")
#: What each kind carries, for its items-per-second figure.
ITEMS = {"webhook": "events", "observations": "points", "graphql": "queries"}
DEFAULT_MIX = "webhook=5,observations=2,graphql=3"
SECRET = "load-secret"
SOURCE = "pagerduty"
OBSERVED_KPIS = ("api_latency_ms", "checkout_error_rate")
STEPS = ("triggered", "acknowledged", "resolved")
_STEP_OFFSET = {"triggered": 0, "acknowledged": 4, "resolved": 35}  # minutes after impact
_PRIORITIES = ("P1", "P2", "P2", "P3", "P3", "P4", "P5")
_MISSING_SHOWN = 20

PORTAL_QUERY = """
query Portal($tier: Int!, $from: DateTime!, $slug: String!) {
  services(first: 50, tier: $tier) {
    pageInfo { hasNextPage endCursor }
    nodes {
      slug name tier outageThreshold
      team { slug name }
      kpis(first: 50) { nodes { kpi { key kind unit } } }
      availability(from: $from) {
        availability outageMinutes outageIncidents target errorBudgetRemaining burnRate
      }
    }
  }
  service(slug: $slug) {
    slug
    kpis(first: 50) { nodes { kpi { key } status { status value target trend periodStart } } }
  }
  kpis(first: 20) {
    nodes { key name statusHistory(first: 1) { nodes { service status value periodStart } } }
  }
}
"""


# --- what is sent -------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """Everything that decides the n-th request of each kind; the same for the check after."""

    run: str
    services: int
    batch_size: int
    #: Observations start here, one second apart per (KPI, service) round; incidents end
    #: before it, so the portal's availability windows hold them.
    start: dt.datetime

    def service_slug(self, i: int) -> str:
        return f"load-svc-{i % self.services:03d}"

    # webhook deliveries: incident n // 3, step n % 3
    def delivery(self, n: int) -> tuple[bytes, dict[str, str], tuple[str, str, str, str]]:
        """The n-th signed delivery, and what must be stored for it: (delivery id, event
        id, incident id, business service)."""
        incident, step_no = divmod(n, len(STEPS))
        step = STEPS[step_no]
        svc = incident % self.services
        started = self.start - dt.timedelta(minutes=2 * incident % (6 * 24 * 60) + 60)
        occurred = started + dt.timedelta(minutes=_STEP_OFFSET[step], milliseconds=step_no)
        incident_id = f"Q{self.run.upper()}{incident:08d}"
        event_id = f"01{self.run.upper()}{n:014d}LD"
        delivery_id = f"{self.run}-{n:010d}"
        user = {
            "html_url": "https://load.pagerduty.com/users/PLOAD01", "id": "PLOAD01",
            "self": "https://api.pagerduty.com/users/PLOAD01", "summary": "Load Tester",
            "type": "user_reference",
        }  # fmt: skip
        priority = _PRIORITIES[incident % len(_PRIORITIES)]
        payload = {"event": {
            "id": event_id, "event_type": f"incident.{step}", "resource_type": "incident",
            "occurred_at": occurred.isoformat().replace("+00:00", "Z"),
            "agent": user, "client": None,
            "data": {
                "id": incident_id, "type": "incident",
                "self": f"https://api.pagerduty.com/incidents/{incident_id}",
                "html_url": f"https://load.pagerduty.com/incidents/{incident_id}",
                "number": incident + 1, "status": step, "title": f"Load incident {incident}",
                "created_at": started.isoformat().replace("+00:00", "Z"),
                "service": {
                    "html_url": f"https://load.pagerduty.com/services/PLD{svc:04d}",
                    "id": f"PLD{svc:04d}", "self": f"https://api.pagerduty.com/services/PLD{svc:04d}",
                    "summary": f"Load service {svc}", "type": "service_reference",
                },
                "assignees": [user],
                "escalation_policy": {
                    "html_url": "https://load.pagerduty.com/escalation_policies/PLOADEP",
                    "id": "PLOADEP", "self": "https://api.pagerduty.com/escalation_policies/PLOADEP",
                    "summary": "Default", "type": "escalation_policy_reference",
                },
                "teams": [],
                "priority": {
                    "html_url": "https://load.pagerduty.com/account/incident_priorities",
                    "id": f"PPRI{priority}", "self": f"https://api.pagerduty.com/priorities/PPRI{priority}",
                    "summary": priority, "type": "priority_reference",
                },
                "urgency": "high" if priority in ("P1", "P2") else "low",
                "conference_bridge": None, "resolve_reason": None,
            },
        }}  # fmt: skip
        body = orjson.dumps(payload)
        signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json", "X-PagerDuty-Signature": f"v1={signature}",
            "X-Webhook-Id": delivery_id, "User-Agent": "PagerDuty-Webhook/V3.0",
        }  # fmt: skip
        return body, headers, (delivery_id, event_id, incident_id, self.service_slug(svc))

    # observation batches: batch n holds points n * size ... (n + 1) * size - 1
    def point(self, p: int) -> tuple[str, str, dt.datetime, float]:
        """Point p: (KPI, service, ts, value); no two points share (KPI, service, ts)."""
        kpi = OBSERVED_KPIS[p % len(OBSERVED_KPIS)]
        rest = p // len(OBSERVED_KPIS)
        ts = self.start + dt.timedelta(seconds=rest // self.services)
        return kpi, self.service_slug(rest), ts, ((p * 7919) % 100_000) / 100

    def batch(self, n: int) -> bytes:
        first = n * self.batch_size
        points = []
        for p in range(first, first + self.batch_size):
            kpi, svc, ts, value = self.point(p)
            points.append({"kpi": kpi, "service": svc, "ts": ts, "value": value,
                           "source": "load"})  # fmt: skip
        return orjson.dumps(points)

    def query(self, n: int) -> bytes:
        variables = {
            "tier": n % 4 + 1, "slug": self.service_slug(n),
            "from": (self.start - dt.timedelta(days=30)).isoformat(),
        }  # fmt: skip
        return orjson.dumps({"query": PORTAL_QUERY, "variables": variables})


def catalog(services: int) -> CatalogFile:
    """A small catalog: teams, services, outcomes, builtin and observed KPIs, the source."""
    teams = [
        {"slug": f"load-team-{t}", "name": f"Load team {t}", "email": f"team{t}@example.com"}
        for t in range(8)
    ]
    slugs = [f"load-svc-{i:03d}" for i in range(services)]
    svcs = [
        {"slug": slug, "name": f"Load service {i}", "tier": i % 4 + 1,
         "team": None if i % 10 == 9 else f"load-team-{i % 8}",
         "business_owner": f"owner-{i % 5}@example.com", "revenue_per_hour": 1000.0 * (4 - i % 4),
         "users": 1000 * (i + 1), "outage_threshold": "sev3" if i % 4 == 0 else "sev2"}
        for i, slug in enumerate(slugs)
    ]  # fmt: skip
    outcomes = [
        {"slug": "protect-revenue", "name": "Protect revenue", "owner": "ceo@example.com"},
        {"slug": "customer-trust", "name": "Customer trust", "owner": "ceo@example.com"},
        {"slug": "delivery-speed", "name": "Delivery speed", "owner": "cto@example.com"},
    ]
    by_tier = [
        {"tier": tier, "value": value, "warning": warning, "effective_from": "2020-01-01"}
        for tier, value, warning in ((1, 99.95, 99.97), (2, 99.9, 99.93), (3, 99.5, 99.7),
                                     (4, 99.0, 99.3))
    ]  # fmt: skip
    common = {"cadence": "monthly", "business_owner": "coo@example.com",
              "technology_owner": "cto@example.com", "services": slugs}  # fmt: skip
    kpis = [
        {**common, "key": "service_availability", "name": "Business service availability",
         "unit": "percent", "direction": "higher_is_better", "aggregation": "avg",
         "kind": "builtin", "metric": "availability", "board_level": True, "targets": by_tier,
         "outcomes": [{"outcome": "protect-revenue", "weight": 3},
                      {"outcome": "customer-trust", "weight": 2}]},
        {**common, "key": "incident_mttr", "name": "Mean time to restore", "unit": "minutes",
         "direction": "lower_is_better", "aggregation": "avg", "kind": "builtin",
         "metric": "mttr", "board_level": True,
         "targets": [{"value": 60, "warning": 45, "effective_from": "2020-01-01"}],
         "outcomes": [{"outcome": "customer-trust", "weight": 1}]},
        {**common, "key": OBSERVED_KPIS[0], "name": "API latency", "unit": "ms",
         "direction": "lower_is_better", "aggregation": "avg",
         "targets": [{"value": 800, "warning": 600, "effective_from": "2020-01-01"}],
         "outcomes": [{"outcome": "customer-trust", "weight": 1}]},
        {**common, "key": OBSERVED_KPIS[1], "name": "Checkout error rate", "unit": "percent",
         "direction": "lower_is_better", "aggregation": "avg",
         "outcomes": [{"outcome": "protect-revenue", "weight": 1},
                      {"outcome": "delivery-speed", "weight": 1}]},
    ]  # fmt: skip
    source = {
        "name": SOURCE, "kind": "pagerduty", "secret": SECRET,
        "service_rules": [{"match": {"service_id": f"PLD{i:04d}"}, "service": slug}
                          for i, slug in enumerate(slugs)],
    }  # fmt: skip
    data = {"teams": teams, "services": svcs, "outcomes": outcomes, "kpis": kpis,
            "sources": [source]}  # fmt: skip
    return CatalogFile.model_validate(data)


# --- sending and counting -----------------------------------------------------------------


def parse_mix(text: str) -> dict[str, int]:
    mix = dict.fromkeys(KINDS, 0)
    for part in text.split(","):
        name, _, weight = part.partition("=")
        name = name.strip()
        if name not in mix or not weight.strip().isdigit():
            raise argparse.ArgumentTypeError(
                f"expected KIND=WEIGHT,... with kinds {', '.join(KINDS)}; got {part!r}"
            )
        mix[name] = int(weight)
    if not any(mix.values()):
        raise argparse.ArgumentTypeError("at least one weight must be positive")
    return mix


def schedule(mix: dict[str, int]) -> list[str]:
    """One cycle of kinds in the mix's proportions, interleaved (smooth weighted round robin)."""
    total = sum(mix.values())
    current = dict.fromkeys(mix, 0)
    out = []
    for _ in range(total):
        for kind, weight in mix.items():
            current[kind] += weight
        chosen = max(mix, key=lambda k: current[k])
        current[chosen] -= total
        out.append(chosen)
    return out


@dataclass
class KindStats:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    items: int = 0


@dataclass
class Ledger:
    """What was sent and what was acknowledged; only `measuring` requests count in the stats."""

    workload: Workload
    kinds: list[str]
    stats: dict[str, KindStats] = field(default_factory=lambda: {k: KindStats() for k in KINDS})
    acked_deliveries: list[tuple[str, str, str, str]] = field(default_factory=list)
    acked_batches: list[int] = field(default_factory=list)
    error_samples: list[str] = field(default_factory=list)
    measuring: bool = False
    dropped: int = 0
    warm_up_errors: int = 0
    #: CPU time the load process itself used while sending (it shares the machine).
    client_cpu_s: float = 0.0
    _sent: int = 0
    _next: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))

    def take(self) -> tuple[str, int]:
        kind = self.kinds[self._sent % len(self.kinds)]
        self._sent += 1
        n = self._next[kind]
        self._next[kind] = n + 1
        return kind, n

    def error(self, kind: str, key: str, detail: str) -> None:
        if self.measuring:
            self.stats[kind].errors[key] += 1
        else:
            self.warm_up_errors += 1
        if len(self.error_samples) < 10:
            self.error_samples.append(f"{kind}: {key}: {detail[:300]}")


def _client(token: str) -> httpx.AsyncClient:
    # As in ingest-webhook: without TCP_NODELAY, Nagle delays the body of a reused connection.
    transport = httpx.AsyncHTTPTransport(
        limits=httpx.Limits(max_connections=1),
        socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
    )
    return httpx.AsyncClient(
        timeout=60, transport=transport, headers={"Authorization": f"Bearer {token}"}
    )


async def send_one(
    client: httpx.AsyncClient, base: str, ledger: Ledger, since: float | None = None
) -> None:
    """Send the ledger's next request and record its outcome. Latency counts from `since` (the
    scheduled instant) if given, else from when the request is ready to go."""
    kind, n = ledger.take()
    w = ledger.workload
    expected: tuple[str, str, str, str] | None = None
    json_body = {"Content-Type": "application/json"}
    if kind == "webhook":
        body, headers, expected = w.delivery(n)
        path = f"/v1/webhooks/{SOURCE}"
    elif kind == "observations":
        body, headers, path = w.batch(n), json_body, "/v1/observations"
    else:
        body, headers, path = w.query(n), json_body, "/graphql"
    if since is None:
        since = time.perf_counter()
    try:
        r = await client.post(f"{base}{path}", content=body, headers=headers)
    except httpx.HTTPError as exc:
        ledger.error(kind, type(exc).__name__, str(exc) or repr(exc))
        return
    elapsed = time.perf_counter() - since
    stats = ledger.stats[kind]
    if ledger.measuring:
        stats.latencies.append(elapsed)
        stats.statuses[str(r.status_code)] += 1
    if not r.is_success:
        ledger.error(kind, str(r.status_code), r.text)
        return
    problem = _check_answer(kind, r, w.batch_size)
    # Acknowledged is acknowledged: a 2xx must be stored, whatever else it says.
    if kind == "webhook":
        assert expected is not None
        ledger.acked_deliveries.append(expected)
    elif kind == "observations":
        ledger.acked_batches.append(n)
    if problem:
        ledger.error(kind, f"{r.status_code} {problem}", r.text)
    elif ledger.measuring:
        stats.items += w.batch_size if kind == "observations" else 1


def _check_answer(kind: str, r: httpx.Response, batch_size: int) -> str | None:
    """Why a 2xx answer is not the one expected, or None."""
    try:
        answer = r.json()
    except ValueError:
        return "not JSON"
    if kind == "webhook":
        status = answer.get("status") if isinstance(answer, dict) else None
        return None if r.status_code == 200 and status == "applied" else f"status {status}"
    if kind == "observations":
        ok = isinstance(answer, dict) and answer.get("inserted") == batch_size
        return None if ok else "not all points inserted"
    if not isinstance(answer, dict) or answer.get("errors") or not answer.get("data"):
        return "GraphQL errors"
    return None


async def drive(
    base: str, tokens: list[str], ledger: Ledger, seconds: float, rate: float | None
) -> float:
    """Send for `seconds`; the wall time until the last answer."""
    clients = [_client(t) for t in tokens]
    started = time.perf_counter()
    deadline = started + seconds
    queue: asyncio.Queue[float | None] = asyncio.Queue()

    async def closed_loop(client: httpx.AsyncClient) -> None:
        while time.perf_counter() < deadline:
            await send_one(client, base, ledger)

    async def scheduled(client: httpx.AsyncClient) -> None:
        while (at := await queue.get()) is not None:
            if time.perf_counter() >= deadline:
                ledger.dropped += 1  # every client was busy until the end: not sent
                continue
            await send_one(client, base, ledger, at)

    async def dispatcher(per_second: float) -> None:
        for i in itertools.count():
            at = started + i / per_second
            if at >= deadline:
                break
            if (delay := at - time.perf_counter()) > 0:
                await asyncio.sleep(delay)
            queue.put_nowait(at)
        for _ in clients:
            queue.put_nowait(None)

    try:
        if rate is None:
            await asyncio.gather(*(closed_loop(c) for c in clients))
        else:
            await asyncio.gather(dispatcher(rate), *(scheduled(c) for c in clients))
        return time.perf_counter() - started
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


async def warm_up(base: str, tokens: list[str], ledger: Ledger) -> None:
    """A few requests of each kind before measuring: connections, pools, plans, caches."""
    rounds = max(2, -(-len(ledger.kinds) // len(tokens)))  # at least one cycle of the mix
    async with contextlib.AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(_client(t)) for t in tokens]
        for _ in range(rounds):
            await asyncio.gather(*(send_one(c, base, ledger) for c in clients))


# --- the server's processes ---------------------------------------------------------------


def _proc_status(pid: int) -> dict[str, str]:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def _children(parent: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _proc_status(int(entry.name)).get("PPid", "").strip() == str(
            parent
        ):
            out.append(int(entry.name))
    return sorted(out)


def server_processes(port: int) -> tuple[int | None, list[int]]:
    """The `kpi serve` master started by this process on `port`, and its worker processes."""
    if not Path("/proc/self/status").exists():
        return None, []
    for pid in _children(os.getpid()):
        args = _cmdline(pid)
        if "serve" in args and str(port) in args:
            workers = [c for c in _children(pid) if any("spawn_main" in a for a in _cmdline(c))]
            return pid, workers
    return None, []


def rss_kib(pid: int) -> int | None:
    value = _proc_status(pid).get("VmRSS")
    return int(value.split()[0]) if value else None


@dataclass
class Memory:
    master: int | None
    workers: list[int]
    start: dict[int, int | None] = field(default_factory=dict)
    end: dict[int, int | None] = field(default_factory=dict)
    #: Whether the server's processes at the end were not those at the start.
    restarted: bool = False

    def sample(self) -> dict[int, int | None]:
        return {pid: rss_kib(pid) for pid in self.pids()}

    def pids(self) -> list[int]:
        return ([self.master] if self.master is not None else []) + self.workers

    def label(self, pid: int) -> str:
        return "master" if pid == self.master else f"worker {self.workers.index(pid) + 1}"

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for pid in self.pids():
            start, end = self.start.get(pid), self.end.get(pid)
            growth = None if start is None or end is None else end - start
            out.append({"process": self.label(pid), "pid": pid, "start_kib": start,
                        "end_kib": end, "growth_kib": growth})  # fmt: skip
        return out


# --- the check ----------------------------------------------------------------------------


async def verify(con: dbmod.Connection, ledger: Ledger) -> tuple[int, int, list[str]]:
    """(deliveries checked, points checked, what is missing), straight from the tables."""
    w = ledger.workload
    source_id = await con.fetchval("select id from source where name = $1", SOURCE)
    missing: list[str] = []
    await con.execute(
        "create temp table load_delivery (key text, event_key text, incident text, svc text)"
    )
    await con.copy_records_to_table("load_delivery", records=ledger.acked_deliveries)
    rows = await con.fetch(
        """
        select x.key, d.status, e.id is not null as on_timeline, s.slug
        from load_delivery x
        left join delivery d on d.source_id = $1 and d.delivery_key = x.key
        left join incident i on i.source_id = $1 and i.external_id = x.incident
        left join incident_event e on e.incident_id = i.id and e.event_key = x.event_key
                                  and e.delivery_id = d.id
        left join business_service s on s.id = i.service_id
        where d.id is null or d.status <> 'applied' or d.applied_at is null or e.id is null
           or s.slug is distinct from x.svc
        order by x.key
        """,
        source_id,
    )
    for r in rows:
        if r["status"] is None:
            why = "not in the delivery log"
        elif r["status"] != "applied":
            why = f"logged as {r['status']}"
        elif not r["on_timeline"]:
            why = "its event is not on the incident's timeline"
        else:
            why = f"incident on service {r['slug']}"
        missing.append(f"delivery {r['key']}: {why}")

    ids = {
        "kpi": dict(await con.fetch("select key, id from kpi")),
        "svc": dict(await con.fetch("select slug, id from business_service")),
    }

    def expected() -> Iterator[tuple[int, int, int, dt.datetime, float]]:
        for n in ledger.acked_batches:
            for p in range(n * w.batch_size, (n + 1) * w.batch_size):
                kpi, svc, ts, value = w.point(p)
                yield n, ids["kpi"][kpi], ids["svc"][svc], ts, value

    await con.execute(
        "create temp table load_point "
        "(batch bigint, kpi_id bigint, service_id bigint, ts timestamptz, value float8)"
    )
    await con.copy_records_to_table("load_point", records=expected())
    points = await con.fetchval("select count(*) from load_point")
    rows = await con.fetch(
        """
        select x.batch, k.key, s.slug, x.ts, x.value, o.value as stored
        from load_point x
        join kpi k on k.id = x.kpi_id
        join business_service s on s.id = x.service_id
        left join observation o on o.kpi_id = x.kpi_id and o.service_id = x.service_id
                               and o.ts = x.ts and o.dimensions = '{}'::jsonb
        where o.value is distinct from x.value
        order by x.batch, x.ts, k.key, s.slug
        """
    )
    for r in rows:
        stored = "not stored" if r["stored"] is None else f"stored {r['stored']}"
        missing.append(f"batch {r['batch']}: point {r['key']} {r['slug']} "
                       f"{r['ts'].isoformat()} = {r['value']}: {stored}")  # fmt: skip
    await con.execute("drop table load_delivery, load_point")
    return len(ledger.acked_deliveries), points, missing


# --- the report ---------------------------------------------------------------------------


def _pct_ms(ordered: list[float], p: float) -> float | None:
    if not ordered:
        return None
    return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 1)


def report(
    args: argparse.Namespace, ledger: Ledger, elapsed: float, memory: Memory,
    load_avg: dict[str, list[float]], checked: tuple[int, int, list[str]],
) -> dict[str, Any]:  # fmt: skip
    kinds = {}
    for kind in KINDS:
        s = ledger.stats[kind]
        ordered = sorted(s.latencies)
        requests = sum(s.statuses.values()) + sum(
            v for k, v in s.errors.items() if not k[:1].isdigit()
        )
        kinds[kind] = {
            "weight": args.mix[kind], "requests": requests,
            "req_per_s": round(requests / elapsed, 1), "item": ITEMS[kind], "items": s.items,
            "items_per_s": round(s.items / elapsed, 1),
            "latency_ms": {"p50": _pct_ms(ordered, 0.5), "p90": _pct_ms(ordered, 0.9),
                           "p99": _pct_ms(ordered, 0.99),
                           "max": _pct_ms(ordered, 1.0)},
            "statuses": dict(sorted(s.statuses.items())), "errors": dict(sorted(s.errors.items())),
        }  # fmt: skip
    deliveries, points, missing = checked
    summary = f"verified: {deliveries} deliveries, {points} points, {len(missing)} missing"
    rows = memory.rows()

    def total(key: str) -> int | None:
        values = [r[key] for r in rows]
        return None if not values or None in values else sum(values)

    return {
        "bench": "load", "seconds": args.seconds, "elapsed_s": round(elapsed, 2),
        "cores": os.cpu_count(), "server_workers": args.workers,
        "concurrency": args.concurrency, "mode": "closed loop" if args.rate is None else
        f"fixed rate {args.rate:g} req/s (latency from the scheduled instant)",
        "rate": args.rate, "mix": args.mix, "batch_size": args.batch_size,
        "services": args.services,
        "rate_limits": "off: server started with KPI_RATE_LIMIT_PER_SECOND=0; "
                       "one token per client",
        "load_average": load_avg, "client_cpu_s": round(ledger.client_cpu_s, 1),
        "kinds": kinds,
        "errors": sum(sum(k["errors"].values()) for k in kinds.values()),
        "error_samples": ledger.error_samples, "warm_up_errors": ledger.warm_up_errors,
        "dropped": ledger.dropped,
        "memory": {"processes": rows, "start_kib": total("start_kib"),
                   "end_kib": total("end_kib"), "growth_kib": total("growth_kib"),
                   "start": "after warm-up, before the load", "end": "when the load ended",
                   "processes_changed": memory.restarted},
        "verification": {"deliveries": deliveries, "points": points, "missing": len(missing),
                         "missing_items": missing[:1000], "summary": summary},
    }  # fmt: skip


def _mib(kib: int | None) -> str:
    return "?" if kib is None else f"{kib / 1024:.1f}"


def print_text(r: dict[str, Any]) -> None:
    la = r["load_average"]
    print(f"load: {r['seconds']:g} s ({r['elapsed_s']:.1f} s measured), {r['concurrency']} "
          f"clients, {r['mode']}; server workers {r['server_workers']}, {r['cores']} cores; "
          f"load average {' '.join(f'{x:.2f}' for x in la['start'])} at start, "
          f"{' '.join(f'{x:.2f}' for x in la['end'])} at end")  # fmt: skip
    print(f"  the load process itself used {r['client_cpu_s']:.1f} s of CPU "
          f"({r['client_cpu_s'] / r['elapsed_s']:.2f} of a core)")  # fmt: skip
    mix = " ".join(f"{k}={v}" for k, v in r["mix"].items())
    print(f"  mix {mix}; {r['services']} services, batches of {r['batch_size']} points; "
          f"rate limits {r['rate_limits']}")  # fmt: skip
    print(f"  {'kind':<13}{'requests':>9}{'req/s':>9}{'items/s':>18}"
          f"{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}{'errors':>8}")  # fmt: skip
    for kind, k in r["kinds"].items():
        lat = k["latency_ms"]
        cells = [f"{lat[p]:.1f}" if lat[p] is not None else "-" for p in ("p50", "p90", "p99",
                                                                            "max")]  # fmt: skip
        items = f"{k['items_per_s']:,.0f} {k['item']}/s"
        print(f"  {kind:<13}{k['requests']:>9,}{k['req_per_s']:>9,.1f}{items:>18}"
              f"{cells[0]:>9}{cells[1]:>9}{cells[2]:>9}{cells[3]:>9}"
              f"{sum(k['errors'].values()):>8}")  # fmt: skip
    errors = [f"{kind} {key} x{n}" for kind, k in r["kinds"].items()
              for key, n in k["errors"].items()]  # fmt: skip
    print(f"  errors: {r['errors']}" + (f" ({', '.join(errors)})" if errors else ""))
    for sample in r["error_samples"]:
        print(f"    {sample}")
    if r["warm_up_errors"]:
        print(f"  errors during the warm-up (not counted above): {r['warm_up_errors']}")
    if r["dropped"]:
        print(f"  not sent (every client busy until the end): {r['dropped']}")
    m = r["memory"]
    if m["processes"]:
        parts = [f"{p['process']} {_mib(p['start_kib'])} -> {_mib(p['end_kib'])}"
                 for p in m["processes"]]  # fmt: skip
        growth = m["growth_kib"]
        sign = "+" if growth is not None and growth >= 0 else ""
        print(f"  server RSS MiB (start: after warm-up; end: when the load ended): "
              f"{'; '.join(parts)}; total {_mib(m['start_kib'])} -> {_mib(m['end_kib'])} "
              f"({sign}{_mib(growth)})")  # fmt: skip
        if m["processes_changed"]:
            print("  the server's processes changed during the run (a worker restarted?)")
    else:
        print("  server RSS: not available (no /proc)")
    v = r["verification"]
    print(v["summary"])
    for item in v["missing_items"][:_MISSING_SHOWN]:
        print(f"  missing: {item}")
    if v["missing"] > _MISSING_SHOWN:
        print(f"  ... and {v['missing'] - _MISSING_SHOWN} more")


# --- the run ------------------------------------------------------------------------------


#: The server's settings for the run: rate limits off, and PagerDuty event times accepted as
#: far back as the workload's incidents go (up to 8 days before now).
_SERVER_ENVIRONMENT = {
    "KPI_RATE_LIMIT_PER_SECOND": "0",
    "KPI_WEBHOOK_EVENT_TIME_TOLERANCE_SECONDS": str(9 * 86_400),
}


@contextlib.contextmanager
def _server_environment() -> Iterator[None]:
    """The server inherits this process's environment: start it with _SERVER_ENVIRONMENT."""
    before = {name: os.environ.get(name) for name in _SERVER_ENVIRONMENT}
    os.environ.update(_SERVER_ENVIRONMENT)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                del os.environ[name]
            else:
                os.environ[name] = value


@contextlib.asynccontextmanager
async def _server(url: str, schema: str, workers: int) -> AsyncIterator[str]:
    with _server_environment():
        async with running_server(url, schema, workers) as base:
            yield base


async def _bench(url: str, args: argparse.Namespace) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    workload = Workload(
        run=os.urandom(3).hex(), services=args.services, batch_size=args.batch_size,
        start=now - dt.timedelta(days=2),
    )  # fmt: skip
    ledger = Ledger(workload, schedule(args.mix))
    async with fresh_schema(url) as (con, schema):
        await apply_catalog(con, catalog(args.services), dry_run=False)
        tokens = [
            (await create_token(con, name=f"load-{i}", scopes=[Scope.INGEST, Scope.READ])).token
            for i in range(args.concurrency)
        ]
        async with _server(url, schema, args.workers) as base:
            port = int(base.rsplit(":", 1)[1])
            await warm_up(base, tokens, ledger)
            memory = Memory(*server_processes(port))
            memory.start = memory.sample()
            load_avg = {"start": [round(x, 2) for x in os.getloadavg()]}
            ledger.measuring = True
            cpu = time.process_time()
            elapsed = await drive(base, tokens, ledger, args.seconds, args.rate)
            ledger.client_cpu_s = time.process_time() - cpu
            ledger.measuring = False
            memory.end = memory.sample()
            memory.restarted = server_processes(port) != (memory.master, memory.workers)
            load_avg["end"] = [round(x, 2) for x in os.getloadavg()]
        checked = await verify(con, ledger)
    return report(args, ledger, elapsed, memory, load_avg, checked)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="kpi bench load", description=DESCRIPTION)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--workers", type=int, default=2, help="server worker processes")
    p.add_argument("--concurrency", type=int, default=16, help="concurrent clients")
    p.add_argument("--rate", type=float, default=None,
                   help="total requests a second (default: closed loop)")  # fmt: skip
    p.add_argument("--mix", type=parse_mix, default=parse_mix(DEFAULT_MIX),
                   help=f"weights of the request kinds (default {DEFAULT_MIX})")  # fmt: skip
    p.add_argument("--batch-size", type=int, default=500, help="points per observation batch")
    p.add_argument("--services", type=int, default=100)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    args = p.parse_args(argv)
    if args.seconds <= 0 or args.concurrency < 1 or args.batch_size < 1 or args.services < 1:
        p.error("--seconds, --concurrency, --batch-size and --services must be positive")
    if args.rate is not None and args.rate <= 0:
        p.error("--rate must be positive")
    with database_url(Settings()) as url:
        result = asyncio.run(_bench(url, args))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_text(result)
    return 1 if result["verification"]["missing"] else 0
