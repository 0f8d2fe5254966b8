"""Typed wrappers over sql/queries/data_sources.sql: data sources and the SLIs of KPIs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from service.db import Connection, one_found, statements
from service.models.catalog import PrometheusSli
from service.models.data_sources import DataSource, DataSourceIn, DataSourceSecret
from service.models.stored import read
from service.store.constraints import still_referenced, unique

q = statements("data_sources")


@dataclass(frozen=True)
class SliRow:
    """An SLI as its evaluation reads it."""

    kpi_id: int
    key: str
    numerator: str
    denominator: str
    service: str | None
    data_source_id: int
    good_query: str
    total_query: str
    bucket: str
    next_bucket: dt.datetime | None


async def list_data_sources(con: Connection, *, name: str | None = None) -> list[DataSource]:
    return [read(DataSource, r) for r in await con.fetch(q("list_data_sources"), name)]


async def get_data_source(con: Connection, *, name: str) -> DataSource:
    return one_found(await list_data_sources(con, name=name), f"no data source {name!r}")


async def data_sources_with_secret(
    con: Connection, ids: Sequence[int]
) -> dict[int, DataSourceSecret]:
    rows = await con.fetch(q("data_sources_with_secret"), list(ids))
    found = {}
    for r in rows:
        data = {k: v for k, v in r.items() if k != "secret"}
        found[r["id"]] = DataSourceSecret(source=read(DataSource, data), secret=r["secret"])
    return found


def _args(source: DataSourceIn) -> tuple[Any, ...]:
    return (
        source.name,
        source.kind.value,
        source.url,
        source.auth.value,
        source.username,
        source.secret.get_secret_value() if source.secret else None,
    )


async def create_data_source(con: Connection, *, source: DataSourceIn) -> None:
    async with unique("name", source.name):
        await con.fetchval(q("create_data_source"), *_args(source))


async def update_data_source(con: Connection, *, source: DataSourceIn) -> bool:
    """Whether the data source existed (and was updated)."""
    return await con.fetchval(q("update_data_source"), *_args(source)) is not None


async def delete_data_source(con: Connection, *, name: str) -> bool:
    """Whether the data source existed; a 409 while a KPI's SLI uses it."""
    async with still_referenced(f"data source {name!r} (a KPI's SLI uses it)"):
        return await con.fetchval(q("delete_data_source"), name) is not None


async def data_source_id(con: Connection, name: str) -> int | None:
    found: int | None = await con.fetchval(q("data_source_id"), name)
    return found


async def upsert_sli(
    con: Connection, *, kpi_id: int, source_id: int, service_id: int | None, sli: PrometheusSli
) -> None:
    await con.execute(
        q("upsert_sli"), kpi_id, source_id, service_id, sli.good_query, sli.total_query,
        sli.bucket.value,
    )  # fmt: skip


async def delete_sli(con: Connection, kpi_id: int) -> None:
    await con.execute(q("delete_sli"), kpi_id)


async def sli_sharing_sides(con: Connection, kpi_id: int, side_ids: Sequence[int]) -> str | None:
    """The key of another SLI's KPI that writes into one of `side_ids`, if any."""
    key: str | None = await con.fetchval(q("sli_sharing_sides"), kpi_id, list(side_ids))
    return key


async def list_slis(con: Connection) -> list[SliRow]:
    return [SliRow(**dict(r)) for r in await con.fetch(q("list_slis"))]


async def record_query(
    con: Connection, source_id: int, *, error: str | None, at: dt.datetime
) -> None:
    await con.execute(q("record_query"), source_id, error, at)


async def record_sli_round(
    con: Connection, kpi_id: int, *, next_bucket: dt.datetime | None, points: int, gaps: int,
    problem: str | None, at: dt.datetime,
) -> None:  # fmt: skip
    await con.execute(q("record_sli_round"), kpi_id, next_bucket, points, gaps, problem, at)


async def query_counts(con: Connection) -> list[tuple[str, int, int]]:
    """(data source, queries answered, queries failed) of every data source."""
    rows = await con.fetch(q("query_counts"))
    return [(r["name"], r["queries_ok"], r["queries_failed"]) for r in rows]
