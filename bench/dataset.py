"""A seeded, reproducible data set of any size: teams, business services, incidents, changes and
commit times, spread over a time range that ends at a fixed instant.

Same seed, same arguments: same rows (only the generated ids may differ). What it holds:

- services over tiers 1-4 and a few teams (some with no team), with revenue per hour (some
  unknown), user counts and outage thresholds (mostly sev2; sev3 for some tier 1, sev1 for
  some tier 4); some services several times busier than most;
- incidents of severity sev1-sev5 (a few unmapped, a few with no service), with impact start,
  detection, acknowledgement and resolution skewed (log-normal) by severity; bursts of incidents
  on one service that overlap; some still open (resolution after the end, or never); problem
  keys that recur on a service; users affected; a few explicit cost estimates; some caused by
  the service's last production change before them when that change was a breaking one (an
  explicit link; those are restored sooner);
- changes in production and elsewhere, of kind deploy / config / patch / rollback / hotfix and
  status success / failed / rolled_back / in_progress / canceled, with commit shas (production
  often deploys the sha staged earlier) and commit times for lead time (a few commits unknown).

Rows go in with COPY, in the built-in 'api' source; external ids and slugs carry the seed, so
two data sets of different seeds can share a schema.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

from bench.harness import allocate_ids
from service.db import Connection

SEVERITIES = ("sev1", "sev2", "sev3", "sev4", "sev5")
_SEVERITY_WEIGHTS = (1, 4, 20, 40, 35)
_TIER_WEIGHTS = (15, 30, 35, 20)
_TIER_REVENUE = {1: 20_000.0, 2: 5_000.0, 3: 1_000.0, 4: 100.0}
_TIER_USERS = {1: 200_000.0, 2: 50_000.0, 3: 5_000.0, 4: 500.0}

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS

# Per severity, the median (ms) of each delay; each delay is drawn log-normal around it.
_DETECT_MS = {"sev1": 3 * MINUTE_MS, "sev2": 6 * MINUTE_MS, "sev3": 15 * MINUTE_MS,
              "sev4": 40 * MINUTE_MS, "sev5": 2 * HOUR_MS}  # fmt: skip
_ACK_MS = {"sev1": 2 * MINUTE_MS, "sev2": 5 * MINUTE_MS, "sev3": 20 * MINUTE_MS,
           "sev4": HOUR_MS, "sev5": 4 * HOUR_MS}  # fmt: skip
_RESOLVE_MS = {"sev1": 45 * MINUTE_MS, "sev2": 90 * MINUTE_MS, "sev3": 6 * HOUR_MS,
               "sev4": DAY_MS, "sev5": 3 * DAY_MS}  # fmt: skip

_CHANGE_KINDS = ("deploy", "config", "patch", "rollback", "hotfix")
_CHANGE_KIND_WEIGHTS = (70, 10, 8, 5, 7)
_CHANGE_STATUSES = ("success", "failed", "rolled_back", "in_progress", "canceled")
_CHANGE_STATUS_WEIGHTS = (82, 8, 4, 1, 5)
_NON_PRODUCTION = ("staging", "qa", "dev")

_INCIDENT_COLUMNS = (
    "source_id", "external_id", "service_id", "severity", "priority", "status", "title",
    "started_at", "detected_at", "acknowledged_at", "resolved_at", "users_affected",
    "cost_estimate", "problem_key", "caused_by_change_id", "caused_by_ref", "link_kind",
)  # fmt: skip
_CHANGE_COLUMNS = (
    "id", "source_id", "external_id", "service_id", "environment", "is_production", "kind",
    "status", "started_at", "finished_at", "commit_sha", "title",
)  # fmt: skip


@dataclass(frozen=True)
class DatasetInfo:
    seed: int
    start: dt.datetime
    end: dt.datetime
    team_slugs: tuple[str, ...]
    service_ids: tuple[int, ...]
    service_slugs: tuple[str, ...]
    incidents: int
    open_incidents: int
    linked_incidents: int
    changes: int
    production_changes: int
    commits: int


class _Picker:
    """Draws from fixed weights in O(log n) per draw."""

    def __init__(self, values: Sequence[str], weights: Sequence[float]) -> None:
        self.values = tuple(values)
        self.cumulative = list(itertools.accumulate(weights))
        self.total = self.cumulative[-1]

    def __call__(self, rng: random.Random) -> str:
        return self.values[bisect.bisect_right(self.cumulative, rng.random() * self.total)]


def _lognormal_ms(rng: random.Random, median_ms: float, sigma: float) -> int:
    return max(1, int(median_ms * math.exp(sigma * rng.gauss(0.0, 1.0))))


@dataclass
class _Service:
    id: int
    slug: str
    tier: int


@dataclass
class _Links:
    """Each service's finished production changes, by finish time, to link incidents to."""

    finished: list[list[int]]
    ids: list[list[int]]
    refs: list[list[str]]
    #: Whether the change is one that breaks something (incidents after it may name it).
    bad: list[list[bool]]


