"""Typed wrappers over sql/queries/services.sql: business services and their dependencies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from service.db import Connection, fetch_grouped, fetch_models, one_found, statements
from service.errors import invalid
from service.models.catalog import Service, ServiceIn
from service.store.constraints import still_referenced, unique_keys

q = statements("services")


async def list_services(
    con: Connection,
    *,
    slugs: Sequence[str] | None = None,
    tier: int | None = None,
    team: str | None = None,
    after_id: int | None = None,
    limit: int | None = None,
    entity_refs: Sequence[str] | None = None,
) -> list[Service]:
    """Services in creation order: every one, or those of these slugs, tier, team (slug) or
    (normalised) entity references, after `after_id`, at most `limit`."""
    return await fetch_models(
        con, Service, q("list_services"), slugs, tier, team, after_id, limit, entity_refs
    )


async def get_service(con: Connection, *, slug: str) -> Service:
    return one_found(await list_services(con, slugs=[slug]), f"no service {slug!r}")


async def services_by_id(con: Connection, ids: Sequence[int]) -> list[Service]:
    return await fetch_models(con, Service, q("services_by_id"), list(ids))


async def service_ids_by_slug(con: Connection, slugs: Sequence[str]) -> dict[str, int]:
    """{slug: id} of the services that exist among `slugs`."""
    rows = await con.fetch(q("service_ids_by_slug"), list(slugs))
    return {r["slug"]: r["id"] for r in rows}


async def service_ids(con: Connection, slugs: Sequence[str], *, field: str) -> list[int]:
    """Ids of the given service slugs, in order; a 422 naming `field.i` for an unknown one."""
    by_slug = await service_ids_by_slug(con, slugs)
    for i, slug in enumerate(slugs):
        if slug not in by_slug:
            name = f"{field}.{i}" if len(slugs) > 1 or field.endswith("depends_on") else field
            raise invalid(name, f"unknown service {slug!r}")
    return [by_slug[s] for s in slugs]


async def services_by_team(con: Connection, team_ids: Sequence[int]) -> dict[int, list[int]]:
    """{team id: [ids of its services]}."""
    return await fetch_grouped(con, q("services_by_team"), team_ids, lambda row: row["id"])


def _service_args(service: ServiceIn, team_id: int | None) -> tuple[Any, ...]:
    return (
        service.slug,
        service.name,
        service.tier,
        team_id,
        service.business_owner,
        service.technology_owner,
        service.revenue_per_hour,
        service.users,
        service.outage_threshold.value,
        service.attributes or {},
        service.stored_ref(),
    )


def _keys(service: ServiceIn) -> dict[str, tuple[str, str]]:
    return {"business_service_slug_key": ("slug", service.slug),
            "business_service_entity_ref_key": ("entity_ref", service.stored_ref())}  # fmt: skip


async def insert_service(con: Connection, *, service: ServiceIn, team_id: int | None) -> int:
    """The new service's id (without dependencies); Conflict (409) when its slug or entity
    reference is taken."""
    async with unique_keys(_keys(service)):
        service_id: int = await con.fetchval(q("insert_service"), *_service_args(service, team_id))
    return service_id


async def update_service(con: Connection, *, service: ServiceIn, team_id: int | None) -> int | None:
    """The id of the service updated (not its dependencies), None when there is none;
    Conflict (409) when another service has its entity reference."""
    async with unique_keys(_keys(service)):
        service_id: int | None = await con.fetchval(
            q("update_service"), *_service_args(service, team_id)
        )
    return service_id


async def lock_service_for_delete(con: Connection, *, slug: str) -> int | None:
    """Lock the service's row until commit; its id, None when there is none."""
    service_id: int | None = await con.fetchval(q("lock_service_for_delete"), slug)
    return service_id


async def has_observations_for_service(con: Connection, service_id: int) -> bool:
    return bool(await con.fetchval(q("has_observations_for_service"), service_id))


async def delete_service(con: Connection, *, slug: str) -> None:
    """Delete the service; Conflict (409) while something still refers to it."""
    async with still_referenced(f"service {slug!r}"):
        await con.fetchval(q("delete_service"), slug)


async def delete_dependencies(con: Connection, service_id: int) -> None:
    await con.execute(q("delete_dependencies"), service_id)


async def insert_dependencies(con: Connection, service_id: int, depends_on: Sequence[int]) -> None:
    await con.execute(q("insert_dependencies"), service_id, list(depends_on))


async def dependency_reaches(con: Connection, start: Sequence[int], goal: int) -> bool:
    """Whether following depends_on edges from `start` reaches `goal`."""
    return bool(await con.fetchval(q("dependency_reaches"), list(start), goal))


async def dependencies_by_service(con: Connection, ids: Sequence[int]) -> dict[int, list[int]]:
    """{service id: [ids of the services it depends on]}."""
    return await fetch_grouped(con, q("dependencies_by_service"), ids, lambda row: row["id"])


async def dependents_by_service(con: Connection, ids: Sequence[int]) -> dict[int, list[int]]:
    """{service id: [ids of the services depending on it]}."""
    return await fetch_grouped(con, q("dependents_by_service"), ids, lambda row: row["id"])
