"""Team-scoped tokens and sources: what a token limited to a team may write and read, namely
the services the team or any team under it owns now."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping
from dataclasses import dataclass

from service.db import Connection
from service.errors import Forbidden, NotFound, field_error
from service.models.observations import Numbered
from service.models.tokens import Principal
from service.store import team_scope


def outside_team(team: str, slug: str | None, field: str) -> Forbidden:
    """The 403 for a write (or a read) naming a service outside the team's tree, or none."""
    what = f"service {slug!r} is not" if slug is not None else "a record without a service is not"
    detail = (
        f"{what} one of the services of team {team!r} or of a team under it, to which this "
        "token is limited"
    )
    return Forbidden(
        f"{field}: {detail}", errors=[field_error(field, detail)], service=slug, team=team
    )


@dataclass(frozen=True)
class TeamServices:
    """The services (slug -> id) of a team and of every team under it."""

    team: str
    services: Mapping[str, int]

    def allows(self, slug: str | None) -> bool:
        return slug is not None and slug in self.services

    def check(self, slug: str | None, field: str) -> None:
        """A 403 naming `field` unless the slug is one of the team's services."""
        if not self.allows(slug):
            raise outside_team(self.team, slug, field)

    def check_each(self, slugs: Iterable[str | None], field: str = "service") -> None:
        """A 403 naming the first record (`<index>.<field>`) whose service is not the team's:
        one foreign record refuses the whole batch, so nothing of it is stored."""
        for index, slug in enumerate(slugs):
            if slug not in self.services:
                raise outside_team(self.team, slug, f"{index}.{field}")

    @property
    def ids(self) -> list[int]:
        return sorted(self.services.values())


async def team_services(con: Connection, team: str) -> TeamServices:
    return TeamServices(team, await team_scope.team_tree_services(con, team))


async def write_limit(con: Connection, principal: Principal | None) -> TeamServices | None:
    """The services a token may write for, None when it is not limited to a team."""
    if principal is None or principal.team is None:
        return None
    return await team_services(con, principal.team)


async def read_limit(con: Connection, principal: Principal | None) -> TeamServices | None:
    """The services a token may read, None when its reads are not limited to a team."""
    if principal is None or principal.reads_team is None:
        return None
    return await team_services(con, principal.reads_team)


async def checked_points(
    chunks: AsyncIterable[list[Numbered]], limit: TeamServices
) -> AsyncIterator[list[Numbered]]:
    """The chunks of an observation stream, refusing (403) at the first point whose service is
    not the team's: the request's transaction then stores none of it."""
    services = limit.services
    async for chunk in chunks:
        for index, point in chunk:
            # The field's name is built only for a refusal: a batch has up to 10,000 points.
            if point.service not in services:
                raise outside_team(limit.team, point.service, f"{index}.service")
        yield chunk


def readable(limit: TeamServices | None, slug: str | None, what: str) -> None:
    """A 404 for a read of a service (or a record of one) outside the token's team, as for
    one that does not exist: a limited token learns nothing of other teams' services."""
    if limit is not None and not limit.allows(slug):
        raise NotFound(f"no {what}")


async def teams_readable(con: Connection, limit: TeamServices | None, team: str) -> None:
    """A 404 for a team outside the token's team tree."""
    if limit is not None and team not in await team_scope.team_tree_slugs(con, limit.team):
        raise NotFound(f"no team {team!r}")
