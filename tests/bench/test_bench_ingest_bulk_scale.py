"""`kpi bench ingest-bulk --scale`: a tiny sweep end to end, every run checked against the
distinct rows, writing its CSV and chart (the figures themselves are not judged)."""

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
        [sys.executable, "-m", "service.cli", "bench", "ingest-bulk", "--batches", "4",
         "--batch-size", "200", "--workers", "1", "--repeat", "1", "--scale", "3",
         "--scale-out", str(out)],
        env={**os.environ, "KPI_DATABASE_URL": database_url},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "same rows: yes" in done.stdout, done.stdout
    with out.open() as f:
        rows = list(csv.DictReader(f))
    # Batches 4 >> 2 = 1, 2, 4 of 200 points; every 20th point of a batch repeats an earlier
    # key, so 200 / 20 = 10 a batch are dropped: 190, 380 and 760 distinct points.
    assert [(r["points"], r["distinct_points"], r["batches"], r["case"]) for r in rows] == [
        ("200", "190", "1", "JSON batches"), ("200", "190", "1", "NDJSON stream"),
        ("400", "380", "2", "JSON batches"), ("400", "380", "2", "NDJSON stream"),
        ("800", "760", "4", "JSON batches"), ("800", "760", "4", "NDJSON stream"),
    ]  # fmt: skip
    for r in rows:
        assert float(r["service_ms"]) > 0 and float(r["baseline_ms"]) > 0
        assert float(r["ratio"]) == pytest.approx(
            float(r["service_ms"]) / float(r["baseline_ms"]), rel=0.01
        )
    assert out.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "JSON batches: time ~ size^" in done.stdout
    assert "NDJSON stream: time ~ size^" in done.stdout


def test_a_sweep_needs_batches_to_halve() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "service.cli", "bench", "ingest-bulk", "--batches", "4",
         "--scale", "4"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    # 4 >> 3 = 0 batches at the smallest size: refused before any database is touched.
    assert done.returncode == 2
    assert "--scale needs at least 2 sizes" in done.stderr


def test_points_must_fit_the_ingest_window() -> None:
    # 24 batches of 5,000 = 120,000 points a minute apart from 80 days back: more than the
    # 81 x 1,440 = 116,640 minutes before tomorrow's end that an ingest token may write.
    done = subprocess.run(
        [sys.executable, "-m", "service.cli", "bench", "ingest-bulk", "--batches", "24"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "at most 116,640 points" in done.stderr
