"""What every `--scale` sweep shares (bench.scale): the halving sizes, the growth exponent
and the CSV file, with worked numbers; the chart is drawn by the sweeps' own tests."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from bench.scale import Point, Sweep, growth, halving_sizes, step_growth, write_csv

SWEEP = Sweep(
    bench="demo",
    size_column="points",
    size_label="points",
    columns=("points", "batches", "case"),
    baseline="COPY",
)


def test_sizes_halve_from_the_largest() -> None:
    # 32 >> 4 = 2, >> 3 = 4, ...: five sizes, a factor of 16; 20 rounds down (20/2 = 10, 5, 2, 1).
    assert halving_sizes(32, 5) == [2, 4, 8, 16, 32]
    assert halving_sizes(20, 5) == [1, 2, 5, 10, 20]
    with pytest.raises(ValueError):
        halving_sizes(100, 1)
    with pytest.raises(ValueError):
        halving_sizes(8, 5)  # 8 >> 4 = 0: no smallest size


def test_growth_is_the_exponent_between_the_ends() -> None:
    points = [
        Point(1000, "fleet", 10.0, 5.0),
        Point(2000, "fleet", 19.0, 7.0),
        Point(16000, "fleet", 160.0, 20.0),
        Point(1000, "other", 1.0, 1.0),
        Point(16000, "other", 1.0, 2.0),
    ]
    # 16 times the size: 16 times the time is k = 1; 4 times (5 -> 20 ms) is k = 0.5.
    assert growth(points, "fleet", "service") == pytest.approx(1.0)
    assert growth(points, "fleet", "baseline") == pytest.approx(math.log(4) / math.log(16))
    # Flat is 0; twice the time over 16 times the size is log 2 / log 16 = 0.25.
    assert growth(points, "other", "service") == pytest.approx(0.0)
    assert growth(points, "other", "baseline") == pytest.approx(0.25)
    # Step by step: 10 -> 19 ms over twice the size is log2(1.9) = 0.926; 19 -> 160 ms over
    # 8 times is log(160 / 19) / log 8 = 1.025, a step a little worse than linear.
    assert step_growth(points, "fleet", "service") == pytest.approx(
        [math.log2(1.9), math.log(160 / 19) / math.log(8)]
    )


def test_the_csv_has_the_sweeps_columns_then_the_times(tmp_path: Path) -> None:
    out = tmp_path / "demo.csv"
    write_csv(SWEEP, [Point(500, "JSON", 30.0, 12.0, {"batches": 1}),
                      Point(1000, "JSON", 45.5, 20.0, {"batches": 2})], out)  # fmt: skip
    with out.open() as f:
        rows = list(csv.reader(f))
    # Ratios 30 / 12 = 2.5 and 45.5 / 20 = 2.275.
    assert rows == [
        ["points", "batches", "case", "service_ms", "baseline_ms", "ratio"],
        ["500", "1", "JSON", "30.00", "12.00", "2.500"],
        ["1000", "2", "JSON", "45.50", "20.00", "2.275"],
    ]
