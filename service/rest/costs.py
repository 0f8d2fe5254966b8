"""Cost records (IT spend by service, category and period): batch ingestion and reads."""

from __future__ import annotations

from pydantic import BaseModel, Field

from service.models.costs import Category, Cost, CostIn, CostIngestResult, Currency
from service.models.enums import Scope
from service.models.instants import Day
from service.rest.endpoint import Call, Endpoint, id_param, in_transaction, on_connection
from service.rest.prometheus import cost_records_ingested
from service.usecases import costs, team_scope


async def ingest_costs(call: Call) -> CostIngestResult:
    """Store a batch atomically; answered only after commit. Re-sending changes nothing."""
    async with call.transaction() as con:
        limit = await team_scope.write_limit(con, call.principal)
        if limit is not None:
            limit.check_each(record.service for record in call.body)
        result = await costs.ingest(con, call.body)
    cost_records_ingested(call, result)
    return result


class CostQuery(BaseModel):
    service: str | None = Field(default=None, description="A service slug; omit for all.")
    category: Category | None = None
    currency: Currency | None = None
    from_: Day | None = Field(
        default=None, alias="from", description="Records whose period ends after this day."
    )
    to: Day | None = Field(
        default=None, description="Records whose period starts before this day (exclusive)."
    )
    limit: int = Field(default=1000, ge=1, le=10_000)
    initiative: str | None = Field(
        default=None, description="Only the records of this initiative (its key)."
    )


async def list_costs(call: Call) -> list[Cost]:
    """Records overlapping [from, to), by period start."""
    query: CostQuery = call.query
    async with call.connection() as con:
        return await costs.list_costs(
            con, service=query.service, category=query.category, currency=query.currency,
            start=query.from_, end=query.to, limit=query.limit, initiative=query.initiative,
        )  # fmt: skip


async def get_cost(call: Call) -> Cost:
    return await on_connection(call, costs.get_cost, id_param(call))


async def replace_cost(call: Call) -> Cost:
    """Corrects a record, its period and other key fields included."""
    return await in_transaction(call, costs.replace_cost, id_param(call), call.body)


async def delete_cost(call: Call) -> None:
    await in_transaction(call, costs.delete_cost, id_param(call))


TEAM_BATCH_DOC = (
    "A token limited to a team writes only records of its team's services: the first other "
    "one (or one for the whole estate) fails the whole batch with a 403 naming it."
)
COST = "/v1/costs/{id:int}"
ENDPOINTS = [
    Endpoint(
        "POST", "/v1/costs", ingest_costs, Scope.INGEST, "Ingest cost records", "costs",
        body=list[CostIn], response=CostIngestResult, errors=(413, 415, 422),
        description="A JSON array of at most 10,000 records (and 8 MiB). All records are "
        "stored or none; the answer comes after commit. A record is identified by (service, "
        "category, period_start, period_end, currency, initiative), service null meaning the "
        "whole estate and initiative null no initiative: re-sending it changes nothing, a new "
        "amount, note or source replaces the stored one. In a batch, the last duplicate wins. "
        "A bad record fails the request with a 422 whose pointer is its index. " + TEAM_BATCH_DOC,
    ),
    Endpoint(
        "GET", "/v1/costs", list_costs, Scope.READ, "List cost records", "costs",
        response=list[Cost], query=CostQuery, errors=(422,),
        description="Records overlapping the window [from, to) (dates), ordered by "
        "period_start then id, at most `limit` (default 1,000, at most 10,000).",
        replica_reads=True,
    ),
    Endpoint("GET", COST, get_cost, Scope.READ, "Get one cost record", "costs",
             response=Cost, errors=(404,), replica_reads=True),
    Endpoint("PUT", COST, replace_cost, Scope.ADMIN, "Correct a cost record", "costs",
             body=CostIn, response=Cost, errors=(404, 409, 413, 415, 422),
             description="Replaces every field of the record, its service, category, period "
             "and currency included: the way to correct a record sent with a wrong key. A 409 "
             "when another record already has the new key."),
    Endpoint("DELETE", COST, delete_cost, Scope.ADMIN, "Delete a cost record", "costs",
             status=204, errors=(404,)),
]  # fmt: skip
