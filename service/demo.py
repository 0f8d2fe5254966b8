"""Demo data: the starter catalog plus a year of realistic observations (seeded, repeatable)."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from importlib import resources

import yaml

from service.db import Connection
from service.ingest.model import Mapped
from service.models.costs import CostIn
from service.models.enums import ChangeKind, ChangeStatus, Severity
from service.models.incidents import ChangeIn, CommitIn, IncidentIn
from service.models.observations import IngestResult, Numbered, ObservationIn
from service.usecases.catalog_file import ApplyReport, CatalogFile, apply_catalog

DAYS = 365
DEMO_SERVICES = ("checkout", "payments-api", "identity", "mobile-app", "erp", "data-warehouse")


def starter_catalog() -> CatalogFile:
    text = resources.files("service").joinpath("data/starter-catalog.yaml").read_text()
    return CatalogFile.model_validate(yaml.safe_load(text))


def demo_points(today: dt.date, seed: int = 42) -> Iterator[ObservationIn]:
    """A year of daily and weekly points up to `today`, the same for the same seed and day."""
    rng = random.Random(seed)
    start = today - dt.timedelta(days=DAYS)
    services = DEMO_SERVICES
    for day_index in range(DAYS):
        day = start + dt.timedelta(days=day_index)
        ts = dt.datetime.combine(day, dt.time(0), dt.UTC)
        growth = 1 + 0.15 * day_index / DAYS
        season = 1 + 0.05 * math.sin(2 * math.pi * day_index / 365)
        yield ObservationIn(
            kpi="active_users",
            ts=ts,
            value=round(140_000 * growth * season * rng.uniform(0.98, 1.02)),
        )
        for service in services:
            yield ObservationIn(
                kpi="patch_compliance", service=service, ts=ts,
                value=round(min(100.0, rng.gauss(96.5, 1.8)), 2),
            )  # fmt: skip
        for service in ("payments-api", "erp", "data-warehouse"):
            ok = 100.0 if rng.random() > 0.04 else round(rng.uniform(90, 99), 2)
            yield ObservationIn(kpi="backup_success_rate", service=service, ts=ts, value=ok)
        if day.weekday() == 0:
            yield ObservationIn(
                kpi="manual_hours_removed", ts=ts, value=round(rng.uniform(80, 120) * growth, 1)
            )
            yield ObservationIn(kpi="security_incidents", ts=ts, value=float(rng.random() < 0.2))
        if day.day == 1:
            yield ObservationIn(kpi="revenue_growth", ts=ts, value=round(rng.uniform(7, 11), 2))
            yield ObservationIn(
                kpi="customer_retention", ts=ts, value=round(rng.uniform(88, 94), 2)
            )


COST_CATEGORIES = {"cloud": 9_000.0, "licences": 3_500.0, "support": 2_000.0}


def _month_starts(today: dt.date) -> list[dt.date]:
    first = today.replace(day=1)
    months = []
    for back in range(12, -1, -1):
        index = first.year * 12 + first.month - 1 - back
        months.append(dt.date(index // 12, index % 12 + 1, 1))
    return months


def demo_costs(today: dt.date, seed: int = 42) -> list[CostIn]:
    """Monthly cost records for the last twelve months and this one: per service by category,
    plus estate-wide staff costs."""
    rng = random.Random(seed)
    months = _month_starts(today)
    out = []
    for start, end in zip(months, [*months[1:], _next_month(months[-1])], strict=True):
        for service in DEMO_SERVICES:
            for category, base in COST_CATEGORIES.items():
                amount = round(base * rng.uniform(0.85, 1.15), 2)
                out.append(CostIn(service=service, category=category, period_start=start,
                                  period_end=end, amount=amount, currency="EUR"))  # fmt: skip
        staff = round(1_050_000 * rng.uniform(0.97, 1.03), 2)
        out.append(CostIn(category="staff", period_start=start, period_end=end, amount=staff,
                          currency="EUR"))  # fmt: skip
    return out


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def demo_incidents(today: dt.date, seed: int = 42) -> list[IncidentIn]:
    """About two incidents a week over the year, spread over the services, all resolved but the
    last few; some recur on the same problem."""
    rng = random.Random(seed)
    start = dt.datetime.combine(today - dt.timedelta(days=DAYS), dt.time(0), dt.UTC)
    end = dt.datetime.combine(today, dt.time(0), dt.UTC)
    out = []
    for n in range(100):
        began = start + (end - start) * rng.random()
        service = rng.choice(DEMO_SERVICES)
        severity = rng.choices(list(Severity), weights=[1, 3, 6, 6, 2])[0]
        detected = began + dt.timedelta(minutes=rng.expovariate(1 / 8))
        acked = detected + dt.timedelta(minutes=rng.expovariate(1 / 6))
        resolved = acked + dt.timedelta(minutes=rng.expovariate(1 / 70))
        still_open = resolved > end
        out.append(IncidentIn(
            external_id=f"demo-incident-{n}", service=service, severity=severity,
            status="open" if still_open else "resolved", title=f"Demo incident {n}",
            started_at=began, detected_at=detected, acknowledged_at=acked,
            resolved_at=None if still_open else resolved,
            users_affected=int(rng.expovariate(1 / 800)),
            problem_key=f"{service}-{rng.randint(1, 6)}",
        ))  # fmt: skip
    return out


def demo_changes(today: dt.date, seed: int = 42) -> list[ChangeIn]:
    """Production deploys on working days for the services that ship often, a few failures,
    rollbacks and hotfixes, each with its commit time."""
    rng = random.Random(seed)
    out = []
    for day_index in range(DAYS):
        day = today - dt.timedelta(days=DAYS - day_index)
        if day.weekday() >= 5:
            continue
        for service in ("checkout", "payments-api", "mobile-app", "identity"):
            if rng.random() > 0.45:
                continue
            finished = dt.datetime.combine(day, dt.time(9), dt.UTC) + dt.timedelta(
                minutes=rng.uniform(0, 480)
            )
            roll = rng.random()
            kind, status = ChangeKind.DEPLOY, ChangeStatus.SUCCESS
            if roll < 0.04:
                status = ChangeStatus.FAILED
            elif roll < 0.07:
                status = ChangeStatus.ROLLED_BACK
            elif roll < 0.10:
                kind = ChangeKind.HOTFIX
            # The pipeline's risk rating, read off the same draw: riskier changes fail more.
            risk = "high" if roll < 0.10 or roll > 0.85 else "medium" if roll > 0.55 else "low"
            sha = f"{rng.getrandbits(160):040x}"
            committed = finished - dt.timedelta(hours=rng.expovariate(1 / 20))
            out.append(ChangeIn(
                external_id=f"demo-change-{service}-{day_index}", service=service,
                environment="production", kind=kind, status=status,
                started_at=finished - dt.timedelta(minutes=12), finished_at=finished,
                commit_sha=sha, commits=[CommitIn(sha=sha, committed_at=committed)],
                title=f"Release {day.isoformat()}", labels={"risk": risk},
            ))  # fmt: skip
    return out


async def _load_records(
    con: Connection,
    incidents: list[IncidentIn],
    changes: list[ChangeIn],
    now: dt.datetime,
    tick: Callable[[int], None] = lambda n: None,
) -> int:
    """Incidents and changes through the generic API's path, each logged as a delivery keyed
    by its external id so loading twice applies once. Returns how many were applied; `tick`
    is called after each record."""
    from service.ingest.generic import change_mapped, incident_events
    from service.store import sources
    from service.usecases import ingestion

    src = await sources.get_source(con, name="api")
    applied = 0
    items: list[tuple[str, Mapped]] = [
        (c.external_id, change_mapped(c, now=now)) for c in changes
    ] + [(i.external_id, Mapped(incidents=incident_events(i, now=now, current=None)))
         for i in incidents]  # fmt: skip
    for key, mapped in items:
        loaded = await ingestion.load_record(
            con, src, key=f"demo:{key}", event_type="demo", mapped=mapped
        )
        applied += loaded is not None
        tick(1)
    return applied


async def _chunks(
    points: Sequence[ObservationIn], size: int, tick: Callable[[int], None] = lambda n: None
) -> AsyncIterator[list[Numbered]]:
    chunk: list[Numbered] = []
    for numbered in enumerate(points):
        chunk.append(numbered)
        if len(chunk) >= size:
            yield chunk
            tick(len(chunk))
            chunk = []
    yield chunk
    tick(len(chunk))


async def evaluate_history(
    con: Connection,
    now: dt.datetime,
    periods_back: int,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Evaluates each KPI with a cadence for its last `periods_back` closed periods, oldest
    first (so escalations open and advance as they would have), keeping stored statuses.
    `progress(done, total)` is called after each KPI period."""
    from service.kpi import periods
    from service.store import kpis as kpi_store
    from service.usecases import evaluation

    kpis = [kpi for kpi in await kpi_store.list_kpis(con) if kpi.cadence is not None]
    total = len(kpis) * periods_back
    done = stored = 0
    for kpi in kpis:
        assert kpi.cadence is not None
        period = periods.last_closed(kpi.cadence, now)
        history = [period]
        for _ in range(periods_back - 1):
            history.append(periods.previous(kpi.cadence, history[-1]))
        for p in reversed(history):
            stored += len(await evaluation.evaluate_kpi(con, kpi, period=p, now=now, replace=False))
            done += 1
            if progress is not None:
                progress(done, total)
    return stored


async def load_demo(
    con: Connection,
    today: dt.date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[ApplyReport, IngestResult]:
    """Apply the starter catalog and load the demo year in one transaction: observations,
    cost records, incidents and changes. `progress(done, total)` counts catalog entries,
    points, cost records, incidents and changes as they are loaded."""
    from service.usecases import costs, observations
    from service.usecases.catalog_file import entry_count

    day = today or dt.date.today()
    now = dt.datetime.combine(day, dt.time(0), dt.UTC)
    catalog = starter_catalog()
    points = list(demo_points(day))
    cost_records = demo_costs(day)
    incidents, changes = demo_incidents(day), demo_changes(day)
    total = entry_count(catalog) + len(points) + len(cost_records) + len(incidents) + len(changes)
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(done, total)

    def applied(entries: int, _: int) -> None:
        tick(entries - done)  # apply counts from the start, as done does

    async with con.transaction():
        report = await apply_catalog(con, catalog, dry_run=False, progress=applied)
        result = await observations.ingest(con, _chunks(points, 500, tick), now=now, backfill=True)
        await costs.ingest(con, cost_records, limit=None)
        tick(len(cost_records))
        await _load_records(con, incidents, changes, now, tick)
    return report, result