async def _catalog(
    con: Connection, rng: random.Random, prefix: str, services: int
) -> tuple[list[str], list[_Service]]:
    n_teams = max(1, min(60, services // 8 + 1))
    team_ids = await allocate_ids(con, "team", n_teams)
    team_slugs = [f"{prefix}-team-{i:03d}" for i in range(n_teams)]
    await con.copy_records_to_table(
        "team",
        records=[
            (tid, slug, f"Team {slug}", f"{slug}@example.com")
            for tid, slug in zip(team_ids, team_slugs, strict=True)
        ],
        columns=("id", "slug", "name", "email"),
    )
    ids = await allocate_ids(con, "business_service", services)
    out: list[_Service] = []
    records = []
    for i, sid in enumerate(ids):
        slug = f"{prefix}-svc-{i:05d}"
        tier = rng.choices((1, 2, 3, 4), weights=_TIER_WEIGHTS)[0]
        team = team_ids[rng.randrange(n_teams)] if rng.random() >= 0.05 else None
        revenue: Decimal | None = Decimal(
            f"{_TIER_REVENUE[tier] * rng.lognormvariate(0.0, 0.7):.2f}"
        )
        if rng.random() < 0.1:
            revenue = None
        users = int(_TIER_USERS[tier] * rng.lognormvariate(0.0, 1.0))
        threshold = "sev2"
        if tier == 1 and rng.random() < 0.2:
            threshold = "sev3"
        elif tier == 4 and rng.random() < 0.3:
            threshold = "sev1"
        out.append(_Service(sid, slug, tier))
        records.append((
            sid, slug, f"Service {i}", tier, team, f"owner-{i % 17}", f"tech-{i % 23}",
            revenue, users, threshold,
        ))  # fmt: skip
    await con.copy_records_to_table(
        "business_service",
        records=records,
        columns=("id", "slug", "name", "tier", "team_id", "business_owner", "technology_owner",
                 "revenue_per_hour", "user_count", "outage_threshold"),
    )  # fmt: skip
    return team_slugs, out


def _service_weights(rng: random.Random, n: int, sigma: float) -> list[float]:
    """Cumulative weights: some services are several times busier than most."""
    return list(itertools.accumulate(rng.lognormvariate(0.0, sigma) for _ in range(n)))


async def generate(
    con: Connection, *, services: int, incidents: int, changes: int, seed: int,
    end: dt.datetime, days: int = 730, unresolved: float = 0.0005,
) -> DatasetInfo:  # fmt: skip
    """Insert a data set of the given sizes over the `days` before `end`; same seed, same rows.

    `unresolved` is the share of incidents never resolved (forgotten tickets), over and above
    those still open at `end`: each such outage counts as downtime up to now.
    """
    if services < 1 or incidents < 0 or changes < 0 or days < 1 or not 0 <= unresolved <= 1:
        raise ValueError(
            "need at least one service, non-negative counts, a positive span and a share"
        )
    if end.tzinfo is None:
        raise ValueError("end must be an aware datetime")
    end = end.astimezone(dt.UTC)
    start = end - dt.timedelta(days=days)
    span_ms = days * DAY_MS
    rng = random.Random(seed)
    prefix = f"s{seed}"
    source_id = await con.fetchval("select id from source where name = 'api'")
    team_slugs, svcs = await _catalog(con, rng, prefix, services)

    def at(ms: int) -> dt.datetime:
        return start + dt.timedelta(milliseconds=ms)

    # Changes, in start order, so production can deploy the sha staged before it.
    change_ids = await allocate_ids(con, "change", changes)
    links = _Links([[] for _ in svcs], [[] for _ in svcs], [[] for _ in svcs], [[] for _ in svcs])
    commits: list[tuple[str, dt.datetime, str]] = []
    counts = {"production": 0}

    def change_rows() -> Iterator[tuple[object, ...]]:
        cum = _service_weights(rng, len(svcs), 0.8)
        who = rng.choices(range(len(svcs)), cum_weights=cum, k=changes)
        starts = sorted(rng.randrange(span_ms) for _ in range(changes))
        kind_of = _Picker(_CHANGE_KINDS, _CHANGE_KIND_WEIGHTS)
        status_of = _Picker(_CHANGE_STATUSES, _CHANGE_STATUS_WEIGHTS)
        staged: list[str | None] = [None] * len(svcs)  # each service's last staged sha
        for j, (cid, s, begin) in enumerate(zip(change_ids, who, starts, strict=True)):
            svc = svcs[s]
            production = rng.random() < 0.55
            if production:
                environment = "production" if rng.random() >= 0.15 else "prod"
            else:
                environment = _NON_PRODUCTION[rng.randrange(3)]
            kind = kind_of(rng)
            status = status_of(rng)
            finish: int | None = begin + _lognormal_ms(rng, 6 * MINUTE_MS, 0.8)
            if status == "in_progress" or (finish is not None and finish >= span_ms):
                status, finish = "in_progress", None
            sha: str | None = None
            if kind != "config" or rng.random() < 0.5:
                reuse = staged[s]
                if production and reuse is not None and rng.random() < 0.4:
                    sha = reuse
                else:
                    sha = f"{rng.getrandbits(160):040x}"
                    committed = begin - _lognormal_ms(rng, 20 * HOUR_MS, 1.2)
                    if rng.random() >= 0.05:
                        commits.append((sha, at(committed), f"example/{svc.slug}"))
                    if not production:
                        staged[s] = sha
            external = f"{prefix}-chg-{j:07d}"
            if production:
                counts["production"] += 1
                if finish is not None and status != "canceled":
                    links.finished[s].append(finish)
                    links.ids[s].append(cid)
                    links.refs[s].append(external)
                    links.bad[s].append(rng.random() < 0.1)
            yield (
                cid, source_id, external, svc.id, environment, production, kind, status,
                at(begin), None if finish is None else at(finish), sha, f"{kind} {j}",
            )  # fmt: skip

    await con.copy_records_to_table("change", records=change_rows(), columns=_CHANGE_COLUMNS)
    if commits:
        await con.copy_records_to_table(
            "commit_time", records=commits, columns=("sha", "committed_at", "repo")
        )
    # Finish times are near start order but not in it: sort each service's list once.
    for s in range(len(svcs)):
        order = sorted(range(len(links.finished[s])), key=links.finished[s].__getitem__)
        links.finished[s] = [links.finished[s][k] for k in order]
        links.ids[s] = [links.ids[s][k] for k in order]
        links.refs[s] = [links.refs[s][k] for k in order]
        links.bad[s] = [links.bad[s][k] for k in order]

    stats = {"open": 0, "linked": 0}

    def incident_rows() -> Iterator[tuple[object, ...]]:
        cum = _service_weights(rng, len(svcs), 0.6)
        who = rng.choices(range(len(svcs)), cum_weights=cum, k=incidents)
        severity_of = _Picker(SEVERITIES, _SEVERITY_WEIGHTS)
        own_keys = [max(2, int(rng.lognormvariate(1.2, 0.5))) for _ in svcs]
        previous: tuple[int, int, str | None, str | None] | None = None
        for i in range(incidents):
            s = who[i]
            severity: str | None = severity_of(rng) if rng.random() >= 0.01 else None
            begin = rng.randrange(span_ms)
            problem: str | None = None
            if rng.random() < 0.35:
                if rng.random() < 0.85:
                    problem = f"PRB-{s}-{rng.randrange(own_keys[s])}"
                else:
                    problem = f"PRB-X-{rng.randrange(20)}"
            if previous is not None and rng.random() < 0.12:
                # A burst: shortly after the previous incident, on its service, often alike.
                s, begin = previous[0], previous[1] + rng.randrange(90 * MINUTE_MS)
                if rng.random() < 0.5:
                    severity = previous[3]
                if rng.random() < 0.6:
                    problem = previous[2]
                if rng.random() < 0.03:
                    begin = previous[1]  # the same alert twice: an exact tie
                begin = min(begin, span_ms - 1)
            svc = svcs[s]
            previous = (s, begin, problem, severity)
            grade = severity or "sev3"
            caused: int | None = None
            ref: str | None = None
            # An incident soon after a breaking production change of its service often names
            # that change as its cause; rolling the change back restores service sooner.
            k = bisect.bisect_right(links.finished[s], begin) - 1
            if k >= 0 and links.bad[s][k] and begin - links.finished[s][k] <= 2 * DAY_MS:
                if rng.random() < 0.5:
                    caused, ref = links.ids[s][k], links.refs[s][k]
                    stats["linked"] += 1
            restore_ms = _RESOLVE_MS[grade] if caused is None else min(_RESOLVE_MS[grade], HOUR_MS)
            detected = begin if rng.random() < 0.25 else begin + _lognormal_ms(
                rng, _DETECT_MS[grade], 1.0
            )  # fmt: skip
            detected = min(detected, span_ms - 1)
            acked: int | None = None
            if rng.random() >= 0.08:
                acked = detected + _lognormal_ms(rng, _ACK_MS[grade], 1.0)
            resolved: int | None = (acked or detected) + _lognormal_ms(rng, restore_ms, 1.2)
            if rng.random() < unresolved or (resolved is not None and resolved >= span_ms):
                resolved = None
            if acked is not None and acked >= span_ms:
                acked = None
            if resolved is not None:
                status = "resolved"
            else:
                status = "acknowledged" if acked is not None else "open"
                stats["open"] += 1
            users = int(_TIER_USERS[svc.tier] / 100 * rng.lognormvariate(0.0, 1.5))
            cost = round(rng.lognormvariate(math.log(2_000), 1.5), 2)
            service_id: int | None = svc.id if rng.random() >= 0.005 else None
            yield (
                source_id, f"{prefix}-inc-{i:07d}", service_id, severity,
                None if severity is None else f"P{severity[-1]}", status,
                f"{svc.slug} incident {i}", at(begin), at(detected),
                None if acked is None else at(acked), None if resolved is None else at(resolved),
                users if rng.random() < 0.65 else None, cost if rng.random() < 0.12 else None,
                problem, caused, ref, None if caused is None else "explicit",
            )  # fmt: skip

    await con.copy_records_to_table("incident", records=incident_rows(), columns=_INCIDENT_COLUMNS)
    for table in ("team", "business_service", "change", "commit_time", "incident"):
        await con.execute(f"analyze {table}")
    return DatasetInfo(
        seed=seed,
        start=start,
        end=end,
        team_slugs=tuple(team_slugs),
        service_ids=tuple(s.id for s in svcs),
        service_slugs=tuple(s.slug for s in svcs),
        incidents=incidents,
        open_incidents=stats["open"],
        linked_incidents=stats["linked"],
        changes=changes,
        production_changes=counts["production"],
        commits=len(commits),
    )
