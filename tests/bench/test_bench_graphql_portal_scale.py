"""`kpi bench graphql-portal --scale`: a tiny sweep end to end against PostGraphile, the same
facts checked at every size, writing its CSV and chart (the figures are not judged)."""

from __future__ import annotations

from pathlib import Path

from tests.bench.tiny_sweep import run_tiny_sweep


def test_a_tiny_sweep_writes_its_csv_and_chart(database_url: str, tmp_path: Path) -> None:
    stdout, rows = run_tiny_sweep(
        ["graphql-portal", "--services", "12", "--periods", "2", "--page", "8",
         "--requests", "2", "--rounds", "1", "--warmup", "1", "--scale", "2"],
        database_url, tmp_path, timeout=600,
    )  # fmt: skip
    assert stdout.count("same facts: yes") == 2, stdout
    # Catalogs of 12 >> 1 = 6 and 12 services; the page is the first 8, so all 6 of the
    # smaller one.
    assert [(r["services"], r["page"], r["case"]) for r in rows] == [
        ("6", "6", "p50"), ("6", "6", "p99"), ("12", "8", "p50"), ("12", "8", "p99"),
    ]  # fmt: skip
    for r in rows:
        # Four KPIs are shared by every service and each has one to four of its own.
        assert 5 * int(r["page"]) <= int(r["page_kpis"]) <= 8 * int(r["page"])
    assert "p50: time ~ size^" in stdout
