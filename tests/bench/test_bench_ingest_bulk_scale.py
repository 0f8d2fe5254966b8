"""`kpi bench ingest-bulk --scale`: a tiny sweep end to end, every run checked against the
distinct rows, writing its CSV and chart (the figures themselves are not judged)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.bench.tiny_sweep import run_tiny_sweep


def test_a_tiny_sweep_writes_its_csv_and_chart(database_url: str, tmp_path: Path) -> None:
    stdout, rows = run_tiny_sweep(
        ["ingest-bulk", "--batches", "4", "--batch-size", "200", "--workers", "1",
         "--repeat", "1", "--scale", "3"],
        database_url, tmp_path,
    )  # fmt: skip
    assert "same rows: yes" in stdout, stdout
    # Batches 4 >> 2 = 1, 2, 4 of 200 points; every 20th point of a batch repeats an earlier
    # key, so 200 / 20 = 10 a batch are dropped: 190, 380 and 760 distinct points.
    assert [(r["points"], r["distinct_points"], r["batches"], r["case"]) for r in rows] == [
        ("200", "190", "1", "JSON batches"), ("200", "190", "1", "NDJSON stream"),
        ("400", "380", "2", "JSON batches"), ("400", "380", "2", "NDJSON stream"),
        ("800", "760", "4", "JSON batches"), ("800", "760", "4", "NDJSON stream"),
    ]  # fmt: skip
    assert "JSON batches: time ~ size^" in stdout
    assert "NDJSON stream: time ~ size^" in stdout


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
