"""A team's figures over a window and its DORA keys per bucket, rolled up over the team's
services and those of every team below it as each was owned then."""

from __future__ import annotations

import datetime as dt

from kpi_client.api.catalog import TEAMS
from kpi_client.models.teams import DoraTrend, TeamFigures
from kpi_client.operation import Operation, answer, query


def get_team_figures(
    slug: str, *, from_: dt.datetime, to: dt.datetime | None = None
) -> Operation[TeamFigures]:
    """Availability, incident statistics, DORA keys, spend and unit cost of a team and its
    sub-teams over [from_, to)."""
    params = query(from_=from_, to=to)
    return Operation("GET", f"{TEAMS.member(slug)}/figures", answer(TeamFigures), query=params)


def get_team_dora_trend(
    slug: str, *, from_: dt.datetime, to: dt.datetime | None = None, grain: str | None = None
) -> Operation[DoraTrend]:
    """A team's DORA keys per bucket (`week`, `month` or `quarter` ...) of [from_, to)."""
    params = query(from_=from_, to=to, grain=grain)
    return Operation("GET", f"{TEAMS.member(slug)}/dora-trend", answer(DoraTrend), query=params)
