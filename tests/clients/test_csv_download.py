"""CSV answers saved to a file by both clients: the same rows as the JSON read, a path written
only once complete, a binary file written as given, and errors raised, not saved."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from kpi_client import AsyncClient, Client, RequestInvalid, UnexpectedAnswer, ValidationFailed
from kpi_client.api import catalog, incidents, statuses

from tests.clients.catalog_data import at, make_catalog
from tests.clients.conftest import Headers
from tests.clients.test_statuses_reports import breached_signups


async def test_async_client_saves_incidents_to_a_path(kpi: AsyncClient, tmp_path: Path) -> None:
    await make_catalog(kpi)
    for n, title in enumerate(["=1+1", "Payments, down", "plain"]):
        await kpi.upsert_incident({"external_id": f"i{n}", "service": "checkout",
                                   "severity": "sev2", "title": title,
                                   "started_at": at(2031, 1, 10 + n)})  # fmt: skip
    listed = await kpi.list_incidents(service="checkout")
    path = tmp_path / "incidents.csv"
    size = await kpi.save_csv(incidents.list_incidents(service="checkout"), path)
    raw = path.read_bytes()
    assert size == len(raw)
    rows = list(csv.DictReader(io.StringIO(raw.decode(), newline="")))
    assert [(r["id"], r["external_id"], r["title"]) for r in rows] == [
        (str(i.id), i.external_id, "'=1+1" if i.title == "=1+1" else i.title) for i in listed
    ]
    assert [r["external_id"] for r in rows] == ["i2", "i1", "i0"]  # newest first
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left


async def test_errors_are_raised_and_nothing_is_saved(kpi: AsyncClient, tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    with pytest.raises(ValidationFailed, match="unknown service"):
        await kpi.save_csv(incidents.list_incidents(service="nowhere"), path)
    # A read that offers no CSV answers JSON: refused, not saved as CSV.
    with pytest.raises(UnexpectedAnswer, match="offers no CSV"):
        await kpi.save_csv(catalog.list_teams(), path)
    with pytest.raises(RequestInvalid, match="only reads answer CSV"):
        await kpi.save_csv(statuses.evaluate(kpi="x"), path)
    assert list(tmp_path.iterdir()) == []


async def test_sync_client_saves_the_scorecard_to_a_binary_file(
    kpi: AsyncClient, admin: Headers, sync_client: Callable[..., Client]
) -> None:
    await breached_signups(kpi)
    card = await kpi.get_scorecard(period=at(2031, 1, 15))
    out = io.BytesIO()

    def save() -> int:
        with sync_client(admin) as client:
            return client.save_csv(statuses.get_scorecard(period=at(2031, 1, 15)), out)

    size = await asyncio.to_thread(save)
    assert size == len(out.getvalue())
    rows = list(csv.DictReader(io.StringIO(out.getvalue().decode(), newline="")))
    # signups: 50 in January 2031 against a target of 100, higher is better: breached.
    assert [(r["kpi"], r["value"], r["target"], r["status"]) for r in rows] == [
        (item.kpi, str(item.value), str(item.target), item.status) for item in card.items
    ]
    assert ("signups", "50.0", "100.0", "breached") in [
        (r["kpi"], r["value"], r["target"], r["status"]) for r in rows
    ]
