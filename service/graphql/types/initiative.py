"""The Initiative node (a technology program): what it changes, the KPIs it is meant to move
(each reaching its outcomes through the KPI) and its review, as REST answers it."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry
import strawberry.experimental.pydantic as from_model

from service.graphql.types.common import Info, copied
from service.graphql.types.reports import convert
from service.models import initiatives as models
from service.models.enums import InitiativeStatus
from service.usecases import initiatives

if TYPE_CHECKING:
    from service.graphql.types.kpi import Kpi
    from service.graphql.types.service import Service


@from_model.type(model=models.CurrencyAmount, all_fields=True)
class CurrencyAmount:
    pass


@from_model.type(model=models.InitiativeSpend, all_fields=True)
class InitiativeSpend:
    pass


@from_model.type(model=models.ReviewWindow, all_fields=True)
class ReviewWindow:
    pass


@from_model.type(model=models.KpiReview, all_fields=True)
class KpiReview:
    pass


@from_model.type(model=models.InitiativeReview, all_fields=True)
class InitiativeReview:
    pass


@strawberry.type(description="A KPI an initiative is meant to move, and by how much.")
class InitiativeKpi:
    kpi_key: strawberry.Private[str]
    service_slug: strawberry.Private[str | None]
    expected_change: float = strawberry.field(
        description="The change expected, signed, in the KPI's unit."
    )
    expected_by: dt.date | None
    rationale: str | None

    @strawberry.field(description="The KPI (its outcomes are reachable from it).")
    async def kpi(
        self, info: Info
    ) -> Annotated[Kpi, strawberry.lazy("service.graphql.types.kpi")] | None:
        from service.graphql.types.kpi import Kpi

        found = await info.context.loaders.kpi_by_key.load(self.kpi_key)
        return None if found is None else Kpi.node(info, found)

    @strawberry.field(description="The service the KPI is measured for; null: the KPI overall.")
    async def service(
        self, info: Info
    ) -> Annotated[Service, strawberry.lazy("service.graphql.types.service")] | None:
        from service.graphql.types.service import Service

        if self.service_slug is None:
            return None
        found = await info.context.loaders.service_by_slug.load(self.service_slug)
        return None if found is None else Service.of(found)


@strawberry.type(description="A technology program: budget, services it changes, KPIs it is "
                 "meant to move, and its review.")  # fmt: skip
class Initiative:
    id: strawberry.Private[int]
    service_slugs: strawberry.Private[list[str]]
    key: str
    name: str
    owner: str | None
    sponsor: str | None
    status: InitiativeStatus
    started_on: dt.date
    delivered_on: dt.date | None
    budget: float | None
    currency: str | None
    review_periods: int
    kpis: list[InitiativeKpi]

    @classmethod
    def of(cls, m: models.Initiative) -> Initiative:
        links = [
            InitiativeKpi(kpi_key=k.kpi, service_slug=k.service, expected_change=k.expected_change,
                          expected_by=k.expected_by, rationale=k.rationale)
            for k in m.kpis
        ]  # fmt: skip
        return copied(cls, m, service_slugs=m.services, kpis=links)

    @strawberry.field(description="The services it changes, by slug.")
    async def services(
        self, info: Info
    ) -> list[Annotated[Service, strawberry.lazy("service.graphql.types.service")]]:
        from service.graphql.types.service import Service

        found = await info.context.loaders.service_by_slug.load_many(self.service_slugs)
        return [Service.of(s) for s in found if s is not None]

    @strawberry.field(
        description="Spend against budget, and each linked KPI before the start against after "
        "delivery (as GET /v1/initiatives/{key}/review)."
    )
    async def review(self, info: Info) -> InitiativeReview:
        settings = info.context.request.app.state.settings
        async with info.context.db.acquire() as con:
            found = await initiatives.review(
                con, key=self.key, now=info.context.now(),
                min_periods=settings.initiative_min_periods,
            )  # fmt: skip
        return convert(InitiativeReview, found)  # type: ignore[no-any-return]
