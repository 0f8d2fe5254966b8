"""Batched reads for the GraphQL graph: what one parent at a time would ask, for many at once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from service.db import Connection, sql


def q(name: str) -> str:
    return sql("portal", name)


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
