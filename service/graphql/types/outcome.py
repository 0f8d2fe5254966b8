"""The business Outcome node: the KPIs contributing to it (with weights) and its services."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import TYPE_CHECKING, Annotated

import strawberry

from service.graphql.types.common import Connection, Contribution, Info, page_of_links
from service.graphql.types.kpi import Kpi
from service.graphql.types.reports import OutcomeHealth, ServiceAtRisk, convert, period_report
from service.models.catalog import Outcome as OutcomeModel
from service.usecases import reports

if TYPE_CHECKING:
    from service.graphql.types.service import Service


@strawberry.type
class KpiContribution(Contribution[Kpi]):
    node: Kpi = strawberry.field(name="kpi")


@strawberry.type(description="A business outcome, e.g. 'Protect revenue'.")
class Outcome:
    id: strawberry.Private[int]
    slug: str
    name: str
    description: str | None
    owner: str | None

    @classmethod
    def of(cls, m: OutcomeModel) -> Outcome:
        return cls(id=m.id, slug=m.slug, name=m.name, description=m.description, owner=m.owner)

    @strawberry.field(
        description="KPIs contributing to this outcome, with their weights; cursor-paginated."
    )
    async def kpis(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> Connection[KpiContribution]:
        loaders = info.context.loaders
        return await page_of_links(loaders.kpi_links_of_outcome, self.id, loaders.kpi, Kpi.of,
                                   KpiContribution, first, after)  # fmt: skip

    @strawberry.field(
        description="Services whose KPIs contribute to this outcome; cursor-paginated."
    )
    async def services(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> Connection[Annotated[Service, strawberry.lazy("service.graphql.types.service")]]:
        from service.graphql.types.service import services_page

        edge = info.context.loaders.services_of_outcome
        return await services_page(info, edge, self.id, first, after)

    @strawberry.field(
        description="Its KPIs' statuses (overall, for the period of each KPI's cadence holding "
        "`period`, default the last closed one) rolled up by link weight: met 1, at risk 0.5, "
        "breached 0; met from 0.9, at risk from 0.6."
    )
    async def health(self, info: Info, period: dt.datetime | None = None) -> OutcomeHealth:
        health = partial(reports.outcome_health, outcome_id=self.id)
        return await period_report(info, period, health, OutcomeHealth)  # type: ignore[no-any-return]

    @strawberry.field(
        description="Services this outcome relies on whose KPIs are breached (latest status) "
        "or that are down now, and services down now that a critical (tier 1) one of them "
        "depends on, directly or not."
    )
    async def services_at_risk(self, info: Info) -> list[ServiceAtRisk]:
        async with info.context.db.acquire() as con:
            found = await reports.services_at_risk(con, self.id, info.context.now())
        return [convert(ServiceAtRisk, s) for s in found]
