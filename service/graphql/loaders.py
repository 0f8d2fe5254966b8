"""DataLoaders: each batches one kind of lookup into one SQL statement per request tick,
so a query over N services costs the same number of statements whatever N is."""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from strawberry.dataloader import DataLoader

from service.db import Connection, Database
from service.graphql.gate_loaders import GateLoaders
from service.graphql.team_loaders import TeamLoaders
from service.kpi.periods import Period
from service.models.burn_alerts import BurnAlert, BurnPolicy
from service.models.catalog import Kpi, Outcome, Service, Target, Team
from service.models.enums import Grain
from service.models.incidents import Change, Incident, TimelineEntry
from service.models.initiatives import Initiative
from service.models.observations import SeriesPoint
from service.models.reports import AvailabilityReport, DoraReport, IncidentReport, SpendReport
from service.models.statuses import KpiStatus, ScopeRef
from service.store import burn_alerts, ingest, portal, targets
from service.store import initiatives as initiative_store
from service.store import kpis as kpi_store
from service.store import links as link_store
from service.store import outcomes as outcome_store
from service.store import services as service_store
from service.store import statuses as status_store
from service.store import teams as team_store
from service.usecases import measure
from service.usecases import reports as leader_reports
from service.usecases import statuses as status_reads

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")
Report = TypeVar("Report")
Fetch = Callable[[Connection, list[K]], Awaitable[Mapping[K, V]]]

#: Stored statuses a KPI's statusHistory gives unless told otherwise.
HISTORY_PAGE = 24
#: The latest burn-rate alerts of a KPI the graph reads (its burnAlerts pages through them).
BURN_ALERT_HISTORY = 200


def _held(future: Awaitable[Any]) -> bool:
    return (
        isinstance(future, asyncio.Future)
        and future.done()
        and not future.cancelled()
        and future.exception() is None
    )


def ready(loaded: Awaitable[V], then: Callable[[V], T]) -> T:
    """`then` of what a loader gives: at once when the loader already holds the value (primed
    by a look-ahead), so the field resolves without a coroutine, a task or a gather; else an
    awaitable of it, which graphql-core awaits as it would an async resolver's. Typed as the
    value since that is what the field answers."""
    if _held(loaded):
        return then(cast("asyncio.Future[V]", loaded).result())

    async def later() -> Any:
        found = then(await loaded)
        return await found if inspect.isawaitable(found) else found

    return cast(T, later())


def _keyed(db: Database, fetch: Fetch[K, V], missing: Callable[[], V]) -> DataLoader[K, V]:
    """A loader answering every key of a batch from one fetch: {key: value} (keys it leaves
    out get `missing()`)."""

    async def load(keys: list[K]) -> list[V]:
        async with db.acquire() as con:
            found = await fetch(con, keys)
        return [found[k] if k in found else missing() for k in keys]

    return DataLoader(load)


def _by(attribute: str, rows: Sequence[Any]) -> dict[Any, Any]:
    return {getattr(row, attribute): row for row in rows}


Row = TypeVar("Row", Kpi, Outcome)


def _priming(
    fetch: Callable[[Connection, list[int]], Awaitable[dict[int, list[Row]]]],
    by_id: DataLoader[int, Row | None],
) -> Fetch[int, list[Row]]:
    """`fetch` of rows related to each key, handing each row to the loader of its id."""

    async def load(con: Connection, keys: list[int]) -> dict[int, list[Row]]:
        found = await fetch(con, keys)
        for rows in found.values():
            for row in rows:
                by_id.prime(row.id, row)
        return found

    return load


def _none() -> None:
    return None


def _edges(db: Database, fetch: Fetch[int, list[int]]) -> DataLoader[int, list[int]]:
    return _keyed(db, fetch, list)


def _grouped(db: Database, fetch: Fetch[int, list[Any]]) -> DataLoader[int, list[Any]]:
    return _keyed(db, fetch, list)


@dataclass(frozen=True)
class AvailabilityKey:
    """One service's availability over one window, measured up to `now`."""

    service_id: int
    window: Period
    now: dt.datetime
    #: The availability KPI whose targets apply (None: the one that applies to the service).
    kpi: str | None = None


@dataclass(frozen=True)
class WindowKey:
    """One service's report over one window, measured up to `now`."""

    service_id: int
    window: Period
    now: dt.datetime


