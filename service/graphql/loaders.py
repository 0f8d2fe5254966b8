"""DataLoaders: each batches one kind of lookup into one SQL statement per request tick,
so a query over N services costs the same number of statements whatever N is."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from service.db import Connection, Database
from service.models.catalog import Kpi, Outcome, Service, Target, Team
from service.models.incidents import Change, Incident, TimelineEntry
from service.store import catalog as store
from service.store import ingest

T = TypeVar("T")


def _by_id(
    db: Database, fetch: Callable[[Connection, list[int]], Awaitable[Sequence[Any]]]
) -> Callable[[list[int]], Awaitable[list[Any]]]:
    async def load(ids: list[int]) -> list[Any]:
        async with db.acquire() as con:
            found = {item.id: item for item in await fetch(con, ids)}
        return [found.get(i) for i in ids]

    return load


def _edges(db: Database, query: str) -> Callable[[list[int]], Awaitable[list[list[int]]]]:
    async def load(ids: list[int]) -> list[list[int]]:
        async with db.acquire() as con:
            result = await store.edges(con, query, ids)
        return [result[i] for i in ids]

    return load


def _grouped(db: Database, query: str) -> Callable[[list[int]], Awaitable[list[list[Any]]]]:
    async def load(ids: list[int]) -> list[list[Any]]:
        async with db.acquire() as con:
            result = await store.grouped(con, query, ids)
        return [result[i] for i in ids]

    return load


async def _services(con: Connection, ids: list[int]) -> list[Service]:
    return await store.services_by_id(con, ids)


async def _kpis(con: Connection, ids: list[int]) -> list[Kpi]:
    return await store.list_kpis(con, ids=ids)


async def _targets(con: Connection, ids: list[int]) -> dict[int, list[Target]]:
    grouped = await store.grouped(con, "targets_by_kpi", ids)
    return {k: [Target(**row) for row in rows] for k, rows in grouped.items()}


class Loaders:
    def __init__(self, db: Database) -> None:
        self.team: DataLoader[int, Team | None] = DataLoader(_by_id(db, store.teams_by_id))
        self.service: DataLoader[int, Service | None] = DataLoader(_by_id(db, _services))
        self.outcome: DataLoader[int, Outcome | None] = DataLoader(_by_id(db, store.outcomes_by_id))
        self.kpi: DataLoader[int, Kpi | None] = DataLoader(_by_id(db, _kpis))
        self.kpi_by_key: DataLoader[str, Kpi | None] = DataLoader(self._kpis_by_key(db))
        self.dependencies = DataLoader(_edges(db, "dependencies_by_service"))
        self.dependents = DataLoader(_edges(db, "dependents_by_service"))
        self.kpis_of_service = DataLoader(_edges(db, "kpis_by_service"))
        self.outcomes_of_service = DataLoader(_edges(db, "outcomes_by_service"))
        self.services_of_team = DataLoader(_edges(db, "services_by_team"))
        self.services_of_kpi = DataLoader(_edges(db, "services_by_kpi"))
        self.services_of_outcome = DataLoader(_edges(db, "services_by_outcome"))
        self.outcome_links_of_kpi = DataLoader(_grouped(db, "outcome_links_by_kpi"))
        self.kpi_links_of_outcome = DataLoader(_grouped(db, "kpi_links_by_outcome"))
        self.targets_of_kpi: DataLoader[int, list[Target]] = DataLoader(self._targets(db))
        self.service_by_slug: DataLoader[str, Service | None] = DataLoader(
            self._services_by_slug(db)
        )
        self.incident: DataLoader[int, Incident | None] = DataLoader(
            _by_id(db, lambda con, ids: ingest.list_incidents(con, ids=ids))
        )
        self.change: DataLoader[int, Change | None] = DataLoader(
            _by_id(db, lambda con, ids: ingest.list_changes(con, ids=ids))
        )
        self.incident_timeline: DataLoader[int, list[TimelineEntry]] = DataLoader(
            self._timelines(db, "incident_timeline")
        )
        self.change_timeline: DataLoader[int, list[TimelineEntry]] = DataLoader(
            self._timelines(db, "change_timeline")
        )
        self.incidents_caused_by: DataLoader[int, list[int]] = DataLoader(self._caused_by(db))
        #: Keyed by (service id, filter): one query per distinct filter, for all services.
        self.incidents_of_service: DataLoader[tuple[int, IncidentFilter], list[Incident]] = (
            DataLoader(self._incidents_of_service(db))
        )
        self.changes_of_service: DataLoader[tuple[int, ChangeFilter], list[Change]] = DataLoader(
            self._changes_of_service(db)
        )

    @staticmethod
    def _kpis_by_key(db: Database) -> Callable[[list[str]], Awaitable[list[Kpi | None]]]:
        async def load(keys: list[str]) -> list[Kpi | None]:
            async with db.acquire() as con:
                found = {k.key: k for k in await store.list_kpis(con, keys=keys)}
            return [found.get(k) for k in keys]

        return load

    @staticmethod
    def _targets(db: Database) -> Callable[[list[int]], Awaitable[list[list[Target]]]]:
        async def load(ids: list[int]) -> list[list[Target]]:
            async with db.acquire() as con:
                result = await _targets(con, ids)
            return [result[i] for i in ids]

        return load

    @staticmethod
    def _services_by_slug(db: Database) -> Callable[[list[str]], Awaitable[list[Service | None]]]:
        async def load(slugs: list[str]) -> list[Service | None]:
            async with db.acquire() as con:
                found = {s.slug: s for s in await store.list_services(con, slugs=slugs)}
            return [found.get(s) for s in slugs]

        return load

    @staticmethod
    def _timelines(
        db: Database, query: str
    ) -> Callable[[list[int]], Awaitable[list[list[TimelineEntry]]]]:
        async def load(ids: list[int]) -> list[list[TimelineEntry]]:
            async with db.acquire() as con:
                found = await ingest.timelines(con, query, ids)
            return [found[i] for i in ids]

        return load

    @staticmethod
    def _caused_by(db: Database) -> Callable[[list[int]], Awaitable[list[list[int]]]]:
        async def load(ids: list[int]) -> list[list[int]]:
            async with db.acquire() as con:
                found = await ingest.incidents_caused_by(con, ids)
            return [found[i] for i in ids]

        return load

    @staticmethod
    def _incidents_of_service(
        db: Database,
    ) -> Callable[[list[tuple[int, IncidentFilter]]], Awaitable[list[list[Incident]]]]:
        async def load(keys: list[tuple[int, IncidentFilter]]) -> list[list[Incident]]:
            result: dict[tuple[int, IncidentFilter], list[Incident]] = {k: [] for k in keys}
            async with db.acquire() as con:
                for f, service_ids in _by_filter(keys).items():
                    found = await ingest.list_incidents(
                        con, service_ids=service_ids, start=f.start, end=f.end,
                        severities=list(f.severities) or None, statuses=list(f.statuses) or None,
                    )  # fmt: skip
                    for incident in found:
                        if incident.service_id is not None:
                            result[(incident.service_id, f)].append(incident)
            return [result[k] for k in keys]

        return load

    @staticmethod
    def _changes_of_service(
        db: Database,
    ) -> Callable[[list[tuple[int, ChangeFilter]]], Awaitable[list[list[Change]]]]:
        async def load(keys: list[tuple[int, ChangeFilter]]) -> list[list[Change]]:
            result: dict[tuple[int, ChangeFilter], list[Change]] = {k: [] for k in keys}
            async with db.acquire() as con:
                for f, service_ids in _by_filter(keys).items():
                    found = await ingest.list_changes(
                        con, service_ids=service_ids, start=f.start, end=f.end,
                        environments=list(f.environments) or None,
                        statuses=list(f.statuses) or None,
                    )  # fmt: skip
                    for change in found:
                        if change.service_id is not None:
                            result[(change.service_id, f)].append(change)
            return [result[k] for k in keys]

        return load


@dataclass(frozen=True)
class IncidentFilter:
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    severities: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChangeFilter:
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    environments: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()


F = TypeVar("F")


def _by_filter(keys: list[tuple[int, F]]) -> dict[F, list[int]]:
    groups: dict[F, list[int]] = {}
    for service_id, f in keys:
        groups.setdefault(f, []).append(service_id)
    return groups
