"""Typed wrappers over sql/queries/initiatives.sql: initiatives, their links to services and
KPIs, and what the cost records carrying them add up to."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from service.db import Connection, fetch_grouped, fetch_models, one_found, statements
from service.models.initiatives import CurrencyAmount, Initiative, InitiativeIn
from service.store.constraints import still_referenced, unique

q = statements("initiatives")


async def list_initiatives(
    con: Connection, *, keys: Sequence[str] | None = None, ids: Sequence[int] | None = None
) -> list[Initiative]:
    """Every initiative, or those with these keys or ids, by key."""
    return await fetch_models(
        con, Initiative, q("list_initiatives"),
        None if keys is None else list(keys), None if ids is None else list(ids),
    )  # fmt: skip


async def get_initiative(con: Connection, *, key: str) -> Initiative:
    return one_found(await list_initiatives(con, keys=[key]), f"no initiative {key!r}")


async def lock_initiatives(con: Connection, keys: Sequence[str]) -> dict[str, int]:
    """{key: id} of the initiatives among `keys`, locked until commit."""
    rows = await con.fetch(q("lock_initiatives"), list(keys))
    return {r["key"]: r["id"] for r in rows}


def _fields(initiative: InitiativeIn) -> tuple[object, ...]:
    budget = None if initiative.budget is None else Decimal(f"{initiative.budget:.2f}")
    return (
        initiative.key, initiative.name, initiative.owner, initiative.sponsor,
        initiative.status.value, initiative.started_on, initiative.delivered_on, budget,
        initiative.currency, initiative.review_periods,
    )  # fmt: skip


async def insert_initiative(con: Connection, *, initiative: InitiativeIn) -> int:
    """The new initiative's id; Conflict (409) when its key is taken."""
    async with unique("key", initiative.key):
        initiative_id: int = await con.fetchval(q("insert_initiative"), *_fields(initiative))
    return initiative_id


async def update_initiative(con: Connection, *, initiative: InitiativeIn) -> int | None:
    """The id of the initiative updated, None when there is none."""
    initiative_id: int | None = await con.fetchval(q("update_initiative"), *_fields(initiative))
    return initiative_id


async def delete_initiative(con: Connection, *, key: str) -> int | None:
    """The id of the initiative deleted, None when there is none; Conflict (409) while cost
    records or budgets carry it."""
    async with still_referenced(f"initiative {key!r}"):
        initiative_id: int | None = await con.fetchval(q("delete_initiative"), key)
    return initiative_id


async def delete_initiative_links(con: Connection, initiative_id: int) -> None:
    await con.execute(q("delete_initiative_links"), initiative_id)


async def insert_initiative_services(
    con: Connection, initiative_id: int, service_ids: Sequence[int]
) -> None:
    await con.execute(q("insert_initiative_services"), initiative_id, list(service_ids))


#: One KPI link as stored: KPI id, service id (None: overall), expected change, expected by,
#: rationale.
KpiLinkRow = tuple[int, int | None, float, object, str | None]


async def insert_initiative_kpis(
    con: Connection, initiative_id: int, rows: Sequence[KpiLinkRow]
) -> None:
    columns = list(zip(*rows, strict=True)) if rows else [(), (), (), (), ()]
    await con.execute(q("insert_initiative_kpis"), initiative_id, *(list(c) for c in columns))


async def initiative_spend(con: Connection, initiative_id: int) -> list[CurrencyAmount]:
    """The initiative's cost records summed per currency, by currency."""
    return await fetch_models(con, CurrencyAmount, q("initiative_spend"), initiative_id)


async def initiatives_by_service(
    con: Connection, service_ids: Sequence[int]
) -> dict[int, list[int]]:
    """{service id: ids of the initiatives changing it}."""
    return await fetch_grouped(con, q("initiatives_by_service"), service_ids, lambda r: r["id"])


async def initiatives_by_kpi(con: Connection, kpi_ids: Sequence[int]) -> dict[int, list[int]]:
    """{KPI id: ids of the initiatives meant to move it}."""
    return await fetch_grouped(con, q("initiatives_by_kpi"), kpi_ids, lambda r: r["id"])
