"""The Python client reads the audit trail: the changes it made itself, with its token."""

from __future__ import annotations

import datetime as dt

from kpi_client import AsyncClient
from kpi_client.models import TeamIn


async def test_the_client_lists_the_entries_of_its_own_changes(kpi: AsyncClient) -> None:
    await kpi.create_team(TeamIn(slug="shop", name="Shop"))
    await kpi.replace_team("shop", TeamIn(slug="shop", name="Web shop"))
    (me,) = [t for t in await kpi.list_tokens() if t.name == "admin"]

    updated, created = await kpi.list_audit_entries(kind="team", key="shop")
    assert (created.action, created.before) == ("create", None)
    assert (updated.action, updated.via, updated.actor_token_id) == ("update", "rest", me.id)
    assert isinstance(updated.before, dict) and isinstance(updated.after, dict)
    assert (updated.before["name"], updated.after["name"]) == ("Shop", "Web shop")
    # Paged by id and windowed by time: the next page is empty, and nothing is from 2000.
    assert await kpi.list_audit_entries(kind="team", before=created.id) == []
    old = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    assert await kpi.list_audit_entries(kind="team", to=old) == []
    assert len(await kpi.list_audit_entries(kind="team", from_=old, limit=1)) == 1
