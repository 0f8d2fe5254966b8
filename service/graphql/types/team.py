"""The Team node."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from service.graphql.types.common import Connection, Info
from service.models.catalog import Team as TeamModel

if TYPE_CHECKING:
    from service.graphql.types.service import Service


@strawberry.type
class Team:
    id: strawberry.Private[int]
    slug: str
    name: str
    email: str | None
    entity_ref: str = strawberry.field(
        description="The team's Backstage entity reference: group:default/payments-team."
    )

    @classmethod
    def of(cls, m: TeamModel) -> Team:
        return cls(id=m.id, slug=m.slug, name=m.name, email=m.email, entity_ref=m.entity_ref)

    @strawberry.field(description="The team's services, by slug; cursor-paginated.")
    async def services(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> Connection[Annotated[Service, strawberry.lazy("service.graphql.types.service")]]:
        from service.graphql.types.service import services_page

        edge = info.context.loaders.services_of_team
        return await services_page(info, edge, self.id, first, after)
