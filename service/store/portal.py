"""The GraphQL graph's read model: what one parent at a time would ask, for many at once, each
level of a page in one statement."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, TypeVar

from service.db import Connection, statements
from service.models.catalog import Kpi, Outcome
from service.models.stored import read

q = statements("portal")


async def status_histories(
    con: Connection, pairs: Sequence[tuple[int, int | None]], *, before: dt.datetime | None,
    limit: int,
) -> list[list[dict[str, Any]]]:  # fmt: skip
    """For each (KPI id, service id or None for the KPI overall): its stored statuses,
    newest period first, at most `limit`, before `before` if given; in one statement."""
    result: list[list[dict[str, Any]]] = [[] for _ in pairs]
    rows = await con.fetch(
        q("status_histories"), [k for k, _ in pairs], [s for _, s in pairs], before, limit
    )
    for record in rows:
        data = dict(record.items())
        result[data.pop("key") - 1].append(data)
    return result


M = TypeVar("M", Kpi, Outcome)


async def _related(con: Connection, name: str, service_ids: Sequence[int], model: type[M]
                   ) -> dict[int, list[M]]:  # fmt: skip
    """{service id: its rows of `name`}, each distinct row read once (a KPI shared by a
    hundred services is one object)."""
    result: dict[int, list[M]] = {k: [] for k in service_ids}
    made: dict[int, M] = {}
    for record in await con.fetch(q(name), list(service_ids)):
        data = dict(record.items())
        service_id = data.pop("of_service")
        row = made.get(data["id"])
        if row is None:
            row = made[data["id"]] = read(model, data)
        result[service_id].append(row)
    return result


async def kpis_of_services(con: Connection, service_ids: Sequence[int]) -> dict[int, list[Kpi]]:
    """{service id: the KPIs that apply to it, with their definitions}, in one statement."""
    return await _related(con, "kpis_of_services", service_ids, Kpi)


async def outcomes_of_services(
    con: Connection, service_ids: Sequence[int]
) -> dict[int, list[Outcome]]:
    """{service id: the outcomes it serves through its KPIs}, in one statement."""
    return await _related(con, "outcomes_of_services", service_ids, Outcome)
