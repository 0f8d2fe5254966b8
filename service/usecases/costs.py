"""Cost records (IT spend by service, category and period): batches stored all or nothing,
read back by service, category, currency and period, corrected and deleted."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from service.db import Connection
from service.errors import PayloadTooLarge, invalid
from service.models.costs import Cost, CostIn, CostIngestResult
from service.store import costs, initiatives, services

#: Most records one request may send.
MAX_BATCH_RECORDS = 10_000


async def ingest(
    con: Connection, records: Sequence[CostIn], *, limit: int | None = MAX_BATCH_RECORDS
) -> CostIngestResult:
    """Store every record or none (the caller holds the transaction); re-sending changes
    nothing. `limit`: most records at once (None for a file import)."""
    if limit is not None and len(records) > limit:
        raise PayloadTooLarge(
            f"{len(records)} records in one batch; the limit is {limit}", limit=limit
        )
    return await costs.ingest(con, records)


async def list_costs(
    con: Connection, *, service: str | None, category: str | None, currency: str | None,
    start: dt.date | None, end: dt.date | None, limit: int, initiative: str | None = None,
) -> list[Cost]:  # fmt: skip
    """Records overlapping [start, end), by period start; only an initiative's when given."""
    service_id = initiative_id = None
    if service is not None:
        (service_id,) = await services.service_ids(con, [service], field="service")
    if initiative is not None:
        found = await initiatives.list_initiatives(con, keys=[initiative])
        if not found:
            raise invalid("initiative", f"unknown initiative {initiative!r}")
        initiative_id = found[0].id
    return await costs.list_costs(
        con, service_id=service_id, category=category, currency=currency, start=start,
        end=end, limit=limit, initiative_id=initiative_id,
    )  # fmt: skip


async def get_cost(con: Connection, cost_id: int) -> Cost:
    return await costs.get_cost(con, cost_id=cost_id)


async def replace_cost(con: Connection, cost_id: int, record: CostIn) -> Cost:
    """Correct a record, its period and other key fields included."""
    return await costs.update_cost(con, cost_id=cost_id, record=record)


async def delete_cost(con: Connection, cost_id: int) -> None:
    await costs.delete_cost(con, cost_id=cost_id)
