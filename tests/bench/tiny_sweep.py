"""Run one `kpi bench ... --scale` sweep with tiny sizes and read back what it wrote: what the
sweeps' own tests share. Each row's ratio must be its service time over its baseline time, and
the chart beside the CSV must be a PNG; the rows and the printed output are returned for the
test to check its own sizes and checks."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run_tiny_sweep(
    bench_args: list[str], database_url: str, tmp_path: Path, *, timeout: float = 300
) -> tuple[str, list[dict[str, str]]]:
    if not os.environ.get("CI"):
        pytest.importorskip("matplotlib")  # installed by .[test]; CI must draw the chart
    out = tmp_path / "scale.csv"
    done = subprocess.run(
        [sys.executable, "-m", "service.cli", "bench", *bench_args, "--scale-out", str(out)],
        env={**os.environ, "KPI_DATABASE_URL": database_url},
        capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    with out.open() as f:
        rows = list(csv.DictReader(f))
    assert rows, done.stdout
    for r in rows:
        assert float(r["service_ms"]) > 0 and float(r["baseline_ms"]) > 0
        assert float(r["ratio"]) == pytest.approx(
            float(r["service_ms"]) / float(r["baseline_ms"]), rel=0.01
        )
    assert out.with_suffix(".png").read_bytes()[:8] == PNG_SIGNATURE
    return done.stdout, rows
