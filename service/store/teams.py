"""Typed wrappers over sql/queries/teams.sql: the teams owning business services."""

from __future__ import annotations

from collections.abc import Sequence

from service.db import Connection, fetch_models, one_found, statements
from service.models.catalog import Team, TeamIn
from service.store.constraints import still_referenced, unique_keys

q = statements("teams")


async def list_teams(
    con: Connection,
    *,
    slugs: Sequence[str] | None = None,
    entity_refs: Sequence[str] | None = None,
) -> list[Team]:
    """Every team, or those of these slugs or (normalised) entity references."""
    return await fetch_models(con, Team, q("list_teams"), slugs, entity_refs)


async def page_teams(con: Connection, *, after_id: int, limit: int) -> list[Team]:
    """Teams in creation order after `after_id`, for cursor pagination."""
    return await fetch_models(con, Team, q("page_teams"), after_id, limit)


async def get_team(con: Connection, *, slug: str) -> Team:
    return one_found(await list_teams(con, slugs=[slug]), f"no team {slug!r}")


async def teams_by_id(con: Connection, ids: Sequence[int]) -> list[Team]:
    return await fetch_models(con, Team, q("teams_by_id"), list(ids))


async def team_id_by_slug(con: Connection, slug: str) -> int | None:
    team_id: int | None = await con.fetchval(q("team_id_by_slug"), slug)
    return team_id


def _team_args(team: TeamIn) -> tuple[str, str, str | None, str]:
    return (team.slug, team.name, team.email, team.stored_ref())


def _keys(team: TeamIn) -> dict[str, tuple[str, str]]:
    return {"team_slug_key": ("slug", team.slug),
            "team_entity_ref_key": ("entity_ref", team.stored_ref())}  # fmt: skip


async def insert_team(con: Connection, *, team: TeamIn) -> int:
    """The new team's id; Conflict (409) when its slug or entity reference is taken."""
    async with unique_keys(_keys(team)):
        team_id: int = await con.fetchval(q("insert_team"), *_team_args(team))
    return team_id


async def update_team(con: Connection, *, team: TeamIn) -> int | None:
    """The id of the team updated, None when there is no team of that slug; Conflict (409)
    when another team has its entity reference."""
    async with unique_keys(_keys(team)):
        team_id: int | None = await con.fetchval(q("update_team"), *_team_args(team))
    return team_id


async def delete_team(con: Connection, *, slug: str) -> int | None:
    """The id of the team deleted, None when there was none; Conflict while it is in use."""
    async with still_referenced(f"team {slug!r}"):
        team_id: int | None = await con.fetchval(q("delete_team"), slug)
    return team_id
