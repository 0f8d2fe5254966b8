"""graphql-portal: a portal's page (a hundred business services with their team, tier, KPIs,
targets, escalation path, latest stored status and outcomes) through our GraphQL endpoint
against PostGraphile 4 serving the same tables of the same schema, with the same data, the
same query shape, in the same run.

    kpi bench graphql-portal [--services 100] [--periods 6] [--seed 1] [--page 100]
                             [--requests 200] [--rounds 5] [--concurrency 4]
                             [--concurrent-requests 200] [--workers 1] [--no-postgraphile]
                             [--scale N [--scale-out FILE]]

The data (service teams, tiers, KPIs shared by every service and KPIs of their own, targets
global, per tier and per service, escalation steps, outcome links, and stored statuses for
several periods per KPI, overall and per service, so "latest" has to pick) goes in with COPY,
seeded: same seed, same rows. `kpi serve --workers N` (one worker by default) and one
PostGraphile process (Node is single-threaded) serve it on loopback, each with a pool of ten
connections; ours checks the read token of every request (one indexed lookup), PostGraphile
is open. PostGraphile is installed with `npm ci` in bench/postgraphile on first run.

Both answers are projected on the same facts (sorted, enums lower-case, instants in UTC) and
compared: a difference is printed and the exit status is 1. Then sequential requests, in
rounds alternating between the servers, give p50/p99 latency per request, and a few
concurrent clients give the throughput of each.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.graphql_floor import completion_floor, count_fields
from bench.harness import (
    allocate_ids,
    free_port,
    fresh_schema,
    run,
    running_server,
)
from bench.load import server_processes
from bench.scale import add_scale_options
from service import db as dbmod
from service.kpi import periods
from service.models.enums import Cadence, Scope
from service.usecases.tokens import create_token

POSTGRAPHILE_DIR = Path(__file__).parent / "postgraphile"
END = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

#: Our query: the portal's page of services, each with what hangs off it.
OUR_QUERY = """
query Portal($first: Int!) {
  services(first: $first) {
    nodes {
      slug name tier
      team { slug name email }
      kpis(first: 50) {
        nodes {
          kpi {
            key name unit direction cadence
            owners { business technology }
            escalationPath { position who channel afterBreachedPeriods }
            targets(first: 10) { nodes { service tier value warning effectiveFrom effectiveTo } }
            statusHistory(first: 1) {
              nodes { periodStart periodEnd value target status trend evaluatedAt }
            }
          }
        }
      }
      outcomes(first: 20) { nodes { slug name } }
    }
  }
}
"""

#: The same facts through PostGraphile's generated relations (foreign keys); the latest overall
#: status is the KPI's newest stored row without a service.
POSTGRAPHILE_QUERY = """
query Portal($first: Int!) {
  allBusinessServices(first: $first, orderBy: PRIMARY_KEY_ASC) {
    nodes {
      slug name tier
      teamByTeamId { slug name email }
      kpiServicesByServiceId {
        nodes {
          kpiByKpiId {
            key name unit direction cadence businessOwner technologyOwner
            escalationStepsByKpiId(orderBy: POSITION_ASC) {
              nodes { position who channel afterBreachedPeriods }
            }
            targetsByKpiId {
              nodes {
                businessServiceByServiceId { slug }
                tier value warning effectiveFrom effectiveTo
              }
            }
            kpiStatusesByKpiId(condition: {serviceId: null}, orderBy: PERIOD_START_DESC, first: 1) {
              nodes { periodStart periodEnd value target status trend evaluatedAt }
            }
            kpiOutcomesByKpiId { nodes { businessOutcomeByOutcomeId { slug name } } }
          }
        }
      }
    }
  }
}
"""


# --- the data set ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    teams: int
    services: int
    kpis: int
    links: int
    targets: int
    steps: int
    outcomes: int
    statuses: int


_SHARED = (
    # key, name, unit, direction, aggregation, kind, metric, cadence
    ("availability", "Availability", "percent", "higher_is_better", None, "builtin",
     "availability", "monthly"),
    ("mttr", "Mean time to restore", "minutes", "lower_is_better", None, "builtin", "mttr",
     "weekly"),
    ("p95_latency", "p95 latency", "ms", "lower_is_better", "max", "observed", None, "weekly"),
    ("error_rate", "Error rate", "percent", "lower_is_better", "avg", "observed", None, "weekly"),
)  # fmt: skip
_UNITS = (("ms", "lower_is_better"), ("percent", "higher_is_better"), ("count", "higher_is_better"),
          ("eur", "higher_is_better"), ("minutes", "lower_is_better"))  # fmt: skip
_CADENCES = ("weekly", "weekly", "monthly", "daily", None)
_STATUSES = ("met", "met", "met", "at_risk", "breached", "no_data")
_TRENDS = ("improving", "steady", "worsening", "unknown")


async def seed_portal(con: dbmod.Connection, *, services: int, periods_per_kpi: int,
                      seed: int) -> Seeded:  # fmt: skip
    """Teams, services, outcomes, KPIs (four shared by every service, one to four of each
    service's own), their escalation steps, targets, outcome links and stored statuses for the
    last `periods_per_kpi` closed periods before END, overall and per service."""
    rng = random.Random(seed)
    p = f"p{seed}"
    n_teams = max(2, services // 8)
    team_ids = await allocate_ids(con, "team", n_teams)
    await con.copy_records_to_table("team", columns=("id", "slug", "name", "email"), records=[
        (tid, f"{p}-team-{t:03d}", f"Team {t}", None if t % 5 == 4 else f"team{t}@example.com")
        for t, tid in enumerate(team_ids)
    ])  # fmt: skip
    svc_ids = await allocate_ids(con, "business_service", services)
    tiers = [rng.choices((1, 2, 3, 4), weights=(15, 30, 35, 20))[0] for _ in svc_ids]
    await con.copy_records_to_table(
        "business_service",
        columns=("id", "slug", "name", "tier", "team_id", "business_owner", "technology_owner"),
        records=[
            (sid, f"{p}-svc-{i:04d}", f"Service {i}", tiers[i],
             team_ids[rng.randrange(n_teams)] if rng.random() >= 0.05 else None,
             f"owner-{i % 13}", f"tech-{i % 7}")
            for i, sid in enumerate(svc_ids)
        ],
    )  # fmt: skip
    n_outcomes = 12
    outcome_ids = await allocate_ids(con, "business_outcome", n_outcomes)
    await con.copy_records_to_table(
        "business_outcome", columns=("id", "slug", "name", "description", "owner"),
        records=[(oid, f"{p}-outcome-{o:02d}", f"Outcome {o}", f"Why outcome {o} matters",
                  f"exec-{o % 4}") for o, oid in enumerate(outcome_ids)],
    )  # fmt: skip

    # KPIs: (key, name, unit, direction, aggregation, kind, metric, cadence) and their services.
    defs: list[tuple[Any, ...]] = [(f"{p}_{d[0]}", *d[1:]) for d in _SHARED]
    applies: list[list[int]] = [list(range(services)) for _ in _SHARED]
    for i in range(services):
        for j in range(rng.randint(1, 4)):
            unit, direction = _UNITS[rng.randrange(len(_UNITS))]
            defs.append((f"{p}_s{i:04d}_k{j}", f"Service {i} KPI {j}", unit, direction, "avg",
                         "observed", None, _CADENCES[rng.randrange(len(_CADENCES))]))  # fmt: skip
            applies.append([i])
    kpi_ids = await allocate_ids(con, "kpi", len(defs))
    await con.copy_records_to_table(
        "kpi",
        columns=("id", "key", "name", "unit", "direction", "aggregation", "kind",
                 "builtin_metric", "cadence", "business_owner", "technology_owner", "tags"),
        records=[(kid, *d, f"biz-{k % 11}" if k % 6 else None, f"tech-{k % 5}", ["portal"])
                 for k, (kid, d) in enumerate(zip(kpi_ids, defs, strict=True))],
    )  # fmt: skip
    links = [(kid, svc_ids[s]) for kid, ss in zip(kpi_ids, applies, strict=True) for s in ss]
    await con.copy_records_to_table("kpi_service", columns=("kpi_id", "service_id"),
                                    records=links)  # fmt: skip

    steps = []
    outcome_links = []
    targets: list[tuple[Any, ...]] = []
    for k, kid in enumerate(kpi_ids):
        for pos in range(1, rng.randint(0, 3) + 1):
            channel = "email" if rng.random() < 0.6 else "webhook"
            address = (f"oncall{k}@example.com" if channel == "email"
                       else f"https://hooks.example.com/{k}/{pos}")  # fmt: skip
            steps.append((kid, pos, f"role-{pos}-{k % 9}", channel, address, pos,
                          30 * pos if rng.random() < 0.5 else None))  # fmt: skip
        for oid in rng.sample(outcome_ids, 3 if k < len(_SHARED) else rng.randint(1, 2)):
            outcome_links.append((kid, oid, round(rng.uniform(0.5, 3.0), 2),
                                  "drives it" if rng.random() < 0.5 else None))  # fmt: skip
        base = round(rng.uniform(10, 1000), 1)
        targets.append((kid, None, None, base, round(base * 1.1, 1), dt.date(2025, 1, 1), None))
        targets.append((kid, None, None, base * 2, None, dt.date(2024, 1, 1), dt.date(2025, 1, 1)))
        if k < len(_SHARED):
            for tier in (1, 2, 3, 4):
                targets.append((kid, None, tier, base + tier, None, dt.date(2025, 6, 1), None))
        elif rng.random() < 0.4:
            targets.append((kid, svc_ids[applies[k][0]], None, base / 2, None,
                            dt.date(2025, 3, 1), None))  # fmt: skip
    await con.copy_records_to_table(
        "escalation_step",
        columns=("kpi_id", "position", "who", "channel", "address", "after_breached_periods",
                 "after_unacknowledged_minutes"),
        records=steps,
    )  # fmt: skip
    await con.copy_records_to_table(
        "kpi_outcome", columns=("kpi_id", "outcome_id", "weight", "rationale"),
        records=outcome_links,
    )  # fmt: skip
    await con.copy_records_to_table(
        "target",
        columns=("kpi_id", "service_id", "tier", "value", "warning", "effective_from",
                 "effective_to"),
        records=targets,
    )  # fmt: skip

    statuses = []
    for kid, d, ss in zip(kpi_ids, defs, applies, strict=True):
        if d[-1] is None:
            continue
        cadence = Cadence(d[-1])
        period = periods.last_closed(cadence, END)
        for _ in range(periods_per_kpi):
            for sid in (None, *(svc_ids[s] for s in ss)):
                value = round(rng.uniform(0, 1000), 3) if rng.random() >= 0.05 else None
                statuses.append((
                    kid, sid, cadence.value, period.start, period.end, value,
                    round(rng.uniform(0, 1000), 1), None, "global" if sid is None else "tier",
                    _STATUSES[rng.randrange(len(_STATUSES))], None,
                    _TRENDS[rng.randrange(len(_TRENDS))], period.end + dt.timedelta(hours=1),
                ))  # fmt: skip
            period = periods.previous(cadence, period)
    await con.copy_records_to_table(
        "kpi_status",
        columns=("kpi_id", "service_id", "cadence", "period_start", "period_end", "value",
                 "target", "warning", "target_scope", "status", "previous_value", "trend",
                 "evaluated_at"),
        records=statuses,
    )  # fmt: skip
    for table in (
        "team",
        "business_service",
        "business_outcome",
        "kpi",
        "kpi_service",
        "escalation_step",
        "kpi_outcome",
        "target",
        "kpi_status",
    ):
        await con.execute(f"analyze {table}")
    return Seeded(n_teams, services, len(kpi_ids), len(links), len(targets), len(steps),
                  n_outcomes, len(statuses))  # fmt: skip


# --- the same facts from both answers -------------------------------------------------------


def _instant(value: str | None) -> str | None:
    if value is None:
        return None
    return dt.datetime.fromisoformat(value).astimezone(dt.UTC).isoformat()


def _lower(value: str | None) -> str | None:
    return None if value is None else value.lower()


def _status(st: dict[str, Any] | None) -> tuple[Any, ...] | None:
    if st is None:
        return None
    return (_instant(st["periodStart"]), _instant(st["periodEnd"]), st["value"], st["target"],
            _lower(st["status"]), _lower(st["trend"]), _instant(st["evaluatedAt"]))  # fmt: skip


def _target(t: dict[str, Any], service: str | None) -> tuple[Any, ...]:
    return (service or "", t["tier"] or 0, t["value"], t["warning"], t["effectiveFrom"],
            t["effectiveTo"] or "")  # fmt: skip


def ours_projected(answer: dict[str, Any]) -> list[Any]:
    out = []
    for s in answer["data"]["services"]["nodes"]:
        team = s["team"]
        kpis = sorted(
            (k["key"], k["name"], k["unit"], _lower(k["direction"]), _lower(k["cadence"]),
             k["owners"]["business"], k["owners"]["technology"],
             tuple((e["position"], e["who"], _lower(e["channel"]), e["afterBreachedPeriods"])
                   for e in k["escalationPath"]),
             tuple(sorted(_target(t, t["service"]) for t in k["targets"]["nodes"])),
             _status(k["statusHistory"]["nodes"][0] if k["statusHistory"]["nodes"] else None))
            for k in (edge["kpi"] for edge in s["kpis"]["nodes"])
        )  # fmt: skip
        outcomes = sorted((o["slug"], o["name"]) for o in s["outcomes"]["nodes"])
        out.append((s["slug"], s["name"], s["tier"],
                    None if team is None else (team["slug"], team["name"], team["email"]),
                    kpis, outcomes))  # fmt: skip
    return out


def postgraphile_projected(answer: dict[str, Any]) -> list[Any]:
    out = []
    for s in answer["data"]["allBusinessServices"]["nodes"]:
        team = s["teamByTeamId"]
        kpis = []
        outcomes = set()
        for link in s["kpiServicesByServiceId"]["nodes"]:
            k = link["kpiByKpiId"]
            statuses = k["kpiStatusesByKpiId"]["nodes"]
            kpis.append((
                k["key"], k["name"], k["unit"], k["direction"], k["cadence"], k["businessOwner"],
                k["technologyOwner"],
                tuple((e["position"], e["who"], e["channel"], e["afterBreachedPeriods"])
                      for e in k["escalationStepsByKpiId"]["nodes"]),
                tuple(sorted(
                    _target(t, (t["businessServiceByServiceId"] or {}).get("slug"))
                    for t in k["targetsByKpiId"]["nodes"]
                )),
                _status(statuses[0] if statuses else None),
            ))  # fmt: skip
            for o in k["kpiOutcomesByKpiId"]["nodes"]:
                outcome = o["businessOutcomeByOutcomeId"]
                outcomes.add((outcome["slug"], outcome["name"]))
        out.append((s["slug"], s["name"], s["tier"],
                    None if team is None else (team["slug"], team["name"], team["email"]),
                    sorted(kpis), sorted(outcomes)))  # fmt: skip
    return out


def first_difference(a: list[Any], b: list[Any]) -> str | None:
    if len(a) != len(b):
        return f"{len(a)} services against {len(b)}"
    for x, y in zip(a, b, strict=True):
        if x != y:
            return f"service {x[0]}:\n  ours:         {x!r:.1500}\n  postgraphile: {y!r:.1500}"
    return None


# --- PostGraphile ---------------------------------------------------------------------------


def install_postgraphile() -> None:
    """`npm ci` in bench/postgraphile, unless PostGraphile is installed there."""
    if (POSTGRAPHILE_DIR / "node_modules" / "postgraphile" / "package.json").exists():
        return
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise SystemExit("graphql-portal needs node and npm for PostGraphile "
                         "(or --no-postgraphile)")  # fmt: skip
    print("installing PostGraphile with npm ci ...", file=sys.stderr)
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                   cwd=POSTGRAPHILE_DIR, check=True, stdout=sys.stderr)  # fmt: skip


def node_version() -> str:
    node = shutil.which("node")
    if node is None:
        return "none"
    return subprocess.run([node, "--version"], capture_output=True, text=True,
                          check=False).stdout.strip()  # fmt: skip


@contextlib.asynccontextmanager
async def running_postgraphile(url: str, schema: str) -> AsyncIterator[tuple[str, int]]:
    """PostGraphile on loopback; yields its /graphql URL and process id once it answers."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "PG_SCHEMA": schema, "PORT": str(port),
           "NODE_ENV": "production"}  # fmt: skip
    node = shutil.which("node") or "node"
    server = subprocess.Popen([node, "server.js"], cwd=POSTGRAPHILE_DIR, env=env,
                              stdout=subprocess.DEVNULL)  # fmt: skip
    endpoint = f"http://127.0.0.1:{port}/graphql"
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(300):
                if server.poll() is not None:
                    raise RuntimeError("PostGraphile exited")
                with contextlib.suppress(httpx.TransportError):
                    r = await client.post(endpoint, json={"query": "{ __typename }"})
                    if r.status_code == 200:
                        break
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError("PostGraphile did not become ready")
        yield endpoint, server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)


