"""Budgets: batch ingestion and reads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from kpi_client.api.collection import EditableCollection
from kpi_client.models import Budget, BudgetIn, BudgetIngestResult
from kpi_client.operation import Body, Operation, answer, post_batch, query

BUDGETS = EditableCollection("/v1/budgets", Budget, list[Budget], BudgetIn)


def ingest_budgets(
    budgets: Iterable[Body[BudgetIn]], *, idempotency_key: str | None = None
) -> Operation[BudgetIngestResult]:
    """Stores a batch of at most 10,000 budgets atomically, each for a whole calendar month
    or quarter; sending one again changes nothing, a new amount replaces the stored one."""
    parse = answer(BudgetIngestResult)
    return post_batch(BUDGETS.path, BudgetIn, budgets, "budget", parse, idempotency_key)


def list_budgets(
    *, service: str | None = None, category: str | None = None, currency: str | None = None,
    from_: dt.date | None = None, to: dt.date | None = None, limit: int | None = None,
) -> Operation[list[Budget]]:  # fmt: skip
    """Budgets overlapping [from_, to) (days), by period start."""
    found = query(service=service, category=category, currency=currency, from_=from_, to=to,
                  limit=limit)  # fmt: skip
    return BUDGETS.list_all(found)


def get_budget(budget_id: int) -> Operation[Budget]:
    return BUDGETS.get(budget_id)


def delete_budget(budget_id: int, *, idempotency_key: str | None = None) -> Operation[None]:
    """Deletes a budget (admin)."""
    return BUDGETS.delete(budget_id, idempotency_key)
