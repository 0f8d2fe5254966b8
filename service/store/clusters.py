"""Typed wrappers over sql/queries/clusters.sql: failures grouped by a dimension."""

from __future__ import annotations

from collections.abc import Sequence

from service.db import Connection, statements
from service.kpi.clusters import GroupCounts
from service.kpi.periods import Period
from service.models.enums import ClusterDimension

q = statements("clusters")


async def failure_clusters(
    con: Connection, service_ids: Sequence[int], window: Period, by: ClusterDimension,
    name: str | None, severities: Sequence[str] | None,
) -> list[GroupCounts]:  # fmt: skip
    """Per group of `by` (an attribute's or label's `name` for those dimensions), the
    production changes finished in the window and the incidents started in it."""
    rows = await con.fetch(
        q("failure_clusters"), list(service_ids), window.start, window.end, by.value, name,
        list(severities) if severities is not None else None,
    )  # fmt: skip
    return [GroupCounts(**r) for r in rows]
