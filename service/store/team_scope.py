"""Typed wrappers over sql/queries/team_scope.sql: the services and teams under a team, which
a team-scoped token or source may touch."""

from __future__ import annotations

from service.db import Connection, statements

q = statements("team_scope")


async def team_tree_services(con: Connection, team: str) -> dict[str, int]:
    """The services of the team (its slug) and of every team under it: slug -> id."""
    return {r["slug"]: r["id"] for r in await con.fetch(q("team_tree_services"), team)}


async def team_tree_slugs(con: Connection, team: str) -> set[str]:
    """The slugs of the team and of every team under it."""
    return {r["slug"] for r in await con.fetch(q("team_tree_slugs"), team)}


async def service_slug_by_id(con: Connection, service_id: int) -> str | None:
    slug: str | None = await con.fetchval(q("service_slug_by_id"), service_id)
    return slug