def _per_window(
    db: Database,
    fetch: Callable[[Connection, list[int], Period, dt.datetime], Awaitable[dict[int, Report]]],
) -> DataLoader[WindowKey, Report | None]:
    """Reports of many services, one fetch (for all of them) per distinct window."""

    async def load(con: Connection, keys: list[WindowKey]) -> dict[WindowKey, Report]:
        found: dict[WindowKey, Report] = {}
        for window, now in {(k.window, k.now) for k in keys}:
            ids = sorted({k.service_id for k in keys if (k.window, k.now) == (window, now)})
            for sid, report in (await fetch(con, ids, window, now)).items():
                found[WindowKey(sid, window, now)] = report
        return found

    return _keyed(db, load, _none)


@dataclass(frozen=True)
class HistoryKey:
    """A KPI's stored statuses for one scope (service None: overall), newest period first."""

    kpi_id: int
    kpi_key: str
    service_id: int | None
    slug: str | None
    before: dt.datetime | None
    limit: int


def _histories(db: Database) -> DataLoader[HistoryKey, list[KpiStatus]]:
    """Stored statuses of many (KPI, scope) pairs, one statement per distinct page."""

    async def load(keys: list[HistoryKey]) -> list[list[KpiStatus]]:
        by_page: dict[tuple[dt.datetime | None, int], list[HistoryKey]] = {}
        for k in keys:
            by_page.setdefault((k.before, k.limit), []).append(k)
        found: dict[HistoryKey, list[KpiStatus]] = {}
        async with db.acquire() as con:
            for (before, limit), page in by_page.items():
                rows = await portal.status_histories(
                    con, [(k.kpi_id, k.service_id) for k in page], before=before, limit=limit
                )
                for k, statuses in zip(page, rows, strict=True):
                    found[k] = [status_store.as_status(r, k.kpi_key, k.slug) for r in statuses]
        return [found[k] for k in keys]

    return DataLoader(load)


@dataclass(frozen=True)
class ServiceStatusKey:
    """A KPI's status for one service, for the period holding `on` (None: the last closed)."""

    kpi_id: int
    service_id: int
    on: dt.datetime | None
    now: dt.datetime


@dataclass(frozen=True)
class ServiceSeriesKey:
    """A KPI's series for one service."""

    kpi_id: int
    service_id: int
    grain: Grain
    start: dt.datetime | None
    end: dt.datetime | None
    now: dt.datetime


def _service_statuses(db: Database) -> DataLoader[ServiceStatusKey, KpiStatus | None]:
    """(KPI, service) statuses: the stored ones in one statement, the rest computed for each
    KPI's services together (status_reads.service_statuses); None for a KPI without cadence."""

    async def load(keys: list[ServiceStatusKey]) -> list[KpiStatus | None]:
        found: dict[ServiceStatusKey, KpiStatus] = {}
        async with db.acquire() as con:
            kpis = _by("id", await kpi_store.list_kpis(con, ids=sorted({k.kpi_id for k in keys})))
            ids = sorted({k.service_id for k in keys})
            services = _by("id", await service_store.services_by_id(con, ids))
            for on, now in {(k.on, k.now) for k in keys}:
                group = [k for k in keys if (k.on, k.now) == (on, now)]
                pairs = [
                    (kpis[k.kpi_id], ScopeRef(k.service_id, services[k.service_id].slug,
                                              services[k.service_id].tier))
                    for k in group if k.kpi_id in kpis and k.service_id in services
                ]  # fmt: skip
                statuses = await status_reads.service_statuses(con, pairs, on=on, now=now)
                for k in group:
                    if (k.kpi_id, k.service_id) in statuses:
                        found[k] = statuses[(k.kpi_id, k.service_id)]
        return [found.get(k) for k in keys]

    return DataLoader(load)


def _service_series(db: Database) -> DataLoader[ServiceSeriesKey, list[SeriesPoint]]:
    """(KPI, service) series, each KPI's services computed together (series_by_service)."""

    async def load(keys: list[ServiceSeriesKey]) -> list[list[SeriesPoint]]:
        found: dict[ServiceSeriesKey, list[SeriesPoint]] = {}
        groups: dict[tuple[int, Grain, Any, Any, dt.datetime], list[ServiceSeriesKey]] = {}
        for k in keys:
            groups.setdefault((k.kpi_id, k.grain, k.start, k.end, k.now), []).append(k)
        async with db.acquire() as con:
            kpis = _by("id", await kpi_store.list_kpis(con, ids=sorted({k.kpi_id for k in keys})))
            for (kpi_id, grain, start, end, now), group in groups.items():
                points = await measure.series_by_service(
                    con, kpi=kpis[kpi_id], service_ids=sorted({k.service_id for k in group}),
                    grain=grain, start=start, end=end, now=now,
                )  # fmt: skip
                for k in group:
                    found[k] = points[k.service_id]
        return [found[k] for k in keys]

    return DataLoader(load)


