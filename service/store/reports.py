"""Reads for leaders' reports (sql/queries/reports.sql): governance gaps, outages under way,
dependency closure and the latest breached statuses."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from service.db import Connection, statements
from service.models.reports import BreachedStatus, GovernanceGap, OutageNow

q = statements("reports")


async def governance_gaps(con: Connection) -> list[GovernanceGap]:
    """Every KPI by key, with what it misses (possibly nothing)."""
    rows = await con.fetch(q("governance_gaps"))
    return [GovernanceGap(kpi=r["key"], missing=r["missing"]) for r in rows]


async def outages_now(
    con: Connection, service_ids: Sequence[int], now: dt.datetime
) -> list[OutageNow]:
    """The services among `service_ids` down at `now`."""
    rows = await con.fetch(q("outages_now"), list(service_ids), now)
    return [OutageNow(**dict(r.items())) for r in rows]


async def dependency_closure(con: Connection, service_ids: Sequence[int]) -> dict[int, list[int]]:
    """Every service the given ones depend on, directly or not, with the given ones it was
    reached from."""
    roots: dict[int, list[int]] = defaultdict(list)
    for r in await con.fetch(q("dependency_closure"), list(service_ids)):
        roots[r["id"]].append(r["root"])
    return dict(roots)


async def breached_latest(
    con: Connection, kpi_ids: Sequence[int], service_ids: Sequence[int]
) -> list[BreachedStatus]:
    """The (KPI, service) pairs among these whose latest stored status is breached."""
    rows = await con.fetch(q("breached_latest"), list(kpi_ids), list(service_ids))
    return [BreachedStatus(**dict(r.items())) for r in rows]
