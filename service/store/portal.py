"""Batched reads for the GraphQL graph: what one parent at a time would ask, for many at once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from service.db import Connection, sql


def q(name: str) -> str:
    return sql("portal", name)


async def status_histories(
    con: Connection, kpi_ids: Sequence[int], *, service_id: int | None,
    before: dt.datetime | None, limit: int,
) -> dict[int, list[dict[str, Any]]]:  # fmt: skip
    """{KPI id: its stored statuses for the scope (service_id None: overall), newest period
    first, at most `limit`, before `before` if given} in one statement."""
    result: dict[int, list[dict[str, Any]]] = {k: [] for k in kpi_ids}
    for record in await con.fetch(q("status_histories"), list(kpi_ids), service_id, before, limit):
        data = dict(record.items())
        result[data.pop("key")].append(data)
    return result