class Loaders:
    def __init__(self, db: Database) -> None:
        #: A team's sub-teams, KPIs and figures rolled up over its services.
        self.teams = TeamLoaders(db)

        async def teams(con: Connection, ids: list[int]) -> dict[int, Team]:
            return _by("id", await team_store.teams_by_id(con, ids))

        async def services(con: Connection, ids: list[int]) -> dict[int, Service]:
            return _by("id", await service_store.services_by_id(con, ids))

        async def services_by_slug(con: Connection, slugs: list[str]) -> dict[str, Service]:
            return _by("slug", await service_store.list_services(con, slugs=slugs))

        async def outcomes(con: Connection, ids: list[int]) -> dict[int, Outcome]:
            return _by("id", await outcome_store.outcomes_by_id(con, ids))

        async def kpis(con: Connection, ids: list[int]) -> dict[int, Kpi]:
            return _by("id", await kpi_store.list_kpis(con, ids=ids))

        async def kpis_by_key(con: Connection, keys: list[str]) -> dict[str, Kpi]:
            return _by("key", await kpi_store.list_kpis(con, keys=keys))

        async def initiatives(con: Connection, ids: list[int]) -> dict[int, Initiative]:
            return _by("id", await initiative_store.list_initiatives(con, ids=ids))

        async def incidents(con: Connection, ids: list[int]) -> dict[int, Incident]:
            return _by("id", await ingest.list_incidents(con, ids=ids))

        async def changes(con: Connection, ids: list[int]) -> dict[int, Change]:
            return _by("id", await ingest.list_changes(con, ids=ids))

        async def availability(
            con: Connection, keys: list[AvailabilityKey]
        ) -> dict[AvailabilityKey, AvailabilityReport]:
            found: dict[AvailabilityKey, AvailabilityReport] = {}
            for window, now, key in {(k.window, k.now, k.kpi) for k in keys}:
                ids = sorted({k.service_id for k in keys
                              if (k.window, k.now, k.kpi) == (window, now, key)})  # fmt: skip
                objective = await leader_reports.availability_kpi(con, key)
                reports = await leader_reports.availability_by_service(
                    con, ids, window, now, objective
                )
                for sid, report in reports.items():
                    found[AvailabilityKey(sid, window, now, key)] = report
            return found

        self.availability: DataLoader[AvailabilityKey, AvailabilityReport | None] = _keyed(
            db, availability, _none
        )
        self.incident_stats: DataLoader[WindowKey, IncidentReport | None] = _per_window(
            db, leader_reports.incident_report_by_service
        )
        #: The same reports with the resolution times by severity alone (see incidentStats).
        self.incident_resolution: DataLoader[WindowKey, IncidentReport | None] = _per_window(
            db, leader_reports.resolution_by_severity_by_service
        )
        self.dora: DataLoader[WindowKey, DoraReport | None] = _per_window(
            db, leader_reports.dora_by_service
        )
        self.spend: DataLoader[WindowKey, SpendReport | None] = _per_window(
            db, leader_reports.spend_by_service
        )
        self.team: DataLoader[int, Team | None] = _keyed(db, teams, _none)
        self.service: DataLoader[int, Service | None] = _keyed(db, services, _none)
        self.service_by_slug: DataLoader[str, Service | None] = _keyed(db, services_by_slug, _none)
        self.outcome: DataLoader[int, Outcome | None] = _keyed(db, outcomes, _none)
        self.kpi: DataLoader[int, Kpi | None] = _keyed(db, kpis, _none)
        self.kpi_by_key: DataLoader[str, Kpi | None] = _keyed(db, kpis_by_key, _none)
        self.incident: DataLoader[int, Incident | None] = _keyed(db, incidents, _none)
        self.initiative: DataLoader[int, Initiative | None] = _keyed(db, initiatives, _none)
        self.initiatives_of_service = _edges(db, initiative_store.initiatives_by_service)
        self.initiatives_of_kpi = _edges(db, initiative_store.initiatives_by_kpi)
        self.change: DataLoader[int, Change | None] = _keyed(db, changes, _none)
        self.dependencies = _edges(db, service_store.dependencies_by_service)
        self.dependents = _edges(db, service_store.dependents_by_service)
        #: A service's KPIs and outcomes come with their rows (one statement for a page's
        #: services), which the `kpi` and `outcome` loaders then hold too.
        self.kpis_of_service: DataLoader[int, list[Kpi]] = _keyed(
            db, _priming(portal.kpis_of_services, self.kpi), list
        )
        self.outcomes_of_service: DataLoader[int, list[Outcome]] = _keyed(
            db, _priming(portal.outcomes_of_services, self.outcome), list
        )
        self.services_of_team = _edges(db, service_store.services_by_team)
        self.services_of_kpi = _edges(db, link_store.services_by_kpi)
        self.services_of_outcome = _edges(db, link_store.services_by_outcome)
        self.outcome_links_of_kpi = _grouped(db, link_store.outcome_links_by_kpi)
        self.kpi_links_of_outcome = _grouped(db, link_store.kpi_links_by_outcome)
        self.status_history = _histories(db)
        self.service_status = _service_statuses(db)
        self.service_series = _service_series(db)
        self.targets_of_kpi: DataLoader[int, list[Target]] = _keyed(
            db, targets.targets_by_kpi, list
        )
        self.burn_policy_of_kpi: DataLoader[int, BurnPolicy | None] = _keyed(
            db, burn_alerts.policies_by_kpi, _none
        )
        self.burn_alerts_of_kpi: DataLoader[int, list[BurnAlert]] = _keyed(
            db, _latest_burn_alerts, list
        )
        self.incident_timeline: DataLoader[int, list[TimelineEntry]] = _keyed(
            db, ingest.incident_timeline, list
        )
        self.change_timeline: DataLoader[int, list[TimelineEntry]] = _keyed(
            db, ingest.change_timeline, list
        )
        self.incidents_caused_by: DataLoader[int, list[int]] = _keyed(
            db, ingest.incidents_caused_by, list
        )
        self.revert_reasons: DataLoader[int, ingest.RevertReasons] = _keyed(
            db, ingest.change_revert_reasons, ingest.RevertReasons
        )
        #: Keyed by (service id, filter): one query per distinct filter, for all services.
        self.incidents_of_service: DataLoader[tuple[int, IncidentFilter], list[Incident]] = (
            _per_service(db, ingest.incident_pages_by_service)
        )
        self.changes_of_service: DataLoader[tuple[int, ChangeFilter], list[Change]] = _per_service(
            db, ingest.change_pages_by_service
        )
        self.gates = GateLoaders(db)


