"""DataLoaders: each batches one kind of lookup into one SQL statement per request tick,
so a query over N services costs the same number of statements whatever N is."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from service.db import Connection, Database
from service.models.catalog import Kpi, Outcome, Service, Target, Team
from service.store import catalog as store

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
