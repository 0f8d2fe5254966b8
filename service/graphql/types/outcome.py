"""The business Outcome node: the KPIs contributing to it (with weights) and its services."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from service.graphql.types.common import Info
from service.models.catalog import Outcome as OutcomeModel

if TYPE_CHECKING:
    from service.graphql.types.kpi import Kpi
    from service.graphql.types.service import Service


@strawberry.type
class KpiContribution:
    kpi: Annotated[Kpi, strawberry.lazy("service.graphql.types.kpi")]
    weight: float
    rationale: str | None


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

    @strawberry.field
    async def kpis(self, info: Info) -> list[KpiContribution]:
        from service.graphql.types.kpi import Kpi

        loaders = info.context.loaders
        links = await loaders.kpi_links_of_outcome.load(self.id)
        kpis = await loaders.kpi.load_many([link["id"] for link in links])
        return [
            KpiContribution(kpi=Kpi.of(k), weight=link["weight"], rationale=link["rationale"])
            for link, k in zip(links, kpis, strict=True)
            if k
        ]

    @strawberry.field(description="Services whose KPIs contribute to this outcome.")
    async def services(
        self, info: Info
    ) -> list[Annotated[Service, strawberry.lazy("service.graphql.types.service")]]:
        from service.graphql.types.service import Service

        loaders = info.context.loaders
        ids = await loaders.services_of_outcome.load(self.id)
        return [Service.of(s) for s in await loaders.service.load_many(ids) if s]
