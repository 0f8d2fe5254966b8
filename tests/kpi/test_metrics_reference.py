"""The builtin metrics' SQL (service.store.metrics) against a plain-Python reference written from
the definitions in DESIGN ("Metric definitions"), on a generated scenario of a few thousand
incidents and changes: several windows, one service, a team, a tier and the fleet.

The reference reads the stored rows back and computes every figure itself: outage unions with
service.kpi.intervals.union_seconds, percentiles with service.kpi.stats (Postgres'
percentile_cont), nothing from the SQL under test.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from bench.dataset import SEVERITIES, generate
from service import db as dbmod
from service.kpi import builtin, stats
from service.kpi.builtin import ChangeFigures, IncidentFigures, Summary
from service.kpi.intervals import Window, union_seconds
from service.kpi.periods import Period
from service.models.enums import Grain, Severity
from service.store import metrics
from service.store.metrics import IncidentBreakdown, MetricScope
from service.usecases import measure

UTC = dt.UTC
SEED = 20250617
END = dt.datetime(2025, 7, 1, tzinfo=UTC)
#: Inside the last monthly bucket: that bucket is measured up to now, open incidents run to now.
NOW = dt.datetime(2025, 6, 17, 13, 45, 30, 250_000, tzinfo=UTC)
YEAR_START = dt.datetime(2024, 7, 1, tzinfo=UTC)
RECURRENCE = dt.timedelta(days=30)
FINAL = ("success", "failed", "rolled_back")
RANK = {s: i for i, s in enumerate(SEVERITIES)}  # sev1 is the highest severity

Row = dict[str, Any]


@dataclass(frozen=True)
class Tables:
    services: dict[int, Row]
    incidents: list[Row]
    changes: list[Row]
    commits: dict[str, dt.datetime]


async def _tables(con: dbmod.Connection) -> Tables:
    def rows(records: Iterable[Any]) -> list[Row]:
        return [dict(r.items()) for r in records]

    services = rows(await con.fetch("select * from business_service"))
    return Tables(
        services={s["id"]: s for s in services},
        incidents=rows(await con.fetch("select * from incident")),
        changes=rows(await con.fetch("select * from change")),
        commits={r["sha"]: r["committed_at"] for r in await con.fetch("select * from commit_time")},
    )


def _windows() -> list[Period]:
    """The year's monthly buckets up to now (the last one measured up to now), the year to
    date, a window across a month boundary, and one that begins before the data does."""
    _, parts = measure.series_windows(Grain.MONTH, YEAR_START, END, NOW)
    return [
        *parts,
        Period(YEAR_START, NOW),
        Period(
            dt.datetime(2023, 9, 10, 6, 30, tzinfo=UTC), dt.datetime(2023, 10, 2, 18, tzinfo=UTC)
        ),
        Period(dt.datetime(2023, 6, 1, tzinfo=UTC), dt.datetime(2023, 8, 1, tzinfo=UTC)),
    ]


# The reference --------------------------------------------------------------------------------


def _seconds(start: dt.datetime | None, stop: dt.datetime | None) -> float | None:
    return None if start is None or stop is None else (stop - start).total_seconds()


def ref_outages(
    t: Tables, scope: Sequence[int], w: Period, now: dt.datetime
) -> dict[int, tuple[float, int]]:
    """Per service with any outage in the window: the seconds of the union of its outage
    intervals (impact start, else detection, to resolution, else now) and how many there are."""
    result = {}
    for sid in scope:
        threshold = RANK[t.services[sid]["outage_threshold"]]
        spans = [
            (i["started_at"] or i["detected_at"], i["resolved_at"])
            for i in t.incidents
            if i["service_id"] == sid
            and i["severity"] is not None
            and RANK[i["severity"]] <= threshold
        ]
        # An interval that ends before it starts (resolved before its stated impact start) is
        # empty: no downtime, and not an outage either.
        inside = [(a, b) for a, b in spans if a < min(w.end, b or now) and (b or now) > w.start]
        if inside:
            result[sid] = (union_seconds(inside, Window(w.start, w.end), now), len(inside))
    return result


def ref_recurring(t: Tables) -> set[int]:
    """Incidents with an earlier incident (by impact start, then id) of the same service and
    problem key that started at most 30 days before."""
    chains: dict[tuple[int, str], list[Row]] = defaultdict(list)
    for i in t.incidents:
        if i["service_id"] is not None and i["problem_key"] is not None:
            chains[i["service_id"], i["problem_key"]].append(i)
    recurring = set()
    for chain in chains.values():
        chain.sort(key=lambda i: (i["started_at"], i["id"]))
        for before, this in itertools.pairwise(chain):
            if before["started_at"] >= this["started_at"] - RECURRENCE:
                recurring.add(this["id"])
    return recurring


def _summary(values: list[float]) -> Summary:
    return Summary(len(values), stats.mean(values), stats.median(values), stats.p90(values))


def ref_figures(incidents: list[Row], recurring: set[int]) -> IncidentFigures:
    def durations(start: str, stop: str) -> list[float]:
        found = (_seconds(i[start], i[stop]) for i in incidents)
        return [s for s in found if s is not None]

    users = [i["users_affected"] for i in incidents if i["users_affected"] is not None]
    costs = [i["cost_estimate"] for i in incidents if i["cost_estimate"] is not None]
    return IncidentFigures(
        incidents=len(incidents),
        recurring=sum(1 for i in incidents if i["id"] in recurring),
        users_affected=float(sum(users)) if users else None,
        cost_estimate=math.fsum(costs) if costs else None,
        detect=_summary(durations("started_at", "detected_at")),  # MTTD
        acknowledge=_summary(durations("detected_at", "acknowledged_at")),  # MTTA
        resolve=_summary(durations("detected_at", "resolved_at")),  # MTTR
        restore=_summary(durations("started_at", "resolved_at")),  # time to restore
    )


def ref_incidents(
    t: Tables, scope: Sequence[int], w: Period, recurring: set[int]
) -> IncidentBreakdown:
    """Incidents whose impact started in the window: overall, by severity, by service."""
    ids = set(scope)
    inside = [
        i for i in t.incidents if i["service_id"] in ids and w.start <= i["started_at"] < w.end
    ]
    if not inside:
        return IncidentBreakdown()
    by_severity: dict[str, list[Row]] = defaultdict(list)
    by_service: dict[int, list[Row]] = defaultdict(list)
    for i in inside:
        if i["severity"] is not None:
            by_severity[i["severity"]].append(i)
        by_service[i["service_id"]].append(i)
    return IncidentBreakdown(
        overall=ref_figures(inside, recurring),
        by_severity={Severity(s): ref_figures(v, recurring) for s, v in by_severity.items()},
        by_service={s: ref_figures(v, recurring) for s, v in by_service.items()},
    )


def ref_changes(t: Tables, scope: Sequence[int], w: Period) -> ChangeFigures:
    """DORA over production changes with a final status that finished in the window."""
    ids = set(scope)
    caused: dict[int, list[Row]] = defaultdict(list)
    for i in t.incidents:
        if i["caused_by_change_id"] is not None:
            caused[i["caused_by_change_id"]].append(i)
    deploys = [
        c
        for c in t.changes
        if c["service_id"] in ids
        and c["is_production"]
        and c["status"] in FINAL
        and c["finished_at"] is not None
        and w.start <= c["finished_at"] < w.end
    ]
    failures = [
        c for c in deploys if c["status"] in ("failed", "rolled_back") or caused.get(c["id"])
    ]
    leads = [
        (c["finished_at"] - t.commits[c["commit_sha"]]).total_seconds()
        for c in deploys
        if c["commit_sha"] in t.commits
    ]
    recoveries = []
    for c in deploys:
        incidents = caused.get(c["id"], [])
        if incidents and all(i["resolved_at"] is not None for i in incidents):
            last = max(i["resolved_at"] for i in incidents)
            recoveries.append((last - c["finished_at"]).total_seconds())
    return ChangeFigures(
        deployments=len(deploys),
        failures=len(failures),
        rework=sum(1 for c in deploys if c["kind"] in ("hotfix", "rollback")),
        lead_n=len(leads),
        lead_median=stats.median(leads),
        recovery_n=len(recoveries),
        recovery_median=stats.median(recoveries),
    )


# Comparison -----------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def differences(actual: Any, expected: Any, where: str) -> list[str]:
    """Where two figures differ: exact for counts and keys, rel 1e-9 for floats."""
    a, e = _plain(actual), _plain(expected)
    if isinstance(e, dict) and isinstance(a, dict):
        out = []
        if a.keys() != e.keys():
            out.append(f"{where}: keys {sorted(a)} != {sorted(e)}")
        for k in sorted(a.keys() & e.keys()):
            out.extend(differences(a[k], e[k], f"{where}.{k}"))
        return out
    if isinstance(e, list) and isinstance(a, list) and len(a) == len(e):
        return [d for n, (x, y) in enumerate(zip(a, e, strict=True))
                for d in differences(x, y, f"{where}[{n}]")]  # fmt: skip
    if isinstance(e, float) and isinstance(a, float | int) and not isinstance(a, bool):
        return [] if a == pytest.approx(e, rel=1e-9) else [f"{where}: {a!r} != {e!r}"]
    if type(a) is not type(e) or a != e:
        return [f"{where}: {a!r} != {e!r}"]
    return []


# The test -------------------------------------------------------------------------------------


async def _scopes(con: dbmod.Connection, t: Tables) -> list[tuple[MetricScope, set[int]]]:
    """The busiest service, the largest team, tier 1 and the fleet, each with the services the
    reference finds for it in the rows."""
    per_service: dict[int, int] = defaultdict(int)
    for i in t.incidents:
        if i["service_id"] is not None:
            per_service[i["service_id"]] += 1
    busiest = max(per_service, key=lambda s: (per_service[s], -s))
    per_team: dict[int, set[int]] = defaultdict(set)
    for s in t.services.values():
        if s["team_id"] is not None:
            per_team[s["team_id"]].add(s["id"])
    team_id = max(per_team, key=lambda k: (len(per_team[k]), -k))
    team_slug = await con.fetchval("select slug from team where id = $1", team_id)
    return [
        (await metrics.resolve_scope(con, service=t.services[busiest]["slug"]), {busiest}),
        (await metrics.resolve_scope(con, team=team_slug), per_team[team_id]),
        (
            await metrics.resolve_scope(con, tier=1),
            {s["id"] for s in t.services.values() if s["tier"] == 1},
        ),
        (await metrics.resolve_scope(con), set(t.services)),
    ]


async def test_sql_metrics_match_a_python_reference_of_the_definitions(
    con: dbmod.Connection,
) -> None:
    # More forgotten (never resolved) incidents than the default, so that open outages
    # running up to now occur in a scenario this small.
    await generate(
        con, services=20, incidents=3_000, changes=3_000, seed=SEED, end=END, unresolved=0.02
    )
    t = await _tables(con)
    windows = _windows()
    recurring = ref_recurring(t)
    problems: list[str] = []
    seen: dict[str, int] = defaultdict(int)

    for scope, expected_ids in await _scopes(con, t):
        assert set(scope.service_ids) == expected_ids, scope.kind
        ids = sorted(expected_ids)
        got_outages = await metrics.outages(con, scope, windows, NOW)
        got_incidents = await metrics.incidents(con, scope, windows)
        # The narrow read a caller asking for MTTR by severity alone gets: each severity's
        # count and resolution times, exactly as the full read gives them, and nothing else.
        narrow = await metrics.incidents(
            con, scope, windows, figures=metrics.IncidentFigureSet.RESOLUTION_BY_SEVERITY
        )
        got_changes = await metrics.changes(con, scope, windows)
        for n, w in enumerate(windows):
            where = f"{scope.kind}[{w.start:%Y-%m-%d}..{w.end:%Y-%m-%d %H:%M}]"
            expected = ref_outages(t, ids, w, NOW)
            problems += differences(
                {sid: (o.seconds, o.incidents) for sid, o in got_outages[n].items()},
                expected,
                f"{where}.outage",
            )
            down = math.fsum(s for s, _ in expected.values())
            problems += differences(
                builtin.availability(got_outages[n], len(ids), w.seconds),
                1 - down / (len(ids) * w.seconds),
                f"{where}.availability",
            )
            want_incidents = ref_incidents(t, ids, w, recurring)
            problems += differences(got_incidents[n], want_incidents, f"{where}.incidents")
            problems += differences(
                narrow[n],
                IncidentBreakdown(by_severity={
                    sev: IncidentFigures(incidents=f.incidents, resolve=f.resolve)
                    for sev, f in want_incidents.by_severity.items()
                }),
                f"{where}.resolution_by_severity",
            )  # fmt: skip
            want_changes = ref_changes(t, ids, w)
            problems += differences(got_changes[n], want_changes, f"{where}.changes")

            # What the scenario exercised, so the comparison is never vacuous.
            seen["outage windows"] += bool(expected)
            seen["merged overlaps"] += sum(
                1
                for sid, (secs, _) in expected.items()
                if secs < _plain_total(t, sid, w, NOW) - 1e-6
            )
            seen["open outages"] += sum(
                1
                for i in t.incidents
                if i["service_id"] in expected
                and i["resolved_at"] is None
                and i["started_at"] < w.end
                and RANK.get(i["severity"] or "", 9)
                <= RANK[t.services[i["service_id"]]["outage_threshold"]]
            )
            seen["recurring"] += want_incidents.overall.recurring
            seen["unmapped severity"] += want_incidents.overall.incidents - sum(
                f.incidents for f in want_incidents.by_severity.values()
            )
            seen["failures"] += want_changes.failures
            seen["recoveries"] += want_changes.recovery_n
            seen["leads"] += want_changes.lead_n

    assert not problems, "\n".join(problems[:40])
    assert all(seen[k] > 0 for k in (
        "outage windows", "merged overlaps", "open outages", "recurring", "unmapped severity",
        "failures", "recoveries", "leads",
    )), dict(seen)  # fmt: skip


def _plain_total(t: Tables, sid: int, w: Period, now: dt.datetime) -> float:
    """The outage seconds of a service in a window without merging overlaps."""
    threshold = RANK[t.services[sid]["outage_threshold"]]
    total = 0.0
    for i in t.incidents:
        if (
            i["service_id"] == sid
            and i["severity"] is not None
            and RANK[i["severity"]] <= threshold
        ):
            stop = min(i["resolved_at"] or now, w.end)
            begin = max(i["started_at"], w.start)
            total += max(0.0, (stop - begin).total_seconds())
    return total


async def _snapshot(con: dbmod.Connection) -> dict[str, list[tuple[Any, ...]]]:
    """The generated rows without their generated ids, references by external key."""
    queries = {
        "team": "select slug, name, email from team order by slug",
        "service": """select s.slug, s.name, s.tier, t.slug, s.revenue_per_hour, s.user_count,
                             s.outage_threshold
                      from business_service s left join team t on t.id = s.team_id
                      order by s.slug""",
        "change": """select c.external_id, s.slug, c.environment, c.is_production, c.kind,
                            c.status, c.started_at, c.finished_at, c.commit_sha
                     from change c left join business_service s on s.id = c.service_id
                     order by c.external_id""",
        "commit": "select sha, committed_at, repo from commit_time order by sha",
        "incident": """select i.external_id, s.slug, i.severity, i.status, i.started_at,
                              i.detected_at, i.acknowledged_at, i.resolved_at,
                              i.users_affected, i.cost_estimate, i.problem_key,
                              c.external_id, i.caused_by_ref, i.link_kind
                       from incident i
                       left join business_service s on s.id = i.service_id
                       left join change c on c.id = i.caused_by_change_id
                       order by i.external_id""",
    }
    return {k: [tuple(r.values()) for r in await con.fetch(v)] for k, v in queries.items()}


async def test_the_data_set_is_reproducible_from_its_seed(con: dbmod.Connection) -> None:
    snapshots = []
    for seed in (7, 7, 8):
        tr = con.transaction()
        await tr.start()
        try:
            info = await generate(con, services=6, incidents=400, changes=300, seed=seed, end=END)
            assert info.incidents == 400 and info.changes == 300
            snapshots.append(await _snapshot(con))
        finally:
            await tr.rollback()
    first, again, other = snapshots
    assert first == again
    assert len(first["incident"]) == 400 and len(first["change"]) == 300
    assert first["incident"][0][1:] != other["incident"][0][1:]


def test_the_reference_merges_overlaps_and_runs_open_outages_to_now() -> None:
    """The reference's own arithmetic, on hand-worked rows."""

    def at(hour: float) -> dt.datetime:
        return dt.datetime(2026, 1, 1, tzinfo=UTC) + dt.timedelta(hours=hour)

    service = {"id": 1, "outage_threshold": "sev2"}
    rows = [
        (1, "sev1", at(1), at(3)),  # 1-3
        (2, "sev2", at(2), at(4)),  # overlaps: 1-4 counted once, 3 h
        (3, "sev3", at(5), at(6)),  # below the threshold: not an outage
        (4, "sev2", at(10), None),  # open: to now (hour 12)
        (5, None, at(7), at(8)),  # severity unknown: not an outage
    ]
    incidents = [
        {"id": i, "service_id": 1, "severity": sev, "started_at": a, "detected_at": a,
         "resolved_at": b}
        for i, sev, a, b in rows
    ]  # fmt: skip
    t = Tables({1: service}, incidents, [], {})
    got = ref_outages(t, [1], Period(at(0), at(24)), at(12))
    assert got == {1: (5 * 3600.0, 3)}
    assert ref_outages(t, [1], Period(at(3.5), at(11)), at(12)) == {1: (1800.0 + 3600.0, 2)}


async def test_an_outage_resolved_before_its_stated_start_is_no_downtime(
    con: dbmod.Connection,
) -> None:
    """POST /v1/incidents accepts a resolution before the stated impact start (with an earlier
    detection); such an interval is empty, never negative downtime (availability above 100 %)."""

    def at(hour: int) -> dt.datetime:
        return dt.datetime(2026, 3, 2, hour, tzinfo=UTC)

    sid = await con.fetchval(
        "insert into business_service (slug, name, tier) values ('reversed', 'R', 1) returning id"
    )
    await con.execute(
        """insert into incident (source_id, external_id, service_id, severity, status,
                                 started_at, detected_at, resolved_at)
           select id, 'reversed-1', $1, 'sev1', 'resolved', $2, $3, $4
           from source where name = 'api'""",
        sid, at(12), at(10), at(11),
    )  # fmt: skip
    scope = await metrics.resolve_scope(con, service="reversed")
    window = Period(at(0), at(23))
    (got,) = await metrics.outages(con, scope, [window], at(23))
    t = await _tables(con)
    assert ref_outages(t, [sid], window, at(23)) == {}
    assert got == {}
