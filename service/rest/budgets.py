"""Budgets (the spend planned per calendar month or quarter): batch ingestion and reads."""

from __future__ import annotations

from service.models.budgets import Budget, BudgetIn, BudgetIngestResult
from service.models.enums import Scope
from service.rest.costs import TEAM_BATCH_DOC, CostQuery
from service.rest.endpoint import Call, Endpoint, id_param, in_transaction, on_connection
from service.usecases import budgets, team_scope


async def ingest_budgets(call: Call) -> BudgetIngestResult:
    """Store a batch atomically; answered only after commit. Re-sending changes nothing."""
    async with call.transaction() as con:
        limit = await team_scope.write_limit(con, call.principal)
        if limit is not None:
            limit.check_each(budget.service for budget in call.body)
        return await budgets.ingest(con, call.body)


async def list_budgets(call: Call) -> list[Budget]:
    """Budgets overlapping [from, to), by period start."""
    query: CostQuery = call.query
    async with call.connection() as con:
        return await budgets.list_budgets(
            con, service=query.service, category=query.category, currency=query.currency,
            start=query.from_, end=query.to, limit=query.limit,
        )  # fmt: skip


async def get_budget(call: Call) -> Budget:
    return await on_connection(call, budgets.get_budget, id_param(call))


async def delete_budget(call: Call) -> None:
    await in_transaction(call, budgets.delete_budget, id_param(call))


BUDGET = "/v1/budgets/{id:int}"
ENDPOINTS = [
    Endpoint(
        "POST", "/v1/budgets", ingest_budgets, Scope.INGEST, "Ingest budgets", "budgets",
        body=list[BudgetIn], response=BudgetIngestResult, errors=(413, 415, 422),
        description="A JSON array of at most 10,000 budgets (and 8 MiB), each the amount "
        "planned for a whole calendar month (period_start the 1st, period_end the 1st of the "
        "next month) or quarter (starting in January, April, July or October). All are "
        "stored or none; the answer comes after commit. A budget is identified by (service, "
        "category, period_start, period_end, currency), service null meaning the whole "
        "estate: re-sending it changes nothing, a new amount, note or source replaces the "
        "stored one. In a batch, the last duplicate wins. A bad budget fails the request "
        "with a 422 whose pointer is its index. " + TEAM_BATCH_DOC,
    ),
    Endpoint(
        "GET", "/v1/budgets", list_budgets, Scope.READ, "List budgets", "budgets",
        response=list[Budget], query=CostQuery, errors=(422,),
        description="Budgets overlapping the window [from, to) (dates), ordered by "
        "period_start then id, at most `limit` (default 1,000, at most 10,000).",
        replica_reads=True,
    ),
    Endpoint("GET", BUDGET, get_budget, Scope.READ, "Get one budget", "budgets",
             response=Budget, errors=(404,), replica_reads=True),
    Endpoint("DELETE", BUDGET, delete_budget, Scope.ADMIN, "Delete a budget", "budgets",
             status=204, errors=(404,)),
]  # fmt: skip
