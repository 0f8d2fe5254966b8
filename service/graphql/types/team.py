"""The Team node."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from service.graphql.types.common import Info
from service.models.catalog import Team as TeamModel

if TYPE_CHECKING:
    from service.graphql.types.service import Service


@strawberry.type
class Team:
    id: strawberry.Private[int]
    slug: str
    name: str
    email: str | None

    @classmethod
    def of(cls, m: TeamModel) -> Team:
        return cls(id=m.id, slug=m.slug, name=m.name, email=m.email)

    @strawberry.field
    async def services(
        self, info: Info
    ) -> list[Annotated[Service, strawberry.lazy("service.graphql.types.service")]]:
        from service.graphql.types.service import Service

        loaders = info.context.loaders
        ids = await loaders.services_of_team.load(self.id)
        return [Service.of(s) for s in await loaders.service.load_many(ids) if s]