# --- measuring ------------------------------------------------------------------------------


@dataclass
class Side:
    name: str
    endpoint: str
    body: bytes
    headers: dict[str, str]
    latencies: list[float]
    throughput: float = 0.0
    #: The server's processes, and the CPU seconds they spent on the sequential requests.
    pids: list[int] = field(default_factory=list)
    cpu: float | None = 0.0


def cpu_seconds(pids: list[int]) -> float | None:
    """User + system CPU time of the processes (Linux /proc), None where unknown."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total if pids else None


async def _post(client: httpx.AsyncClient, side: Side) -> bytes:
    r = await client.post(side.endpoint, content=side.body, headers=side.headers)
    if r.status_code != 200:
        raise RuntimeError(f"{side.name}: HTTP {r.status_code}: {r.text[:500]}")
    return r.content


async def answer(side: Side) -> tuple[dict[str, Any], int]:
    """The side's answer, parsed, and its size in bytes."""
    async with httpx.AsyncClient(timeout=120) as client:
        body = await _post(client, side)
    found: dict[str, Any] = orjson.loads(body)
    if found.get("errors"):
        raise RuntimeError(f"{side.name}: {found['errors']!r:.2000}")
    return found, len(body)


async def sequential(side: Side, n: int) -> None:
    async with httpx.AsyncClient(timeout=120) as client:
        before = cpu_seconds(side.pids)
        for _ in range(n):
            t = time.perf_counter()
            await _post(client, side)
            side.latencies.append(time.perf_counter() - t)
        after = cpu_seconds(side.pids)
        if side.cpu is None or before is None or after is None:
            side.cpu = None
        else:
            side.cpu += after - before


