"""Cost records: batch ingestion and reads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from kpi_client.api.collection import EditableCollection
from kpi_client.models import Cost, CostIn, CostIngestResult
from kpi_client.operation import Body, Operation, answer, post_batch, query

COSTS = EditableCollection("/v1/costs", Cost, list[Cost], CostIn)


def ingest_costs(
    records: Iterable[Body[CostIn]], *, idempotency_key: str | None = None
) -> Operation[CostIngestResult]:
    """Stores a batch of at most 10,000 records atomically; sending a record again changes
    nothing, a new amount replaces the stored one."""
    parse = answer(CostIngestResult)
    return post_batch(COSTS.path, CostIn, records, "record", parse, idempotency_key)


def list_costs(
    *,
    service: str | None = None,
    category: str | None = None,
    currency: str | None = None,
    from_: dt.date | None = None,
    to: dt.date | None = None,
    limit: int | None = None,
    initiative: str | None = None,
) -> Operation[list[Cost]]:
    """Records overlapping [from_, to) (days), by period start; only an initiative's when
    `initiative` (its key) is given."""
    return COSTS.list_all(
        query(
            service=service,
            category=category,
            currency=currency,
            from_=from_,
            to=to,
            limit=limit,
            initiative=initiative,
        )
    )


def get_cost(cost_id: int) -> Operation[Cost]:
    return COSTS.get(cost_id)


def replace_cost(
    cost_id: int, record: Body[CostIn], *, idempotency_key: str | None = None
) -> Operation[Cost]:
    """Corrects a record whole, its period, service, category and currency included (admin)."""
    return COSTS.replace(cost_id, record, idempotency_key)


def delete_cost(cost_id: int, *, idempotency_key: str | None = None) -> Operation[None]:
    """Deletes a record (admin)."""
    return COSTS.delete(cost_id, idempotency_key)
