"""Budgets (the spend planned per calendar month or quarter, by category): batches stored
all or nothing, read back and deleted. The builtin metrics budget_variance,
budget_variance_share and the spend forecast compare them with cost records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from service.db import Connection
from service.errors import PayloadTooLarge
from service.models.budgets import Budget, BudgetIn, BudgetIngestResult
from service.store import budgets, services

#: Most budgets one request may send.
MAX_BATCH_BUDGETS = 10_000


async def ingest(
    con: Connection, records: Sequence[BudgetIn], *, limit: int | None = MAX_BATCH_BUDGETS
) -> BudgetIngestResult:
    """Store every budget or none (the caller holds the transaction); re-sending changes
    nothing. `limit`: most budgets at once (None for the demo)."""
    if limit is not None and len(records) > limit:
        raise PayloadTooLarge(f"{len(records)} budgets in one batch; the limit is {limit}",
                              limit=limit)  # fmt: skip
    return await budgets.ingest(con, records)


async def list_budgets(
    con: Connection, *, service: str | None, category: str | None, currency: str | None,
    start: dt.date | None, end: dt.date | None, limit: int,
) -> list[Budget]:  # fmt: skip
    """Budgets overlapping [start, end), by period start."""
    ids = [] if service is None else await services.service_ids(con, [service], field="service")
    return await budgets.list_budgets(
        con, service_id=ids[0] if ids else None, category=category, currency=currency,
        start=start, end=end, limit=limit,
    )  # fmt: skip


async def get_budget(con: Connection, budget_id: int) -> Budget:
    return await budgets.get_budget(con, budget_id=budget_id)


async def delete_budget(con: Connection, budget_id: int) -> None:
    await budgets.delete_budget(con, budget_id=budget_id)
