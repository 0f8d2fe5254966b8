"""Typed wrappers over sql/queries/costs.sql: cost records stored by batch upsert, and read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping, Sequence
from decimal import Decimal

import asyncpg

from service.db import Connection, fetch_models, statements
from service.errors import Conflict, NotFound, field_error, invalid, invalid_fields
from service.models.costs import Cost, CostIn, CostIngestResult
from service.models.stored import read
from service.store.initiatives import lock_initiatives

q = statements("costs")


#: What identifies a record: sending the same key again replaces its amount, note and source.
Key = tuple[str | None, str, dt.date, dt.date, str, str | None]


def _key(record: CostIn) -> Key:
    return (
        record.service,
        record.category,
        record.period_start,
        record.period_end,
        record.currency,
        record.initiative,
    )


async def _service_ids(con: Connection, records: Sequence[CostIn]) -> dict[str, int]:
    """Ids of the services the records name, locked until commit; a 422 naming every record
    with an unknown one (`3.service`)."""
    slugs = sorted({r.service for r in records if r.service is not None})
    ids = await lock_services(con, slugs)
    unknown = [
        field_error(f"{i}.service", f"unknown service {record.service!r}")
        for i, record in enumerate(records)
        if record.service is not None and record.service not in ids
    ]
    if unknown:
        raise invalid_fields(unknown)
    return ids


async def _initiative_ids(con: Connection, records: Sequence[CostIn]) -> dict[str, int]:
    """Ids of the initiatives the records name, locked until commit; a 422 naming every
    record with an unknown one (`3.initiative`)."""
    keys = sorted({r.initiative for r in records if r.initiative is not None})
    if not keys:
        return {}
    ids = await lock_initiatives(con, keys)
    unknown = [
        field_error(f"{i}.initiative", f"unknown initiative {record.initiative!r}")
        for i, record in enumerate(records)
        if record.initiative is not None and record.initiative not in ids
    ]
    if unknown:
        raise invalid_fields(unknown)
    return ids


async def lock_services(con: Connection, slugs: Sequence[str]) -> dict[str, int]:
    """{slug: id} of the services among `slugs`, locked until commit."""
    rows = await con.fetch(q("lock_services"), list(slugs))
    return {r["slug"]: r["id"] for r in rows}


#: Writes a batch (one record per key) with the ids of the services and of the initiatives
#: its records name: (sent, inserted, updated).
Upsert = Callable[
    [Connection, Sequence[CostIn], Mapping[str, int], Mapping[str, int]],
    Awaitable[tuple[int, int, int]],
]


async def ingest(con: Connection, records: Sequence[CostIn]) -> CostIngestResult:
    """Store every record or none, in one statement: the caller holds the transaction.

    In a batch, the last record of a key wins. A record naming an unknown service fails the
    whole request with a 422 whose pointer is the record's index in the request.
    """
    sent, inserted, updated = await ingest_with(con, records, upsert_costs)
    return CostIngestResult(
        records=sent, inserted=inserted, updated=updated, unchanged=sent - inserted - updated
    )


async def ingest_with(
    con: Connection, records: Sequence[CostIn], upsert: Upsert
) -> tuple[int, int, int]:
    """`ingest` for any table of records keyed as cost records are (budgets too): how many
    were sent (after in-batch duplicates are dropped), inserted and updated."""
    if not records:
        return 0, 0, 0
    ids = await _service_ids(con, records)
    initiative_ids = await _initiative_ids(con, records)
    latest = {_key(r): r for r in records}
    return await upsert(con, list(latest.values()), ids, initiative_ids)


async def upsert_costs(
    con: Connection, batch: Sequence[CostIn], ids: Mapping[str, int],
    initiative_ids: Mapping[str, int],
) -> tuple[int, int, int]:  # fmt: skip
    """Insert or update the records (one per key) in one statement: how many were sent,
    inserted and updated."""
    return await upsert_keyed(con, q("upsert_costs"), batch, ids, initiative_ids)


async def upsert_keyed(
    con: Connection, statement: str, batch: Sequence[CostIn], ids: Mapping[str, int],
    initiative_ids: Mapping[str, int],
) -> tuple[int, int, int]:  # fmt: skip
    """Run an upsert statement taking records keyed as cost records are, as parallel arrays."""
    row = await con.fetchrow(
        statement,
        [None if r.service is None else ids[r.service] for r in batch],
        [r.category for r in batch],
        [r.period_start for r in batch],
        [r.period_end for r in batch],
        [Decimal(f"{r.amount:.2f}") for r in batch],
        [r.currency for r in batch],
        [r.note for r in batch],
        [r.source for r in batch],
        [None if r.initiative is None else initiative_ids[r.initiative] for r in batch],
    )
    return row["records"], row["inserted"], row["updated"]


async def list_costs(
    con: Connection,
    *,
    service_id: int | None = None,
    category: str | None = None,
    currency: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    limit: int | None = None,
    initiative_id: int | None = None,
) -> list[Cost]:
    """Records overlapping [start, end), ordered by period start then id."""
    if start is not None and end is not None and end <= start:
        raise invalid("to", "must be after from")
    return await fetch_models(
        con, Cost, q("list_costs"), service_id, category, currency, start, end, limit,
        initiative_id,
    )  # fmt: skip


async def get_cost(con: Connection, *, cost_id: int) -> Cost:
    row = await con.fetchrow(q("get_cost"), cost_id)
    if row is None:
        raise NotFound(f"no cost record {cost_id}")
    return read(Cost, row)


async def update_cost(con: Connection, *, cost_id: int, record: CostIn) -> Cost:
    """Replaces a record whole, its period and other key fields included; a 409 when another
    record already has the new key."""
    service_id = None
    if record.service is not None:
        found_ids = await lock_services(con, [record.service])
        if not found_ids:
            raise invalid("service", f"unknown service {record.service!r}")
        service_id = found_ids[record.service]
    initiative_id = None
    if record.initiative is not None:
        initiative_id = (await _initiative_ids(con, [record]))[record.initiative]
    try:
        found = await con.fetchval(
            q("update_cost"), cost_id, service_id, record.category,
            record.period_start, record.period_end, Decimal(f"{record.amount:.2f}"),
            record.currency, record.note, record.source, initiative_id,
        )  # fmt: skip
    except asyncpg.UniqueViolationError as exc:
        raise Conflict(
            "another cost record has this service, category, period, currency and initiative",
            errors=[field_error("period_start", "already taken by another record")],
        ) from exc
    if found is None:
        raise NotFound(f"no cost record {cost_id}")
    return Cost(id=cost_id, **record.model_dump())


async def delete_cost(con: Connection, *, cost_id: int) -> None:
    if await con.fetchval(q("delete_cost"), cost_id) is None:
        raise NotFound(f"no cost record {cost_id}")