async def _latest_burn_alerts(con: Connection, kpi_ids: list[int]) -> dict[int, list[BurnAlert]]:
    return await burn_alerts.alerts_by_kpi(con, kpi_ids, BURN_ALERT_HISTORY)


R = TypeVar("R", Incident, Change)
F = TypeVar("F", bound="PageFilter")


def _per_service(
    db: Database, fetch: Callable[..., Awaitable[list[R]]]
) -> DataLoader[tuple[int, F], list[R]]:
    """Rows of many services under one filter each, fetched once per distinct filter: `fetch`
    takes the connection, the services' ids and the filter's fields as keyword arguments."""

    async def load(keys: list[tuple[int, F]]) -> list[list[R]]:
        result: dict[tuple[int, F], list[R]] = {k: [] for k in keys}
        by_filter: dict[F, list[int]] = {}
        for service_id, f in keys:
            by_filter.setdefault(f, []).append(service_id)
        async with db.acquire() as con:
            for f, service_ids in by_filter.items():
                for row in await fetch(con, service_ids, **f.arguments()):
                    if row.service_id is not None:
                        result[(row.service_id, f)].append(row)
        return [result[k] for k in keys]

    return DataLoader(load)


@dataclass(frozen=True)
class PageFilter:
    """A page of a service's incidents or changes: the filter, then at most `limit` older than
    `before_id`."""

    start: dt.datetime | None = None
    end: dt.datetime | None = None
    statuses: tuple[str, ...] = ()
    before_id: int | None = None
    limit: int = 51

    def arguments(self) -> dict[str, Any]:
        """The fields as the store's keyword arguments: a list for each tuple, None (no filter)
        for an empty one."""
        return {
            name: (list(value) or None) if isinstance(value, tuple) else value
            for name, value in vars(self).items()
        }


@dataclass(frozen=True)
class IncidentFilter(PageFilter):
    severities: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChangeFilter(PageFilter):
    environments: tuple[str, ...] = ()
