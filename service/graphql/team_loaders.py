"""DataLoaders of teams' edges and figures: each batch of teams costs the same statements as
one team (service/usecases/team_figures.py reads every team of a batch together)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from strawberry.dataloader import DataLoader

from service.db import Connection, Database
from service.kpi.periods import Period
from service.models.enums import Grain
from service.models.reports import DoraReport, IncidentReport
from service.models.teams import Ownership, TeamAvailability, TeamSpend
from service.store import ownership
from service.store import teams as team_store
from service.usecases import team_figures

Report = TypeVar("Report")


@dataclass(frozen=True)
class TeamWindowKey:
    """One team's figures over one window, measured up to `now` (`grain`: per bucket)."""

    team_id: int
    window: Period
    now: dt.datetime
    grain: Grain | None = None


def _per_window(
    db: Database,
    fetch: Callable[[Connection, list[int], Period, dt.datetime], Awaitable[dict[int, Report]]],
) -> DataLoader[TeamWindowKey, Report]:
    """Figures of many teams, one fetch (for all of them) per distinct window."""

    async def load(keys: list[TeamWindowKey]) -> list[Report]:
        found: dict[TeamWindowKey, Report] = {}
        async with db.acquire() as con:
            for window, now in {(k.window, k.now) for k in keys}:
                ids = sorted({k.team_id for k in keys if (k.window, k.now) == (window, now)})
                for tid, report in (await fetch(con, ids, window, now)).items():
                    found[TeamWindowKey(tid, window, now)] = report
        return [found[k] for k in keys]

    return DataLoader(load)


def _trends(db: Database) -> DataLoader[TeamWindowKey, list[DoraReport]]:
    """DORA trends of many teams, one change statement per distinct window and grain."""

    async def load(keys: list[TeamWindowKey]) -> list[list[DoraReport]]:
        found: dict[TeamWindowKey, list[DoraReport]] = {}
        async with db.acquire() as con:
            for window, now, grain in {(k.window, k.now, k.grain) for k in keys}:
                assert grain is not None
                same = [k for k in keys if (k.window, k.now, k.grain) == (window, now, grain)]
                ids = sorted({k.team_id for k in same})
                trends = await team_figures.dora_trend_by_team(con, ids, grain, window, now)
                for k in same:
                    found[k] = trends[k.team_id]
        return [found[k] for k in keys]

    return DataLoader(load)


def _grouped(
    db: Database, fetch: Callable[[Connection, list[int]], Awaitable[dict[int, list[Report]]]]
) -> DataLoader[int, list[Report]]:
    async def load(keys: list[int]) -> list[list[Report]]:
        async with db.acquire() as con:
            found = await fetch(con, keys)
        return [found.get(k, []) for k in keys]

    return DataLoader(load)


class TeamLoaders:
    def __init__(self, db: Database) -> None:
        self.children: DataLoader[int, list[int]] = _grouped(db, team_store.children_by_team)
        self.kpis: DataLoader[int, list[int]] = _grouped(db, team_store.kpis_of_teams)
        self.availability: DataLoader[TeamWindowKey, TeamAvailability] = _per_window(
            db, team_figures.availability_by_team
        )
        self.incident_stats: DataLoader[TeamWindowKey, IncidentReport] = _per_window(
            db, team_figures.incidents_by_team
        )
        self.dora: DataLoader[TeamWindowKey, DoraReport] = _per_window(
            db, team_figures.dora_by_team
        )
        self.spend: DataLoader[TeamWindowKey, TeamSpend] = _per_window(
            db, team_figures.spend_by_team
        )
        self.dora_trend = _trends(db)
        #: Keyed by service: the teams that owned it, oldest first.
        self.ownership: DataLoader[int, list[Ownership]] = _grouped(db, ownership.ownership_history)
