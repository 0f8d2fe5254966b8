"""The repository of `kpi recompute`: typed rows, never asyncpg Records."""

from __future__ import annotations

import datetime as dt

from service.db import Connection
from service.store import recompute


async def test_reads_of_nothing_are_empty(con: Connection) -> None:
    assert await recompute.change_id_of(con, 0, "no-such-change") is None
    assert await recompute.incidents_with_events(con, []) == []
    assert await recompute.changes_with_events(con, []) == []
    far = dt.datetime(2199, 1, 1, tzinfo=dt.UTC)
    assert await recompute.delete_unfinished_statuses(con, far) == 0


async def test_stored_rows_come_back_as_dataclasses(con: Connection) -> None:
    for rows in (
        await recompute.alertmanager_incidents_to_split(con),
        await recompute.api_deliveries_with_commits(con),
        await recompute.stored_periods(con),
    ):
        assert all(not hasattr(row, "items") for row in rows)
    assert all(isinstance(i, int) for i in await recompute.incident_ids(con))
    assert all(isinstance(i, int) for i in await recompute.change_ids(con))
