"""A team's figures over a window, rolled up over its services and those of every team below
it, each service counted for the stretches of the window its team owned it (the rules are in
service/kpi/team_rollup.py): availability, incident statistics, DORA keys, spend and unit
cost, and the DORA keys per bucket. Each reading takes the same statements for one team as
for many, so the graph's loaders stay flat in the number of teams."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from service.db import Connection
from service.errors import invalid
from service.kpi import periods, team_rollup
from service.kpi.builtin import ChangeFigures, Outage
from service.kpi.periods import Period
from service.kpi.team_rollup import Segment
from service.models.enums import Grain
from service.models.reports import CategoryAmount, DoraReport, IncidentReport
from service.models.teams import (
    DoraTrend,
    TeamAvailability,
    TeamCurrencySpend,
    TeamFigures,
    TeamSpend,
)
from service.store import metrics, money, ownership
from service.store import services as service_store
from service.store import teams as team_store
from service.store.metrics import MetricScope
from service.usecases.reports import (
    dora_of,
    incident_report_of,
    measured_window,
    percent,
    report_window,
)

T = TypeVar("T")

#: Most buckets a DORA trend may hold (a trend is drawn, not paged).
MOST_TREND_BUCKETS = 400


@dataclass(frozen=True)
class Stretches:
    """The segments of several groups (a team, or a team's bucket) laid out as the metric
    queries take them: one window per segment, its service, and the group it counts for
    (numbered from 1)."""

    segments: list[Segment]
    groups: list[int]
    count: int

    @classmethod
    def of(cls, grouped: Sequence[Sequence[Segment]]) -> Stretches:
        flat = [s for g in grouped for s in g]
        numbers = [i + 1 for i, g in enumerate(grouped) for _ in g]
        return cls(flat, numbers, len(grouped))

    @property
    def windows(self) -> list[Period]:
        return [s.period for s in self.segments]

    @property
    def services(self) -> list[int]:
        return [s.service for s in self.segments]

    @property
    def scope(self) -> MetricScope:
        return MetricScope("teams", None, tuple(sorted(set(self.services))))

    def padded(self, found: list[T], empty: T) -> list[T]:
        """One figure per group: the queries leave out trailing groups without segments."""
        return found + [empty] * (self.count - len(found))


async def segments_by_team(
    con: Connection, team_ids: Sequence[int], window: Period
) -> dict[int, list[Segment]]:
    """Each team's stretches of the window, those of one service joined."""
    out: dict[int, list[Segment]] = {t: [] for t in team_ids}
    for s in team_rollup.merged(await ownership.ownership_segments(con, team_ids, window)):
        out[s.team].append(s)
    return out


async def _outages(con: Connection, st: Stretches, now: dt.datetime) -> list[Outage]:
    """Each segment's merged outage within its stretch (the service's own definition)."""
    cells = await metrics.outages(con, st.scope, st.windows, now)
    return [cells[i].get(s.service, Outage(0.0, 0)) for i, s in enumerate(st.segments)]


async def availability_by_team(
    con: Connection, team_ids: Sequence[int], window: Period, now: dt.datetime
) -> dict[int, TeamAvailability]:
    found = await segments_by_team(con, team_ids, window)
    st = Stretches.of([found[t] for t in team_ids])
    outages = await _outages(con, st, now)
    out = {}
    for t in team_ids:
        mine = [(s, o) for s, o in zip(st.segments, outages, strict=True) if s.team == t]
        a = team_rollup.availability([s for s, _ in mine], [o.seconds for _, o in mine])
        out[t] = TeamAvailability(
            window=report_window(window, now),
            availability=percent(a.share),
            weighted_availability=percent(a.weighted),
            service_minutes=a.service_seconds / 60,
            outage_minutes=a.outage_seconds / 60,
            outage_incidents=sum(o.incidents for _, o in mine),
            services=len({s.service for s, _ in mine}),
        )
    return out


async def incidents_by_team(
    con: Connection, team_ids: Sequence[int], window: Period, now: dt.datetime
) -> dict[int, IncidentReport]:
    found = await segments_by_team(con, team_ids, window)
    st = Stretches.of([found[t] for t in team_ids])
    figures = st.padded(
        await metrics.incidents(con, st.scope, st.windows, metrics.NO_FILTER, st.services,
                                st.groups) if st.segments else [],
        metrics.IncidentBreakdown(),
    )  # fmt: skip
    outages = await _outages(con, st, now)
    services = await service_store.services_by_id(con, list(st.scope.service_ids))
    revenue = {s.id: s.revenue_per_hour or 0.0 for s in services}
    slugs = {s.id: s.slug for s in services}
    out = {}
    for i, t in enumerate(team_ids):
        cell: dict[int, Outage] = {}
        for s, o in zip(st.segments, outages, strict=True):
            if s.team == t and o.incidents:
                was = cell.get(s.service, Outage(0.0, 0))
                cell[s.service] = Outage(was.seconds + o.seconds, was.incidents + o.incidents)
        out[t] = incident_report_of(figures[i], cell, revenue, slugs, window, now)
    return out


async def dora_by_team(
    con: Connection, team_ids: Sequence[int], window: Period, now: dt.datetime
) -> dict[int, DoraReport]:
    found = await segments_by_team(con, team_ids, window)
    st = Stretches.of([found[t] for t in team_ids])
    figures = await _changes(con, st)
    return {t: dora_of(figures[i], window, now) for i, t in enumerate(team_ids)}


async def _changes(con: Connection, st: Stretches) -> list[ChangeFigures]:
    found = []
    if st.segments:
        found = await metrics.changes(
            con, st.scope, st.windows, metrics.NO_FILTER, st.services, st.groups
        )
    return st.padded(found, ChangeFigures())


async def spend_by_team(
    con: Connection, team_ids: Sequence[int], window: Period, now: dt.datetime
) -> dict[int, TeamSpend]:
    found = await segments_by_team(con, team_ids, window)
    st = Stretches.of([found[t] for t in team_ids])
    spent: dict[int, dict[str, dict[str, float]]] = {t: {} for t in team_ids}
    if st.segments:
        for currency in await money.currencies(con, st.scope):
            cells = await money.spend(con, st.scope, st.windows, currency, st.services)
            for s, cell in zip(st.segments, cells, strict=True):
                if cell.records:
                    mine = spent[s.team].setdefault(currency, {})
                    for category, amount in cell.by_category.items():
                        mine[category] = mine.get(category, 0.0) + amount
    return {t: _team_spend(spent[t], found[t], window, now) for t in team_ids}


def _team_spend(
    spent: dict[str, dict[str, float]], segments: list[Segment], window: Period, now: dt.datetime
) -> TeamSpend:
    users = team_rollup.users(segments, window)
    currencies = []
    for currency, by in sorted(spent.items()):
        total = sum(by.values())
        amounts = [CategoryAmount(category=c, amount=a) for c, a in sorted(by.items())]
        currencies.append(
            TeamCurrencySpend(currency=currency, total=total, by_category=amounts,
                              per_user=team_rollup.per_user(total, users))
        )  # fmt: skip
    return TeamSpend(window=report_window(window, now), currencies=currencies, users=users)


async def figures(
    con: Connection, slug: str, start: dt.datetime, end: dt.datetime, now: dt.datetime
) -> TeamFigures:
    """One team's figures over [start, end), measured up to now (GET /v1/teams/{slug}/figures)."""
    team = await team_store.get_team(con, slug=slug)
    window = measured_window(start, end, now)
    ids = [team.id]
    return TeamFigures(
        team=slug,
        availability=(await availability_by_team(con, ids, window, now))[team.id],
        incidents=(await incidents_by_team(con, ids, window, now))[team.id],
        dora=(await dora_by_team(con, ids, window, now))[team.id],
        spend=(await spend_by_team(con, ids, window, now))[team.id],
    )


def trend_buckets(grain: Grain, window: Period) -> list[Period]:
    """The parts of the buckets of `grain` inside the window; a 422 naming `grain` past
    MOST_TREND_BUCKETS."""
    try:
        whole = periods.buckets(grain, window.start, window.end)
    except ValueError as exc:
        raise invalid("grain", str(exc)) from exc
    if len(whole) > MOST_TREND_BUCKETS:
        raise invalid(
            "grain", f"{len(whole)} {grain.value} buckets; a trend holds at most "
            f"{MOST_TREND_BUCKETS}: narrow the window or take a coarser grain",
        )  # fmt: skip
    return team_rollup.bucket_windows(whole, window.start, window.end)


async def dora_trend_by_team(
    con: Connection, team_ids: Sequence[int], grain: Grain, window: Period, now: dt.datetime
) -> dict[int, list[DoraReport]]:
    """Each team's DORA keys per bucket of `grain`, from one change statement for every team
    and bucket (each a group of its stretches in the bucket)."""
    buckets = trend_buckets(grain, window)
    found = await segments_by_team(con, team_ids, window)
    grouped = [team_rollup.clipped(found[t], b) for t in team_ids for b in buckets]
    st = Stretches.of(grouped)
    figures = await _changes(con, st)
    n = len(buckets)
    return {
        t: [dora_of(figures[i * n + j], b, now) for j, b in enumerate(buckets)]
        for i, t in enumerate(team_ids)
    }


async def dora_trend(
    con: Connection, slug: str, grain: Grain, start: dt.datetime, end: dt.datetime,
    now: dt.datetime,
) -> DoraTrend:  # fmt: skip
    """One team's DORA keys per bucket (GET /v1/teams/{slug}/dora-trend)."""
    team = await team_store.get_team(con, slug=slug)
    window = measured_window(start, end, now)
    found = await dora_trend_by_team(con, [team.id], grain, window, now)
    return DoraTrend(team=slug, grain=grain, buckets=found[team.id])
