"""A team's figures over a window and its DORA keys per bucket, rolled up over the team's
services and those of every team below it as each was owned then: the REST mirror of the
figures of `Team` in the graph."""

from __future__ import annotations

from pydantic import BaseModel, Field

from service.models.enums import Grain, Scope
from service.models.instants import Instant
from service.models.reports import DoraReport
from service.models.teams import DoraTrend, TeamFigures
from service.rest.csv_tables import FigureTable, Items, ModelTable
from service.rest.endpoint import Call, Endpoint, path_param
from service.usecases import team_figures


class TeamWindowQuery(BaseModel):
    from_: Instant = Field(alias="from", description="Inclusive start, ISO 8601 with zone.")
    to: Instant | None = Field(default=None, description="Exclusive end; default now.")


class TrendQuery(TeamWindowQuery):
    grain: Grain = Field(default=Grain.MONTH, description="The bucket of each point (UTC).")


async def team_figures_read(call: Call) -> TeamFigures:
    """Availability, incidents, DORA, spend and unit cost of a team and its sub-teams."""
    query: TeamWindowQuery = call.query
    now = call.now()
    async with call.connection() as con:
        return await team_figures.figures(
            con, path_param(call, "slug"), query.from_, query.to or now, now
        )


async def team_dora_trend(call: Call) -> DoraTrend:
    """A team's DORA keys per week, month or quarter."""
    query: TrendQuery = call.query
    now = call.now()
    async with call.connection() as con:
        return await team_figures.dora_trend(
            con, path_param(call, "slug"), query.grain, query.from_, query.to or now, now
        )


def _buckets(trend: DoraTrend) -> Items:
    return trend.buckets


#: CSV: the figures as `field,value` rows, as a service's report; the trend a row per bucket.
FIGURES_CSV = FigureTable()
TREND_CSV = ModelTable(DoraReport, _buckets)

ENDPOINTS = [
    Endpoint("GET", "/v1/teams/{slug}/figures", team_figures_read, Scope.READ,
             "A team's availability, incidents, DORA, spend and unit cost", "teams",
             response=TeamFigures, query=TeamWindowQuery, errors=(404, 422), csv=FIGURES_CSV,
             description="Rolled up over the team's own services and those of every team "
             "below it, each service counted only for the part of the window its team owned "
             "it: availability as service-minutes (optionally weighted by tier), incident "
             "statistics, the DORA keys (each change counted once, for the team that owned "
             "its service when it finished), spend and spend per user.", replica_reads=True),
    Endpoint("GET", "/v1/teams/{slug}/dora-trend", team_dora_trend, Scope.READ,
             "A team's DORA keys per week, month or quarter", "teams",
             response=DoraTrend, query=TrendQuery, errors=(404, 422), csv=TREND_CSV,
             description="The DORA keys of the team and its sub-teams for each bucket of the "
             "grain overlapping the window, oldest first, with the same roll-up rules as "
             "GET /v1/teams/{slug}/figures.", replica_reads=True),
]  # fmt: skip
