"""Typed wrappers over sql/queries/budgets.sql: budgets stored by batch upsert (keyed as cost
records are, service/store/costs.py), and read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from service.db import Connection, fetch_models, statements
from service.errors import NotFound, invalid
from service.models.budgets import Budget, BudgetIn, BudgetIngestResult
from service.models.costs import CostIn
from service.models.stored import read
from service.store.costs import ingest_with, upsert_keyed

q = statements("budgets")


async def ingest(con: Connection, records: Sequence[BudgetIn]) -> BudgetIngestResult:
    """Store every budget or none, in one statement: the caller holds the transaction. In a
    batch, the last budget of a key wins; an unknown service fails the request with a 422
    whose pointer is the budget's index."""
    sent, inserted, updated = await ingest_with(con, records, upsert_budgets)
    return BudgetIngestResult(
        records=sent, inserted=inserted, updated=updated, unchanged=sent - inserted - updated
    )


async def upsert_budgets(
    con: Connection, batch: Sequence[CostIn], ids: Mapping[str, int],
    initiative_ids: Mapping[str, int],
) -> tuple[int, int, int]:  # fmt: skip
    """Insert or update the budgets (one per key): how many were sent, inserted and updated."""
    return await upsert_keyed(con, q("upsert_budgets"), batch, ids, initiative_ids)


async def list_budgets(
    con: Connection, *, service_id: int | None, category: str | None, currency: str | None,
    start: dt.date | None, end: dt.date | None, limit: int | None,
) -> list[Budget]:  # fmt: skip
    """Budgets overlapping [start, end), ordered by period start then id."""
    if start is not None and end is not None and end <= start:
        raise invalid("to", "must be after from")
    return await fetch_models(
        con, Budget, q("list_budgets"), service_id, category, currency, start, end, limit
    )


async def get_budget(con: Connection, *, budget_id: int) -> Budget:
    row = await con.fetchrow(q("get_budget"), budget_id)
    if row is None:
        raise NotFound(f"no budget {budget_id}")
    return read(Budget, row)


async def delete_budget(con: Connection, *, budget_id: int) -> None:
    if await con.fetchval(q("delete_budget"), budget_id) is None:
        raise NotFound(f"no budget {budget_id}")