async def concurrent(side: Side, clients: int, n: int) -> float:
    """Requests per second of `clients` closed-loop clients sending `n` requests in all."""
    left = [n]

    async def client_loop() -> None:
        async with httpx.AsyncClient(timeout=120) as client:
            while left[0] > 0:
                left[0] -= 1
                await _post(client, side)

    t = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(clients)))
    return n / (time.perf_counter() - t)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


@contextlib.contextmanager
def server_env() -> Iterator[None]:
    """The server inherits this process's environment: no rate limits, no background work."""
    saved = {k: os.environ.get(k) for k in ("KPI_RATE_LIMIT_PER_SECOND", "KPI_BACKGROUND")}
    os.environ.update({"KPI_RATE_LIMIT_PER_SECOND": "0", "KPI_BACKGROUND": "false"})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def page_sides(token: str, page: int) -> tuple[Side, Side]:
    """Our side and PostGraphile's asking for the same page, not yet started."""
    variables = {"first": page}
    ours = Side("ours", "", orjson.dumps({"query": OUR_QUERY, "variables": variables}),
                {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                [])  # fmt: skip
    theirs = Side("postgraphile", "",
                  orjson.dumps({"query": POSTGRAPHILE_QUERY, "variables": variables}),
                  {"Content-Type": "application/json"}, [])  # fmt: skip
    return ours, theirs


async def start_servers(stack: contextlib.AsyncExitStack, url: str, schema: str, workers: int,
                        ours: Side, theirs: Side | None) -> None:  # fmt: skip
    """`kpi serve` (and PostGraphile unless `theirs` is None) on the schema until the stack
    closes; sets each side's endpoint and server processes."""
    with server_env():
        base = await stack.enter_async_context(running_server(url, schema, workers))
    ours.endpoint = f"{base}/graphql"
    master, children = server_processes(int(base.rsplit(":", 1)[1]))
    ours.pids = [p for p in (master, *children) if p is not None]
    if theirs is not None:
        theirs.endpoint, pid = await stack.enter_async_context(running_postgraphile(url, schema))
        theirs.pids = [pid]


async def _bench(url: str, args: argparse.Namespace) -> int:
    with_pg = not args.no_postgraphile
    if with_pg:
        install_postgraphile()
    variables = {"first": args.page}
    async with fresh_schema(url) as (con, schema):
        t = time.perf_counter()
        seeded = await seed_portal(con, services=args.services, periods_per_kpi=args.periods,
                                   seed=args.seed)  # fmt: skip
        token = (await create_token(con, name="portal", scopes=[Scope.READ])).token
        print(
            f"graphql-portal: {seeded.services} services, {seeded.teams} teams, "
            f"{seeded.kpis} KPIs, {seeded.links} KPI-service links, {seeded.targets} targets, "
            f"{seeded.steps} escalation steps, {seeded.outcomes} outcomes, {seeded.statuses} "
            f"stored statuses (seed {args.seed}, {time.perf_counter() - t:.1f} s to load)"
        )
        print(
            f"cores: {os.cpu_count()}; ours: kpi serve --workers {args.workers}; baseline: "
            f"PostGraphile 4, one Node {node_version()} process; both pools of 10 connections"
        )
        ours, theirs = page_sides(token, args.page)
        sides = [ours, theirs] if with_pg else [ours]
        async with contextlib.AsyncExitStack() as stack:
            await start_servers(stack, url, schema, args.workers, ours, theirs if with_pg else None)
            found, size = await answer(ours)
            mine = ours_projected(found)
            n_kpis = sum(len(s[4]) for s in mine)
            print(f"page: {len(mine)} services, {n_kpis} KPI nodes, our answer {size:,} bytes, "
                  f"{count_fields(found['data']):,} fields")  # fmt: skip
            floor = completion_floor(found["data"], OUR_QUERY, variables)
            if with_pg:
                found, size = await answer(theirs)
                print(f"  PostGraphile's answer {size:,} bytes")
                diff = first_difference(mine, postgraphile_projected(found))
                if diff is not None:
                    print(f"same facts: NO\n{diff}")
                    return 1
                print(
                    "same facts: yes (services, team, KPIs, escalation steps, targets, latest "
                    "status, outcomes)"
                )
            for side in sides:
                await sequential(side, args.warmup)
                side.latencies.clear()
                side.cpu = 0.0
            load_start = os.getloadavg()
            per_round = max(1, args.requests // args.rounds)
            for _ in range(args.rounds):
                for side in sides:
                    await sequential(side, per_round)
            for side in sides:
                side.throughput = await concurrent(side, args.concurrency,
                                                   args.concurrent_requests)  # fmt: skip
            load_end = os.getloadavg()
    print(
        f"sequential: {per_round * args.rounds} requests per server, in {args.rounds} rounds "
        f"alternating; then {args.concurrency} concurrent clients, {args.concurrent_requests} "
        f"requests per server"
    )
    for side in sides:
        lat = side.latencies
        cpu = "" if side.cpu is None else f"  server CPU {_ms(side.cpu / len(lat))}"
        print(
            f"  {side.name:<13} p50 {_ms(percentile(lat, 0.5))}  p99 "
            f"{_ms(percentile(lat, 0.99))}  mean {_ms(statistics.fmean(lat))}{cpu}  "
            f"{side.throughput:7.1f} req/s with {args.concurrency} clients"
        )
    if with_pg:
        ratio50 = percentile(ours.latencies, 0.5) / percentile(theirs.latencies, 0.5)
        ratio99 = percentile(ours.latencies, 0.99) / percentile(theirs.latencies, 0.99)
        cpu = ""
        if ours.cpu is not None and theirs.cpu:
            cpu = f", server CPU {ours.cpu / theirs.cpu:.2f}"
        print(
            f"ratio ours/postgraphile: p50 {ratio50:.2f}, p99 {ratio99:.2f}, throughput "
            f"{theirs.throughput / ours.throughput:.2f}{cpu} (time per request; goal <= 1.0)"
        )
        print(
            "  (server CPU: the server's own processes per sequential request; the Postgres "
            "work behind each request is not in it)"
        )
    print(
        f"stock graphql-core alone, completing our answer from memory: {_ms(floor)} CPU a page"
        + (f", {floor / percentile(theirs.latencies, 0.5):.2f} of PostGraphile's p50"
           if with_pg else "")
        + (f" and {floor / (theirs.cpu / len(theirs.latencies)):.2f} of its server CPU"
           if with_pg and theirs.cpu else "")
        + " (the least any server executing this query the stock way spends)"
    )  # fmt: skip
    print(f"load average: {load_start[0]:.2f} at start, {load_end[0]:.2f} at end")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="kpi bench graphql-portal", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("--services", type=int, default=120)
    parser.add_argument("--periods", type=int, default=6, help="stored periods per KPI")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--page", type=int, default=100, help="services on the page (<= 100)")
    parser.add_argument("--requests", type=int, default=200, help="sequential, per server")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--concurrent-requests", type=int, default=200)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--no-postgraphile", action="store_true",
                        help="our side only (no node/npm needed)")  # fmt: skip
    add_scale_options(
        parser, "graphql-portal",
        "catalog sizes instead, the largest --services services and each other half the next",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if not 1 <= args.page <= 100 or args.services < 1 or args.periods < 1 or args.rounds < 1:
        parser.error("need 1 <= --page <= 100, and at least one service, period and round")
    if args.scale is not None and (
        args.scale < 2 or args.no_postgraphile or args.services >> (args.scale - 1) < 1
    ):
        parser.error("--scale needs at least 2 sizes, PostGraphile, and --services of at "
                     "least 2^(N-1)")  # fmt: skip
    code = [0]

    async def bench(url: str) -> None:
        if args.scale is not None:
            from bench.graphql_portal_scale import sweep

            code[0] = await sweep(url, args)
            return
        code[0] = await _bench(url, args)

    run(bench)
    return code[0]
