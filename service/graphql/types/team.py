"""The Team node: its place in the hierarchy, its services and KPIs, and its figures rolled up
over its own services and those of every team below it, as each was owned during the window."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
import strawberry.experimental.pydantic as from_model

from service.graphql.loaders import ready
from service.graphql.team_loaders import TeamWindowKey
from service.graphql.types.common import Connection, From, Info, page_of_edge
from service.graphql.types.reports import DoraReport, IncidentReport, convert
from service.kpi.periods import Period
from service.models import teams as team_models
from service.models.catalog import Team as TeamModel
from service.models.enums import Grain
from service.models.instants import check_instant
from service.usecases.reports import measured_window

if TYPE_CHECKING:
    from service.graphql.types.kpi import Kpi
    from service.graphql.types.service import Service


@from_model.type(model=team_models.TeamAvailability, all_fields=True)
class TeamAvailability:
    pass


@from_model.type(model=team_models.TeamCurrencySpend, all_fields=True)
class TeamCurrencySpend:
    pass


@from_model.type(model=team_models.TeamSpend, all_fields=True)
class TeamSpend:
    pass


@from_model.type(model=team_models.Ownership, all_fields=True)
class Ownership:
    pass


def _window(info: Info, from_: dt.datetime, to: dt.datetime | None) -> tuple[Period, dt.datetime]:
    now = info.context.now()
    start = check_instant("from", from_)
    assert start is not None
    return measured_window(start, check_instant("to", to) or now, now), now


@strawberry.type
class Team:
    id: strawberry.Private[int]
    parent_id: strawberry.Private[int | None]
    slug: str
    name: str
    email: str | None
    entity_ref: str = strawberry.field(
        description="The team's Backstage entity reference: group:default/payments-team."
    )

    @classmethod
    def of(cls, m: TeamModel) -> Team:
        return cls(id=m.id, parent_id=m.parent_id, slug=m.slug, name=m.name, email=m.email,
                   entity_ref=m.entity_ref)  # fmt: skip

    @strawberry.field(description="The team's services, by slug; cursor-paginated.")
    async def services(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> Connection[Annotated[Service, strawberry.lazy("service.graphql.types.service")]]:
        from service.graphql.types.service import services_page

        edge = info.context.loaders.services_of_team
        return await services_page(info, edge, self.id, first, after)

    @strawberry.field(description="The team this one sits under (a group, department ...).")
    def parent(self, info: Info) -> Team | None:
        if self.parent_id is None:
            return None
        return ready(info.context.loaders.team.load(self.parent_id),
                     lambda team: Team.of(team) if team else None)  # fmt: skip

    @strawberry.field(description="The teams directly under this one, by slug; cursor-paginated.")
    async def children(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> Connection[Team]:
        loaders = info.context.loaders
        return await page_of_edge(loaders.teams.children, self.id, loaders.team, Team.of,
                                  first, after)  # fmt: skip

    @strawberry.field(
        description="The KPIs that apply to a service this team or a team below it owns, by "
        "key; cursor-paginated."
    )
    async def kpis(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> Connection[Annotated[Kpi, strawberry.lazy("service.graphql.types.kpi")]]:
        from service.graphql.types.kpi import Kpi

        loaders = info.context.loaders
        return await page_of_edge(loaders.teams.kpis, self.id, loaders.kpi,
                                  lambda k: Kpi.node(info, k), first, after)  # fmt: skip

    async def _figure(
        self, info: Info, which: str, from_: dt.datetime, to: dt.datetime | None
    ) -> Any:
        window, now = _window(info, from_, to)
        loader = getattr(info.context.loaders.teams, which)
        return await loader.load(TeamWindowKey(self.id, window, now))

    @strawberry.field(
        description="Availability over the window (up to now) across the services the team "
        "and the teams below it owned, each for the minutes it owned it: 1 - outage minutes / "
        "service minutes, plain and weighted by tier."
    )
    async def availability(
        self, info: Info, from_: From, to: dt.datetime | None = None
    ) -> TeamAvailability:
        return TeamAvailability.from_pydantic(await self._figure(info, "availability", from_, to))

    @strawberry.field(
        description="Incidents whose impact started in the window on a service the team (or "
        "one below it) owned then: MTTD, MTTA, MTTR and time to restore overall, by severity "
        "and by service; recurrence, users affected and downtime cost."
    )
    async def incident_stats(
        self, info: Info, from_: From, to: dt.datetime | None = None
    ) -> IncidentReport:
        return convert(IncidentReport, await self._figure(info, "incident_stats", from_, to))  # type: ignore[no-any-return]

    @strawberry.field(
        description="The DORA keys over production changes finished in the window, each "
        "counted once, for the team that owned its service when it finished."
    )
    async def dora(self, info: Info, from_: From, to: dt.datetime | None = None) -> DoraReport:
        return convert(DoraReport, await self._figure(info, "dora", from_, to))  # type: ignore[no-any-return]

    @strawberry.field(
        description="Spend of the services while the team owned them, per currency, and "
        "spend per user served."
    )
    async def spend(self, info: Info, from_: From, to: dt.datetime | None = None) -> TeamSpend:
        return TeamSpend.from_pydantic(await self._figure(info, "spend", from_, to))

    @strawberry.field(
        description="The DORA keys per bucket of `grain` (week, month, quarter ...) overlapping "
        "the window, oldest first, with the roll-up rules of `dora`."
    )
    async def dora_trend(
        self, info: Info, grain: Grain, from_: From, to: dt.datetime | None = None
    ) -> list[DoraReport]:
        window, now = _window(info, from_, to)
        found = await info.context.loaders.teams.dora_trend.load(
            TeamWindowKey(self.id, window, now, grain)
        )
        return [convert(DoraReport, r) for r in found]
