"""`kpi bench graphql-portal --scale`: a tiny sweep end to end against PostGraphile, the same
facts checked at every size, writing its CSV and chart (the figures are not judged)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest


def test_a_tiny_sweep_writes_its_csv_and_chart(database_url: str, tmp_path: Path) -> None:
    if not os.environ.get("CI"):
        pytest.importorskip("matplotlib")  # installed by .[test]; CI must draw the chart
    out = tmp_path / "scale.csv"
    done = subprocess.run(
        [sys.executable, "-m", "service.cli", "bench", "graphql-portal", "--services", "12",
         "--periods", "2", "--page", "8", "--requests", "2", "--rounds", "1", "--warmup", "1",
         "--scale", "2", "--scale-out", str(out)],
        env={**os.environ, "KPI_DATABASE_URL": database_url},
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stdout.count("same facts: yes") == 2, done.stdout
    with out.open() as f:
        rows = list(csv.DictReader(f))
    # Catalogs of 12 >> 1 = 6 and 12 services; the page is the first 8, so all 6 of the
    # smaller one.
    assert [(r["services"], r["page"], r["case"]) for r in rows] == [
        ("6", "6", "p50"), ("6", "6", "p99"), ("12", "8", "p50"), ("12", "8", "p99"),
    ]  # fmt: skip
    for r in rows:
        # Four KPIs are shared by every service and each has one to four of its own.
        assert 5 * int(r["page"]) <= int(r["page_kpis"]) <= 8 * int(r["page"])
        assert float(r["service_ms"]) > 0 and float(r["baseline_ms"]) > 0
        assert float(r["ratio"]) == pytest.approx(
            float(r["service_ms"]) / float(r["baseline_ms"]), rel=0.01
        )
    assert out.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "p50: time ~ size^" in done.stdout
