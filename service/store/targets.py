"""Typed wrappers over sql/queries/targets.sql: KPI targets per service, tier or everywhere."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from service.db import Connection, fetch_grouped, one_found, statements
from service.models.catalog import Target, TargetIn
from service.models.stored import read
from service.store.constraints import unique

q = statements("targets")


def _target(row: Mapping[str, Any]) -> Target:
    data = dict(row.items())
    data.pop("kpi_id", None)
    data.pop("key", None)
    return read(Target, data)


async def list_targets(
    con: Connection, *, kpi: str | None = None, target_id: int | None = None
) -> list[Target]:
    return [_target(r) for r in await con.fetch(q("list_targets"), kpi, target_id)]


async def get_target(con: Connection, *, target_id: int) -> Target:
    return one_found(await list_targets(con, target_id=target_id), f"no target {target_id}")


async def targets_by_kpi(con: Connection, kpi_ids: Sequence[int]) -> dict[int, list[Target]]:
    return await fetch_grouped(con, q("targets_by_kpi"), kpi_ids, _target)


def _target_args(target: TargetIn, kpi_id: int, service_id: int | None) -> tuple[Any, ...]:
    return (
        kpi_id,
        service_id,
        target.tier,
        target.value,
        target.warning,
        target.effective_from,
        target.effective_to,
    )


async def insert_target(
    con: Connection, *, target: TargetIn, kpi_id: int, service_id: int | None
) -> int:
    """The new target's id; Conflict (409) when one starts at the same time."""
    async with unique("effective_from", str(target.effective_from)):
        target_id: int = await con.fetchval(
            q("insert_target"), *_target_args(target, kpi_id, service_id)
        )
    return target_id


async def update_target(
    con: Connection, *, target_id: int, target: TargetIn, kpi_id: int, service_id: int | None
) -> bool:
    """Whether there was a target `target_id` to update; Conflict (409) as for inserts."""
    async with unique("effective_from", str(target.effective_from)):
        found = await con.fetchval(
            q("update_target"), target_id, *_target_args(target, kpi_id, service_id)
        )
    return found is not None


async def delete_target(con: Connection, *, target_id: int) -> bool:
    """Whether there was a target `target_id` to delete."""
    return await con.fetchval(q("delete_target"), target_id) is not None
