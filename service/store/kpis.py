"""Typed wrappers over sql/queries/kpis.sql: KPI definitions and their escalation paths."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from service.db import Connection, fetch_models, one_found, statements
from service.models.catalog import Kpi, KpiIn
from service.models.enums import Direction
from service.store.constraints import unique

q = statements("kpis")


@dataclass(frozen=True)
class KpiRef:
    """What a reference to a KPI by key needs: its id and direction."""

    id: int
    direction: Direction


async def list_kpis(
    con: Connection,
    *,
    keys: Sequence[str] | None = None,
    ids: Sequence[int] | None = None,
    after_id: int | None = None,
    board_level: bool | None = None,
    limit: int | None = None,
) -> list[Kpi]:
    ids = None if ids is None else list(ids)
    return await fetch_models(con, Kpi, q("list_kpis"), keys, ids, after_id, board_level, limit)


async def get_kpi(con: Connection, *, key: str) -> Kpi:
    return one_found(await list_kpis(con, keys=[key]), f"no KPI {key!r}")


async def kpi_ids_by_key(con: Connection, keys: Sequence[str]) -> dict[str, KpiRef]:
    """{key: reference} of the KPIs that exist among `keys`."""
    rows = await con.fetch(q("kpi_ids_by_key"), list(keys))
    return {r["key"]: KpiRef(id=r["id"], direction=Direction(r["direction"])) for r in rows}


async def ratio_reaches(con: Connection, start: Sequence[int], goal: int) -> bool:
    """Whether following numerator and denominator edges from `start` reaches `goal`."""
    return bool(await con.fetchval(q("ratio_reaches"), list(start), goal))


async def builtin_metric_of_kpi(con: Connection, kpi_id: int) -> str | None:
    metric: str | None = await con.fetchval(q("builtin_metric_of_kpi"), kpi_id)
    return metric


async def kpi_used_for_error_budget(con: Connection, kpi_id: int) -> list[str]:
    """Keys of the error budget KPIs whose objectives are the targets of KPI `kpi_id`."""
    return [r["key"] for r in await con.fetch(q("kpi_used_for_error_budget"), kpi_id)]


async def kpi_used_by_ratio(con: Connection, kpi_id: int) -> str | None:
    """The key of a ratio KPI built from KPI `kpi_id`, if any."""
    key: str | None = await con.fetchval(q("kpi_used_by_ratio"), kpi_id)
    return key


async def has_observations_for_kpi(con: Connection, kpi_id: int) -> bool:
    return bool(await con.fetchval(q("has_observations_for_kpi"), kpi_id))


def _kpi_args(
    kpi: KpiIn, ratio_ids: tuple[int | None, int | None], availability_id: int | None
) -> tuple[Any, ...]:
    return (
        kpi.key,
        kpi.name,
        kpi.strategic_question,
        kpi.business_impact,
        kpi.unit,
        kpi.direction.value,
        kpi.aggregation.value if kpi.aggregation else None,
        kpi.kind.value,
        kpi.metric.value if kpi.metric else None,
        *ratio_ids,
        kpi.cadence.value if kpi.cadence else None,
        kpi.business_owner,
        kpi.technology_owner,
        kpi.board_level,
        kpi.tags,
        kpi.filter.model_dump(mode="json", exclude_none=True) if kpi.filter else None,
        availability_id,
    )


async def insert_kpi(
    con: Connection,
    *,
    kpi: KpiIn,
    ratio_ids: tuple[int | None, int | None],
    availability_id: int | None,
) -> int:
    """The new KPI's id (without escalation path); Conflict (409) when its key is taken."""
    async with unique("key", kpi.key):
        kpi_id: int = await con.fetchval(
            q("insert_kpi"), *_kpi_args(kpi, ratio_ids, availability_id)
        )
    return kpi_id


async def update_kpi(
    con: Connection,
    *,
    kpi: KpiIn,
    ratio_ids: tuple[int | None, int | None],
    availability_id: int | None,
) -> None:
    await con.fetchval(q("update_kpi"), *_kpi_args(kpi, ratio_ids, availability_id))


async def lock_kpi_for_delete(con: Connection, *, key: str) -> int | None:
    """Lock the KPI's row until commit; its id, None when there is none."""
    kpi_id: int | None = await con.fetchval(q("lock_kpi_for_delete"), key)
    return kpi_id


async def delete_kpi(con: Connection, *, key: str) -> None:
    await con.execute(q("delete_kpi"), key)


async def delete_escalation_path(con: Connection, kpi_id: int) -> None:
    await con.execute(q("delete_escalation_path"), kpi_id)


async def insert_escalation_path(con: Connection, kpi_id: int, kpi: KpiIn) -> None:
    """The steps of `kpi`'s escalation path, numbered from 1 (nothing when it has none)."""
    steps = [
        {"position": i + 1, **step.model_dump(mode="json")}
        for i, step in enumerate(kpi.escalation_path)
    ]
    if steps:
        await con.execute(q("insert_escalation_path"), kpi_id, steps)
