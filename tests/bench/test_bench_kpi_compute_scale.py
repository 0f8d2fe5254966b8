"""`kpi bench kpi-compute --scale`: the sizes of its sweep, and a tiny sweep end to end writing
its CSV and chart (the figures themselves are not judged). What every sweep shares (halving,
growth exponent, CSV) is tested in test_bench_scale.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.kpi_compute_scale import sweep_sizes
from tests.bench.tiny_sweep import run_tiny_sweep


def test_a_sweep_halves_from_the_largest_size() -> None:
    # 5 sizes: 1,000,000 / 2^4 = 62,500 up to 1,000,000, a factor of 16.
    assert sweep_sizes(1_000_000, 800_000, 5) == [
        (62_500, 50_000), (125_000, 100_000), (250_000, 200_000), (500_000, 400_000),
        (1_000_000, 800_000),
    ]  # fmt: skip
    with pytest.raises(ValueError):
        sweep_sizes(1000, 1000, 1)


def test_a_tiny_sweep_writes_its_csv_and_chart(database_url: str, tmp_path: Path) -> None:
    stdout, rows = run_tiny_sweep(
        ["kpi-compute", "--services", "5", "--incidents", "800", "--changes", "800",
         "--repeat", "1", "--scale", "2"],
        database_url, tmp_path,
    )  # fmt: skip
    assert "same numbers: yes" in stdout, stdout
    # Two sizes (400 and 800 incidents), each with its one-service and fleet case.
    assert [(r["incidents"], r["case"]) for r in rows] == [
        ("400", "one service"), ("400", "fleet"), ("800", "one service"), ("800", "fleet"),
    ]  # fmt: skip
    assert "time ~ size^" in stdout
