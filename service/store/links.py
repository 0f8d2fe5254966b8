"""Typed wrappers over sql/queries/links.sql: the graph's edges from KPIs to the outcomes they
contribute to and the services they apply to, and the edges that follow from them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from service.db import Connection, fetch_grouped, statements
from service.models.catalog import OutcomeLink, OutcomeLinkIn, ServiceLink

q = statements("links")


async def _edges(con: Connection, name: str, keys: Sequence[int]) -> dict[int, list[int]]:
    return await fetch_grouped(con, q(name), keys, lambda row: row["id"])


async def _grouped(
    con: Connection, name: str, keys: Sequence[int]
) -> dict[int, list[dict[str, Any]]]:
    return await fetch_grouped(con, q(name), keys, dict)


async def upsert_kpi_outcome(
    con: Connection, *, kpi_id: int, outcome_id: int, link: OutcomeLinkIn
) -> None:
    await con.execute(q("upsert_kpi_outcome"), kpi_id, outcome_id, link.weight, link.rationale)


async def delete_kpi_outcome(con: Connection, *, kpi_id: int, outcome_id: int) -> bool:
    """Whether the KPI was linked to the outcome."""
    return await con.fetchval(q("delete_kpi_outcome"), kpi_id, outcome_id) is not None


async def list_kpi_outcomes(
    con: Connection, *, kpi: str | None = None, outcome: str | None = None
) -> list[OutcomeLink]:
    return [OutcomeLink(**r) for r in await con.fetch(q("list_kpi_outcomes"), kpi, outcome)]


async def outcome_links_by_kpi(
    con: Connection, kpi_ids: Sequence[int]
) -> dict[int, list[dict[str, Any]]]:
    """{KPI id: [{id: outcome id, weight, rationale}]}."""
    return await _grouped(con, "outcome_links_by_kpi", kpi_ids)


async def kpi_links_by_outcome(
    con: Connection, outcome_ids: Sequence[int]
) -> dict[int, list[dict[str, Any]]]:
    """{outcome id: [{id: KPI id, weight, rationale}]}."""
    return await _grouped(con, "kpi_links_by_outcome", outcome_ids)


async def insert_kpi_service(con: Connection, *, kpi_id: int, service_id: int) -> None:
    await con.execute(q("insert_kpi_service"), kpi_id, service_id)


async def delete_kpi_service(con: Connection, *, kpi_id: int, service_id: int) -> bool:
    """Whether the KPI applied to the service."""
    return await con.fetchval(q("delete_kpi_service"), kpi_id, service_id) is not None


async def list_kpi_services(con: Connection, *, kpi: str | None = None) -> list[ServiceLink]:
    return [ServiceLink(**r) for r in await con.fetch(q("list_kpi_services"), kpi)]


async def services_by_kpi(con: Connection, kpi_ids: Sequence[int]) -> dict[int, list[int]]:
    """{KPI id: [ids of the services it applies to]}."""
    return await _edges(con, "services_by_kpi", kpi_ids)


async def services_by_outcome(con: Connection, outcome_ids: Sequence[int]) -> dict[int, list[int]]:
    """{outcome id: [ids of the services serving it through their KPIs]}."""
    return await _edges(con, "services_by_outcome", outcome_ids)
