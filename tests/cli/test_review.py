"""`kpi review QUARTER`: the quarterly review written as HTML or JSON, straight from the
database, with the API's checks of the quarter."""

from __future__ import annotations

import json
from pathlib import Path

from tests.usecases.test_imports import Cli, kpi

__all__ = ["kpi"]  # the fixture, imported for the tests below


async def test_review_writes_html_to_stdout_and_json_to_a_file(kpi: Cli, tmp_path: Path) -> None:
    html = kpi("review", "2026-Q1")
    assert html.returncode == 0, html.stderr
    assert html.stdout.startswith("<!DOCTYPE html>")
    assert "<h1>Quarterly review 2026-Q1</h1>" in html.stdout
    out = tmp_path / "review.json"
    done = kpi("review", "2026-q1", "--format", "json", "--out", str(out))
    assert done.returncode == 0, done.stderr
    review = json.loads(out.read_text())
    assert (review["quarter"], review["start"], review["end"]) == (
        "2026-Q1",
        "2026-01-01T00:00:00Z",
        "2026-04-01T00:00:00Z",
    )
    # The catalog's two services, each in its tier, without an outage: 100 % available
    # against the tier defaults (99.95 for tier 1, 99.9 for tier 2).
    assert [
        (t["tier"], s["service"], s["availability"]["availability"], s["availability"]["target"])
        for t in review["tiers"] for s in t["services"]
    ] == [(1, "web", 100.0, 99.95), (2, "erp", 100.0, 99.9)]  # fmt: skip


async def test_review_refuses_a_quarter_not_ended_and_writes_no_file(
    kpi: Cli, tmp_path: Path
) -> None:
    out = tmp_path / "review.html"
    done = kpi("review", "2199-Q1", "--out", str(out))
    assert done.returncode == 1
    assert "quarter: 2199-Q1 has not ended yet" in done.stderr
    assert not out.exists()
    done = kpi("review", "Q1-2026")
    assert done.returncode == 1 and "is not a calendar quarter" in done.stderr
