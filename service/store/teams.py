"""Typed wrappers over sql/queries/teams.sql: the teams owning business services."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence

import asyncpg

from service.db import Connection, fetch_grouped, fetch_models, one_found, statements
from service.errors import invalid
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


async def _parent_id(con: Connection, team: TeamIn) -> int | None:
    """The id of the team's parent; a 422 naming `parent` when there is no such team."""
    if team.parent is None:
        return None
    parent_id = await team_id_by_slug(con, team.parent)
    if parent_id is None:
        raise invalid("parent", f"unknown team {team.parent!r}")
    return parent_id


@contextlib.asynccontextmanager
async def _no_cycle(team: TeamIn) -> AsyncIterator[None]:
    """Turn the refusal of team_parent_not_cycle (migration 0029) into a 422 naming `parent`,
    as a dependency cycle between services is."""
    try:
        yield
    except asyncpg.CheckViolationError as exc:
        if exc.constraint_name != "team_parent_not_cycle":
            raise
        raise invalid(
            "parent", f"{team.parent!r} is {team.slug!r} or below it: that is a cycle"
        ) from exc


def _keys(team: TeamIn) -> dict[str, tuple[str, str]]:
    return {"team_slug_key": ("slug", team.slug),
            "team_entity_ref_key": ("entity_ref", team.stored_ref())}  # fmt: skip


async def insert_team(con: Connection, *, team: TeamIn) -> int:
    """The new team's id; Conflict (409) when its slug or entity reference is taken."""
    parent_id = await _parent_id(con, team)
    async with unique_keys(_keys(team)), _no_cycle(team):
        team_id: int = await con.fetchval(q("insert_team"), *_team_args(team), parent_id)
    return team_id


async def update_team(con: Connection, *, team: TeamIn) -> int | None:
    """The id of the team updated, None when there is no team of that slug; Conflict (409)
    when another team has its entity reference."""
    parent_id = await _parent_id(con, team)
    async with unique_keys(_keys(team)), _no_cycle(team):
        team_id: int | None = await con.fetchval(q("update_team"), *_team_args(team), parent_id)
    return team_id


async def delete_team(con: Connection, *, slug: str) -> int | None:
    """The id of the team deleted, None when there was none; Conflict while it is in use (it
    owns services or has sub-teams)."""
    async with still_referenced(f"team {slug!r}"):
        team_id: int | None = await con.fetchval(q("delete_team"), slug)
    return team_id


async def children_by_team(con: Connection, team_ids: Sequence[int]) -> dict[int, list[int]]:
    """{team id: [ids of its direct sub-teams, by slug]}."""
    return await fetch_grouped(con, q("children_by_team"), team_ids, lambda row: row["id"])


async def kpis_of_teams(con: Connection, team_ids: Sequence[int]) -> dict[int, list[int]]:
    """{team id: [ids of the KPIs that apply to a service of it or of a team below it]}."""
    return await fetch_grouped(con, q("kpis_of_teams"), team_ids, lambda row: row["id"])
